//! Command-line types of `drctl chaos`.

use std::path::PathBuf;

use clap::Args;

use crate::util::duration::parse_duration;

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
    /// Nodes per lab, 3 to 5 (samba-ad: 3).
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    /// Faults to draw from, comma-separated (default: all): kill, pause, restart, wipe,
    /// drctl-kill, race, promoted-dies, partition (a node cut off the network: each node in a
    /// network namespace, as root with `ip`), disk-full (a node's disk full while it runs: each
    /// node's data on a tmpfs, as root); those two are skipped where they cannot be made;
    /// drctl-dies (drctl SIGKILLed the moment its journal records a change, then rerun or
    /// resumed). With --kind openldap: kill, pause, restart, drctl-kill, race, partition,
    /// disk-full; with --kind etcd, 389ds or samba-ad: kill, pause, restart, drctl-kill, race.
    #[arg(long, value_name = "LIST")]
    pub faults: Option<String>,
    /// Procedures to draw from, comma-separated (default: all): switchover, failover, demote,
    /// repoint, sync-on, standalone, join (with --kind openldap or 389ds: the first four; with
    /// --kind etcd: switchover, removenode, failover, rejoin; with --kind samba-ad: seize-roles,
    /// remove-instance, join, repoint, sync).
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
    /// How long healing and recovery may take before a run fails `converges` (samba-ad: at
    /// least 300s, a join alone takes about 40 s).
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
