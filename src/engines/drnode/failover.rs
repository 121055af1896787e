//! Forced failover (seed 002): the primary is gone; promote the most advanced promotable replica
//! at a new epoch and tell every survivor. What may be lost is shown before anything changes, and
//! a replica ahead of the target is never silently truncated.

use std::path::Path;

use super::candidates::last_resort;
use super::step::Action;
use super::switchover::repoint_others;
use super::{rank, reachable, Cluster, Plan, ProcError};
use crate::api::Role;
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;

pub async fn failover(
    cl: &Cluster,
    view: &ClusterView,
    to: Option<&str>,
    force: bool,
    export_dir: &Path,
) -> Result<Plan<Action>, ProcError> {
    // Whether the primary answers decides between refusing, fencing it first, and promoting
    // beside it: a node that only missed the short probe timeout is asked again patiently.
    let patient;
    let view = if view.maybe_slow() {
        patient = cl.probe_patiently().await;
        &patient
    } else {
        view
    };
    let epoch = view.epoch();
    let live = view.primary().map(|p| p.name.clone());
    // A primary a failover made at the current epoch is this procedure's own work (a rerun, or
    // a run killed after the promotion): continue it rather than refuse.
    let ours = view.primary().filter(|p| {
        p.ok()
            .and_then(|s| s.promotion.as_ref())
            .is_some_and(|pr| pr.epoch == epoch && pr.procedure.as_deref() == Some("failover"))
            && to.is_none_or(|t| t == p.name)
    });
    if let Some(p) = ours {
        return finish_ours(cl, view, &p.name, epoch).await;
    }
    let target = choose(cl, view, to, live.as_deref(), force)?;
    let mut plan = Plan::new("failover");
    if live.as_deref() == Some(target.as_str()) {
        plan.note(format!("{target} is already the primary at epoch {epoch}"));
    } else {
        let ask = Ask {
            target: &target,
            live: live.as_deref(),
            force,
            export_dir,
        };
        promotion(cl, view, &ask, &mut plan).await?;
    }
    // Every other answering node follows the target (those handled above excepted).
    let mut skip: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Follow { node, .. } => Some(node.clone()),
            _ => None,
        })
        .collect();
    skip.extend(live.clone());
    let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
    everyone_follows(cl, view, &mut plan, &target, &skip).await?;
    Ok(plan)
}

/// The rest of a failover that promoted `target` at `epoch`: every survivor follows it.
async fn finish_ours(
    cl: &Cluster,
    view: &ClusterView,
    target: &str,
    epoch: u64,
) -> Result<Plan<Action>, ProcError> {
    let target = target.to_string();
    let mut plan = Plan::new("failover");
    plan.note(format!(
        "{target} was promoted by a failover at epoch {epoch}: finishing that failover"
    ));
    everyone_follows(cl, view, &mut plan, &target, &[]).await?;
    Ok(plan)
}

/// The primary setting names `target`, every answering node but `skip` follows it, and the
/// group is verified converged on it. The setting is written as the survivors follow, not
/// after them: written after the follows it took a round of replication of its own (about 4 ms
/// of a 20 ms failover). The group's verification waits for the primary's head as it was once
/// all of them ended, the setting included.
async fn everyone_follows(
    cl: &Cluster,
    view: &ClusterView,
    plan: &mut Plan<Action>,
    target: &str,
    skip: &[&str],
) -> Result<(), ProcError> {
    plan.step(super::switchover::set_primary(target));
    repoint_others(cl, view, plan, target, skip).await?;
    plan.step(Step::new(Action::Converged {
        primary: target.to_string(),
    }));
    Ok(())
}

