//! Removing members (seeds 000 and 003): metadata cleanup of a failed instance, removals that
//! pass through `leaving` until every live member acknowledges, `removenode --force`, and the
//! tombstone that keeps a returning node from wedging the cluster.

use serde::Serialize;

use super::step::Action;
use super::{Cluster, Plan, ProcError};
use crate::api::{Member, MemberState, Role};
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;

/// Refuses unless the naming master answers (membership changes need it).
fn naming_master_answers(view: &ClusterView) -> Result<(), ProcError> {
    let Some(rec) = view.roles().get("naming-master").cloned() else {
        return Ok(());
    };
    let name = view.name_of_host(&rec.holder).unwrap_or(rec.holder.clone());
    if view.node(&name).is_some_and(|n| n.ok().is_some()) {
        Ok(())
    } else {
        Err(ProcError::refused(format!(
            "the naming master {name} does not answer: membership changes need it; seize it first \
             (`drctl seize-roles --to NODE --role naming-master`)"
        ))
        .unchanged())
    }
}

/// The member with this host id, or else with this name (`removenode node-3` works too).
fn by_host<'a>(view: &'a ClusterView, host_id: &str) -> Result<&'a Member, ProcError> {
    if view.nodes.iter().all(|n| n.ok().is_none()) {
        // Not the operator's mistake: the member list cannot be read (chaos seed 5048 took
        // "no member has node-3", exit 2, while every node was down or cut off).
        return Err(ProcError::refused(format!(
            "no node answers, so the member list cannot be read to find {host_id}; see `drctl status`"
        ))
        .unchanged());
    }
    let found = |f: &dyn Fn(&Member) -> bool| view.members.iter().find(|m| f(m));
    found(&|m| m.host_id == host_id)
        .or_else(|| found(&|m| m.name == host_id))
        .ok_or_else(|| {
            // A node of the cluster file missing from the list read is not the operator's
            // mistake either: the node read may hold no list yet (chaos seed 41038: node-3,
            // wiped, had not synced when the primary died; exit 2 said the input was wrong).
            if view.node(host_id).is_some() {
                ProcError::refused(format!(
                    "{host_id} is in the cluster file, but the member list read from {} does \
                     not hold it (a node whose data was wiped holds none until it has synced); \
                     see `drctl status`",
                    view.members_source()
                        .map(|n| n.name.as_str())
                        .unwrap_or("the answering nodes")
                ))
                .unchanged()
            } else {
                ProcError::usage(format!("no member has the host id or name {host_id}"))
            }
        })
}

/// Steps that take `m` through leaving to removed.
fn removal_steps(
    plan: &mut Plan<Action>,
    view: &ClusterView,
    m: &Member,
    primary: &str,
    force: bool,
) {
    plan.step(Step::new(Action::MarkLeaving {
        host_id: m.host_id.clone(),
        via: primary.into(),
    }));
    for other in view
        .members
        .iter()
        .filter(|o| o.host_id != m.host_id && o.state == MemberState::Normal)
    {
        if let Some(name) = view
            .name_of_host(&other.host_id)
            .filter(|n| view.node(n).is_some())
        {
            plan.step(Step::new(Action::AckDrop {
                node: name,
                host_id: m.host_id.clone(),
                via: primary.into(),
            }));
        } else {
            plan.note(format!(
                "{} is not in the cluster file: it cannot acknowledge; use --force",
                other.name
            ));
        }
    }
    plan.step(Step::new(Action::CompleteRemoval {
        host_id: m.host_id.clone(),
        via: primary.into(),
        force,
    }));
}

