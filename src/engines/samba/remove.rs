//! Removing a dead DC from the domain for good (`drctl remove-instance DC`, the metadata
//! cleanup): `samba-tool domain demote --remove-other-dead-server=DC` on a DC that answers (the
//! PDC emulator's holder when it does), proved by that DC's own list of DCs, then by every DC
//! that answers (replication): its computer account, server object and NTDS Settings and live
//! DNS host record gone. It deletes also the DC's RID Set and connections (measured 0.4–1.0 s).
//!
//! The roles the DC still holds are seized onto the DC the cleanup runs on first, and said so
//! (the cleanup would move them anyway, P18, unverified and unsaid). Refused, changing nothing,
//! while the DC answers (removed while running, it keeps serving as a DC nobody replicates from:
//! the lab's zombie) unless `--force`: then its roles are transferred while it answers and it is
//! stopped (its `stop_command`). Either way, what only it holds (writes it acknowledged and had
//! not replicated when it died) is read from its database on its host and exported, each entry
//! named, before the cleanup (`salvage.rs`). Refused when no other DC answers. The DC must
//! never start again with its old disk: `check` names it if it does.

use super::assess::{assess, Probed};
use super::ctx::{SambaAction, SambaCtx};
use super::host::{command_on, host_command, tool};
use super::probe;
use crate::engine::{Plan, ProcError, Step};

pub(crate) fn plan(
    ctx: &SambaCtx,
    dcs: &[Probed],
    node: &str,
    force: bool,
) -> Result<Plan<SambaAction>, ProcError> {
    let n = ctx.node(node)?;
    let dc = n.name.clone();
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let answers = dcs.iter().any(|d| d.name == dc && d.answers());
    if answers && !force {
        return refuse(format!(
            "{dc} answers: stop it first (a DC removed while it runs goes on serving, and nobody \
             replicates from it), or give --force to have drctl transfer its roles, export what \
             only it holds and stop it; to retire a DC that works, `samba-tool domain demote` on \
             it is gentler"
        ));
    }
    if answers && n.stop_command.is_none() {
        return Err(ProcError::usage(format!(
            "{dc}: stop_command: --force stops the DC, and the cluster file gives no way to"
        )));
    }
    let a = assess(dcs);
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
    // The roles it still holds go to the DC the cleanup runs on, seized first (the cleanup would
    // move them anyway, P18, unverified and unsaid).
    let held: Vec<String> = a
        .held_by(&dc)
        .into_iter()
        .chain(
            dcs.iter()
                .filter_map(|d| d.view.as_ref().ok())
                .flat_map(|v| v.roles.iter())
                .filter(|(_, h)| h.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&dc)))
                .map(|(r, _)| r.to_string()),
        )
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut plan = if held.is_empty() {
        Plan::new("samba-ad remove-instance")
    } else {
        let mut p = super::seize::plan(ctx, dcs, &on, &held)?;
        p.procedure = "samba-ad remove-instance".into();
        p.note(format!(
            "{dc} still holds the roles {}: they move to {on} first",
            held.join(", ")
        ));
        p
    };
    plan.note(format!(
        "{dc} is removed from the domain on {on}; delete it from the cluster file afterwards, \
         and never start it again with its disk (`drctl join {dc}` puts it back)"
    ));
    if answers {
        // Forced: while it answered its roles were transferred above (point the clients
        // elsewhere first: `repoint`).
        plan.step(Step::new(SambaAction::Stop { dc: dc.clone() }));
    }
    // What it acknowledged and had not yet replicated is only on its disk: read once it is
    // stopped, so nothing it takes after the read is left out.
    plan.step(Step::new(SambaAction::Salvage {
        dc: dc.clone(),
        path: super::salvage::default_path(&ctx.export_dir, "remove", &dc, &ctx.run_id),
        via: None,
    }));
    for d in dcs.iter().filter(|d| d.name != dc && !d.answers()) {
        plan.note(format!(
            "{} does not answer: it learns the removal by replication once it is back",
            d.name
        ));
    }
    plan.step(Step::new(SambaAction::Cleanup {
        on: on.clone(),
        dc: dc.clone(),
    }));
    // The PDC after the removal: the cleanup deletes every DNS record naming the DC, and the
    // PDC's SRV record may still name it (the roles moved before, and samba_dnsupdate has not
    // run on the new holder since: P16). It comes back only with samba_dnsupdate: once, last.
    plan.steps
        .retain(|s| !matches!(s.action, SambaAction::PdcSrv { .. }));
    let new_pdc = if held.iter().any(|r| r == "pdc") {
        Some(on)
    } else {
        pdc.filter(|p| !p.eq_ignore_ascii_case(&dc))
            .and_then(|p| answering.iter().find(|(n, _)| n.eq_ignore_ascii_case(&p)))
            .map(|(n, _)| n.to_string())
    };
    plan.step(Step::new(SambaAction::Forgotten { dc }));
    match new_pdc {
        Some(pdc) => {
            plan.step(Step::new(SambaAction::PdcSrv { pdc }));
        }
        None => {
            plan.note(
                "the PDC's holder does not answer: its DNS SRV record is left as it is (seize \
                 the pdc role first)"
                    .to_string(),
            );
        }
    }
    Ok(plan)
}

