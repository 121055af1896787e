//! Rejoin a member that was removed or lost its data (`procedure.rejoin`, the bundled runbook
//! `etcd-rejoin-member`): stop it, move its data directory aside (the old member id would be
//! refused, and an old membership must never come back), add it as a learner (allowed at once,
//! unlike a voting member, and it cannot hurt the quorum while it catches up), start it empty
//! so it joins the running cluster, promote it once it is in sync. Every step checks a fresh
//! probe, so a rerun (or a run after a partial one) does only what is left.

use std::ops::ControlFlow::{Break, Continue};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio::process::Command;

use super::assess::{Assessment, EtcdView, Role};
use super::client::{answered, EtcdError, Member};
use super::{EtcdCluster, EtcdNode};
use crate::engine::{Plan, ProcError, Step};
use crate::util::poll;

/// One step of a rejoin.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum Rejoin {
    /// Run the member's stop command; done when it does not answer.
    Stop { node: String },
    /// Rename its data directory to `to`; done when `from` is gone.
    MoveAside {
        node: String,
        from: PathBuf,
        to: PathBuf,
    },
    /// `member add --learner` with its peer URL; done when the membership lists it.
    AddLearner { node: String, peer_url: String },
    /// Run its start command with ETCD_INITIAL_CLUSTER (the membership now) and
    /// ETCD_INITIAL_CLUSTER_STATE=existing; done when it answers in the majority's cluster.
    Start { node: String },
    /// `member promote`, retried until the learner is in sync; done when it votes.
    Promote { node: String },
}

/// The plan: what is left of stop, move aside, add, start, promote.
pub(super) fn plan(
    cl: &EtcdCluster,
    view: &EtcdView,
    a: &Assessment,
    node: &str,
) -> Result<Plan<Rejoin>, ProcError> {
    let n = cl.node(node)?;
    let missing: Vec<&str> = [
        ("peer_url", n.peer_url.is_none()),
        ("data_dir", n.data_dir.is_none()),
        ("start_command", n.start_command.is_none()),
        ("stop_command", n.stop_command.is_none()),
    ]
    .into_iter()
    .filter_map(|(f, m)| m.then_some(f))
    .collect();
    if !missing.is_empty() {
        return Err(ProcError::usage(format!(
            "{node}: a rejoin needs {} in the cluster file",
            missing.join(", ")
        )));
    }
    if a.leader.is_none() {
        return Err(super::procedures::no_leader(view, a, "add a member"));
    }
    let i = view
        .nodes
        .iter()
        .position(|x| x.name == node)
        .expect("known");
    let role = a.nodes[i].role;
    let mut plan = Plan::new("etcd rejoin");
    let promote = Step::new(Rejoin::Promote { node: node.into() });
    match (a.member_of(view, node), role) {
        // Voting and answering: nothing to do (a rerun). A learner that runs: promote it.
        (Some(m), Some(Role::Leader | Role::Follower)) if !m.is_learner => {
            plan.step(promote);
            return Ok(plan);
        }
        (Some(_), Some(Role::Learner)) => {
            plan.step(promote);
            return Ok(plan);
        }
        (Some(m), _) if !m.is_learner => {
            return Err(ProcError::refused(format!(
                "{node} is still a voting member ({:x}) that does not serve the cluster: remove it first (`drctl removenode {node}`), then rejoin it",
                m.id
            ))
            .unchanged())
        }
        _ => {}
    }
    let from = n.data_dir.clone().expect("checked");
    let mut to = from.clone().into_os_string();
    to.push(format!(".removed-{}", cl.run_id));
    plan.note(format!(
        "{node}'s data directory {} is moved aside to {}: its old identity can never serve again",
        from.display(),
        PathBuf::from(&to).display()
    ));
    plan.confirm = Some(format!(
        "Stop {node}, move its data directory aside and rejoin it as a new member?"
    ));
    plan.step(Step::new(Rejoin::Stop { node: node.into() }));
    plan.step(
        Step::new(Rejoin::MoveAside {
            node: node.into(),
            from,
            to: to.into(),
        })
        .point_of_no_return(),
    );
    plan.step(Step::new(Rejoin::AddLearner {
        node: node.into(),
        peer_url: n.peer_url.clone().expect("checked"),
    }));
    plan.step(Step::new(Rejoin::Start { node: node.into() }));
    plan.step(promote);
    Ok(plan)
}