fn preconditions(view: &ClusterView, m: &Member) -> Result<String, ProcError> {
    let primary = view
        .primary()
        .ok_or_else(|| ProcError::refused("no primary answers: fail over first").unchanged())?;
    if primary.ok().is_some_and(|s| s.host_id == m.host_id) {
        return Err(ProcError::refused(format!(
            "{} is the primary: move the primary first (`drctl switchover --to …` or `drctl failover`)",
            m.name
        )).unchanged());
    }
    let held = view.roles_held(&m.host_id);
    if !held.is_empty() && m.state != MemberState::Removed {
        return Err(ProcError::refused(format!(
            "{} holds {}: seize it first: drctl seize-roles --to {} --role {}",
            m.name,
            held.join(", "),
            primary.name,
            held.join(" --role ")
        ))
        .unchanged());
    }
    naming_master_answers(view)?;
    Ok(primary.name.clone())
}

/// `remove-instance NODE`: a running instance goes standalone (keeping its data); then it is
/// removed from the member list.
pub async fn remove_instance(
    cl: &Cluster,
    view: &ClusterView,
    node: &str,
) -> Result<Plan<Action>, ProcError> {
    cl.target(node)?;
    let n = view.node(node).expect("known target");
    let m = view.member(n).cloned().ok_or_else(|| {
        ProcError::refused(format!(
            "{node} is not a member of cluster {}",
            view.cluster
        ))
    })?;
    let mut plan = Plan::new("remove-instance");
    if m.state == MemberState::Removed {
        plan.note(format!(
            "{node} was removed at {}",
            m.removed_at.clone().unwrap_or_default()
        ));
        return Ok(plan);
    }
    let primary = preconditions(view, &m)?;
    match n.ok() {
        Some(s) if s.role != Role::Standalone => {
            plan.note(format!(
                "{node} is running: it goes standalone and keeps its data"
            ));
            plan.step(Step::new(Action::Standalone { node: node.into() }));
        }
        Some(_) => {}
        None => {
            plan.note(format!(
                "{node} does not answer: it is removed from the member list"
            ));
        }
    }
    removal_steps(&mut plan, view, &m, &primary, false);
    Ok(plan)
}

/// `removenode [--force] HOST_ID` (seed 003's `nodetool removenode`).
pub async fn removenode(
    _cl: &Cluster,
    view: &ClusterView,
    host_id: &str,
    force: bool,
) -> Result<Plan<Action>, ProcError> {
    let m = by_host(view, host_id)?.clone();
    let mut plan = Plan::new(if force {
        "removenode-force"
    } else {
        "removenode"
    });
    if m.state == MemberState::Removed {
        plan.note(format!(
            "{} was removed at {}",
            m.name,
            m.removed_at.clone().unwrap_or_default()
        ));
        return Ok(plan);
    }
    let primary = preconditions(view, &m)?;
    if force {
        plan.confirm = Some(format!(
            "Remove {} ({host_id}) without the acknowledgements that are missing?",
            m.name
        ));
    }
    removal_steps(&mut plan, view, &m, &primary, force);
    Ok(plan)
}

/// One pending removal, for `removenode status`.
#[derive(Debug, Clone, Serialize)]
pub struct PendingRemoval {
    pub name: String,
    pub host_id: String,
    pub state: MemberState,
    pub acknowledged_by: Vec<String>,
    pub missing: Vec<String>,
}

pub fn removenode_status(view: &ClusterView) -> Vec<PendingRemoval> {
    view.members
        .iter()
        .filter(|m| m.state == MemberState::Leaving)
        .map(|m| {
            let others: Vec<&Member> = view
                .members
                .iter()
                .filter(|o| o.host_id != m.host_id && o.state == MemberState::Normal)
                .collect();
            PendingRemoval {
                name: m.name.clone(),
                host_id: m.host_id.clone(),
                state: m.state,
                acknowledged_by: others
                    .iter()
                    .filter(|o| m.acks.contains(&o.host_id))
                    .map(|o| o.name.clone())
                    .collect(),
                missing: others
                    .iter()
                    .filter(|o| !m.acks.contains(&o.host_id))
                    .map(|o| o.name.clone())
                    .collect(),
            }
        })
        .collect()
}
