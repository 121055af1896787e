//! The drnode engine: the bundled node daemon's clusters. `cluster` probes and judges every
//! node; the procedures are plans of [`Action`]s built from one probe, so `--dry-run` shows
//! exactly what a real run would do, a rerun skips what is done, and the runbook engine runs the
//! very same steps.

pub mod bench;
pub(crate) mod bench_drills;
mod bench_fanout;
mod bench_paused;
mod bench_run;
mod candidates;
pub mod cluster;
mod context;
mod converged;
mod core;
mod demote;
mod divergence;
mod engine;
mod extra;
mod failover;
pub mod lab;
mod lab_clients;
mod lock;
mod membership;
mod removal;
mod repoint;
mod roles;
pub(crate) mod runbook;
mod step;
mod switchover;
mod upgrade;
pub mod writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use candidates::{rank, Candidate};
pub use context::{client_error, Context};
pub use demote::demote;
pub use divergence::{divergence, Divergence};
pub use engine::{Drnode, ENGINE, KIND};
pub use failover::failover;
pub use lock::this_process;
pub use membership::{join, packages_sync, services, standalone, sync_auto, sync_full};
pub use removal::{remove_instance, removenode, removenode_status, PendingRemoval};
pub use repoint::{repoint, repoint_list, RepointRow};
pub use roles::seize_roles;
pub use step::Action;
pub use switchover::switchover;
pub use upgrade::upgrade;

use crate::api::{ClientError, NodeStatus};
use crate::engine::{Plan, ProcError};
use crate::engines::drnode::cluster::{probe, ClusterView, NodeView, Reading, Target};

impl From<ClientError> for ProcError {
    fn from(e: ClientError) -> Self {
        match &e {
            ClientError::Api { status: 401, .. } | ClientError::Tls { .. } => {
                ProcError::usage(e.to_string())
            }
            ClientError::Timeout { .. } => ProcError::timed_out(format!(
                "{e}; the outcome is unknown: run `drctl status` to see where the cluster stands"
            )),
            // The same node a moment after such a timeout: as slow, not as failed. A wait that
            // polls goes on until its own deadline (it failed at the next poll: CI, a drill's
            // last wait beside a node slowed by the machine's load).
            ClientError::Silent { .. } => ProcError::timed_out(format!(
                "{e}: run `drctl status` to see where the cluster stands"
            )),
            _ => ProcError::failed(e.to_string()),
        }
    }
}

/// The cluster a procedure acts on: every node's client, tagged with the run id.
pub struct Cluster {
    pub name: String,
    pub targets: Vec<Target>,
    pub run_id: String,
    pub operator: String,
    /// How long a step's verification may wait.
    pub step_timeout: Duration,
    /// During a preflight: what its one probe read, which its checks read (see
    /// [`crate::engine::RunContext::take_reading`]).
    reading: Mutex<Option<Arc<Reading>>>,
    /// The reading a plan was just made from, for the preflight that follows it (see
    /// [`Cluster::prepare`]).
    prepared: Mutex<Option<Arc<Reading>>>,
}

/// A clone reads the cluster for itself: a preflight's reading is never seen through another
/// clone (the chaos checker, on a clone, saw a procedure's reading and no primary: seed 5089).
impl Clone for Cluster {
    fn clone(&self) -> Cluster {
        Cluster {
            name: self.name.clone(),
            targets: self.targets.clone(),
            run_id: self.run_id.clone(),
            operator: self.operator.clone(),
            step_timeout: self.step_timeout,
            reading: Mutex::default(),
            prepared: Mutex::default(),
        }
    }
}

impl Cluster {
    pub fn new(name: &str, targets: &[Target], operator: &str, step_timeout: Duration) -> Cluster {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        Cluster {
            name: name.to_string(),
            targets: targets
                .iter()
                .map(|t| Target {
                    client: t.client.with_run_id(&run_id),
                    ..t.clone()
                })
                .collect(),
            run_id,
            operator: operator.to_string(),
            step_timeout,
            reading: Mutex::default(),
            prepared: Mutex::default(),
        }
    }

    /// The same cluster, its clients tagged with another run id (a resumed run keeps its id,
    /// so the lock it took and the events it recorded stay its own).
    pub fn with_run_id(self, run_id: &str) -> Cluster {
        Cluster {
            targets: self
                .targets
                .iter()
                .map(|t| Target {
                    client: t.client.with_run_id(run_id),
                    ..t.clone()
                })
                .collect(),
            run_id: run_id.to_string(),
            ..self
        }
    }

    pub fn target(&self, name: &str) -> Result<&Target, ProcError> {
        crate::util::names::lookup(&self.targets, name, |t| &t.name).map_err(|known| {
            ProcError::usage(format!("unknown node '{name}': the cluster has {known}"))
        })
    }

