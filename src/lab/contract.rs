//! What every engine's lab offers, so that `drctl lab`, the drills and the chaos campaigns
//! drive any kind of local cluster the same way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{LabError, ProcState, Sig};

/// One node of a lab as `drctl lab status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabRow {
    pub name: String,
    /// The process id while it runs or is paused.
    pub pid: Option<u32>,
    pub state: ProcState,
    /// Where drctl reaches the node (as the lab's cluster file says).
    pub url: String,
}

/// What `drctl lab up` asks of a new lab.
#[derive(Debug, Clone, Default)]
pub struct LabOptions {
    pub nodes: u16,
    /// drnode only: how many log records each node keeps (`--log-keep`).
    pub log_keep: Option<u64>,
    /// A cluster file that reaches the nodes over TLS (`--tls`), where the lab has that option
    /// (`LabKind::tls`).
    pub tls: bool,
}

/// A local cluster of one engine's real server processes, laid out in a directory of its own,
/// with a cluster file drctl can use.
pub trait Lab: Send + Sync {
    /// The engine's kind, as the cluster file spells it.
    fn kind(&self) -> &'static str;
    fn dir(&self) -> &Path;
    /// The cluster file the lab wrote (`DRCTL_CLUSTER=… drctl status`).
    fn cluster_file(&self) -> PathBuf;
    fn rows(&self) -> Vec<LabRow>;
    /// Starts a stopped node (a running one is left alone); its pid.
    fn start(&mut self, node: &str) -> Result<u32, LabError>;
    /// Signals a node's process; for KILL and TERM waits until it is gone. The pid signalled,
    /// or None when the node was not running.
    fn signal(&mut self, node: &str, sig: Sig) -> Result<Option<u32>, LabError>;
    /// Stops a node gracefully (TERM, then KILL after a grace period).
    fn stop(&mut self, node: &str) -> Result<(), LabError> {
        self.signal(node, Sig::Term).map(|_| ())
    }
    /// Cuts (or with `cut` false, restores) the link between two nodes.
    fn link(&mut self, a: &str, b: &str, cut: bool) -> Result<(), LabError> {
        let _ = (a, b, cut);
        Err(LabError::Failed(format!(
            "a {} lab cannot cut links between its nodes",
            self.kind()
        )))
    }
    /// Starts every node, forms the group and waits (up to `deadline`) until it is healthy.
    fn up(&mut self, deadline: Duration) -> BoxFuture<'_, Result<(), LabError>>;
    /// Waits (up to `deadline`) until a started node answers.
    fn wait_up<'a>(
        &'a self,
        node: &'a str,
        deadline: Duration,
    ) -> BoxFuture<'a, Result<(), LabError>>;
    /// Where a node's server writes its log, if the lab knows.
    fn log_file(&self, node: &str) -> Option<PathBuf> {
        let _ = node;
        None
    }
    /// For an `up` that failed: where each node's log is (or its last lines).
    fn log_tails(&self) -> String {
        let logs = self.rows().into_iter().filter_map(|r| {
            let file = self.log_file(&r.name)?;
            Some(format!("\n--- {} log: {}", r.name, file.display()))
        });
        logs.collect()
    }
    /// Lines for the operator after `lab up`, between `drctl status` and `drctl lab down`: what
    /// to try with this kind of lab.
    fn try_next(&self) -> &'static str {
        ""
    }
    /// Lines for the operator after `lab up`: what to try next.
    fn hints(&self) -> String {
        format!(
            "try:\n  export DRCTL_CLUSTER={}\n  drctl status\n{}  drctl lab down",
            self.cluster_file().display(),
            self.try_next()
        )
    }
    /// Stops every node; removes the directory unless `keep`. The nodes that were running.
    fn down(self: Box<Self>, keep: bool) -> Result<Vec<String>, LabError>;
}

/// A lab of some engine, or why it cannot be made or opened.
pub(super) type AnyLab = Result<Box<dyn Lab>, LabError>;

/// An engine's lab as the registry knows it.
pub struct LabKind {
    /// The file in a lab directory that says a lab of this kind is there.
    pub state_file: &'static str,
    /// Why this engine's lab cannot run on this machine, if it cannot.
    pub unavailable: fn() -> Option<String>,
    /// Lays out a new lab (not started); refuses over a running one.
    pub create: fn(&Path, &LabOptions) -> AnyLab,
    pub open: fn(&Path) -> AnyLab,
    /// What `lab up --tls` gives this kind of lab, if it has that option.
    pub tls: Option<&'static str>,
    /// Whether `drill --all` may run a drill of this kind that mostly waits beside other drills:
    /// its processes are small and start in a second or two (not 389-ds's or Samba's, which
    /// run one drill at a time).
    pub beside: bool,
}

impl LabKind {
    /// Whether `dir` holds a lab of this kind.
    pub fn is_in(&self, dir: &Path) -> bool {
        dir.join(self.state_file).exists()
    }
}