/// Runs a host command of the cluster file (`sh -c`), bounded by `timeout`.
pub(crate) async fn host(
    what: &str,
    command: &str,
    env: &[(&str, String)],
    timeout: Duration,
) -> Result<String, ProcError> {
    let mut c = Command::new("sh");
    c.arg("-c").arg(command).kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = tokio::time::timeout(timeout, c.output())
        .await
        .map_err(|_| ProcError::timed_out(format!("{what} did not finish within {timeout:?}")))?
        .map_err(|e| ProcError::failed(format!("{what}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(ProcError::failed(format!(
            "{what} failed ({}): {}",
            out.status,
            err.trim().lines().last().unwrap_or_default()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn matches(m: &Member, n: &EtcdNode) -> bool {
    (!m.name.is_empty() && m.name == n.name)
        || n.peer_url
            .as_ref()
            .is_some_and(|p| m.peer_urls.iter().any(|u| u.trim_end_matches('/') == p))
}

impl Rejoin {
    fn node(&self) -> &str {
        match self {
            Rejoin::Stop { node }
            | Rejoin::MoveAside { node, .. }
            | Rejoin::AddLearner { node, .. }
            | Rejoin::Start { node }
            | Rejoin::Promote { node } => node,
        }
    }

    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    pub(super) async fn holds(
        &self,
        cl: &EtcdCluster,
    ) -> Result<Result<String, String>, ProcError> {
        let node = self.node();
        let n = cl.node(node)?;
        if let Rejoin::MoveAside { from, .. } = self {
            return Ok(if from.exists() {
                Err(format!("{} exists", from.display()))
            } else {
                Ok(format!("{} is not there", from.display()))
            });
        }
        let view = cl.probe().await;
        let a = view.assess();
        let i = view
            .nodes
            .iter()
            .position(|x| x.name == node)
            .expect("known");
        let answers = view.nodes[i].state.is_ok();
        let member = a.members.iter().find(|m| matches(m, n));
        Ok(match self {
            Rejoin::Stop { .. } if answers => Err(format!("{node} answers")),
            Rejoin::Stop { .. } => Ok(format!("{node} does not answer")),
            Rejoin::AddLearner { .. } => match member {
                Some(m) => Ok(format!("member {:x} is in the membership", m.id)),
                None => Err(format!("{node} is not in the membership")),
            },
            Rejoin::Start { .. } => match a.nodes[i].role {
                Some(r @ (Role::Learner | Role::Follower | Role::Leader)) => {
                    Ok(format!("{node} answers as a {r}"))
                }
                other => Err(format!(
                    "{node} {}",
                    other.map_or("does not answer".to_string(), |r| format!("is {r}"))
                )),
            },
            Rejoin::Promote { .. } => match member {
                Some(m) if !m.is_learner => Ok(format!("{node} is a voting member")),
                Some(_) => Err(format!("{node} is a learner")),
                None => Err(format!("{node} is not in the membership")),
            },
            Rejoin::MoveAside { .. } => unreachable!("answered above"),
        })
    }

    pub(super) async fn run(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        let n = cl.node(self.node())?;
        let node = &n.name;
        let timeout = cl.step_timeout;
        let leader_url = || async {
            let view = cl.probe().await;
            let a = view.assess();
            a.leader
                .as_deref()
                .and_then(|l| view.node(l))
                .map(|l| l.url.clone())
                .ok_or_else(|| ProcError::failed("no leader answers: the cluster lost its quorum"))
        };
        let fail = |e: EtcdError| ProcError::failed(format!("{}: {e}", self.describe()));
        match self {
            Rejoin::Stop { .. } => {
                let c = n.stop_command.as_deref().expect("planned with one");
                host(&format!("{node}'s stop_command"), c, &[], timeout).await?;
                Ok(Some(format!("ran: {c}")))
            }
            Rejoin::MoveAside { from, to, .. } => {
                // Never under a member that still serves: that is what Stop was for.
                if answered(&cl.client.status(&n.url).await) {
                    return Err(ProcError::refused(format!(
                        "{node} answers: its data directory is not moved while it runs"
                    )));
                }
                std::fs::rename(from, to).map_err(|e| {
                    ProcError::failed(format!("move {} to {}: {e}", from.display(), to.display()))
                })?;
                Ok(Some(format!("{} is now {}", from.display(), to.display())))
            }
            Rejoin::AddLearner { peer_url, .. } => {
                // "unhealthy cluster" until every voting member has been connected to the
                // leader for 5 s (--strict-reconfig-check): measured 4.8-5.1 s after a change.
                let r = poll::within(timeout, Duration::from_millis(200), || async {
                    let url = match leader_url().await {
                        Ok(u) => u,
                        Err(e) => return Continue(e.to_string()),
                    };
                    match cl.client.add_learner(&url, peer_url).await {
                        Ok(m) => Break(Ok(Some(format!("{} members now", m.members.len())))),
                        Err(e @ EtcdError::Api { .. })
                            if e.to_string().contains("unhealthy cluster") =>
                        {
                            Continue(e.to_string())
                        }
                        Err(e) => Break(Err(fail(e))),
                    }
                })
                .await;
                r.unwrap_or_else(|last| {
                    Err(ProcError::timed_out(format!(
                        "etcd did not accept {node} as a learner within {timeout:?}: {last}"
                    )))
                })
            }
            Rejoin::Start { .. } => {
                let view = cl.probe().await;
                let a = view.assess();
                let initial = a
                    .members
                    .iter()
                    .filter_map(|m| {
                        let name = if matches(m, n) {
                            node.clone()
                        } else {
                            m.name.clone()
                        };
                        Some(format!("{name}={}", m.peer_urls.first()?))
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                let env = [
                    ("ETCD_INITIAL_CLUSTER", initial.clone()),
                    ("ETCD_INITIAL_CLUSTER_STATE", "existing".to_string()),
                ];
                let c = n.start_command.as_deref().expect("planned with one");
                host(&format!("{node}'s start_command"), c, &env, timeout).await?;
                Ok(Some(format!("started with ETCD_INITIAL_CLUSTER={initial}")))
            }
            Rejoin::Promote { .. } => {
                // Refused until the learner is in sync with the leader: ask again.
                let r = poll::within(timeout, Duration::from_millis(100), || async {
                    let view = cl.probe().await;
                    let Some(m) = view.assess().members.into_iter().find(|m| matches(m, n)) else {
                        return Break(Err(ProcError::failed(format!(
                            "{node} is not in the membership"
                        ))));
                    };
                    let url = match leader_url().await {
                        Ok(u) => u,
                        Err(e) => return Continue(e.to_string()),
                    };
                    match cl.client.promote(&url, m.id).await {
                        Ok(()) => Break(Ok(Some(format!("member {:x} votes", m.id)))),
                        Err(e @ EtcdError::Api { .. }) if e.to_string().contains("in sync") => {
                            Continue(e.to_string())
                        }
                        Err(e) => Break(Err(fail(e))),
                    }
                })
                .await;
                r.unwrap_or_else(|last| {
                    Err(ProcError::timed_out(format!(
                        "{node} was not in sync with the leader within {timeout:?}: {last}"
                    )))
                })
            }
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Rejoin::Stop { node } => format!("stop {node} (its stop_command)"),
            Rejoin::MoveAside { node, from, to } => format!(
                "move {node}'s data directory {} aside to {}",
                from.display(),
                to.display()
            ),
            Rejoin::AddLearner { node, peer_url } => {
                format!("add {node} ({peer_url}) as a learner")
            }
            Rejoin::Start { node } => {
                format!("start {node} empty to join the running cluster (its start_command)")
            }
            Rejoin::Promote { node } => format!("promote {node} to a voting member once in sync"),
        }
    }
}

impl crate::engine::Act for Rejoin {
    type Ctx = EtcdCluster;
    fn describe(&self) -> String {
        Rejoin::describe(self)
    }
    async fn check(&self, cl: &EtcdCluster) -> Result<crate::engine::Check, ProcError> {
        Ok(match self.holds(cl).await? {
            Ok(note) => crate::engine::Check::Done(note),
            Err(_) => crate::engine::Check::ToDo,
        })
    }
    async fn apply(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        self.run(cl).await
    }
    async fn verify(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        super::steps::verify_holds(cl, self.describe(), || self.holds(cl)).await
    }
}
