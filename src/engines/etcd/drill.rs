//! Drills on a lab of real etcd members (`drill: {kind: etcd}`), run by
//! `runbook::drill_runner`: faults (SIGKILL, SIGSTOP, restarts, acknowledged writes, another
//! runbook) after which the lab settles, a write client, then `expect:` (leader, health, roles,
//! membership, no acknowledged write lost). Skipped, saying why, where etcd is missing.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::lab::EtcdLab;
use super::writes::{self as ew, Acks};
use super::EtcdCluster;
use crate::engine::Bound;
use crate::lab::{LabError, LabKind};
use crate::runbook::drill_hooks::DrillRun;
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::{fail, Checks};
use crate::runbook::drill_runner::{self, Acked, Batch, DrillLab, Writing};
use crate::runbook::front;
use crate::runbook::model::Compiler;
use crate::util::poll;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(30);

/// What an etcd drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "etcd", 1..=9, "members");
    let says = "an etcd drill expects primary (the leader), primary_not, healthy, roles, members and no_write_lost";
    crate::runbook::drill_model::check_engine_expect(c, node, d, true, says);
}

/// The drill as the registry hands it out.
pub(crate) const START: DrillRun = drill_runner::start::<EtcdLab>;

impl Acked for Acks {
    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl DrillLab for EtcdLab {
    type Group = EtcdCluster;
    type Acks = Acks;
    const NODES: &'static str = "etcd members";
    const DEADLINE: Duration = DEADLINE;
    const LAB: &'static LabKind = &super::lab::LAB;

    /// A drill that kills a majority leaves no quorum: nothing is acknowledged until the run
    /// forces a new cluster, so the writes start with the run, not before it.
    fn writer_first(d: &Drill) -> bool {
        let killed = d
            .inject
            .iter()
            .filter(|i| matches!(i, Inject::Kill(_)))
            .count();
        killed * 2 < usize::from(d.nodes)
    }

    fn create(dir: &Path, nodes: u16) -> Result<EtcdLab, LabError> {
        EtcdLab::create(dir, nodes)
    }

    fn discard(self) -> Result<(), LabError> {
        EtcdLab::discard(self)
    }

    async fn group(&mut self) -> Result<EtcdCluster, LabError> {
        self.up(DEADLINE).await
    }

    fn bind(cl: &EtcdCluster) -> Bound {
        front::bind(
            super::Etcd::of(cl, "drill"),
            &cl.name,
            "drill",
            cl.nodes.iter().map(|n| &n.url),
        )
    }

    fn write(cl: &EtcdCluster, acks: &Arc<Acks>, b: Batch) -> Writing {
        let (urls, acks, client) = (urls(cl), acks.clone(), cl.client.clone());
        Box::pin(async move {
            ew::write(&client, &urls, &b.prefix, b.count, b.rate, DEADLINE, &acks).await
        })
    }

    async fn settle(cl: &EtcdCluster, _: &Acks, _: &Inject) -> Result<(), LabError> {
        settle(cl).await
    }

    /// `expect:` in one look: the leader, roles, membership, health, and every acknowledged key
    /// readable through the leader.
    async fn look(d: &Drill, cl: &EtcdCluster, acks: &Acks) -> (Checks, u64) {
        let mut out = Checks::default();
        let view = cl.probe().await;
        let a = view.assess();
        out.primary(&d.expect, "leader", a.leader.as_deref());
        out.roles(&d.expect, |node| {
            let i = view.nodes.iter().position(|n| n.name == node);
            i.and_then(|i| a.nodes[i].role)
                .map(|r| r.to_string())
                .unwrap_or_else(|| "unreachable".into())
        });
        for (node, state) in &d.expect.members {
            let have = match a.member_of(&view, node) {
                Some(m) if m.is_learner => "learner",
                Some(_) => "member",
                None => "removed",
            };
            out.check(
                format!("{node} is {state}"),
                have == state,
                format!("{node} is {have} ({} members)", a.members.len()),
            );
        }
        out.healthy(&d.expect, a.healthy, &a.problems);
        let mut lost = 0;
        if d.expect.no_write_lost {
            let at = a.leader.as_deref().and_then(|l| cl.node(l).ok());
            let present = match at {
                Some(n) => cl
                    .client
                    .keys(&n.url, ew::PREFIX)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("no leader answers".into()),
            };
            let acked = acks.keys.lock().expect("acks lock").clone();
            let present = present.map(|keys| keys.into_iter().collect());
            lost = out.no_write_lost(&acked, present, "present");
        }
        (out, lost)
    }
}

fn urls(cl: &EtcdCluster) -> Vec<String> {
    cl.nodes.iter().map(|n| n.url.clone()).collect()
}

/// Waits, after every fault, until the members that answer agree on a leader and have applied its log, when
/// enough answer to elect one (a killed leader is replaced within about a second), or until no
/// member claims to lead, when too few answer: what an operator sees before acting, and what
/// makes every acknowledged write held by every member.
async fn settle(cl: &EtcdCluster) -> Result<(), LabError> {
    poll::within(DEADLINE, Duration::from_millis(20), || async {
        let view = cl.probe().await;
        let a = view.assess();
        let (voters, live) = a.voters(&view);
        if live < super::assess::quorum(voters) {
            // Settled once a leader that lost its quorum has stepped down.
            return match &a.leader {
                None => Break(()),
                Some(l) => Continue(vec![format!("{l} still leads without a quorum")]),
            };
        }
        let Some(head) = a.leader.as_deref().and_then(|l| view.state(l)) else {
            return Continue(a.problems);
        };
        let head = head.status.raft_index;
        let behind: Vec<String> = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| (n, s)))
            .filter(|(_, s)| s.status.raft_applied_index < head)
            .map(|(n, s)| {
                format!(
                    "{} applied {} of {head}",
                    n.name, s.status.raft_applied_index
                )
            })
            .collect();
        if behind.is_empty() {
            Break(())
        } else {
            Continue(behind)
        }
    })
    .await
    .map_err(|p| {
        fail(format!(
            "the lab did not settle within {DEADLINE:?}: {}",
            p.join("; ")
        ))
    })
}
