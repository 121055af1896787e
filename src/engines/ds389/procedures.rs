//! Ranking and the forced failover (`procedure.failover`), planned from one probe. The order is
//! the lab's recipe (`shared/engine-labs/389ds/README.md` §4, §11) with the fence first:
//!
//! 1. every answering instance accepts updates only from the new supplier's identity, so the
//!    lost supplier, if it comes back, is refused instead of pushing its writes;
//! 2. the target made a hub (clients still referred, changes logged) and restarted, so its
//!    changelog is open, then promoted with a replica id never used in the group;
//! 3. an agreement to every other answering consumer, and a total update of each one that
//!    lacks a change of the old supplier the target holds;
//! 4. verified: every answering consumer accepts the target and holds what it holds.
//!
//! An instance that did not answer is named; a rerun once it is back finishes it.

use serde::Serialize;

use super::assess::DsView;
use super::state::{identity_rid, ReplicaKind};
use super::steps::DsAction;
use super::DsCluster;
use crate::engine::{Plan, ProcError, Step};

/// One instance ranked for promotion.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DsCandidate {
    pub(crate) name: String,
    pub(crate) rank: Option<usize>,
    pub(crate) role: Option<String>,
    /// The newest CSN it holds, of any replica.
    pub(crate) newest_csn: Option<String>,
    pub(crate) reason: String,
}

/// Promotable answering consumers, most advanced first (newest CSN, then name); the others with
/// why they are not candidates.
pub(crate) fn rank(view: &DsView, supplier: Option<&str>) -> Vec<DsCandidate> {
    let mut out: Vec<DsCandidate> = view
        .nodes
        .iter()
        .map(|n| {
            let r = n.state.as_ref().ok().and_then(|s| s.replica.as_ref());
            let why_not = match (&n.state, r) {
                (Err(_), _) => Some("does not answer".to_string()),
                (Ok(_), None) => Some("replication is not enabled".into()),
                _ if supplier == Some(n.name.as_str()) => Some("the current supplier".into()),
                (_, Some(r)) if r.kind == ReplicaKind::Supplier => Some("an old supplier".into()),
                _ if !n.promotable => Some("not promotable (cluster file)".into()),
                _ => None,
            };
            DsCandidate {
                name: n.name.clone(),
                rank: None,
                role: r.map(|r| format!("{:?}", r.kind).to_lowercase()),
                newest_csn: r.and_then(|r| r.newest()).map(str::to_string),
                reason: why_not.unwrap_or_default(),
            }
        })
        .collect();
    let best = out
        .iter()
        .filter(|c| c.reason.is_empty())
        .filter_map(|c| c.newest_csn.clone())
        .max();
    for c in out.iter_mut().filter(|c| c.reason.is_empty()) {
        c.reason = if c.newest_csn == best {
            "most advanced".into()
        } else {
            "behind the most advanced".into()
        };
    }
    out.sort_by(|a, b| {
        let ok = |c: &DsCandidate| c.reason == "most advanced" || c.reason.starts_with("behind");
        ok(b)
            .cmp(&ok(a))
            .then(b.newest_csn.cmp(&a.newest_csn))
            .then(a.name.cmp(&b.name))
    });
    let mut next = 1;
    for c in out.iter_mut() {
        if c.reason == "most advanced" || c.reason.starts_with("behind") {
            c.rank = Some(next);
            next += 1;
        }
    }
    out
}

/// A replica id no instance that answers has used or accepted: one above every id seen. A lost
/// supplier's id is in the survivors' RUVs, so it is never taken again (a returning instance with
/// that id would be accepted).
fn fresh_rid(view: &DsView) -> u16 {
    let mut seen = 0u16;
    for s in view.nodes.iter().filter_map(|n| n.state.as_ref().ok()) {
        if let Some(r) = &s.replica {
            if r.rid != 65535 {
                seen = seen.max(r.rid);
            }
            seen = seen.max(r.ruv.keys().copied().max().unwrap_or(0));
            seen = seen.max(
                r.bind_dns
                    .iter()
                    .filter_map(|d| identity_rid(d))
                    .max()
                    .unwrap_or(0),
            );
        }
    }
    seen + 1
}

