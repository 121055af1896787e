//! Managed switchover (seed 002): the primary finishes outstanding writes, the target catches
//! up, then everyone switches. Not one acknowledged write is lost.

use super::step::Action;
use super::{divergence, rank, reachable, Cluster, Plan, ProcError};
use crate::api::Role;
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;

pub async fn switchover(
    cl: &Cluster,
    view: &ClusterView,
    to: &str,
) -> Result<Plan<Action>, ProcError> {
    cl.target(to)?;
    let t = reachable(view, to)?;
    let epoch = view.epoch();
    let mut plan = Plan::new("switchover");
    let Some(primary) = view.primary() else {
        if let Some(plan) = finish_after_fence(cl, view, to).await? {
            return Ok(plan);
        }
        return Err(ProcError::refused(format!(
            "no primary answers at epoch {epoch}: a managed switchover needs the primary; \
             use `drctl failover --to {to}` if it is lost"
        ))
        .unchanged());
    };
    let p = primary.name.clone();
    if p == to {
        plan.note(format!("{to} is already the primary at epoch {epoch}"));
        plan.step(set_primary(to));
    } else {
        let why_not = rank(view)
            .into_iter()
            .find(|c| c.name == to)
            .filter(|c| !c.promotable)
            .map(|c| c.reason);
        if let Some(why) = why_not {
            return Err(
                ProcError::refused(format!("{to} cannot become primary: {why}")).unchanged(),
            );
        }
        let ps = primary.ok().expect("the primary answered");
        let follows = t.following.as_ref().is_some_and(|f| f.url == ps.url);
        if !follows {
            return Err(ProcError::refused(format!(
                "{to} does not replicate from the primary {p}"
            ))
            .unchanged());
        }
        plan.note(format!(
            "{p} (primary, epoch {epoch}, seq {}) hands over to {to} (seq {}, {} behind)",
            ps.head_seq,
            t.head_seq,
            crate::util::words::count(ps.head_seq.saturating_sub(t.head_seq), "record")
        ));
        if t.sync.suspended.is_some() {
            // It gave up syncing while the primary was away: resume it before the drain, or it
            // could never catch up.
            plan.step(Step::new(Action::Follow {
                node: to.into(),
                primary: p.clone(),
                full_sync: false,
            }));
        }
        plan.step(
            Step::new(Action::Drain { node: p.clone() }).undo(Action::Undrain { node: p.clone() }),
        );
        plan.step(Step::new(Action::WaitCaughtUp {
            node: to.into(),
            primary: p.clone(),
        }));
        // The point of no return: the old primary is fenced at the new epoch before the target
        // is promoted at it. From here the old primary never takes writes at the old epoch
        // again, whatever happens to the target or to this run (a drain that runs out included).
        let next = super::next_epoch(epoch)?;
        plan.step(
            Step::new(Action::Fence {
                node: p.clone(),
                epoch: next,
            })
            .point_of_no_return(),
        );
        plan.step(Step::new(Action::Promote {
            node: to.into(),
            epoch: next,
            caught_up_with: Some(p.clone()),
            procedure: "switchover".into(),
        }));
        // Written as the others follow, as a failover does.
        plan.step(set_primary(to));
        plan.step(follow(&p, to));
    }
    repoint_others(cl, view, &mut plan, to, &[p.as_str()]).await?;
    plan.step(Step::new(Action::Converged { primary: to.into() }));
    Ok(plan)
}

