//! The steps procedures are made of. Each action knows how to tell whether it is already done
//! (`check`), how to do it (`apply`) and how to prove it took effect (`verify`, which waits up to
//! the step timeout). Reruns are safe because `check` is asked first, every time.

use std::path::PathBuf;

use serde::Serialize;

use super::{Cluster, ProcError};
use crate::api::{SyncMode, SyncState};
use crate::engine::Check;

/// How long a drain lasts if the procedure dies before resuming writes.
pub(super) const DRAIN_TTL_MS: u64 = 30_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Tell a primary the cluster moved to `epoch`, so it fences itself.
    Fence {
        node: String,
        epoch: u64,
    },
    /// Stop new writes on the primary; in-flight writes finish.
    Drain {
        node: String,
    },
    /// Take writes again.
    Undrain {
        node: String,
    },
    /// Wait until `node` holds every record of `primary`.
    WaitCaughtUp {
        node: String,
        primary: String,
    },
    /// Make `node` primary at `epoch`; with `caught_up_with`, only if it holds that node's
    /// last record.
    Promote {
        node: String,
        epoch: u64,
        caught_up_with: Option<String>,
        /// The procedure promoting, remembered by the node for reruns.
        procedure: String,
    },
    /// Make `node` a replica of `primary` that replicates from it: automatic sync runs
    /// (a suspension is lifted, an operator's "off" turned on, and the report says so);
    /// `full_sync` replaces its data.
    Follow {
        node: String,
        primary: String,
        full_sync: bool,
    },
    /// On-demand full sync (seed 001): `node`'s data is replaced by `from`'s; its automatic sync
    /// stays as the operator set it (off: one copy, nothing after).
    SyncFull {
        node: String,
        from: String,
    },
    /// Write the records of `node` that `primary` never had to `path` (JSON lines).
    ExportDivergent {
        node: String,
        primary: String,
        path: PathBuf,
    },
    /// Set a replicated setting through `via` (seed 000's "tokens manager" is `primary`).
    SetSetting {
        name: String,
        value: String,
        via: String,
    },
    Standalone {
        node: String,
    },
    /// Automatic (partial) replication to `node` on or off.
    SyncAuto {
        node: String,
        on: bool,
    },
    /// Every reachable node follows `primary` and holds all it had when checked.
    Converged {
        primary: String,
    },
    /// The holder of an operation-master role acknowledges a transfer.
    ReleaseRole {
        node: String,
        role: String,
    },
    /// `node` becomes the holder of `role` at role epoch `epoch`, written through `via`.
    SetRole {
        role: String,
        node: String,
        epoch: u64,
        via: String,
    },
    /// The member starts leaving the instance set.
    MarkLeaving {
        host_id: String,
        via: String,
    },
    /// A live member acknowledges dropping a leaving one.
    AckDrop {
        node: String,
        host_id: String,
        via: String,
    },
    /// The leaving member is tombstoned (with `force`, without the missing acknowledgements).
    CompleteRemoval {
        host_id: String,
        via: String,
        force: bool,
    },
    /// A removed member is admitted again (before it rejoins).
    Readmit {
        host_id: String,
        via: String,
    },
    /// Start or stop a node's services.
    Services {
        node: String,
        running: bool,
    },
    /// Copy package files so `to` holds exactly `from`'s.
    PackagesSync {
        from: String,
        to: String,
    },
    /// Start (Some) or end (None) maintenance on a node.
    Maintenance {
        node: String,
        maintenance: Option<crate::api::Maintenance>,
    },
    /// Run a command for a node ({node}, {url}, {data_dir} substituted), once: a node-local
    /// marker records that it ran.
    Exec {
        node: String,
        command: String,
        marker: String,
    },
}

/// For the plan, before anything changes: following `primary` will resume `node`'s automatic
/// sync (suspended after failures) or turn it on (off by command), since it must replicate.
pub(super) fn sync_resume_note(
    node: &str,
    s: &crate::api::NodeStatus,
    primary: &str,
) -> Option<String> {
    match s.sync.mode() {
        SyncMode::On => None,
        SyncMode::Suspended => Some(format!(
            "{node}'s automatic sync suspended itself after failures: following {primary} resumes it"
        )),
        SyncMode::Off => Some(format!(
            "{node}'s automatic sync is off by operator command: following {primary} turns it on, \
             as it must replicate (`drctl sync auto off {node}` afterwards turns it off again)"
        )),
    }
}