/// The failover plan; `to`: the instance to promote (default: the most advanced candidate).
pub(crate) fn failover(
    cl: &DsCluster,
    view: &DsView,
    to: Option<&str>,
) -> Result<Plan<DsAction>, ProcError> {
    if let Some(t) = to {
        cl.node(t)?;
    }
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = view.assess();
    let mut plan = Plan::new("389ds failover");
    // The current supplier answers: a rerun finishes what is left around it; another target
    // would make two suppliers.
    let (target, rid) = match (&a.supplier, a.rid) {
        (Some(sup), Some(rid)) => {
            if let Some(t) = to.filter(|t| *t != sup) {
                return refuse(format!(
                    "the supplier {sup} answers: promoting {t} beside it would make two \
                     suppliers; use `drctl switchover --to {t}`"
                ));
            }
            (sup.clone(), rid)
        }
        _ => {
            // An instance that answers but cannot be read may be the supplier.
            let unreadable: Vec<&str> = view
                .nodes
                .iter()
                .filter(|n| n.unreadable())
                .map(|n| n.name.as_str())
                .collect();
            if !unreadable.is_empty() {
                return refuse(format!(
                    "{} answer(s) but cannot be read: one may be the supplier, and a failover \
                     beside it would make two; fix the cluster file (bind_dn, password, ca_file) \
                     first (drctl status says why)",
                    unreadable.join(", ")
                ));
            }
            let ranked = rank(view, None);
            let target =
                match to {
                    Some(t) => {
                        let c = ranked
                            .iter()
                            .find(|c| c.name == t)
                            .expect("every node is ranked");
                        if c.rank.is_none() {
                            return refuse(format!("{t} cannot be promoted: {}", c.reason));
                        }
                        t.to_string()
                    }
                    None => match ranked.iter().find(|c| c.rank == Some(1)) {
                        Some(c) => c.name.clone(),
                        None => return refuse(
                            "no instance can be promoted: none answers as a promotable consumer"
                                .into(),
                        ),
                    },
                };
            (target, fresh_rid(view))
        }
    };
    // Nothing an answering consumer holds may be lost to the total update from the target.
    for n in view.nodes.iter().filter(|n| n.name != target) {
        let ahead = view.ahead_of(&n.name, &target);
        let consumer = n
            .state
            .as_ref()
            .ok()
            .and_then(|s| s.kind())
            .is_some_and(|k| k != ReplicaKind::Supplier);
        if consumer && !ahead.is_empty() {
            return refuse(format!(
                "{} holds changes {target} lacks (replica id {}): promote {} instead, or wait \
                 until {target} has them",
                n.name,
                ahead
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                n.name
            ));
        }
    }
    let t = cl.node(&target)?;
    if t.start_command.is_none() || t.stop_command.is_none() {
        return refuse(format!(
            "{target}: the cluster file gives no start_command and stop_command, and a promoted \
             389ds instance opens its changelog only after a restart"
        ));
    }
    plan.note(format!(
        "{target} becomes the supplier with replica id {rid}; the consumers accept only its \
         identity from now on"
    ));
    let answering: Vec<&str> = view
        .nodes
        .iter()
        .filter(|n| n.state.as_ref().is_ok_and(|s| s.replica.is_some()))
        .filter(|n| !a.stale_suppliers.contains(&n.name) || n.name == target)
        .map(|n| n.name.as_str())
        .collect();
    for n in view.nodes.iter().filter(|n| n.state.is_err()) {
        plan.note(format!(
            "{} does not answer: it is left out; rerun the failover once it is back",
            n.name
        ));
    }
    for s in a.stale_suppliers.iter().filter(|s| **s != target) {
        plan.note(format!(
            "{s} answers as an old supplier: the consumers will refuse its updates; stop it"
        ));
    }
    for n in &answering {
        plan.step(Step::new(DsAction::Accept {
            node: n.to_string(),
            rid,
        }));
    }
    // A consumer left read-only by a stopped run refuses replicated updates too (pitfall 14).
    for n in answering.iter().filter(|n| **n != target) {
        if view.state(n).is_some_and(|s| s.read_only) {
            plan.step(Step::new(DsAction::Thaw {
                node: n.to_string(),
            }));
        }
    }
    // Hub, restart, promote: the changelog is open before the first write it takes (a
    // promotion opens none until a restart: pitfall 10; and a read-only backend as the fence
    // of that window made a re-initialized instance fail to start, its RUV tombstone not
    // rewritable).
    plan.step(Step::new(DsAction::Hub {
        node: target.clone(),
    }));
    plan.step(Step::new(DsAction::Restart {
        node: target.clone(),
        rid,
    }));
    plan.step(
        Step::new(DsAction::Promote {
            node: target.clone(),
            rid,
        })
        .point_of_no_return(),
    );
    for n in answering.iter().filter(|n| **n != target) {
        plan.step(Step::new(DsAction::Agreement {
            from: target.clone(),
            to: n.to_string(),
            rid,
        }));
        plan.step(Step::new(DsAction::Init {
            from: target.clone(),
            to: n.to_string(),
            always: false,
            exported: false,
            run: None,
        }));
    }
    plan.step(Step::new(DsAction::Converged {
        supplier: target,
        rid,
    }));
    Ok(plan)
}

