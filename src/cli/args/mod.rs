//! drctl's command line, in clap derive types. Completions and help come from here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod certs;
mod chaos;
mod cluster;
mod lab;
mod runbook;

pub(crate) use certs::CertsCommand;
pub(crate) use chaos::ChaosArgs;
pub(crate) use cluster::{
    ApiArgs, EntryCommand, EventsArgs, Format, HostsCommand, OutputArgs, PackagesCommand,
    StatusArgs, SyncCommand,
};
pub(crate) use lab::{BenchDrills, LabCommand, LabWriteArgs};
pub(crate) use runbook::{DrillArgs, RunArgs, RunbookCommand};

/// drctl: status and recovery procedures for replicated server groups.
///
/// Exit codes: 0 done/healthy, 1 failed/unhealthy, 2 usage or invalid input,
/// 3 refused by a precondition, 4 aborted by the operator, 5 timed out (outcome unknown).
#[derive(Parser, Debug)]
#[command(
    name = "drctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Cluster file (default: ./drctl.yaml, else the lab's cluster.yaml).
    #[arg(long, global = true, env = "DRCTL_CLUSTER", value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// The node to talk to: a name from the cluster file, or a URL. A URL without a cluster
    /// file reads the member list from that node.
    #[arg(long, global = true, value_name = "NAME|URL")]
    pub node: Option<String>,
    /// File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file's).
    #[arg(
        long,
        global = true,
        env = "DRCTL_PASSPHRASE_FILE",
        value_name = "FILE"
    )]
    pub passphrase_file: Option<PathBuf>,
    /// CA certificate to trust when no cluster file gives one.
    #[arg(long, global = true, env = "DRCTL_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Connect timeout per node, e.g. 500ms, 1s.
    #[arg(long, global = true, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Who is operating, recorded in every node's event log (default: $USER).
    #[arg(long, global = true, env = "DRCTL_OPERATOR")]
    pub operator: Option<String>,
    /// The lab directory.
    #[arg(
        long = "lab-dir",
        global = true,
        env = "DRCTL_LAB_DIR",
        default_value = ".drctl-lab",
        value_name = "DIR"
    )]
    pub lab_dir: PathBuf,
    /// Which nodes of a mixed cluster file a command acts on (default: the only kind listed,
    /// or the kind of the node a procedure names); `lab up --kind openldap` starts slapd.
    #[arg(
        long,
        global = true,
        env = "DRCTL_KIND",
        value_name = "KIND",
        value_parser = clap::builder::PossibleValuesParser::new(crate::engines::registry::kinds())
    )]
    pub kind: Option<String>,
    /// drctl's own log lines on stderr: text (colours only on a terminal) or one JSON object
    /// per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        env = "DRCTL_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: crate::util::logging::LogFormat,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// One row per node: role, epoch, database status, owns, lag, primary, health.
    #[command(
        after_help = "Examples:\n  # The narrow table (fits 80 columns); every column; for scripts\n  drctl status\n  drctl status -o wide\n  drctl status --json | jq -r '.nodes[] | select(.reachable == false) | .name'\n  # Redraw every 2 seconds\n  drctl status -w --interval 2s"
    )]
    Status(StatusArgs),
    /// Exit 0 when the cluster is healthy, 1 listing each problem.
    #[command(
        after_help = "Examples:\n  # In a script or a health check: exit 0 when healthy, 1 with each problem\n  drctl check || drctl status"
    )]
    Check(JsonFlag),
    /// Read and write replicated entries.
    #[command(subcommand)]
    Entry(EntryCommand),
    /// Show nodes' event logs.
    #[command(
        after_help = "Examples:\n  # The last ten minutes; role changes on node-2 only; follow as it happens\n  drctl events --since 10m\n  drctl events --type role_change --node node-2\n  drctl events -f -o json | jq -c 'select(.success == false)'"
    )]
    Events(EventsArgs),
    /// Raw escape hatch: call the admin API directly.
    Api(ApiArgs),
    /// Every node ranked for promotion, with the reason each can or cannot be promoted.
    #[command(
        after_help = "Examples:\n  # Before a failover: which replica holds the most, and why the others cannot be promoted\n  drctl candidates"
    )]
    Candidates(OutputArgs),
    /// Managed switchover: the primary drains, the target catches up, everyone switches.
    #[command(
        after_help = "Examples:\n  # See the plan, then hand the primary role to node-2 (no acknowledged write is lost)\n  drctl switchover --to node-2 --dry-run\n  drctl switchover --to node-2\n  # Only if node-1 is still the primary at epoch 4 (what the operator saw)\n  drctl switchover --to node-2 --expect-primary node-1 --expect-epoch 4 --yes"
    )]
    Switchover {
        /// The node to make primary.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Forced failover: promote a replica when the primary does not answer.
    #[command(
        after_help = "Examples:\n  # The primary is dead: see what would be promoted and what may be lost, then do it\n  drctl candidates\n  drctl failover --dry-run\n  drctl failover\n  # A replica is ahead of the chosen target: export its extra records, then resync it\n  drctl failover --to node-3 --force --export-dir /var/tmp"
    )]
    Failover {
        /// The replica to promote (default: the most advanced promotable one).
        #[arg(long)]
        to: Option<String>,
        /// Fail over even if the primary answers (it is fenced), or if a replica is ahead of
        /// the target (its extra records are exported, then it is resynced).
        #[arg(long)]
        force: bool,
        /// Where exported records go.
        #[arg(long, default_value = ".", value_name = "DIR")]
        export_dir: std::path::PathBuf,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Set the replicated `primary` setting and point every replica at it.
    #[command(
        after_help = "Examples:\n  # Which servers could take the primary's place, then point everyone at node-2\n  drctl repoint --list\n  drctl repoint --primary node-2"
    )]
    Repoint {
        /// The node clients should use; it must be the primary.
        #[arg(long, required_unless_present = "list")]
        primary: Option<String>,
        /// Show which servers could take that place, and why.
        #[arg(long, conflicts_with = "primary")]
        list: bool,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Turn a fenced or restored old primary into a replica, exporting its divergent writes.
    #[command(
        after_help = "Examples:\n  # The old primary came back fenced: export what it holds that the primary lacks, resync it\n  drctl demote node-1 --dry-run\n  drctl demote node-1 --export /var/tmp/node-1-divergent.jsonl"
    )]
    Demote {
        /// The old primary to demote.
        node: String,
        /// The primary to follow (default: the current primary).
        #[arg(long)]
        to: Option<String>,
        /// File for the exported records (default: ./drctl-demote-NODE-RUN.jsonl).
        #[arg(long, value_name = "FILE")]
        export: Option<std::path::PathBuf>,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Stop a node replicating; it keeps its data.
    #[command(
        after_help = "Examples:\n  # Take node-3 out of replication, keeping its data\n  drctl standalone node-3"
    )]
    Standalone {
        /// The node to take out of replication.
        node: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Make a node a replica of a primary; the node's replicated data is overwritten.
    #[command(
        after_help = "Examples:\n  # Make node-3 a replica of node-1 again (its own writes are exported first)\n  drctl join node-3 --primary node-1 --dry-run\n  drctl join node-3 --primary node-1"
    )]
    Join {
        /// The node to join (its replicated data is replaced).
        node: String,
        /// The primary to join.
        #[arg(long)]
        primary: String,
        /// File for the records the primary lacks, exported before the full sync (default:
        /// ./drctl-join-NODE-RUN.jsonl).
        #[arg(long, value_name = "FILE")]
        export: Option<std::path::PathBuf>,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Replication modes: automatic sync on or off, full sync on demand.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Move the operation-master roles: transfer if the holder answers, seize if not.
    #[command(
        after_help = "Examples:\n  # The role holder is gone for good: move both roles to node-2\n  drctl seize-roles --to node-2\n  drctl seize-roles --to node-2 --role schema-master\n  # Samba AD: the FSMO holder dc1 is dead; dc2 takes all 7 roles\n  drctl seize-roles --to dc2 --dry-run"
    )]
    SeizeRoles {
        /// The new holder of the roles.
        #[arg(long)]
        to: String,
        /// A role to move (repeatable; default: every one): schema-master or naming-master on
        /// drnode; schema, naming, pdc, rid, infrastructure, domaindns or forestdns on samba-ad.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Metadata cleanup: remove a failed or retired instance from the instance set.
    #[command(
        after_help = "Examples:\n  # node-3 failed for good: remove it from the instance set\n  drctl remove-instance node-3 --dry-run\n  drctl remove-instance node-3"
    )]
    RemoveInstance {
        /// The failed or retired instance.
        node: String,
        /// Remove it even though it answers (samba-ad: its roles are transferred, what only it
        /// holds is exported, then it is stopped with its stop_command); other kinds refuse it.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Remove a member by host id or name (`removenode status` lists pending removals).
    #[command(
        after_help = "Examples:\n  # Remove node-3 by name (or by the host id `status -o wide` shows)\n  drctl removenode node-3\n  # It is stuck leaving because a member cannot acknowledge\n  drctl removenode status\n  drctl removenode node-3 --force"
    )]
    Removenode {
        /// A member's host id (`status -o wide` lists them) or name, or `status`.
        target: String,
        /// Complete the removal without the missing acknowledgements.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Start or stop a node's services (node-local).
    #[command(
        after_help = "Examples:\n  drctl services stop node-3\n  drctl services start node-3"
    )]
    Services {
        /// start or stop.
        #[arg(value_parser = ["start", "stop"])]
        action: String,
        /// The node whose services change.
        node: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Node-local package files.
    #[command(subcommand)]
    Packages(PackagesCommand),
    /// Upgrade by dropping every node to standalone, running COMMAND per node, re-forming.
    #[command(
        after_help = "Examples:\n  # Upgrade every node: maintenance on, standalone, the command per node, re-form, verify\n  drctl upgrade --exec 'ssh {node} sudo apt-get install -y drnode' --dry-run\n  drctl upgrade --exec 'ssh {node} sudo apt-get install -y drnode'\n  # Interrupted? The same command (or --id) continues where it stopped\n  drctl upgrade --exec 'ssh {node} sudo apt-get install -y drnode'"
    )]
    Upgrade {
        /// Run for each node; {node}, {url} and {data_dir} are substituted.
        #[arg(long = "exec", value_name = "COMMAND")]
        command: String,
        /// Names this upgrade (default: a hash of COMMAND); a rerun with the same id continues.
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Hosts-file block for the cluster alias.
    #[command(subcommand)]
    Hosts(HostsCommand),
    /// Cluster CA and node certificates.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// A local cluster of real drnode processes, with fault injection.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Run a runbook (a file or a bundled name), with a journal to resume from.
    #[command(
        after_help = "Examples:\n  drctl run forced-failover --dry-run\n  drctl run managed-switchover --var to=node-2 --yes\n  drctl run ./my-runbook.yaml --var node=node-3\n  # A run that stopped part-way (its id is in the message and the journal)\n  drctl run --resume 8dee4d32ecea"
    )]
    Run(super::args::RunArgs),
    /// List, show and validate runbooks.
    #[command(subcommand)]
    Runbook(super::args::RunbookCommand),
    /// Prove runbooks on fresh labs: inject faults, run, check, tear down.
    #[command(
        after_help = "Examples:\n  drctl drill managed-switchover\n  drctl drill --all --junit drills.xml"
    )]
    Drill(super::args::DrillArgs),
    /// Seeded fault campaigns on fresh labs, judged by an invariant checker; a failure prints
    /// the seed that replays it (`--seed S --runs 1`).
    #[command(
        after_help = "Examples:\n  # A CI-sized campaign, then a long one; replay a failed run by its seed\n  drctl chaos --seed 1 --runs 12\n  drctl chaos --duration 1h --keep-failed ./chaos-failures\n  drctl chaos --seed 201 --runs 1"
    )]
    Chaos(ChaosArgs),
    /// Print the manual page (roff), generated from these definitions: `drctl man > drctl.1`.
    Man,
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Options every procedure has.
#[derive(Args, Debug, Clone)]
pub struct ProcArgs {
    /// Print the plan, built from the same probes as a real run, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes to confirmations (needed without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Refuse unless this node is the primary.
    #[arg(long, value_name = "NODE")]
    pub expect_primary: Option<String>,
    /// Refuse unless the cluster is at this epoch.
    #[arg(long, value_name = "N")]
    pub expect_epoch: Option<u64>,
    /// Take the cluster lock even if another operator holds it (logged on every node).
    #[arg(long)]
    pub break_lock: bool,
    /// How long each step may take to take effect.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub wait: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub use crate::util::duration::parse_duration;

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    /// Every subcommand and every option says what it is for in `--help` (and so in the
    /// completions and the man page).
    #[test]
    fn every_subcommand_and_flag_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && !a.is_hide_set() && a.get_help().is_none() {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                let p = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(p.clone());
                }
                walk(sub, &p, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "drctl", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    /// Every procedure (a subcommand that changes the cluster: it takes `--dry-run`) shows
    /// how it is used, kubectl style, and every example is a command of this CLI.
    #[test]
    fn every_procedure_has_examples_that_parse() {
        let cli = super::Cli::command();
        let mut without = Vec::new();
        for sub in cli.get_subcommands() {
            let procedure = sub.get_arguments().any(|a| a.get_id() == "dry_run");
            let Some(text) = sub.get_after_help().map(|h| h.to_string()) else {
                if procedure {
                    without.push(sub.get_name().to_string());
                }
                continue;
            };
            assert!(
                text.starts_with("Examples:\n"),
                "{}: {text}",
                sub.get_name()
            );
            for line in text.lines().skip(1).map(str::trim) {
                if line.starts_with('#') || line.is_empty() {
                    continue;
                }
                let command = line
                    .split(" | ")
                    .next()
                    .unwrap()
                    .trim_end_matches(" || drctl status");
                let words: Vec<String> = command
                    .split_whitespace()
                    .map(|w| w.trim_matches('\'').to_string())
                    .collect();
                // Quoted arguments with spaces are one word for the shell.
                let words = if command.contains("'ssh") {
                    let (head, quoted) = command.split_once('\'').unwrap();
                    let mut w: Vec<String> = head.split_whitespace().map(String::from).collect();
                    let (arg, tail) = quoted.split_once('\'').unwrap();
                    w.push(arg.to_string());
                    w.extend(tail.split_whitespace().map(String::from));
                    w
                } else {
                    words
                };
                if let Err(e) = super::Cli::try_parse_from(&words) {
                    panic!("{}: example `{line}` does not parse: {e}", sub.get_name());
                }
            }
        }
        assert!(
            without.is_empty(),
            "procedures without examples: {without:?}"
        );
    }
}
