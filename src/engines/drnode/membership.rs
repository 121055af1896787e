//! Standalone and join (seed 003): leave replication keeping the data; join a primary, whose
//! data then overwrites the node's.

use std::path::PathBuf;

use super::step::Action;
use super::{divergence, reachable, Cluster, Plan, ProcError};
use crate::api::Role;
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;

pub async fn standalone(
    cl: &Cluster,
    view: &ClusterView,
    node: &str,
) -> Result<Plan<Action>, ProcError> {
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
) -> Result<Plan<Action>, ProcError> {
    cl.target(node)?;
    let s = reachable(view, node)?;
    if on && s.role != Role::Replica {
        return Err(ProcError::refused(format!(
            "{node} is {}: automatic sync applies to replicas",
            s.role
        ))
        .unchanged());
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
    export: Option<PathBuf>,
) -> Result<Plan<Action>, ProcError> {
    cl.target(node)?;
    cl.target(primary)?;
    if let Some(Err(e @ crate::api::ClientError::WrongCluster { .. })) =
        view.node(node).map(|n| &n.status)
    {
        return Err(ProcError::refused(format!(
            "{e}; it cannot join cluster {}: nothing was changed",
            view.cluster
        )));
    }
    let s = reachable(view, node)?;
    let p = reachable(view, primary)?;
    if node == primary {
        return Err(ProcError::usage("a node cannot join itself"));
    }
    if !(p.role == Role::Primary && p.epoch == view.epoch()) {
        return Err(ProcError::refused(format!(
            "{primary} is {} at epoch {}, not the primary",
            p.role, p.epoch
        ))
        .unchanged());
    }
    let mut plan = Plan::new("join");
    if let Some(m) = view
        .members
        .iter()
        .find(|m| m.host_id == s.host_id && m.state == crate::api::MemberState::Removed)
    {
        plan.note(format!(
            "{node} was removed at {}: it is admitted again",
            m.removed_at.clone().unwrap_or_default()
        ));
        plan.step(Step::new(Action::Readmit {
            host_id: m.host_id.clone(),
            via: primary.into(),
        }));
    }
    // What the node holds that the primary lacks (the writes it took standalone, or an old
    // primary's unpropagated records) is exported before the full sync replaces it.
    let d = divergence(cl.target(node)?, cl.target(primary)?).await?;
    plan.note(format!(
        "{node}'s replicated data ({} entries) is replaced by {primary}'s ({} entries)",
        s.entries, p.entries
    ));
    // A standalone node takes writes until the moment it follows: one acknowledged between this
    // plan and the full sync would be replaced unexported (chaos seed 46231). Its export step
    // drains its writes, exports what it holds then, and follows only if its head is unchanged.
    let standalone = s.role == Role::Standalone;
    if d.records > 0 || standalone {
        let path =
            crate::util::words::absolute(&export.unwrap_or_else(|| {
                PathBuf::from(format!("drctl-join-{node}-{}.jsonl", cl.run_id))
            }));
        if d.records > 0 {
            plan.note(format!(
                "{node} holds {} after {} that {primary} never had{}: they are exported to \
                 {} (JSON lines: key, value, op, epoch, seq) before its data is replaced",
                crate::util::words::count(d.records, "record"),
                d.common,
                s.standalone_writes
                    .filter(|w| *w > 0)
                    .map(|w| format!(" ({w} written while it was standalone)"))
                    .unwrap_or_default(),
                path.display()
            ));
            plan.confirm = Some(format!(
                "Export {} of {node} to {} and replace its replicated data with {primary}'s?",
                crate::util::words::count(d.records, "record"),
                path.display()
            ));
        } else {
            plan.note(format!(
                "{node} holds nothing {primary} lacks; as it is standalone, writes it takes \
                 before it follows are exported to {} first",
                path.display()
            ));
            plan.confirm = Some(format!(
                "Replace {node}'s replicated data with {primary}'s?"
            ));
        }
        plan.step(Step::new(Action::ExportDivergent {
            node: node.into(),
            primary: primary.into(),
            path,
        }));
    } else {
        plan.confirm = Some(format!(
            "Replace {node}'s replicated data with {primary}'s?"
        ));
    }
    plan.step(Step::new(Action::Follow {
        node: node.into(),
        primary: primary.into(),
        full_sync: true,
    }));
    Ok(plan)
}

/// On-demand full sync (seed 001): `to`'s replicated data is replaced by `from`'s. Refused when
/// `from` replicates from `to` (the endless loop).
pub async fn sync_full(
    cl: &Cluster,
    view: &ClusterView,
    from: &str,
    to: &str,
) -> Result<Plan<Action>, ProcError> {
    cl.target(from)?;
    cl.target(to)?;
    if from == to {
        return Err(ProcError::usage("--from and --to name the same node"));
    }
    let a = reachable(view, from)?;
    let b = reachable(view, to)?;
    match a.role {
        Role::Replica if a.following.as_ref().is_some_and(|f| f.url == b.url) => {
            return Err(ProcError::refused(format!(
                "{from} replicates from {to} (sync {to}->{from} is on): a sync {from}->{to} would loop \
                 forever; first stop it (`drctl standalone {from}`)"
            )).unchanged())
        }
        Role::Replica | Role::Fenced => {
            return Err(ProcError::refused(format!(
                "{from} is {}: a full sync copies from a primary or a standalone node",
                a.role
            )).unchanged())
        }
        _ => {}
    }
    let mut plan = Plan::new("sync-full");
    plan.note(format!(
        "{to}'s replicated data ({} entries) is replaced by {from}'s ({} entries)",
        b.entries, a.entries
    ));
    plan.confirm = Some(match b.standalone_writes.filter(|w| *w > 0) {
        // A plain copy keeps nothing: say what it overwrites (`join` exports it first).
        Some(w) => format!(
            "{to} took {} while standalone that {from} may lack: a full sync discards \
             them (`drctl join {to} --primary P` exports them first). Replace {to}'s replicated \
             data with {from}'s?",
            crate::util::words::count(w, "write")
        ),
        None => format!("Replace {to}'s replicated data with {from}'s?"),
    });
    plan.step(Step::new(Action::SyncFull {
        node: to.into(),
        from: from.into(),
    }));
    Ok(plan)
}

pub async fn services(
    cl: &Cluster,
    view: &ClusterView,
    node: &str,
    running: bool,
) -> Result<Plan<Action>, ProcError> {
    cl.target(node)?;
    reachable(view, node)?;
    let mut plan = Plan::new("services");
    plan.step(Step::new(Action::Services {
        node: node.into(),
        running,
    }));
    Ok(plan)
}

/// Copies the primary's package files to every replica (checksummed), removing the ones the
/// primary no longer has (seed 003 §5.13.8, done by hand there).
pub async fn packages_sync(cl: &Cluster, view: &ClusterView) -> Result<Plan<Action>, ProcError> {
    let p = view
        .primary()
        .map(|p| p.name.clone())
        .ok_or_else(|| ProcError::refused("no primary answers").unchanged())?;
    let src = cl.target(&p)?.client.packages().await?;
    let mut plan = Plan::new("packages-sync");
    let mut removals = Vec::new();
    for n in &view.nodes {
        let Some(s) = n.ok() else {
            plan.note(format!(
                "{} does not answer: sync it when it is back",
                n.name
            ));
            continue;
        };
        if n.name == p || s.role != Role::Replica {
            continue;
        }
        let dst = cl.target(&n.name)?.client.packages().await?;
        let extra: Vec<String> = dst
            .iter()
            .filter(|d| !src.iter().any(|x| x.name == d.name))
            .map(|d| format!("{}:{}", n.name, d.name))
            .collect();
        removals.extend(extra);
        plan.step(Step::new(Action::PackagesSync {
            from: p.clone(),
            to: n.name.clone(),
        }));
    }
    if !removals.is_empty() {
        plan.note(format!(
            "files the primary no longer has are removed: {}",
            removals.join(", ")
        ));
        plan.confirm = Some(format!(
            "Remove {} package file(s) from replicas?",
            removals.len()
        ));
    }
    Ok(plan)
}
