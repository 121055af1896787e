//! Removing a dead DC from the domain for good (`drctl remove-instance DC`, the metadata
//! cleanup): `samba-tool domain demote --remove-other-dead-server=DC` on a DC that answers (the
//! PDC emulator's holder when it does), proved by that DC's own list of DCs, then by every DC
//! that answers (replication). It deletes the DC's NTDS Settings, its computer account, its RID
//! Set, its DNS records and its connections (measured 0.4–1.0 s).
//!
//! Refused, changing nothing, while the DC answers (removed while running, it keeps serving as a
//! DC nobody replicates from: the lab's zombie), while it holds a role (the cleanup would move
//! it silently to the DC it runs on, P18: `seize-roles` first, to the DC the operator picks),
//! and when no DC answers. The DC must never start again with its old disk: `check` names it if
//! it does.

use super::assess::{assess, Probed};
use super::steps::{SambaAction, SambaCtx};
use crate::engine::{Plan, ProcError, Step};

pub(crate) fn plan(
    ctx: &SambaCtx,
    dcs: &[Probed],
    node: &str,
) -> Result<Plan<SambaAction>, ProcError> {
    let dc = ctx.node(node)?.name.clone();
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    if dcs.iter().any(|d| d.name == dc && d.answers()) {
        return refuse(format!(
            "{dc} answers: stop it first (a DC removed while it runs goes on serving, and nobody \
             replicates from it); to retire a DC that works, run `samba-tool domain demote` on it"
        ));
    }
    let a = assess(dcs);
    let held = a.held_by(&dc);
    if !held.is_empty() {
        let to = a
            .seize_to
            .clone()
            .unwrap_or_else(|| "a DC that answers".into());
        return refuse(format!(
            "{dc} holds the roles {}: seize them first (drctl seize-roles --to {to}); the cleanup \
             would move them to whichever DC it runs on",
            held.join(", ")
        ));
    }
    let answering: Vec<(&str, &super::probe::DcView)> = dcs
        .iter()
        .filter(|d| d.name != dc)
        .filter_map(|d| d.view.as_ref().ok().map(|v| (d.name.as_str(), v)))
        .collect();
    if answering.is_empty() {
        return refuse(format!(
            "no other DC answers to remove {dc} from the domain"
        ));
    }
    let lists = |v: &super::probe::DcView| v.dcs.iter().any(|x| x.eq_ignore_ascii_case(&dc));
    // Where the cleanup runs: the PDC holder if it answers and still lists the DC, else the
    // first that still lists it (done already if none does).
    let pdc = a.roles.get("pdc").cloned().flatten();
    let on = answering
        .iter()
        .filter(|(_, v)| lists(v))
        .min_by_key(|(name, _)| pdc.as_deref() != Some(*name))
        .or_else(|| answering.first())
        .map(|(name, _)| name.to_string())
        .expect("one answers");
    let mut plan = Plan::new("samba-ad remove-instance");
    plan.note(format!(
        "{dc} is removed from the domain on {on}; delete it from the cluster file afterwards, \
         and never start it again with its disk (wipe it and join it again)"
    ));
    for d in dcs.iter().filter(|d| d.name != dc && !d.answers()) {
        plan.note(format!(
            "{} does not answer: it learns the removal by replication once it is back",
            d.name
        ));
    }
    plan.step(Step::new(SambaAction::Cleanup { on, dc: dc.clone() }));
    plan.step(Step::new(SambaAction::Forgotten { dc }));
    Ok(plan)
}
