//! Check, apply and verification of the core actions (switchover, failover, repoint, demote):
//! each asks the nodes afresh, so a rerun skips what is done.

use std::ops::ControlFlow::{Break, Continue};
use std::time::Duration;

use super::converged::{converged, Mark};
use super::divergence::divergence;
use super::step::{copied, Action, DRAIN_TTL_MS};
use super::{Cluster, ProcError};
use crate::api::{NodeStatus, Role};
use crate::engine::Check;
use crate::util::poll;

impl Action {
    pub async fn check(&self, cl: &Cluster) -> Result<Check, ProcError> {
        if self.is_extra() {
            return super::extra::check(self, cl).await;
        }
        match self {
            Action::Fence { node, epoch } => match cl.target(node)?.client.status().await {
                Err(e) if e.is_unreachable() => Ok(Check::Done(format!(
                    "{node} does not answer; it fences itself when it meets epoch {epoch}"
                ))),
                Err(e) => Err(e.into()),
                Ok(s) if s.role != Role::Primary || s.epoch >= *epoch => Ok(Check::Done(format!(
                    "{node} is {} at epoch {}",
                    s.role, s.epoch
                ))),
                Ok(_) => Ok(Check::ToDo),
            },
            Action::Drain { node } => {
                let s = cl.status(node).await?;
                Ok(if s.draining {
                    Check::Done(format!("{node} is draining"))
                } else {
                    Check::ToDo
                })
            }
            Action::Undrain { node } => {
                let s = cl.status(node).await?;
                Ok(if !s.draining || s.role != Role::Primary {
                    Check::Done(format!("{node} takes writes"))
                } else {
                    Check::ToDo
                })
            }
            Action::WaitCaughtUp { node, primary } => {
                let (s, p) = cl.status_pair(node, primary).await?;
                Ok(if s.head_seq >= p.head_seq && p.draining {
                    Check::Done(format!("{node} holds seq {}", p.head_seq))
                } else {
                    Check::ToDo
                })
            }
            Action::Promote { node, epoch, .. } => {
                let s = cl.status(node).await?;
                Ok(if s.role == Role::Primary && s.epoch >= *epoch {
                    Check::Done(format!("{node} is primary at epoch {}", s.epoch))
                } else {
                    Check::ToDo
                })
            }
            Action::Follow { node, primary, .. } => {
                let (s, p) = cl.status_pair(node, primary).await?;
                // Done only if it really replicates: its `following` alone says nothing when
                // its sync is off or suspended.
                Ok(
                    if follows(&s, &p) && s.sync.replicating() && s.head_seq >= p.head_seq {
                        Check::Done(format!(
                            "{node} replicates from {primary} and holds its last record"
                        ))
                    } else {
                        Check::ToDo
                    },
                )
            }
            Action::SyncFull { node, from } => {
                let (s, p) = cl.status_pair(node, from).await?;
                Ok(
                    if follows(&s, &p) && copied(&s.sync) && s.head_seq >= p.head_seq {
                        Check::Done(format!("{node} holds {from}'s data"))
                    } else {
                        Check::ToDo
                    },
                )
            }
            Action::ExportDivergent { node, primary, .. } => {
                // A standalone node may take a write at any moment: only the step itself,
                // its writes drained, can say it holds nothing to export (chaos seed 46231).
                if cl.status(node).await?.role == Role::Standalone {
                    return Ok(Check::ToDo);
                }
                let d = divergence(cl.target(node)?, cl.target(primary)?).await?;
                Ok(if d.records == 0 {
                    Check::Done(format!("{node} holds no record {primary} lacks"))
                } else {
                    Check::ToDo
                })
            }
            Action::SetSetting { name, value, via } => {
                let current = cl.target(via)?.client.get_setting(name).await?;
                Ok(if current.as_deref() == Some(value.as_str()) {
                    Check::Done(format!("{name} is {value}"))
                } else {
                    Check::ToDo
                })
            }
            Action::Standalone { node } => {
                let s = cl.status(node).await?;
                Ok(if s.role == Role::Standalone {
                    Check::Done(format!("{node} is standalone"))
                } else {
                    Check::ToDo
                })
            }
            Action::SyncAuto { node, on } => {
                let s = cl.status(node).await?;
                Ok(if sync_auto_is(&s, *on) {
                    Check::Done(format!(
                        "automatic sync to {node} is {}",
                        if *on { "on" } else { "off" }
                    ))
                } else {
                    Check::ToDo
                })
            }
            Action::Converged { primary } => Ok(
                match converged(cl, primary, false, &Mark::default()).await? {
                    Ok(note) => Check::Done(note),
                    Err(_) => Check::ToDo,
                },
            ),
            _ => unreachable!("extra actions are checked in extra.rs"),
        }
    }

