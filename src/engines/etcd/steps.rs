//! The steps etcd procedures are made of: each a call to the v3 API (or a wait) that knows
//! whether it is done, how to do it and how to prove it took effect, from a fresh probe every
//! time. Member ids are hex in reports, as etcdctl prints them.

use serde::Serialize;

use super::client::EtcdError;
use super::EtcdCluster;
use crate::engine::{Act, Check, ProcError};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum EtcdAction {
    /// move-leader to `node` (member `member`), sent to whichever member leads at apply time.
    MoveLeader { node: String, member: String },
    /// `member remove` of `node`'s member id, sent to the leader.
    RemoveMember { node: String, member: String },
    /// Every answering voting member follows `node` as leader and has applied the leader's log.
    LeaderCaughtUp { node: String },
}

fn id(hex: &str) -> Result<u64, ProcError> {
    u64::from_str_radix(hex, 16)
        .map_err(|_| ProcError::failed(format!("member id '{hex}' is not hex")))
}

impl EtcdAction {
    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, cl: &EtcdCluster) -> Result<Result<String, String>, ProcError> {
        let view = cl.probe().await;
        let a = view.assess();
        match self {
            EtcdAction::MoveLeader { node, .. } => Ok(match &a.leader {
                Some(l) if l == node => Ok(format!("{node} leads")),
                Some(l) => Err(format!("{l} leads")),
                None => Err("no leader".into()),
            }),
            EtcdAction::RemoveMember { node, member } => {
                if a.members.is_empty() {
                    return Ok(Err("no member of the cluster answers".into()));
                }
                // No id: the node was out of the membership when planned (found by name and
                // URLs); it still is if nothing there matches it.
                let listed = if member.is_empty() {
                    a.member_of(&view, node).is_some()
                } else {
                    let id = id(member)?;
                    a.members.iter().any(|m| m.id == id)
                };
                let who = if member.is_empty() {
                    node.clone()
                } else {
                    format!("member {member} ({node})")
                };
                Ok(if listed {
                    Err(format!("{who} is in the membership"))
                } else {
                    Ok(format!(
                        "{who} is not in the membership of {} member(s)",
                        a.members.len()
                    ))
                })
            }
            EtcdAction::LeaderCaughtUp { node } => {
                if a.leader.as_deref() != Some(node.as_str()) {
                    return Ok(Err(format!(
                        "the leader is {}",
                        a.leader.as_deref().unwrap_or("none")
                    )));
                }
                let head = view
                    .state(node)
                    .map(|s| s.status.raft_index)
                    .unwrap_or_default();
                let behind: Vec<String> = view
                    .nodes
                    .iter()
                    .zip(&a.nodes)
                    .filter_map(|(n, na)| {
                        let s = n.state.as_ref().ok()?;
                        let voting = matches!(
                            na.role,
                            Some(super::assess::Role::Follower | super::assess::Role::Leader)
                        );
                        (voting
                            && (s.status.leader != a.leader_id.unwrap_or_default()
                                || s.status.raft_applied_index + 1 < head))
                            .then(|| {
                                format!(
                                    "{} (applied {} of {head})",
                                    n.name, s.status.raft_applied_index
                                )
                            })
                    })
                    .collect();
                Ok(if behind.is_empty() {
                    Ok(format!(
                        "{node} leads and every answering member applied its log"
                    ))
                } else {
                    Err(format!("behind: {}", behind.join(", ")))
                })
            }
        }
    }

    async fn run(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        let view = cl.probe().await;
        let a = view.assess();
        let leader = a
            .leader
            .as_deref()
            .and_then(|l| view.node(l))
            .ok_or_else(|| ProcError::failed("no leader answers: the cluster lost its quorum"))?;
        let fail = |e: EtcdError| {
            ProcError::failed(format!(
                "{} (sent to the leader {}): {e}",
                self.describe(),
                leader.name
            ))
        };
        match self {
            EtcdAction::MoveLeader { member, .. } => {
                cl.client
                    .move_leader(&leader.url, id(member)?)
                    .await
                    .map_err(fail)?;
                Ok(Some(format!("leadership handed over by {}", leader.name)))
            }
            EtcdAction::RemoveMember { node, member } => {
                let left = match cl.client.remove_member(&leader.url, id(member)?).await {
                    // etcd's own guard (--strict-reconfig-check): the members connected to
                    // the leader would lack a quorum without this one. Nothing was proposed.
                    Err(EtcdError::Api { message, .. }) if message.contains("unhealthy cluster") => {
                        return Err(ProcError::refused(format!(
                            "etcd refuses to remove {node}: the members that remain connected to the leader would have no quorum ({message}); start the lost members first"
                        ))
                        .unchanged())
                    }
                    r => r.map_err(fail)?,
                };
                Ok(Some(format!("{} member(s) left", left.members.len())))
            }
            EtcdAction::LeaderCaughtUp { .. } => Ok(None),
        }
    }
}

impl Act for EtcdAction {
    type Ctx = EtcdCluster;
    fn describe(&self) -> String {
        match self {
            EtcdAction::MoveLeader { node, member } => {
                format!("move the leadership to {node} (member {member})")
            }
            EtcdAction::RemoveMember { node, member } if member.is_empty() => {
                format!("remove {node} from the membership")
            }
            EtcdAction::RemoveMember { node, member } => {
                format!("remove {node} (member {member}) from the membership")
            }
            EtcdAction::LeaderCaughtUp { node } => {
                format!("verify {node} leads and every answering member applied its log")
            }
        }
    }
    fn changes(&self) -> bool {
        !matches!(self, EtcdAction::LeaderCaughtUp { .. })
    }
    async fn check(&self, cl: &EtcdCluster) -> Result<Check, ProcError> {
        super::steps::check_holds(self.holds(cl).await)
    }
    async fn apply(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        self.run(cl).await
    }
    async fn verify(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        super::steps::verify_holds(cl, self.describe(), || self.holds(cl)).await
    }
}

/// `verify` from `holds`, within the step's timeout.
pub(super) async fn verify_holds<F, Fut>(
    cl: &EtcdCluster,
    what: String,
    holds: F,
) -> Result<Option<String>, ProcError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Result<String, String>, ProcError>>,
{
    crate::engine::verify_holds(cl.step_timeout, what, holds).await
}

pub(super) use crate::engine::check_holds;
