//! The steps Samba AD procedures are made of: each knows from a fresh probe whether it is
//! done, does itself with `samba-tool` on the DC it is about (through the cluster file's
//! `command_prefix`, against the DC's own database: over LDAP samba-tool's exit status lies, P8)
//! and proves it took effect by reading the DCs again, never by an exit status.

use super::host::{command_on, host_command, run_on, tool};
use super::probe;
use crate::engine::{check_holds, verify_holds, Act, Check, ProcError};

pub(crate) use super::ctx::{SambaAction, SambaCtx};

/// Every DC that answers and names another holder for one of `roles` pulls the naming
/// contexts of those roles from `dc` itself (`samba-tool drs replicate --local`, into its own
/// database): its replication service can be stuck for minutes on a hung partner (a holder
/// that was SIGSTOPped), and the new holder's own copy is the one that counts. Measured 1.5 s.
async fn pull(ctx: &SambaCtx, dc: &str, roles: &[String]) -> Result<Option<String>, ProcError> {
    // The naming contexts of the roles a DC's own copy does not yet give `dc`.
    let behind = |v: &probe::DcView| {
        let mut ncs: Vec<String> = v
            .not_held_by(roles, dc)
            .into_iter()
            .filter_map(|r| v.ncs.get(r.as_str()).cloned())
            .collect();
        ncs.sort();
        ncs.dedup();
        ncs
    };
    let mut pulled = Vec::new();
    for d in ctx.probe().await.iter().filter(|d| d.name != dc) {
        let Ok(v) = &d.view else { continue };
        for nc in behind(v) {
            replicate(ctx, &d.name, dc, &nc, false).await?;
            pulled.push(format!("{} from {dc}: {nc}", d.name));
        }
        // Measured: after the roles had moved before (dc1 → dc2 → dc3, dc1 hung and resumed),
        // an incremental pull of the schema brought "0 objects" and dc1 went on naming dc2;
        // a full one (1739 objects, 2.8 s) brought the change.
        let again = probe::probe(ctx.node(&d.name)?, ctx.timeout).await;
        for nc in again.as_ref().map(behind).unwrap_or_default() {
            replicate(ctx, &d.name, dc, &nc, true).await?;
            pulled.push(format!("{} from {dc} in full: {nc}", d.name));
        }
    }
    Ok((!pulled.is_empty()).then(|| format!("pulled {}", pulled.join("; "))))
}

/// Registers the DC's DNS records (the PDC's SRV record among them) through its own DNS
/// server over RPC, with its machine account over NTLM (`samba-tool dns add --use-kerberos off
/// -P`). `--no-credentials`: without it samba_dnsupdate first gets a Kerberos ticket, and the
/// KDC lookup may pick the hung holder: measured in the seize-roles drill with dc1 SIGSTOPped,
/// 35 s and 60 s (killed at the bound, the record not made, the step failed) against 0.5 s.
const DNS_UPDATE: &str = "samba_dnsupdate --use-samba-tool --no-credentials";