    /// Does the step; returns a note for the report.
    pub async fn apply(&self, cl: &Cluster) -> Result<Option<String>, ProcError> {
        if self.is_extra() {
            return super::extra::apply(self, cl).await;
        }
        match self {
            Action::Fence { node, epoch } => {
                let reason = format!(
                    "fenced by {} (run {}): the cluster moved to epoch {epoch}",
                    cl.operator, cl.run_id
                );
                cl.target(node)?.client.fence(*epoch, &reason).await?;
                Ok(None)
            }
            Action::Drain { node } => {
                let r = cl.target(node)?.client.drain(DRAIN_TTL_MS).await?;
                Ok(Some(format!("last record before the drain: {}", r.head)))
            }
            Action::Undrain { node } => {
                cl.target(node)?.client.undrain().await?;
                Ok(None)
            }
            Action::WaitCaughtUp { .. } | Action::Converged { .. } => Ok(None),
            Action::Promote {
                node,
                epoch,
                caught_up_with,
                procedure,
            } => {
                if let Some(p) = caught_up_with {
                    // The last check before the point of no return: the target must hold every
                    // record of the old primary, which must still be drained.
                    let (s, ps) = cl.status_pair(node, p).await?;
                    if s.head_seq < ps.head_seq || (ps.role == Role::Primary && !ps.draining) {
                        return Err(ProcError::failed(format!(
                            "{node} holds seq {} but {p} is at seq {} (draining: {}); not promoting",
                            s.head_seq, ps.head_seq, ps.draining
                        )));
                    }
                }
                // Only the nodes' own epochs count here: no member list is read.
                let view = super::cluster::probe_statuses(&cl.name, &cl.targets).await;
                if let Some(u) = epoch_user(&view.nodes, node, *epoch) {
                    return Err(ProcError::refused(format!(
                        "{} is {} at epoch {}: epoch {epoch} is in use already (another run \
                         promoted meanwhile?); not promoting {node}; see `drctl status`",
                        u.0, u.1.role, u.1.epoch
                    )));
                }
                cl.target(node)?
                    .client
                    .promote(*epoch, Some(procedure))
                    .await?;
                Ok(None)
            }
            Action::Follow {
                node,
                primary,
                full_sync,
            } => follow(cl, node, primary, *full_sync, true).await,
            Action::SyncFull { node, from } => follow(cl, node, from, true, false).await,
            Action::ExportDivergent {
                node,
                primary,
                path,
            } => super::divergence::export_divergent(cl, node, primary, path).await,
            Action::SetSetting { name, value, via } => {
                cl.target(via)?.client.put_setting(name, value).await?;
                Ok(None)
            }
            Action::Standalone { node } => {
                cl.target(node)?.client.standalone().await?;
                Ok(None)
            }
            Action::SyncAuto { node, on } => {
                cl.target(node)?.client.set_sync_auto(*on).await?;
                Ok(None)
            }
            _ => unreachable!("extra actions are applied in extra.rs"),
        }
    }