/// The NTDS Settings objects (DN, objectGUID) `on`'s copy holds for the DC `dc`.
async fn dsas_of(
    ctx: &SambaCtx,
    on: &str,
    dc: &str,
) -> Result<Vec<(String, Option<String>)>, ProcError> {
    let v = probe::probe(ctx.node(on)?, ctx.timeout)
        .await
        .map_err(|e| ProcError::failed(format!("{on}: {e}")))?;
    Ok(v.dsas
        .into_iter()
        .filter(|(name, ..)| name.eq_ignore_ascii_case(dc))
        .map(|(_, dn, guid)| (dn, guid))
        .collect())
}

/// `on` no longer has the DC `dc` (no NTDS Settings object of it).
pub(super) async fn cleaned(
    ctx: &SambaCtx,
    on: &str,
    dc: &str,
) -> Result<Result<String, String>, ProcError> {
    let left = dsas_of(ctx, on, dc).await?;
    Ok(if left.is_empty() {
        Ok(format!("{on} no longer has the DC {dc}"))
    } else {
        Err(format!(
            "{on} still has the DC {dc} ({})",
            left.iter()
                .map(|(dn, _)| dn.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// The metadata cleanup of `dc` on `on`.
pub(super) async fn clean_up(
    ctx: &SambaCtx,
    on: &str,
    dc: &str,
) -> Result<Option<String>, ProcError> {
    let mut said: Vec<String> = tool(
        ctx,
        on,
        &format!("domain demote --remove-other-dead-server={dc}"),
    )
    .await?
    .into_iter()
    .collect();
    // By name it takes the first server object named `dc` and the NTDS Settings
    // under it: one more (a join that stopped part-way, a name conflict) is left.
    // Each is then removed by its objectGUID, which names exactly one.
    for (dn, guid) in dsas_of(ctx, on, dc).await? {
        let Some(guid) = guid else { continue };
        tool(
            ctx,
            on,
            &format!("domain demote --remove-other-dead-server={guid}"),
        )
        .await?;
        said.push(format!("removed {dn} by its objectGUID {guid}"));
    }
    Ok((!said.is_empty()).then(|| said.join("; ")))
}

/// No DC that answers has `dc`'s computer account, server object or DNS host record.
pub(super) async fn forgotten(
    ctx: &SambaCtx,
    dc: &str,
) -> Result<Result<String, String>, ProcError> {
    let mut still = Vec::new();
    let mut seen = 0;
    for n in ctx.nodes.iter().filter(|n| n.name != *dc) {
        match probe::leftovers(n, ctx.timeout, dc).await {
            Ok(left) if left.is_empty() => seen += 1,
            Ok(left) => {
                seen += 1;
                still.push(format!("{} has {}", n.name, left.join(", ")));
            }
            // It learns the removal by replication once it is back.
            Err(_) => {}
        }
    }
    Ok(if still.is_empty() {
        Ok(format!(
            "none of the {seen} DC(s) that answer has {dc}'s computer account, \
             server object or DNS host record"
        ))
    } else {
        Err(still.join("; "))
    })
}

/// Each DC that answers and still has `dc`'s objects asks its replication service to pull every
/// naming context from one that no longer has them (the DC the cleanup ran on) now, rather than
/// at its next notification (measured: 5–15 s). What the DCs say afterwards decides (`verify`).
pub(super) async fn forget(ctx: &SambaCtx, dc: &str) -> Result<Option<String>, ProcError> {
    let mut clean = Vec::new();
    let mut dirty = Vec::new();
    for n in ctx
        .nodes
        .iter()
        .filter(|n| !n.name.eq_ignore_ascii_case(dc))
    {
        match probe::leftovers(n, ctx.timeout, dc).await {
            Ok(left) if left.is_empty() => clean.push(n.name.clone()),
            Ok(_) => dirty.push(n.name.clone()),
            Err(_) => {}
        }
    }
    let Some(src) = clean.first() else {
        return Ok(None);
    };
    let mut pulled = Vec::new();
    for dst in &dirty {
        let Ok(v) = probe::probe(ctx.node(dst)?, ctx.timeout).await else {
            continue;
        };
        // Through `dst`'s own replication service (DsReplicaSync), as its notified pulls run:
        // a `--local` incremental pull can move its high-water mark past changes it did not
        // bring ("0 objects", measured in the seize), and the removal would then never arrive.
        for nc in v.all_ncs() {
            let quoted = format!("'{}'", nc.replace('\'', r"'\''"));
            let args = format!("samba-tool drs replicate {dst} {src} {quoted} -k no");
            let c = command_on(ctx.node(dst)?, &args);
            if host_command(ctx, dst, "drs replicate -k no", &c, None)
                .await
                .is_ok()
            {
                pulled.push(format!("{dst} from {src}: {nc}"));
            }
        }
    }
    Ok((!pulled.is_empty()).then(|| format!("pulled {}", pulled.join("; "))))
}