/// A switchover stopped after fencing the old primary and before (or during) the promotion:
/// no primary answers, the old primary is fenced at the cluster epoch, and the target holds
/// every record it had. Finishing it promotes the target at a new epoch; nothing reopens the
/// old primary.
async fn finish_after_fence(
    cl: &Cluster,
    view: &ClusterView,
    to: &str,
) -> Result<Option<Plan<Action>>, ProcError> {
    let epoch = view.epoch();
    let t = reachable(view, to)?;
    // A node that does not answer may be the one the interrupted run promoted, holding writes
    // acknowledged at the new epoch: only a failover (which names what may be lost) goes on then.
    if view.nodes.iter().any(|n| n.ok().is_none()) {
        return Ok(None);
    }
    let fenced: Vec<_> = view
        .nodes
        .iter()
        .filter_map(|n| n.ok().map(|s| (n.name.clone(), s)))
        .filter(|(name, s)| s.role == Role::Fenced && s.epoch == epoch && name != to)
        .collect();
    let [(old, f)] = fenced.as_slice() else {
        return Ok(None);
    };
    let follows = t.following.as_ref().is_some_and(|x| x.url == f.url);
    if !follows || t.head_seq < f.head_seq || t.role != Role::Replica {
        return Ok(None);
    }
    if divergence(cl.target(old)?, cl.target(to)?).await?.records > 0 {
        return Ok(None);
    }
    let mut plan = Plan::new("switchover");
    plan.note(format!(
        "{old} was fenced at epoch {epoch} by an interrupted switchover and no primary answers; \
         {to} holds all {} of its records: it is promoted and the switchover finished",
        f.head_seq
    ));
    plan.step(
        Step::new(Action::Promote {
            node: to.into(),
            epoch: super::next_epoch(epoch)?,
            caught_up_with: Some(old.clone()),
            procedure: "switchover".into(),
        })
        .point_of_no_return(),
    );
    plan.step(set_primary(to));
    plan.step(follow(old, to));
    repoint_others(cl, view, &mut plan, to, &[old.as_str()]).await?;
    plan.step(Step::new(Action::Converged { primary: to.into() }));
    Ok(Some(plan))
}

/// `node` follows `to`, at the same time as the follows next to it: each node follows on its
/// own (a switchover's two follows took 20 ms one after the other, 11 ms side by side).
fn follow(node: &str, to: &str) -> Step<Action> {
    Step::new(Action::Follow {
        node: node.into(),
        primary: to.into(),
        full_sync: false,
    })
    .alongside()
}

/// The replicated setting `primary = to`, written through `to`, at the same time as the follows
/// after it: a write on `to` and each follow do not wait on one another (in a failover the
/// setting's write and verification took 2.5 ms before the follows began). The group's final
/// verification waits for the primary's head, the setting included, on every replica.
pub(super) fn set_primary(to: &str) -> Step<Action> {
    Step::new(Action::SetSetting {
        name: "primary".into(),
        value: to.into(),
        via: to.into(),
    })
    .alongside()
}

/// Points every other answering member at `to`. An old primary left by an interrupted run
/// follows too when its history is a prefix of the target's; one that diverged is left to
/// `demote`; a removed member is left alone.
pub(super) async fn repoint_others(
    cl: &Cluster,
    view: &ClusterView,
    plan: &mut Plan<Action>,
    to: &str,
    skip: &[&str],
) -> Result<(), ProcError> {
    for n in &view.nodes {
        if n.name == to || skip.contains(&n.name.as_str()) {
            continue;
        }
        // A removed member is out of the group: it follows no one until it rejoins.
        if view.is_removed(n) {
            plan.note(format!(
                "{} is a removed member: left alone (`drctl run rejoin-removed-node --var node={}` brings it back)",
                n.name, n.name
            ));
            continue;
        }
        let Some(s) = n.ok() else {
            plan.note(format!(
                "{} does not answer: repoint it when it is back",
                n.name
            ));
            continue;
        };
        let old_primary =
            s.role == Role::Fenced || (s.role == Role::Primary && s.epoch < view.epoch());
        // Data copied by a full sync from another node may hold writes the primary `to` never
        // had (chaos seed 40242): its log cannot tell, so it is compared before it is pointed
        // at `to`. A target still to be promoted may merely lag behind it (a switchover's
        // catches up first; a failover refuses a replica ahead of its target by itself).
        let copied = s.log_base.seq > 0
            && view.node(to).and_then(|t| t.ok()).is_some_and(|t| {
                t.role == Role::Primary && s.following.as_ref().is_none_or(|f| f.url != t.url)
            });
        match s.role {
            Role::Standalone => continue,
            _ if old_primary || copied || s.sync.phase == "diverged" => {
                let d = divergence(cl.target(&n.name)?, cl.target(to)?).await?;
                if d.records > 0 {
                    plan.note(format!(
                        "{} holds {} {to} never had: run `drctl demote {}` to export them and resync it",
                        n.name, crate::util::words::count(d.records, "record"), n.name
                    ));
                    continue;
                }
            }
            _ => {}
        }
        if let Some(why) = super::step::sync_resume_note(&n.name, s, to) {
            plan.note(why);
        }
        plan.step(follow(&n.name, to));
    }
    Ok(())
}