    /// Waits until the step has taken effect, up to the cluster's step timeout.
    pub async fn verify(&self, cl: &Cluster) -> Result<Option<String>, ProcError> {
        let mark = Mark::default();
        poll::eager(cl.step_timeout, Duration::from_millis(10), || async {
            match self.verify_once(cl, &mark).await {
                Ok(Ok(note)) => Break(Ok(note)),
                Ok(Err(why)) => Continue(why),
                Err(e) if e.exit == crate::util::exit::Exit::TimedOut => Continue(e.to_string()),
                Err(e) => Break(Err(e)),
            }
        })
        .await
        .unwrap_or_else(|last| {
            Err(ProcError::timed_out(format!(
                "{} did not take effect within {} ms: {last}",
                self.describe(),
                cl.step_timeout.as_millis()
            )))
        })
    }

    /// One verification attempt: Ok(Ok(note)) holds, Ok(Err(why)) not yet.
    async fn verify_once(
        &self,
        cl: &Cluster,
        mark: &Mark,
    ) -> Result<Result<Option<String>, String>, ProcError> {
        if self.is_extra() {
            return super::extra::verify_once(self, cl).await;
        }
        Ok(match self {
            Action::Fence { node, epoch } => match cl.target(node)?.client.status().await {
                Err(e) if e.is_unreachable() => Ok(None),
                Err(e) => return Err(e.into()),
                Ok(s) if s.role != Role::Primary || s.epoch >= *epoch => Ok(None),
                Ok(s) => Err(format!("{node} is still primary at epoch {}", s.epoch)),
            },
            Action::Drain { node } => {
                let s = cl.status(node).await?;
                if s.draining {
                    Ok(None)
                } else {
                    Err(format!("{node} is not draining"))
                }
            }
            Action::Undrain { node } => {
                let s = cl.status(node).await?;
                if !s.draining || s.role != Role::Primary {
                    Ok(None)
                } else {
                    Err(format!("{node} is still draining"))
                }
            }
            Action::WaitCaughtUp { node, primary } => {
                let (s, p) = cl.status_pair(node, primary).await?;
                if s.head_seq >= p.head_seq {
                    Ok(Some(format!("{node} holds seq {}", s.head_seq)))
                } else {
                    Err(format!("{node} holds seq {} of {}", s.head_seq, p.head_seq))
                }
            }
            Action::Promote { node, epoch, .. } => {
                let s = cl.status(node).await?;
                if s.role == Role::Primary && s.epoch >= *epoch {
                    Ok(None)
                } else {
                    Err(format!("{node} is {} at epoch {}", s.role, s.epoch))
                }
            }
            Action::Follow { node, primary, .. }
            | Action::SyncFull {
                node,
                from: primary,
            } => {
                let (p, s) = cl.status_pair(primary, node).await?;
                let synced = match self {
                    Action::Follow { .. } => s.sync.replicating(),
                    _ => copied(&s.sync),
                };
                let head = mark.head(p.head_seq);
                if follows(&s, &p) && synced && s.head_seq >= head {
                    Ok(None)
                } else if s.sync.phase == "diverged" {
                    return Err(ProcError::failed(format!(
                        "{node} diverged from {primary}: {}; export its records first (`drctl demote {node}`)",
                        s.sync.last_error.unwrap_or_default()
                    )));
                } else {
                    Err(format!(
                        "{node} is {} (sync {}) at seq {} of {head}",
                        s.role, s.sync.phase, s.head_seq
                    ))
                }
            }
            Action::ExportDivergent {
                node,
                primary,
                path,
            } => {
                // No file when there was nothing to export: the node holds nothing the primary
                // lacks, or (standalone before) it follows the primary now.
                if path.exists() {
                    return Ok(Ok(None));
                }
                let (s, p) = cl.status_pair(node, primary).await?;
                if follows(&s, &p)
                    || divergence(cl.target(node)?, cl.target(primary)?)
                        .await?
                        .records
                        == 0
                {
                    Ok(None)
                } else {
                    Err(format!("{} was not written", path.display()))
                }
            }
            Action::SetSetting { name, value, via } => {
                // The primary and the replicas that follow it; a fenced or diverged node
                // replicates nothing until it is demoted.
                let (view, via_status) = cl.probe_with_status(via).await?;
                let holders = view.nodes.iter().filter(|n| {
                    n.ok().is_some_and(|s| {
                        n.name == *via
                            || (s.role == Role::Replica
                                && s.following
                                    .as_ref()
                                    .is_some_and(|f| f.url == via_status.url)
                                && s.sync.phase != "diverged")
                    })
                });
                let settings: Vec<(String, Option<String>)> = if name == "primary" {
                    // Each status carries it: no second round trip.
                    holders
                        .filter_map(|n| Some((n.name.clone(), n.ok()?.primary_setting.clone())))
                        .collect()
                } else {
                    // Asked at once: one round trip, not one per node.
                    futures_util::future::try_join_all(holders.map(|n| async move {
                        let t = cl.target(&n.name)?;
                        let held = t.client.get_setting(name).await?;
                        Ok::<_, ProcError>((n.name.clone(), held))
                    }))
                    .await?
                };
                let behind: Vec<String> = settings
                    .into_iter()
                    .filter(|(_, held)| held.as_deref() != Some(value.as_str()))
                    .map(|(n, _)| n)
                    .collect();
                if behind.is_empty() {
                    Ok(None)
                } else {
                    Err(format!(
                        "{} {} not have {name} = {value} yet",
                        behind.join(", "),
                        if behind.len() == 1 { "does" } else { "do" }
                    ))
                }
            }
            Action::Standalone { node } => {
                let s = cl.status(node).await?;
                if s.role == Role::Standalone {
                    Ok(None)
                } else {
                    Err(format!("{node} is {}", s.role))
                }
            }
            Action::SyncAuto { node, on } => {
                let s = cl.status(node).await?;
                if sync_auto_is(&s, *on) {
                    Ok(None)
                } else {
                    Err(format!(
                        "automatic sync to {node} is not {}",
                        if *on { "on" } else { "off" }
                    ))
                }
            }
            Action::Converged { primary } => converged(cl, primary, true, mark).await?.map(Some),
            _ => unreachable!("extra actions are verified in extra.rs"),
        })
    }
}

