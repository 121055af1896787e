//! Standalone and join (seed 003): leave replication keeping the data; join a primary, whose
//! data then overwrites the node's.

use super::step::{Action, Step};
use super::{reachable, Cluster, Plan, ProcError};
use crate::api::Role;
use crate::cluster::ClusterView;

pub async fn standalone(cl: &Cluster, view: &ClusterView, node: &str) -> Result<Plan, ProcError> {
    cl.target(node)?;
    let s = reachable(view, node)?;
    let mut plan = Plan::new("standalone");
    if s.role == Role::Primary {
        let replicas = view
            .nodes
            .iter()
            .filter(|n| n.ok().is_some_and(|r| r.role == Role::Replica))
            .count();
        if replicas > 0 {
            plan.confirm = Some(format!(
                "{node} is the primary: its {replicas} replica(s) will stop receiving updates. Continue?"
            ));
        }
    }
    plan.note(format!("{node} stops replicating and keeps its data"));
    plan.step(Step::new(Action::Standalone { node: node.into() }));
    Ok(plan)
}

pub async fn sync_auto(
    cl: &Cluster,
    view: &ClusterView,
    node: &str,
    on: bool,
) -> Result<Plan, ProcError> {
    cl.target(node)?;
    let s = reachable(view, node)?;
    if on && s.role != Role::Replica {
        return Err(ProcError::refused(format!(
            "{node} is {}: automatic sync applies to replicas; nothing was changed",
            s.role
        )));
    }
    let mut plan = Plan::new("sync-auto");
    plan.step(Step::new(Action::SyncAuto {
        node: node.into(),
        on,
    }));
    Ok(plan)
}

pub async fn join(
    cl: &Cluster,
    view: &ClusterView,
    node: &str,
    primary: &str,
) -> Result<Plan, ProcError> {
    cl.target(node)?;
    cl.target(primary)?;
    let s = reachable(view, node)?;
    let p = reachable(view, primary)?;
    if node == primary {
        return Err(ProcError::usage("a node cannot join itself"));
    }
    if !(p.role == Role::Primary && p.epoch == view.epoch()) {
        return Err(ProcError::refused(format!(
            "{primary} is {} at epoch {}, not the primary; nothing was changed",
            p.role, p.epoch
        )));
    }
    let mut plan = Plan::new("join");
    plan.note(format!(
        "{node}'s replicated data ({} entries) is replaced by {primary}'s ({} entries)",
        s.entries, p.entries
    ));
    plan.confirm = Some(format!(
        "Replace {node}'s replicated data with {primary}'s?"
    ));
    plan.step(Step::new(Action::Follow {
        node: node.into(),
        primary: primary.into(),
        full_sync: true,
    }));
    Ok(plan)
}