/// After an on-demand full sync: the copy is done and nothing is failing (automatic sync may be
/// off, as the operator set it, but not suspended).
pub(super) fn copied(s: &SyncState) -> bool {
    s.suspended.is_none() && (s.replicating() || (!s.auto && s.phase == "off"))
}

impl crate::engine::Act for Action {
    type Ctx = Cluster;

    fn describe(&self) -> String {
        Action::describe(self)
    }
    fn changes(&self) -> bool {
        Action::changes(self)
    }
    async fn check(&self, cl: &Cluster) -> Result<Check, ProcError> {
        Action::check(self, cl).await
    }
    async fn apply(&self, cl: &Cluster) -> Result<Option<String>, ProcError> {
        Action::apply(self, cl).await
    }
    async fn verify(&self, cl: &Cluster) -> Result<Option<String>, ProcError> {
        Action::verify(self, cl).await
    }
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::Fence { node, epoch } => {
                format!("fence {node} (the cluster is at epoch {epoch})")
            }
            Action::Drain { node } => format!("drain writes on {node}"),
            Action::Undrain { node } => format!("resume writes on {node}"),
            Action::WaitCaughtUp { node, primary } => {
                format!("wait until {node} holds {primary}'s last record")
            }
            Action::Promote { node, epoch, .. } => {
                format!("promote {node} to primary at epoch {epoch}")
            }
            Action::Follow {
                node,
                primary,
                full_sync: true,
            } => format!("make {node} a replica of {primary} (full sync: its data is replaced)"),
            Action::Follow { node, primary, .. } => format!("make {node} a replica of {primary}"),
            Action::SyncFull { node, from } => {
                format!("replace {node}'s data with {from}'s (on-demand full sync)")
            }
            Action::ExportDivergent {
                node,
                primary,
                path,
            } => format!(
                "export {node}'s records that {primary} never had to {}",
                path.display()
            ),
            Action::SetSetting { name, value, .. } => {
                format!("set the replicated setting {name} = {value}")
            }
            Action::Standalone { node } => format!("make {node} standalone"),
            Action::SyncAuto { node, on } => {
                format!(
                    "turn automatic sync to {node} {}",
                    if *on { "on" } else { "off" }
                )
            }
            Action::Converged { primary } => {
                format!("verify every reachable node follows {primary} and is caught up")
            }
            Action::ReleaseRole { node, role } => format!("ask {node} to release {role}"),
            Action::SetRole {
                role, node, epoch, ..
            } => {
                format!("make {node} the {role} (role epoch {epoch})")
            }
            Action::MarkLeaving { host_id, .. } => format!("mark member {host_id} leaving"),
            Action::AckDrop { node, host_id, .. } => {
                format!("have {node} acknowledge dropping {host_id}")
            }
            Action::CompleteRemoval { host_id, force, .. } => format!(
                "remove member {host_id}{}",
                if *force {
                    " (forced: missing acknowledgements ignored)"
                } else {
                    ""
                }
            ),
            Action::Readmit { host_id, .. } => format!("admit removed member {host_id} again"),
            Action::Services { node, running } => {
                format!(
                    "{} services on {node}",
                    if *running { "start" } else { "stop" }
                )
            }
            Action::PackagesSync { from, to } => format!("copy {from}'s package files to {to}"),
            Action::Maintenance {
                node,
                maintenance: Some(m),
            } => format!("put {node} in maintenance ({})", m.reason),
            Action::Maintenance {
                node,
                maintenance: None,
            } => format!("end maintenance on {node}"),
            Action::Exec { node, command, .. } => format!("run `{command}` for {node}"),
        }
    }

    /// Whether `apply` changes the cluster (waits and verifications do not).
    pub fn changes(&self) -> bool {
        !matches!(self, Action::WaitCaughtUp { .. } | Action::Converged { .. })
    }

    /// The actions of roles, membership, services, packages and upgrades (in `extra.rs`).
    pub(super) fn is_extra(&self) -> bool {
        matches!(
            self,
            Action::ReleaseRole { .. }
                | Action::SetRole { .. }
                | Action::MarkLeaving { .. }
                | Action::AckDrop { .. }
                | Action::CompleteRemoval { .. }
                | Action::Readmit { .. }
                | Action::Services { .. }
                | Action::PackagesSync { .. }
                | Action::Maintenance { .. }
                | Action::Exec { .. }
        )
    }
}
