//! etcd procedures as plans of `EtcdAction`s, built from one probe: move the leadership
//! (switchover) and remove a member. Preconditions refuse (exit 3) before anything changes; a
//! plan whose every step already holds is a rerun, "already done".

use super::assess::{quorum, Assessment, EtcdView, Role};
use super::steps::EtcdAction as A;
use super::EtcdCluster;
use crate::engine::{Plan, ProcError, Step};

/// `switchover --to NODE`: move-leader to a voting member that answers.
pub(super) fn switchover(
    cl: &EtcdCluster,
    view: &EtcdView,
    a: &Assessment,
    to: &str,
) -> Result<Plan<A>, ProcError> {
    cl.node(to)?;
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let i = view
        .nodes
        .iter()
        .position(|n| n.name == to)
        .expect("known node");
    let (n, na) = (&view.nodes[i], &a.nodes[i]);
    if let Err(e) = &n.state {
        return refuse(format!("{to} {e}: it cannot lead"));
    }
    let member = match na.role {
        Some(Role::Leader | Role::Follower) => na.member_id.expect("an answering member"),
        Some(Role::Learner) => {
            return refuse(format!(
                "{to} is a learner: it does not vote and cannot lead; promote it first"
            ))
        }
        Some(Role::Removed) => return refuse(format!("{to} is not in the membership")),
        Some(Role::OtherCluster) | None => {
            return refuse(format!("{to} serves another cluster than the majority"))
        }
    };
    if a.leader.is_none() {
        return Err(no_leader(view, a, "hand the leadership over"));
    }
    let mut plan = Plan::new("etcd switchover");
    plan.note(format!(
        "leader now: {}; raft term {}",
        a.leader.as_deref().unwrap_or("none"),
        view.state(to)
            .map(|s| s.status.raft_term)
            .unwrap_or_default()
    ));
    plan.step(
        Step::new(A::MoveLeader {
            node: to.to_string(),
            member: format!("{member:x}"),
        })
        .point_of_no_return(),
    );
    Ok(plan)
}

/// `removenode NODE [--force]`: member remove, refused when the voting members that would
/// remain and answer are fewer than their quorum (unless forced).
pub(super) fn removenode(
    cl: &EtcdCluster,
    view: &EtcdView,
    a: &Assessment,
    node: &str,
    force: bool,
) -> Result<Plan<A>, ProcError> {
    cl.node(node)?;
    if a.members.is_empty() {
        return Err(ProcError::refused("no member of the cluster answers").unchanged());
    }
    let mut plan = Plan::new("etcd removenode");
    let Some(member) = a.member_of(view, node) else {
        // Already out of the membership: a rerun. The same step, whose check says so.
        let i = view
            .nodes
            .iter()
            .position(|n| n.name == node)
            .expect("known");
        plan.step(Step::new(A::RemoveMember {
            node: node.to_string(),
            member: a.nodes[i]
                .member_id
                .map(|id| format!("{id:x}"))
                .unwrap_or_default(),
        }));
        return Ok(plan);
    };
    let (voters, live) = a.voters(view);
    let answers = view.node(node).is_some_and(|n| n.state.is_ok());
    let (voters_after, live_after) = if member.is_learner {
        (voters, live)
    } else {
        (voters - 1, live.saturating_sub(usize::from(answers)))
    };
    let need = quorum(voters_after);
    plan.note(format!(
        "{node} is member {:x}{}; {live_after} of the {voters_after} voting member(s) that remain answer, a quorum of them is {need}",
        member.id,
        if member.is_learner { " (a learner)" } else { "" }
    ));
    if a.leader.is_none() {
        return Err(no_leader(view, a, "commit a membership change"));
    }
    if live_after < need {
        if !force {
            return Err(ProcError::refused(format!(
                "removing {node} would leave {live_after} answering voting member(s) of {voters_after}, fewer than their quorum of {need}: the cluster would lose its quorum at once; start the lost members first, or give --force if they are about to come back"
            ))
            .unchanged());
        }
        plan.note(format!(
            "--force: the remaining answering members ({live_after}) are fewer than their quorum ({need}): the cluster stops taking writes until enough of the others are back"
        ));
    }
    plan.step(
        Step::new(A::RemoveMember {
            node: node.to_string(),
            member: format!("{:x}", member.id),
        })
        .point_of_no_return(),
    );
    Ok(plan)
}

/// The refusal when no member leads: an election under way, or a lost quorum.
pub(super) fn no_leader(view: &EtcdView, a: &Assessment, what: &str) -> ProcError {
    let (voters, live) = a.voters(view);
    ProcError::refused(if live >= quorum(voters) {
        format!("no leader yet ({live} of {voters} voting members answer: an election is under way), and only a leader can {what}: try again in a moment")
    } else {
        format!("no leader: the cluster lost its quorum ({live} of {voters} voting members answer), so it cannot {what}; start the lost members first")
    })
    .unchanged()
}