/// The managed switchover to `to` while the supplier answers (the lab's §7 recipe, fenced):
/// the supplier read-only (client writes refused, its replication goes on: pitfall 14), every
/// change it acknowledged on every answering consumer, then every other instance accepts only
/// `to`'s new identity, `to` is promoted and restarted like a failover target, and the old
/// supplier is demoted (referral first, agreements deleted, plain modify, writable again for
/// replicated updates, clean restart) and re-initialized from `to` with the others that need it.
/// Before the promotion a failure undoes the read-only and the fence; after it, a rerun finishes.
pub(crate) fn switchover(
    cl: &DsCluster,
    view: &DsView,
    to: &str,
) -> Result<Plan<DsAction>, ProcError> {
    cl.node(to)?;
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = view.assess();
    let mut plan = Plan::new("389ds switchover");
    let (Some(old), Some(old_rid)) = (a.supplier.clone(), a.rid) else {
        return refuse("no supplier answers: nothing to switch over from (drctl failover)".into());
    };
    let answering: Vec<&str> = view
        .nodes
        .iter()
        .filter(|n| n.state.as_ref().is_ok_and(|s| s.replica.is_some()))
        .filter(|n| !a.stale_suppliers.contains(&n.name))
        .map(|n| n.name.as_str())
        .collect();
    if old == to {
        // Done, or a rerun after the promotion: what is left around the new supplier. Or back
        // to a supplier a stopped switchover froze and fenced the consumers away from: they
        // accept it again and it is thawed, once nothing can have been promoted past it.
        if view.state(to).is_some_and(|s| s.read_only) {
            let fenced = view.accepted_rid().is_some_and(|r| r != old_rid);
            if fenced {
                if let Some(n) = view.nodes.iter().find(|n| n.state.is_err()) {
                    return refuse(format!(
                        "{to} is read-only and the consumers accept replica id {} (a switchover \
                         stopped part-way), and {} does not answer: it may have been promoted \
                         with that id and taken writes; start it, or finish that switchover \
                         (drctl run --resume RUN)",
                        view.accepted_rid().unwrap_or_default(),
                        n.name
                    ));
                }
                for n in answering.iter().filter(|n| **n != to) {
                    plan.step(Step::new(DsAction::Accept {
                        node: n.to_string(),
                        rid: old_rid,
                    }));
                }
            }
            plan.step(Step::new(DsAction::Thaw { node: to.into() }));
        }
        for n in answering.iter().filter(|n| **n != to) {
            plan.step(Step::new(DsAction::Agreement {
                from: to.into(),
                to: n.to_string(),
                rid: old_rid,
            }));
            plan.step(Step::new(DsAction::Init {
                from: to.into(),
                to: n.to_string(),
                always: false,
                exported: false,
                run: None,
            }));
        }
        plan.step(Step::new(DsAction::Converged {
            supplier: to.into(),
            rid: old_rid,
        }));
        return Ok(plan);
    }
    let ranked = rank(view, Some(&old));
    match ranked.iter().find(|c| c.name == to) {
        Some(c) if c.rank.is_some() => {}
        c => {
            return refuse(format!(
                "{to} cannot be promoted: {}",
                c.map(|c| c.reason.clone()).unwrap_or_default()
            ))
        }
    }
    for n in [old.as_str(), to] {
        let node = cl.node(n)?;
        if node.start_command.is_none() || node.stop_command.is_none() {
            return refuse(format!(
                "{n}: the cluster file gives no start_command and stop_command, and a 389ds \
                 switchover restarts both the new and the old supplier"
            ));
        }
    }
    let rid = fresh_rid(view);
    plan.note(format!(
        "{old} turns read-only until every consumer holds its changes; {to} becomes the \
         supplier with replica id {rid}; {old} becomes its consumer"
    ));
    for n in view.nodes.iter().filter(|n| n.state.is_err()) {
        plan.note(format!(
            "{} does not answer: it is left out; run `drctl failover --to {to}` once it is back",
            n.name
        ));
    }
    // (Freeze is done once its node is the writable supplier of the id it names: the new id,
    // which the old supplier never gets.)
    plan.step(
        Step::new(DsAction::Freeze {
            node: old.clone(),
            rid,
        })
        .undo(DsAction::Thaw { node: old.clone() }),
    );
    plan.step(Step::new(DsAction::Drained {
        supplier: old.clone(),
        rid: old_rid,
    }));
    for n in answering.iter().filter(|n| **n != old) {
        plan.step(
            Step::new(DsAction::Accept {
                node: n.to_string(),
                rid,
            })
            .undo(DsAction::Accept {
                node: n.to_string(),
                rid: old_rid,
            }),
        );
    }
    plan.step(Step::new(DsAction::Hub { node: to.into() }));
    plan.step(Step::new(DsAction::Restart {
        node: to.into(),
        rid,
    }));
    plan.step(
        Step::new(DsAction::Promote {
            node: to.into(),
            rid,
        })
        .point_of_no_return(),
    );
    plan.step(Step::new(DsAction::Refer {
        node: old.clone(),
        to: to.into(),
    }));
    plan.step(Step::new(DsAction::DropAgreements { node: old.clone() }));
    plan.step(Step::new(DsAction::Demote {
        node: old.clone(),
        rid,
    }));
    plan.step(Step::new(DsAction::Thaw { node: old.clone() }));
    plan.step(Step::new(DsAction::Settle { node: old.clone() }));
    for n in answering.iter().filter(|n| **n != to) {
        plan.step(Step::new(DsAction::Agreement {
            from: to.into(),
            to: n.to_string(),
            rid,
        }));
        plan.step(Step::new(DsAction::Init {
            from: to.into(),
            to: n.to_string(),
            always: false,
            exported: false,
            run: None,
        }));
    }
    plan.step(Step::new(DsAction::Converged {
        supplier: to.into(),
        rid,
    }));
    Ok(plan)
}