/// `s` is a replica of `p` (by its `following`; whether it replicates is another question).
fn follows(s: &NodeStatus, p: &NodeStatus) -> bool {
    s.role == Role::Replica && s.following.as_ref().is_some_and(|f| f.url == p.url)
}

/// Automatic sync is as asked: "on" means running (not suspended); "off" holds for non-replicas.
fn sync_auto_is(s: &NodeStatus, on: bool) -> bool {
    if on {
        s.sync.auto && s.sync.suspended.is_none()
    } else {
        !s.sync.auto || s.role != Role::Replica
    }
}

/// Makes `node` follow `primary`, with a full sync unless it already replicates cleanly from
/// it. `sync_on`: it must replicate afterwards, so an operator's "off" is turned on. The note
/// says what changed beyond following: a full sync, a suspension lifted, a setting overridden.
async fn follow(
    cl: &Cluster,
    node: &str,
    primary: &str,
    full_sync: bool,
    sync_on: bool,
) -> Result<Option<String>, ProcError> {
    let (s, p) = cl.status_pair(node, primary).await?;
    let full = full_sync && !(follows(&s, &p) && s.sync.replicating());
    cl.target(node)?
        .client
        .follow(&crate::api::FollowRequest {
            primary_url: p.url.clone(),
            full_sync: full,
            sync_on,
            if_head: None,
        })
        .await?;
    let mut notes = Vec::new();
    if full {
        notes.push(format!(
            "{node}'s data replaced by a full sync from {primary}"
        ));
    }
    if let Some(x) = &s.sync.suspended {
        notes.push(format!(
            "{node}'s automatic sync had suspended itself after {} failed attempts (since {}): resumed",
            x.failures, x.since
        ));
    }
    if sync_on && !s.sync.auto {
        notes.push(format!(
            "{node}'s automatic sync was off by operator command: turned on, as {node} must \
             replicate from {primary} (`drctl sync auto off {node}` turns it off again)"
        ));
    }
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

/// The node that already uses `epoch` (writes at it, or follows a node that does), if any: a
/// second planner (another shell, a stale plan) must not make a second writer at it. A fenced
/// node may hold the epoch (the fence records the epoch it makes way for), and so may a replica
/// still following it (it takes the epoch from the node it syncs from, seen in CI between a
/// switchover's fence and its promotion): neither writes at it.
fn epoch_user<'a>(
    nodes: &'a [super::cluster::NodeView],
    node: &str,
    epoch: u64,
) -> Option<(String, &'a NodeStatus)> {
    let fenced = |f: &crate::api::PeerRef| {
        nodes.iter().filter_map(|n| n.ok()).any(|p| {
            p.role == Role::Fenced
                && (f.host_id.as_deref() == Some(p.host_id.as_str()) || f.url == p.url)
        })
    };
    nodes.iter().find_map(|n| {
        let s = n.ok().filter(|_| n.name != node)?;
        let uses = match s.role {
            Role::Primary => s.epoch >= epoch,
            Role::Replica => s.epoch >= epoch && !s.following.as_ref().is_some_and(fenced),
            Role::Fenced | Role::Standalone => false,
        };
        uses.then(|| (n.name.clone(), s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::drnode::cluster::NodeView;

    /// A node's status as drnode reports it (`GET /v1/node`), with its role, epoch and source.
    fn node(name: &str, role: &str, epoch: u64, follows: Option<&str>) -> NodeView {
        let following = follows.map(|f| {
            serde_json::json!({"host_id": format!("id-{f}"), "name": f, "url": format!("https://{f}")})
        });
        let status: NodeStatus = serde_json::from_value(serde_json::json!({
            "applied_seq": 5, "cluster": "lab", "db_status": "up", "digest": "d", "draining": false,
            "entries": 5, "epoch": epoch, "fenced_reason": (role == "fenced").then_some("test"),
            "following": following, "head_epoch": 1, "head_seq": 5, "host_id": format!("id-{name}"),
            "lag": 0, "name": name, "owns": 100.0, "primary_head_seq": 5, "primary_setting": null,
            "replicas": {}, "role": role, "roles_held": [], "url": format!("https://{name}"),
            "version": "0.1.0",
            "sync": {"auto": true, "common": null, "divergent_records": null, "failures": 0,
                     "last_error": null, "phase": "partial", "suspended": null}
        }))
        .expect("a drnode status");
        NodeView {
            name: name.into(),
            url: format!("https://{name}"),
            promotable: true,
            status: Ok(status),
            elapsed: Duration::ZERO,
        }
    }

    /// CI run of 2026-12-04: a switchover fenced node-1 at epoch 2; node-3, still a replica of
    /// node-1, took epoch 2 from it before node-2's promotion, which was refused as "epoch 2 is
    /// in use already", past the point of no return.
    #[test]
    fn a_replica_of_the_fenced_primary_does_not_hold_its_epoch_against_the_promotion() {
        let nodes = [
            node("node-1", "fenced", 2, None),
            node("node-2", "replica", 1, Some("node-1")),
            node("node-3", "replica", 2, Some("node-1")),
        ];
        assert!(epoch_user(&nodes, "node-2", 2).is_none());
        // A replica of a writer at that epoch, and the writer itself, do hold it.
        let nodes = [
            node("node-1", "primary", 2, None),
            node("node-2", "replica", 1, Some("node-1")),
            node("node-3", "replica", 2, Some("node-1")),
        ];
        assert_eq!(
            epoch_user(&nodes, "node-2", 2).map(|u| u.0).as_deref(),
            Some("node-1")
        );
        let nodes = [
            node("node-2", "replica", 1, Some("node-1")),
            node("node-3", "replica", 2, Some("node-4")),
        ];
        assert_eq!(
            epoch_user(&nodes, "node-2", 2).map(|u| u.0).as_deref(),
            Some("node-3")
        );
    }
}
