//! What an operator can ask of a cluster. Each engine claims the verbs it supports; the CLI and
//! the runbook compiler refuse the others before anything runs, naming the engine.

use serde::Serialize;

/// One thing drctl can do on a cluster. Serde and display names are the subcommand names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verb {
    Status,
    Check,
    Candidates,
    Switchover,
    Failover,
    Repoint,
    Demote,
    /// Wait until every reachable node holds the primary's data (a runbook step).
    WaitConverged,
    SeizeRoles,
    RemoveInstance,
    Removenode,
    Standalone,
    Join,
    Sync,
    Services,
    Packages,
    Upgrade,
    Hosts,
    Entry,
    Events,
    Api,
}

impl Verb {
    pub const ALL: [Verb; 21] = [
        Verb::Status,
        Verb::Check,
        Verb::Candidates,
        Verb::Switchover,
        Verb::Failover,
        Verb::Repoint,
        Verb::Demote,
        Verb::WaitConverged,
        Verb::SeizeRoles,
        Verb::RemoveInstance,
        Verb::Removenode,
        Verb::Standalone,
        Verb::Join,
        Verb::Sync,
        Verb::Services,
        Verb::Packages,
        Verb::Upgrade,
        Verb::Hosts,
        Verb::Entry,
        Verb::Events,
        Verb::Api,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verb::Status => "status",
            Verb::Check => "check",
            Verb::Candidates => "candidates",
            Verb::Switchover => "switchover",
            Verb::Failover => "failover",
            Verb::Repoint => "repoint",
            Verb::Demote => "demote",
            Verb::WaitConverged => "wait-converged",
            Verb::SeizeRoles => "seize-roles",
            Verb::RemoveInstance => "remove-instance",
            Verb::Removenode => "removenode",
            Verb::Standalone => "standalone",
            Verb::Join => "join",
            Verb::Sync => "sync",
            Verb::Services => "services",
            Verb::Packages => "packages",
            Verb::Upgrade => "upgrade",
            Verb::Hosts => "hosts",
            Verb::Entry => "entry",
            Verb::Events => "events",
            Verb::Api => "api",
        }
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Verb;

    #[test]
    fn every_verb_is_listed_once_and_named_as_serde_names_it() {
        let mut names: Vec<&str> = Verb::ALL.iter().map(|v| v.name()).collect();
        for v in Verb::ALL {
            assert_eq!(serde_json::to_value(v).unwrap(), v.name());
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Verb::ALL.len());
    }
}
