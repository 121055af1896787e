//! The operator policy after healing an etcd lab, as the README's etcd section tells a person,
//! through the drctl binary: `check`; if unhealthy, one remedy (`failover` when the quorum is
//! lost; `removenode` of a voting member that cannot start again, its data moved aside by a
//! fence that stopped part-way; the `etcd-rejoin-member` runbook for a member out of the
//! membership, another cluster's, or a learner), and `check` again, until every member votes in
//! one cluster at one raft index and revision, or the deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::drctl::proc_args;
use super::etcd_ctx::{votes, ECtx};
use super::operate::{problems, Tried, POLICY as OP};
use crate::engines::etcd::{quorum, EtcdView};

fn rejoin(node: &str) -> Vec<String> {
    proc_args(&[
        "run",
        "etcd-rejoin-member",
        "--var",
        &format!("node={node}"),
    ])
}

/// The remedies for the cluster as `view` shows it, most urgent first; `running`: the members
/// whose etcd runs.
fn remedies(view: &EtcdView, running: &BTreeSet<String>) -> Vec<Vec<String>> {
    let a = view.assess();
    let (voters, live) = a.voters(view);
    if a.leader.is_none() {
        // Without a quorum nothing else can be done; with one, an election is under way.
        return if voters > 0 && live < quorum(voters) {
            vec![proc_args(&["failover"])]
        } else {
            Vec::new()
        };
    }
    let (mut first, mut then) = (Vec::new(), Vec::new());
    for n in view.nodes.iter().filter(|n| !votes(view, &a, &n.name)) {
        match a.member_of(view, &n.name) {
            // Still a voting member, but its etcd cannot start: it leaves, then rejoins.
            Some(m) if !m.is_learner && !running.contains(&n.name) => {
                first.push(proc_args(&["removenode", &n.name]));
                then.push(rejoin(&n.name));
            }
            // Starting, or catching up after a start: wait.
            Some(m) if !m.is_learner && n.state.is_err() => {}
            _ => then.push(rejoin(&n.name)),
        }
    }
    first.extend(then);
    first
}

/// Whether every member is back: each votes in one cluster that one leader leads, and each
/// applied the same raft index and holds the same revision.
pub(crate) fn converged(view: &EtcdView) -> Result<(), String> {
    let a = view.assess();
    let outside: Vec<&str> = view
        .nodes
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| !votes(view, &a, n))
        .collect();
    if !outside.is_empty() {
        return Err(format!("{outside:?} do not vote in the cluster"));
    }
    if a.members.len() != view.nodes.len() {
        return Err(format!(
            "{} members for {} nodes",
            a.members.len(),
            view.nodes.len()
        ));
    }
    let at: BTreeSet<(u64, u64, u64, u64)> = view
        .nodes
        .iter()
        .filter_map(|n| n.state.as_ref().ok())
        .map(|s| {
            (
                s.status.header.cluster_id,
                s.status.leader,
                s.status.raft_applied_index,
                s.status.header.revision,
            )
        })
        .collect();
    if at.len() > 1 {
        return Err(format!(
            "members differ in (cluster id, leader, applied raft index, revision): {at:?}"
        ));
    }
    Ok(())
}

/// Recovers the cluster; `Ok` once `drctl check` exits 0 and [`converged`] holds.
pub(crate) async fn recover(ctx: &mut ECtx<'_>, deadline: Duration) -> Result<(), String> {
    let until = Instant::now() + deadline;
    let mut tried = Tried::default();
    loop {
        let check = ctx
            .drctl
            .call(OP, &["check".into(), "--json".into()], None)
            .await;
        let view = ctx.cl.probe().await;
        let conv = converged(&view);
        if check.exit == Some(0) && conv.is_ok() {
            ctx.note(
                "policy: drctl check",
                "exit 0; every member votes at one raft index and revision",
            );
            return Ok(());
        }
        if Instant::now() >= until {
            let problems = problems(&check);
            return Err(format!(
                "not converged after {} s: check exit {:?}: {problems}; {}",
                deadline.as_secs(),
                check.exit,
                conv.err().unwrap_or_else(|| "members agree".into())
            ));
        }
        let running: BTreeSet<String> = ctx
            .lab
            .nodes
            .iter()
            .filter(|n| ctx.lab.pid(&n.name).is_some())
            .map(|n| n.name.clone())
            .collect();
        tried.remedy(ctx, remedies(&view, &running), until).await;
    }
}