/// The node to promote: the one asked for, else the most advanced promotable one (or the live
/// primary, when none ranks; or, forced, the fenced old primary left as the last resort).
fn choose(
    cl: &Cluster,
    view: &ClusterView,
    to: Option<&str>,
    live: Option<&str>,
    force: bool,
) -> Result<String, ProcError> {
    let ranked = rank(view);
    Ok(match to {
        Some(t) => {
            cl.target(t)?;
            t.to_string()
        }
        None => match ranked.iter().find(|c| c.rank == Some(1)) {
            Some(c) => c.name.clone(),
            None if live.is_some() => live.expect("checked").to_string(),
            // Only a fenced old primary is left: promoted by `--force` alone, being the
            // decision to take its history as the cluster's (chaos seed 42020).
            None if force && last_resort(&ranked).is_some() => {
                last_resort(&ranked).expect("checked").name.clone()
            }
            None => {
                return Err(ProcError::refused(format!(
                    "no node can be promoted: {}",
                    ranked
                        .iter()
                        .map(|c| format!("{} {}", c.name, c.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .unchanged())
            }
        },
    })
}

/// What a failover was asked for.
struct Ask<'a> {
    target: &'a str,
    /// The primary that still answers, if one does (fenced first, with `--force`).
    live: Option<&'a str>,
    force: bool,
    export_dir: &'a Path,
}

/// The promotion of the target at the next epoch: what may be lost said first, a replica
/// ahead of it exported and resynced (with `--force`) or refused, a live primary fenced first.
async fn promotion(
    cl: &Cluster,
    view: &ClusterView,
    ask: &Ask<'_>,
    plan: &mut Plan<Action>,
) -> Result<(), ProcError> {
    let (target, force, export_dir) = (ask.target.to_string(), ask.force, ask.export_dir);
    let live = ask.live.map(str::to_string);
    let epoch = view.epoch();
    let next = super::next_epoch(epoch)?;
    let ranked = rank(view);
    let t = reachable(view, &target)?;
    if let Some(p) = &live {
        if !force {
            return Err(ProcError::refused(format!(
                "the primary {p} answers (epoch {epoch}): use `drctl switchover --to {target}` for a \
                 managed switchover, or `--force` to fail over anyway (then {p} is fenced)"
            )).unchanged());
        }
    }
    let last = ranked
        .iter()
        .find(|c| c.name == target && c.last_resort && force);
    if let Some(c) = last {
        plan.note(format!(
            "no replica can be promoted; {target} is {}, the most advanced history left, and \
             is promoted at a new epoch; `drctl join` brings a standalone node back and exports \
             what it holds that {target} lacks",
            c.role.map(|r| r.to_string()).unwrap_or_default()
        ));
    } else if let Some(c) = ranked.iter().find(|c| c.name == target && !c.promotable) {
        return Err(
            ProcError::refused(format!("{target} cannot be promoted: {}", c.reason)).unchanged(),
        );
    }
    // What the replicas last saw of the old primary, against what the target holds.
    let last_seen = view
        .nodes
        .iter()
        .filter_map(|n| n.ok())
        .filter_map(|s| s.primary_head_seq)
        .max()
        .unwrap_or(t.head_seq);
    let gap = last_seen.saturating_sub(t.head_seq);
    plan.note(format!(
        "{target} holds epoch {} seq {}; the replicas last saw the old primary at seq {last_seen}",
        t.head_epoch, t.head_seq
    ));
    plan.note(if gap > 0 {
        format!(
            "up to {} after seq {} would be lost",
            crate::util::words::count(gap, "acknowledged write"),
            t.head_seq
        )
    } else {
        format!("{target} holds every record the replicas saw")
    });
    plan.note(
        "writes the old primary acknowledged but never shipped cannot be seen from here; \
         if it comes back, `drctl demote` exports them",
    );
    // A replica ahead of the target would lose its extra records: never silently.
    for n in &view.nodes {
        let Some(s) = n.ok() else { continue };
        if n.name == target || s.role != Role::Replica || s.head_seq <= t.head_seq {
            continue;
        }
        let extra = cl
            .target(&n.name)?
            .client
            .read_log(t.head_seq, 20)
            .await
            .map_err(ProcError::from)?;
        let names: Vec<String> = extra
            .iter()
            .map(|r| format!("seq {} {:?} {}", r.seq, r.op, r.key).to_lowercase())
            .collect();
        let count = s.head_seq - t.head_seq;
        if !force {
            return Err(ProcError::refused(format!(
                "{} is ahead of {target} by {} ({}{}); failing over to {target} would drop them: \
                 choose `--to {}`, or `--force` to export them and resync {}",
                n.name,
                crate::util::words::count(count, "record"),
                names.join(", "),
                if count > 20 { ", …" } else { "" },
                n.name,
                n.name
            ))
            .unchanged());
        }
        let path = crate::util::words::absolute(
            &export_dir.join(format!("drctl-failover-{}-{}.jsonl", n.name, cl.run_id)),
        );
        plan.note(format!(
            "{} is ahead of {target} by {}: they are exported to {} before it is resynced",
            n.name,
            crate::util::words::count(count, "record"),
            path.display()
        ));
        plan.step(Step::new(Action::ExportDivergent {
            node: n.name.clone(),
            primary: target.clone(),
            path,
        }));
        plan.step(Step::new(Action::Follow {
            node: n.name.clone(),
            primary: target.clone(),
            full_sync: true,
        }));
    }
    if let Some(p) = &live {
        plan.note(format!(
            "{p} still answers: it is fenced first; afterwards `drctl demote {p}` exports what it holds that {target} lacks and makes it a replica"
        ));
        plan.steps.insert(
            0,
            Step::new(Action::Fence {
                node: p.clone(),
                epoch: next,
            }),
        );
    }
    let promote_at = plan
        .steps
        .iter()
        .position(|s| !matches!(s.action, Action::Fence { .. }))
        .unwrap_or(plan.steps.len());
    plan.steps.insert(
        promote_at,
        Step::new(Action::Promote {
            node: target.clone(),
            epoch: next,
            caught_up_with: None,
            procedure: "failover".into(),
        })
        .point_of_no_return(),
    );
    plan.confirm = Some(format!(
        "Promote {target} to primary at epoch {next}{}?",
        if gap > 0 {
            format!(
                " (up to {} may be lost)",
                crate::util::words::count(gap, "acknowledged write")
            )
        } else {
            String::new()
        }
    ));
    Ok(())
}