/// Removing a failed instance for good (`procedure.remove-instance`, the lab's §8): refused
/// while it answers (stop it first) or is the supplier the consumers accept (fail over first).
/// The supplier's agreements to it deleted; then, when the survivors' RUVs still list a replica
/// id of it (it was a supplier once), that id cleaned with CleanAllRUV in the order that does
/// not crash consumers (pitfall 13): the supplier's agreements disabled, the task run on the
/// supplier, the agreements enabled, and every consumer that still lists the id re-initialized;
/// verified on every survivor's RUV.
pub(crate) fn remove_instance(
    cl: &DsCluster,
    view: &DsView,
    node: &str,
) -> Result<Plan<DsAction>, ProcError> {
    let n = cl.node(node)?;
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = view.assess();
    if view.node(node).is_some_and(|v| !v.silent) {
        return refuse(format!(
            "{node} answers: stop it first (a 389ds instance is removed once it is gone for good)"
        ));
    }
    if view.node(node).is_some_and(|v| v.hung) {
        return refuse(format!(
            "{node} accepts connections but does not answer: it is paused or wedged, not gone \
             (and 389-ds holds the deletion of an agreement to it until it answers); stop it \
             for good first, or resume it"
        ));
    }

    let (Some(sup), Some(rid)) = (a.supplier.clone(), a.rid) else {
        return refuse(format!(
            "no supplier answers: fail over first (drctl failover), then remove {node}"
        ));
    };
    if sup == node {
        return refuse(format!(
            "{node} is the supplier: fail over first (drctl failover)"
        ));
    }
    // Its replica ids: the RUV elements that name its host and plain LDAP port.
    let url = url::Url::parse(&n.ldap.url).ok();
    let port = n
        .ldap_port
        .unwrap_or_else(|| super::assess::port_of(&n.ldap.url));
    let host = url.as_ref().and_then(|u| u.host_str().map(str::to_string));
    let mut rids: Vec<u16> = view
        .nodes
        .iter()
        .filter_map(|v| v.state.as_ref().ok()?.replica.as_ref())
        .flat_map(|r| r.ruv.iter())
        .filter(|(r, e)| {
            **r != rid
                && url::Url::parse(&e.url).ok().is_some_and(|u| {
                    u.port_or_known_default() == Some(port)
                        && (matches!(u.host_str(), Some("localhost"))
                            || u.host_str().map(str::to_string) == host)
                })
        })
        .map(|(r, _)| *r)
        .collect();
    rids.sort();
    rids.dedup();
    let mut plan = Plan::new("389ds remove-instance");
    plan.note(match rids.as_slice() {
        [] => format!("{sup} stops replicating to {node}"),
        r => format!(
            "{sup} stops replicating to {node}, and its replica id {} is cleaned from every RUV",
            r.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
        ),
    });
    plan.step(Step::new(DsAction::Forget {
        from: sup.clone(),
        to: node.into(),
    }));
    for r in &rids {
        plan.step(Step::new(DsAction::Pause {
            supplier: sup.clone(),
            rid: *r,
        }));
        plan.step(Step::new(DsAction::CleanRuv {
            supplier: sup.clone(),
            rid: *r,
        }));
    }
    if !rids.is_empty() {
        plan.step(Step::new(DsAction::Unpause {
            supplier: sup.clone(),
        }));
        for c in view
            .nodes
            .iter()
            .filter(|v| v.name != sup && v.name != node && v.state.is_ok())
            .filter(|v| !a.stale_suppliers.contains(&v.name))
        {
            plan.step(Step::new(DsAction::Init {
                from: sup.clone(),
                to: c.name.clone(),
                always: false,
                exported: false,
                run: None,
            }));
        }
    }
    plan.step(Step::new(DsAction::Converged { supplier: sup, rid }));
    Ok(plan)
}

