//! Command-line types of `drctl lab`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::util::duration::parse_duration;

#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// Start a lab of N nodes of --kind (default drnode) on loopback, node-1 primary, and
    /// wait until it is healthy.
    Up {
        /// How many nodes.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=50))]
        nodes: u16,
        /// Log records each drnode keeps for partial sync.
        #[arg(long)]
        log_keep: Option<u64>,
        /// The cluster file reaches the nodes over TLS: 389ds (ldaps:// urls, agreements over
        /// TLS) and etcd (https, client certificates, etcd's auth on).
        #[arg(long)]
        tls: bool,
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
    /// Stop a node gracefully (SIGTERM, SIGKILL after a grace period); a stopped one stays so.
    Stop {
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
    /// Measure switchover and failover on a fresh 3-node lab (not the one in --lab-dir); with
    /// `--kind openldap`, `389ds` or `etcd`, drctl's failover and switchover beside the same by
    /// hand (ldapmodify, dsconf, etcdctl); with `--kind samba-ad`, seize-roles and
    /// remove-instance beside samba-tool by hand.
    Bench {
        /// Rounds of each procedure: switchovers (each to the next node) and failovers.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Writes per second during the switchovers (drnode).
        #[arg(long, default_value_t = 300.0)]
        rate: f64,
        /// Entries in the store that the full sync copies (drnode).
        #[arg(long, default_value_t = 100_000, value_name = "N")]
        sync_entries: usize,
        /// Lab sizes to time `drctl status` over, each on a lab of its own (drnode).
        #[arg(long, value_delimiter = ',', default_value = "3,9,50", value_name = "NODES",
              value_parser = clap::value_parser!(u16).range(1..=50))]
        fanout: Vec<u16>,
        /// The drills of `drill --all` to time last (drnode): `light` the drnode and slapd
        /// ones, `all` those and then the 389-ds, Samba AD and etcd ones (minutes), `none`.
        #[arg(long, value_enum, default_value_t = BenchDrills::Light)]
        drills: BenchDrills,
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

/// Which drills `lab bench` times.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchDrills {
    Light,
    All,
    None,
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