/// `samba-tool drs replicate DST SRC NC --local` on `dst` (into its own database), `--full-sync`
/// if `full`. NTLM first (`-k no`): a Kerberos ticket means a KDC, and the KDC lookup may pick
/// the hung holder (measured: 30-60 s per call with dc1 SIGSTOPped, 0.5 s with `-k no`);
/// Kerberos where NTLM is refused.
async fn replicate(
    ctx: &SambaCtx,
    dst: &str,
    src: &str,
    nc: &str,
    full: bool,
) -> Result<(), ProcError> {
    let quoted = format!("'{}'", nc.replace('\'', r"'\''"));
    let full = if full { " --full-sync" } else { "" };
    let args = format!("drs replicate {dst} {src} {quoted} --local{full}");
    let ntlm = command_on(ctx.node(dst)?, &format!("samba-tool {args} -k no"));
    if host_command(ctx, dst, "drs replicate -k no", &ntlm, None)
        .await
        .is_err()
    {
        tool(ctx, dst, &args).await?;
    }
    Ok(())
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

/// Whether `roles` are every FSMO role (one `--role=all` seizes them).
fn every_role(roles: &[String]) -> bool {
    probe::ROLES.iter().all(|r| roles.iter().any(|x| x == r))
}

/// Ok(Ok(note)) when `dc`'s own database names it the holder of every one of `roles`.
async fn held_by_itself(
    ctx: &SambaCtx,
    dc: &str,
    roles: &[String],
) -> Result<Result<String, String>, ProcError> {
    let v = probe::probe(ctx.node(dc)?, ctx.timeout)
        .await
        .map_err(|e| ProcError::failed(format!("{dc}: {e}")))?;
    for role in roles {
        match v.roles.get(role.as_str()).cloned().flatten() {
            Some(h) if h.eq_ignore_ascii_case(dc) => {}
            h => {
                return Ok(Err(format!(
                    "{dc} sees the {role} role held by {}",
                    h.as_deref().unwrap_or("nobody")
                )))
            }
        }
    }
    Ok(Ok(match roles {
        [role] => format!("{dc} holds the {role} role"),
        _ => format!("{dc} holds the roles {}", roles.join(", ")),
    }))
}

impl SambaAction {
    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, ctx: &SambaCtx) -> Result<Result<String, String>, ProcError> {
        match self {
            SambaAction::Seize { dc, roles } => held_by_itself(ctx, dc, roles).await,
            SambaAction::Transfer { dc, role, .. } => {
                held_by_itself(ctx, dc, std::slice::from_ref(role)).await
            }
            SambaAction::Agreed { dc, roles } => {
                let dcs = ctx.probe().await;
                let mut behind = Vec::new();
                let mut agreeing = 0;
                for d in &dcs {
                    let Ok(v) = &d.view else { continue };
                    let other: Vec<&str> = v
                        .not_held_by(roles, dc)
                        .into_iter()
                        .map(String::as_str)
                        .collect();
                    if other.is_empty() {
                        agreeing += 1;
                    } else {
                        behind.push(format!(
                            "{} sees {} held by another DC",
                            d.name,
                            other.join(", ")
                        ));
                    }
                }
                Ok(if behind.is_empty() {
                    Ok(format!(
                        "the {agreeing} DC(s) that answer name {dc} the holder of {}",
                        roles.join(", ")
                    ))
                } else {
                    Err(behind.join("; "))
                })
            }
            SambaAction::Cleanup { on, dc } => {
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
            SambaAction::PdcSrv { pdc } => {
                let n = ctx.node(pdc)?;
                let host = format!("{}.{}", n.name, n.realm).to_ascii_lowercase();
                let targets = probe::pdc_srv(n, ctx.timeout)
                    .await
                    .map_err(|e| ProcError::failed(format!("{pdc}: {e}")))?;
                Ok(if targets.contains(&host) {
                    Ok(format!("the PDC's SRV record names {host}"))
                } else if targets.is_empty() {
                    Err(format!("{pdc} has no PDC SRV record"))
                } else {
                    Err(format!("the PDC's SRV record names {}", targets.join(", ")))
                })
            }
            SambaAction::Clients { ips, .. } => super::clients::holds(ctx, ips),
            SambaAction::Conflicts { dc } => {
                let left = conflicts(ctx, dc).await?;
                Ok(if left.is_empty() {
                    Ok(format!(
                        "no DC that answers has an object of {dc} renamed by a name conflict"
                    ))
                } else {
                    Err(left
                        .iter()
                        .map(|(on, dn)| format!("{on} has {dn}"))
                        .collect::<Vec<_>>()
                        .join("; "))
                })
            }
            SambaAction::Salvage { dc, path, via } => salvaged(ctx, dc, path, via.as_deref()).await,
            SambaAction::Stop { .. }
            | SambaAction::MoveAside { .. }
            | SambaAction::Join { .. }
            | SambaAction::Start { .. }
            | SambaAction::Pulls { .. }
            | SambaAction::Settled { .. } => super::rejoin::holds(ctx, self).await,
            SambaAction::Forgotten { dc } => {
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
        }
    }
}

impl Act for SambaAction {
    type Ctx = SambaCtx;
    fn describe(&self) -> String {
        match self {
            SambaAction::Seize { dc, roles } => match roles.as_slice() {
                [role] => format!("seize the {role} role on {dc} (samba-tool fsmo seize --force)"),
                _ if every_role(roles) => {
                    format!("seize every role on {dc} (samba-tool fsmo seize --role=all --force)")
                }
                _ => format!(
                    "seize the roles {} on {dc} (samba-tool fsmo seize --force, one by one)",
                    roles.join(", ")
                ),
            },
            SambaAction::Transfer { dc, role, from } => {
                format!("transfer the {role} role from {from} to {dc} (samba-tool fsmo transfer)")
            }
            SambaAction::Agreed { dc, roles } => format!(
                "wait until every DC that answers names {dc} the holder of {}",
                roles.join(", ")
            ),
            SambaAction::Cleanup { on, dc } => format!(
                "remove the DC {dc} from the domain on {on} (samba-tool domain demote \
                 --remove-other-dead-server)"
            ),
            SambaAction::PdcSrv { pdc } => {
                format!("make the PDC's DNS SRV record name {pdc} (samba_dnsupdate on {pdc})")
            }
            SambaAction::Clients { dcs, ips } => format!(
                "point the clients' resolver and KDC list at {}",
                dcs.iter()
                    .zip(ips)
                    .map(|(d, ip)| format!("{d} ({ip})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SambaAction::Salvage { dc, path, .. } => format!(
                "stop {dc} if it runs (its stop_command), then export what its own database holds \
                 that no other DC received to {} (read on its host)",
                crate::util::words::absolute(path).display()
            ),
            SambaAction::Stop { dc } => format!("stop {dc} (its stop_command)"),
            SambaAction::MoveAside {
                dc, dirs, suffix, ..
            } => format!(
                "move {dc}'s databases aside to *.{suffix}: {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SambaAction::Join { dc, via } => {
                format!("join {dc} to the domain through {via} (samba-tool domain join)")
            }
            SambaAction::Start { dc } => format!("start {dc} (its start_command)"),
            SambaAction::Conflicts { dc } => format!(
                "delete what a join of {dc} that stopped part-way left, renamed by a name \
                 conflict ({dc}\\0ACNF:…: server object, computer account, DNS node)"
            ),
            SambaAction::Pulls { dst, src, .. } => format!(
                "{dst} pulls every naming context from {src} (samba-tool drs replicate; {dst} \
                 restarted if its pull fails, P14)"
            ),
            SambaAction::Settled { dc } => format!(
                "after {dc}'s join, pull again what failed since its step (no failing pull \
                 between DCs that answer, as status reads it)"
            ),
            SambaAction::Forgotten { dc } => format!(
                "every DC that answers pulls the removal now; wait until none has {dc}'s computer \
                 account, server object or DNS host record"
            ),
        }
    }
    fn changes(&self) -> bool {
        matches!(
            self,
            SambaAction::Seize { .. }
                | SambaAction::Transfer { .. }
                | SambaAction::Cleanup { .. }
                | SambaAction::PdcSrv { .. }
                | SambaAction::Clients { .. }
                | SambaAction::Salvage { .. }
                | SambaAction::Stop { .. }
                | SambaAction::MoveAside { .. }
                | SambaAction::Join { .. }
                | SambaAction::Start { .. }
                | SambaAction::Pulls { .. }
                | SambaAction::Settled { .. }
                | SambaAction::Conflicts { .. }
        )
    }
    async fn check(&self, ctx: &SambaCtx) -> Result<Check, ProcError> {
        check_holds(self.holds(ctx).await)
    }
    async fn apply(&self, ctx: &SambaCtx) -> Result<Option<String>, ProcError> {
        match self {
            // Its exit status is not the proof (P8): `verify` reads the role owner.
            SambaAction::Seize { dc, roles } => {
                if every_role(roles) {
                    return tool(ctx, dc, "fsmo seize --role=all --force").await;
                }
                let mut said = Vec::new();
                for role in roles {
                    said.extend(tool(ctx, dc, &format!("fsmo seize --role={role} --force")).await?);
                }
                Ok((!said.is_empty()).then(|| said.join("; ")))
            }
            SambaAction::Transfer { dc, role, .. } => {
                tool(ctx, dc, &format!("fsmo transfer --role={role}")).await
            }
            SambaAction::Cleanup { on, dc } => {
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
            SambaAction::Agreed { dc, roles } => pull(ctx, dc, roles).await,
            SambaAction::PdcSrv { pdc } => {
                let n = ctx.node(pdc)?;
                run_on(ctx, pdc, DNS_UPDATE, &command_on(n, DNS_UPDATE)).await
            }
            SambaAction::Clients { ips, .. } => super::clients::apply(ctx, ips),
            SambaAction::Salvage { dc, path, .. } => {
                super::salvage::apply(ctx, dc, path).await.map(Some)
            }
            SambaAction::Stop { .. }
            | SambaAction::MoveAside { .. }
            | SambaAction::Join { .. }
            | SambaAction::Start { .. }
            | SambaAction::Pulls { .. }
            | SambaAction::Settled { .. } => super::rejoin::apply(ctx, self).await,
            SambaAction::Forgotten { dc } => forget(ctx, dc).await,
            SambaAction::Conflicts { dc } => {
                let mut done = Vec::new();
                for (on, dn) in conflicts(ctx, dc).await? {
                    probe::delete_tree(ctx.node(&on)?, ctx.timeout, &dn)
                        .await
                        .map_err(|e| ProcError::failed(format!("{on}: delete {dn}: {e}")))?;
                    done.push(format!("{dn} on {on}"));
                }
                Ok((!done.is_empty()).then(|| format!("deleted {}", done.join("; "))))
            }
        }
    }
    async fn verify(&self, ctx: &SambaCtx) -> Result<Option<String>, ProcError> {
        if let SambaAction::MoveAside { dc, dirs, .. } = self {
            return super::rejoin::verify_moved(ctx, dc, dirs).await;
        }
        if let SambaAction::Stop { dc } = self {
            return super::rejoin::verify_stopped(ctx, dc).await;
        }
        if let SambaAction::Salvage { path, .. } = self {
            // Nothing written: the note of `apply` says why (nothing to export, or unreadable).
            return match std::fs::read_to_string(path) {
                Ok(t) if t.starts_with("# Changes") => Ok(Some(format!(
                    "{} holds the export",
                    crate::util::words::absolute(path).display()
                ))),
                Ok(_) => Err(ProcError::failed(format!(
                    "{} is not the export drctl wrote",
                    path.display()
                ))),
                Err(_) => Ok(None),
            };
        }
        verify_holds(ctx.step_timeout, self.describe(), || self.holds(ctx)).await
    }
}

/// Salvaged once the export file exists, or once the step it came before has run (a rerun
/// reads nothing again): the cleanup (no DC that answers lists `dc`) or the join through `via`
/// (`via` lists `dc`). Read without running anything on the DC's host (a dry run runs nothing).
async fn salvaged(
    ctx: &SambaCtx,
    dc: &str,
    path: &std::path::Path,
    via: Option<&str>,
) -> Result<Result<String, String>, ProcError> {
    if path.exists() {
        return Ok(Ok(format!(
            "exported to {}",
            crate::util::words::absolute(path).display()
        )));
    }
    let dcs = ctx.probe().await;
    let lists = |p: &super::assess::Probed| {
        p.view
            .as_ref()
            .is_ok_and(|v| v.dcs.iter().any(|x| x.eq_ignore_ascii_case(dc)))
    };
    Ok(match via {
        Some(via)
            if dcs
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(via) && lists(p)) =>
        {
            Ok(format!("{via} has the DC {dc} again"))
        }
        None if !dcs
            .iter()
            .any(|p| !p.name.eq_ignore_ascii_case(dc) && lists(p)) =>
        {
            Ok(format!("{dc} is no DC of the domain any more"))
        }
        _ => Err(format!("{dc}'s database not read yet")),
    })
}

/// Each DC that answers and still has `dc`'s objects asks its replication service to pull every
/// naming context from one that no longer has them (the DC the cleanup ran on) now, rather than
/// at its next notification (measured: 5–15 s). What the DCs say afterwards decides (`verify`).
async fn forget(ctx: &SambaCtx, dc: &str) -> Result<Option<String>, ProcError> {
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

/// What a join of `dc` that stopped part-way left on the DC it went through, once that DC
/// replicates again beside a join done through another: every object named `DC1\0ACNF:guid`
/// (a replication name conflict renamed it: the server object with its NTDS Settings, the
/// computer account, whose duplicate `DC1$` makes the DC's logons fail, its DNS node), as each
/// DC that answers has it: (DC, DN). An object a DC that answers reads as its own (its server
/// object, the computer account that names) is never one of them: that is an error.
async fn conflicts(ctx: &SambaCtx, dc: &str) -> Result<Vec<(String, String)>, ProcError> {
    let probed = ctx.probe().await;
    let mut own: Vec<(String, String)> = Vec::new();
    for d in &probed {
        let Ok(v) = &d.view else { continue };
        let Some(server) = v.servers.get(&v.dsa) else {
            continue;
        };
        own.push((d.name.clone(), server.to_ascii_lowercase()));
        if let Ok(Some(computer)) =
            probe::server_reference(ctx.node(&d.name)?, ctx.timeout, server).await
        {
            own.push((d.name.clone(), computer.to_ascii_lowercase()));
        }
    }
    let mut out = Vec::new();
    for d in &probed {
        let Ok(v) = &d.view else { continue };
        let n = ctx.node(&d.name)?;
        for nc in v.all_ncs() {
            let found = probe::conflicted(n, ctx.timeout, &nc, dc)
                .await
                .map_err(|e| ProcError::failed(format!("{}: {e}", d.name)))?;
            for dn in found {
                if let Some((x, _)) = own.iter().find(|(_, o)| *o == dn.to_ascii_lowercase()) {
                    return Err(ProcError::failed(format!(
                        "{dn} is {x}'s own (it lost a replication name conflict to what a join \
                         that stopped part-way left): drctl deletes only the losers; remove \
                         {dc} (`drctl remove-instance {dc}`) and join it again"
                    )));
                }
                out.push((d.name.clone(), dn));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PDC's SRV record is made with the machine account over NTLM, never after a Kerberos
    /// ticket that a hung holder's KDC can hold up for 60 s (the seize-roles drill, dc1 paused).
    #[test]
    fn the_dns_update_after_a_seize_asks_no_kdc() {
        assert!(DNS_UPDATE.contains("--use-samba-tool"), "{DNS_UPDATE}");
        assert!(DNS_UPDATE.contains("--no-credentials"), "{DNS_UPDATE}");
    }
}
