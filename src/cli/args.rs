//! drctl's command line, in clap derive types. Completions and help come from here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// One row per node: role, epoch, database status, owns, lag, primary, health.
    Status(StatusArgs),
    /// Exit 0 when the cluster is healthy, 1 listing each problem.
    Check(JsonFlag),
    /// Read and write replicated entries.
    #[command(subcommand)]
    Entry(EntryCommand),
    /// Show nodes' event logs.
    Events(EventsArgs),
    /// Raw escape hatch: call the admin API directly.
    Api(ApiArgs),
    /// Every node ranked for promotion, with the reason each can or cannot be promoted.
    Candidates(JsonFlag),
    /// Managed switchover: the primary drains, the target catches up, everyone switches.
    Switchover {
        /// The node to make primary.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Forced failover: promote a replica when the primary does not answer.
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
    /// Set the replicated `primary` setting and point every replica at it (seed 000).
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
    Standalone {
        /// The node to take out of replication.
        node: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Make a node a replica of a primary; the node's replicated data is overwritten.
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
    /// Replication modes (seed 001).
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Move the operation-master roles: transfer if the holder answers, seize if not.
    SeizeRoles {
        /// The new holder of the roles.
        #[arg(long)]
        to: String,
        /// schema-master or naming-master (default: both).
        #[arg(long = "role", value_parser = ["schema-master", "naming-master"])]
        roles: Vec<String>,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Metadata cleanup: remove a failed or retired instance from the instance set.
    RemoveInstance {
        /// The failed or retired instance.
        node: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Remove a member by host id (`removenode status` lists pending removals).
    Removenode {
        /// A host id, or `status`.
        target: String,
        /// Complete the removal without the missing acknowledgements.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// Start or stop a node's services (node-local).
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
    /// Hosts-file block for the cluster alias (seed 004).
    #[command(subcommand)]
    Hosts(HostsCommand),
    /// Cluster CA and node certificates.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// A local cluster of real drnode processes, with fault injection.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Run a runbook (a file or a bundled name), with a journal to resume from.
    Run(super::runbook_args::RunArgs),
    /// List, show and validate runbooks.
    #[command(subcommand)]
    Runbook(super::runbook_args::RunbookCommand),
    /// Prove runbooks on fresh labs: inject faults, run, check, tear down.
    Drill(super::runbook_args::DrillArgs),
    /// Seeded fault campaigns on fresh labs, judged by an invariant checker; a failure prints
    /// the seed that replays it (`--seed S --runs 1`).
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

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Redraw every interval until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// How often --watch redraws.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub interval: std::time::Duration,
}

#[derive(Subcommand, Debug)]
pub enum EntryCommand {
    /// Write KEY=VALUE through the primary (or --node).
    Put {
        /// The entry's key.
        key: String,
        /// The value to write.
        value: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print KEY's value as held by the primary (or --node).
    Get {
        /// The entry's key.
        key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List entries.
    List {
        /// Only keys starting with this.
        #[arg(long)]
        prefix: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete KEY.
    Rm {
        /// The key to delete.
        key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show events after this id (per node).
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// At most this many events per node (the newest).
    #[arg(long, default_value_t = 200)]
    pub limit: u64,
}

#[derive(Args, Debug)]
pub struct ApiArgs {
    /// HTTP method: GET, PUT, POST, DELETE.
    pub method: String,
    /// Path, e.g. /v1/node.
    pub path: String,
    /// JSON body, or - to read it from stdin.
    pub body: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PackagesCommand {
    /// List a node's package files (default: the primary's).
    List {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Upload FILE to a node (default: the primary).
    Put {
        /// The file to upload.
        file: std::path::PathBuf,
        /// The name on the node (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a package file from a node (default: the primary).
    Rm {
        /// The package file to remove.
        name: String,
    },
    /// Copy the primary's package files to every replica (checksummed); remove extras.
    Sync {
        #[command(flatten)]
        proc: ProcArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum HostsCommand {
    /// Print the hosts-file block: each node's unique name, then the alias (primary first).
    Render,
    /// Write the block into FILE between markers (idempotent).
    Apply {
        /// The hosts file to write the block into.
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Turn automatic (partial, record by record) replication to NODE on or off.
    Auto {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// The replica.
        node: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// On-demand full sync: replace TO's replicated data with FROM's.
    Full {
        /// The node copied.
        #[arg(long)]
        from: String,
        /// The node overwritten (its replicated data is replaced).
        #[arg(long)]
        to: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum CertsCommand {
    /// Create a cluster CA (ca.pem, ca.key) in DIR.
    Init {
        /// Where the CA goes.
        #[arg(long)]
        dir: PathBuf,
        /// Cluster name, also the group identity in node certificates.
        #[arg(long = "cluster-name", default_value = "drctl")]
        cluster_name: String,
    },
    /// Issue NAME.pem / NAME.key signed by DIR's CA, naming the node and the cluster.
    Issue {
        /// The node's name (the certificate's subject).
        name: String,
        /// The CA's directory; the certificate is written there too.
        #[arg(long)]
        dir: PathBuf,
        /// Cluster name, also the group identity in node certificates.
        #[arg(long = "cluster-name", default_value = "drctl")]
        cluster_name: String,
        /// Extra subject alternative names (host names or IP addresses).
        #[arg(long = "san")]
        sans: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// Start a lab of N nodes of --kind (default drnode) on loopback, node-1 primary, and
    /// wait until it is healthy.
    Up {
        /// How many nodes.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=9))]
        nodes: u16,
        /// Log records each drnode keeps for partial sync.
        #[arg(long)]
        log_keep: Option<u64>,
    },
    /// The lab's processes.
    Status {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// SIGKILL a node.
    Kill {
        /// The lab node.
        node: String,
    },
    /// SIGSTOP a node.
    Pause {
        /// The lab node.
        node: String,
    },
    /// SIGCONT a paused node.
    Resume {
        /// The lab node.
        node: String,
    },
    /// Stop (if running) and start a node again, keeping its data.
    Restart {
        /// The lab node.
        node: String,
    },
    /// Stop every process the lab started and remove the lab directory.
    Down {
        /// Keep the directory (data, logs).
        #[arg(long)]
        keep: bool,
    },
    /// Write N entries through the cluster; log each acknowledged key.
    Write(LabWriteArgs),
    /// Measure switchover and failover on a fresh 3-node lab (not the one in --lab-dir).
    Bench {
        /// Switchovers to run (each to the next node).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Writes per second during the switchovers.
        #[arg(long, default_value_t = 300.0)]
        rate: f64,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check that every key of an acked log is on a node (default: the primary).
    Verify {
        /// The log of acknowledged keys (`lab write --acked-log`).
        #[arg(long, value_name = "FILE")]
        acked_log: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct LabWriteArgs {
    /// How many entries to write.
    #[arg(long)]
    pub count: u64,
    /// Writes per second (default: as fast as acknowledged).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Append each acknowledged key to FILE, one per line.
    #[arg(long, value_name = "FILE")]
    pub acked_log: Option<PathBuf>,
    /// Key prefix (default: lab/<random>).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Give up on a write not acknowledged within this long.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub write_timeout: std::time::Duration,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ChaosArgs {
    /// How many runs (default 1 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    pub runs: Option<u64>,
    /// Run campaigns until this much time has passed, e.g. 30m, 1h.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<std::time::Duration>,
    /// The campaign's seed; run i uses seed S+i (default: drawn from the clock, and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Nodes per lab, 3 to 5.
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    /// Faults to draw from, comma-separated (default: all): kill, pause, restart, wipe,
    /// drctl-kill, race (with --kind openldap: kill, pause, restart, drctl-kill, race).
    #[arg(long, value_name = "LIST")]
    pub faults: Option<String>,
    /// Procedures to draw from, comma-separated (default: all): switchover, failover, demote,
    /// repoint, sync-on, standalone, join (with --kind openldap: the first four).
    #[arg(long, value_name = "LIST")]
    pub procedures: Option<String>,
    /// Steps drawn per run.
    #[arg(long, default_value_t = 6)]
    pub steps: u32,
    /// Longest delay drawn between a failure and the next step (the campaign's cap; past
    /// `sync.max_failures` backoffs it tests late recovery).
    #[arg(long, value_parser = parse_duration, default_value = "3s", value_name = "DURATION")]
    pub max_delay: std::time::Duration,
    /// `sync.max_failures` of the campaign's nodes: after this many failed pulls a replica gives
    /// up syncing with a lost primary. The default 3 (about 2 s) makes the drawn delays cross
    /// that point, so late recovery is part of every campaign; 30 is drnode's own default.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub sync_give_up: u32,
    /// How long healing and recovery may take before a run fails `converges`.
    #[arg(long, value_parser = parse_duration, default_value = "60s", value_name = "DURATION")]
    pub deadline: std::time::Duration,
    /// Writes per second of the write client.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Print the schedules the seed draws and run nothing.
    #[arg(long)]
    pub schedule_only: bool,
    /// Keep a failed run's lab, logs, acked-write log and journals under DIR/seed-S.
    #[arg(long, value_name = "DIR")]
    pub keep_failed: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub use crate::util::duration::parse_duration;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

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
}