/// Repointing every answering consumer at the supplier (`procedure.repoint`): each accepts only
/// its identity, is writable for replicated updates, is fed by an agreement and, when it lacks
/// a change of an older supplier that the supplier holds, re-initialized; then verified. What
/// a consumer that slept through a failover needs (it still accepts the lost supplier).
pub(crate) fn repoint(
    cl: &DsCluster,
    view: &DsView,
    primary: &str,
) -> Result<Plan<DsAction>, ProcError> {
    cl.node(primary)?;
    let a = view.assess();
    let (Some(sup), Some(rid)) = (a.supplier.clone(), a.rid) else {
        return Err(ProcError::refused(
            "no supplier answers: nothing to repoint at (drctl failover)".to_string(),
        )
        .unchanged());
    };
    if sup != primary {
        return Err(ProcError::refused(format!(
            "{primary} is not the supplier ({sup} is): run `drctl switchover --to {primary}` to \
             make it one"
        ))
        .unchanged());
    }
    let mut plan = Plan::new("389ds repoint");
    for n in view.nodes.iter().filter(|n| n.state.is_err()) {
        plan.note(format!(
            "{} does not answer: repoint again once it is back",
            n.name
        ));
    }
    let consumers: Vec<&str> = view
        .nodes
        .iter()
        .filter(|n| n.name != sup && !a.stale_suppliers.contains(&n.name))
        .filter(|n| n.state.as_ref().is_ok_and(|s| s.replica.is_some()))
        .map(|n| n.name.as_str())
        .collect();
    // A total update from the supplier drops what the consumer holds beyond it: never here.
    for n in &consumers {
        nothing_ahead(view, n, &sup)?;
    }
    for n in consumers {
        plan.step(Step::new(DsAction::Accept {
            node: n.into(),
            rid,
        }));
        if view.state(n).is_some_and(|s| s.read_only) {
            plan.step(Step::new(DsAction::Thaw { node: n.into() }));
        }
        plan.step(Step::new(DsAction::Agreement {
            from: sup.clone(),
            to: n.into(),
            rid,
        }));
        plan.step(Step::new(DsAction::Init {
            from: sup.clone(),
            to: n.into(),
            always: false,
            exported: false,
            run: None,
        }));
    }
    plan.step(Step::new(DsAction::Converged { supplier: sup, rid }));
    Ok(plan)
}

/// Refused, changing nothing, when `n` holds changes `sup` lacks: a total update from `sup`
/// would drop them.
pub(super) fn nothing_ahead(view: &DsView, n: &str, sup: &str) -> Result<(), ProcError> {
    let ahead = view.ahead_of(n, sup);
    if ahead.is_empty() {
        return Ok(());
    }
    Err(ProcError::refused(format!(
        "{n} holds changes {sup} lacks (replica id {}): a re-initialization from {sup} would \
         drop them; `drctl demote {n}` exports them first",
        ahead
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .unchanged())
}