    /// Every node's status (as the preflight's reading holds it, during a preflight).
    pub async fn probe(&self) -> ClusterView {
        match self.reading() {
            Some(r) => r.view(&self.name, &self.targets).await,
            None => probe(&self.name, &self.targets).await,
        }
    }

    /// Hands `view`, which a plan was just made from, to the preflight that follows: its
    /// checks read it instead of probing again (one round trip less, and the plan and its
    /// checks read one moment). The next preflight takes it, once; a clone never sees it.
    pub(crate) fn prepare(&self, view: &ClusterView) {
        *self.prepared.lock().expect("prepared lock") = Some(Arc::new(Reading::of(view)));
    }

    fn reading(&self) -> Option<Arc<Reading>> {
        self.reading.lock().expect("reading lock").clone()
    }

    /// See [`cluster::probe_patiently`].
    pub async fn probe_patiently(&self) -> ClusterView {
        cluster::probe_patiently(&self.name, &self.targets).await
    }

    /// Every node's status at once, and `name`'s among them: one round trip where a status and
    /// a probe one after the other took two. When `name` does not answer the probe, it is asked
    /// once more on its own, so the error is the one [`Cluster::status`] gives.
    pub async fn probe_with_status(
        &self,
        name: &str,
    ) -> Result<(ClusterView, NodeStatus), ProcError> {
        let view = self.probe().await;
        let status = match view.node(name).and_then(NodeView::ok) {
            Some(s) => s.clone(),
            None => self.status(name).await?,
        };
        Ok((view, status))
    }

    pub async fn status(&self, name: &str) -> Result<NodeStatus, ProcError> {
        let t = self.target(name)?;
        if let Some(s) = self.reading().and_then(|r| r.status(name).cloned()) {
            return Ok(s);
        }
        Ok(t.client.status().await?)
    }

    /// Two nodes' statuses, asked at once (a step's check and verification compare a node
    /// with its primary: one round trip, not two).
    pub async fn status_pair(
        &self,
        a: &str,
        b: &str,
    ) -> Result<(NodeStatus, NodeStatus), ProcError> {
        tokio::try_join!(self.status(a), self.status(b))
    }
}

/// Refuses when the cluster is not what the operator saw (`--expect-primary`, `--expect-epoch`).
pub fn check_expectations(
    view: &ClusterView,
    expect_primary: Option<&str>,
    expect_epoch: Option<u64>,
) -> Result<(), ProcError> {
    let primary = view.primary().map(|p| p.name.clone());
    if let Some(want) = expect_primary {
        if primary.as_deref() != Some(want) {
            return Err(ProcError::refused(format!(
                "--expect-primary {want}: the primary is {}",
                primary.unwrap_or_else(|| "unknown (none answers)".into())
            ))
            .unchanged());
        }
    }
    if let Some(want) = expect_epoch {
        let epoch = view.epoch();
        if epoch != want {
            return Err(ProcError::refused(format!(
                "--expect-epoch {want}: the cluster is at epoch {epoch}"
            ))
            .unchanged());
        }
    }
    Ok(())
}

/// A node's view, or a refusal saying it does not answer.
/// The epoch of the next promotion: above every epoch seen, refused near the bound.
pub fn next_epoch(epoch: u64) -> Result<u64, ProcError> {
    crate::api::next_epoch(epoch).map_err(|e| ProcError::refused(e).unchanged())
}

pub fn reachable<'a>(view: &'a ClusterView, name: &str) -> Result<&'a NodeStatus, ProcError> {
    let node = view
        .node(name)
        .ok_or_else(|| ProcError::usage(format!("unknown node '{name}'")))?;
    node.status
        .as_ref()
        .map_err(|e| ProcError::refused(format!("{name} does not answer ({e})")).unchanged())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::exit::Exit;

    #[test]
    fn a_node_not_asked_again_after_a_timeout_is_slow_to_a_wait_not_failed() {
        let url = "https://127.0.0.1:1".to_string();
        let timeout = ProcError::from(ClientError::Timeout {
            url: url.clone(),
            ms: 3000,
            maybe_slow: true,
        });
        let silent = ProcError::from(ClientError::Silent {
            url,
            ago_ms: 46,
            maybe_slow: true,
        });
        // A step's verification polls on through TimedOut and stops at anything else.
        assert_eq!(timeout.exit, Exit::TimedOut);
        assert_eq!(silent.exit, Exit::TimedOut, "{silent}");
        assert!(
            silent.to_string().contains("not asked again yet"),
            "{silent}"
        );
    }
}
