//! Moving the FSMO roles to a DC (`drctl seize-roles --to DC`), per role, run on the new holder
//! against its own database (over LDAP the RID role's RID Set cannot be made and the exit status
//! lies: P8), proved by the new holder's own `fSMORoleOwner`, never by an exit status; then
//! every DC that answers names it (replication).
//!
//! - The holder answers (a refused bind is an answer): `samba-tool fsmo transfer`: the holder
//!   hands the role over itself (0.4 s measured). A seize beside it would leave two holders.
//! - It does not: `samba-tool fsmo seize --force`. `--force`, because the holder was found
//!   silent, and without it samba-tool first tries a transfer that waits 60 to 300 s per role
//!   on a hung holder (P17).
//!
//! Refused, changing nothing, when the new holder's copy names a silent holder while the other
//! DCs name one that answers (it has not replicated: a seize would fight a live holder), when a
//! holder is not in the cluster file, and when the new holder cannot be read or is no DC of the
//! domain.

use super::assess::{assess, Probed};
use super::ctx::{SambaAction, SambaCtx};
use super::host::{command_on, host_command, run_on, tool};
use super::probe;
use super::probe::ROLES;
use crate::engine::{Plan, ProcError, Step};

/// The roles `--role` names (comma-separated, `all` or empty: every one), checked.
pub(crate) fn roles_of(list: &str) -> Result<Vec<String>, ProcError> {
    let asked: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    if asked.is_empty() || asked == ["all"] {
        return Ok(ROLES.iter().map(|r| r.to_string()).collect());
    }
    let mut out = Vec::new();
    for r in asked {
        let r = r.to_ascii_lowercase();
        if !ROLES.contains(&r.as_str()) {
            return Err(ProcError::usage(format!(
                "--role {r}: unknown: the samba-ad roles are {} (or all)",
                ROLES.join(", ")
            )));
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The plan from one probe: a `Seize` of each role `to`'s own database does not name it for,
/// then `Agreed`. Refused while a role's holder answers, while `to` cannot be read or is no DC
/// of the domain, or where it has no `samba-tool` to run.
pub(crate) fn plan(
    ctx: &SambaCtx,
    dcs: &[Probed],
    to: &str,
    roles: &[String],
) -> Result<Plan<SambaAction>, ProcError> {
    let node = ctx.node(to)?;
    let to = node.name.clone();
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let Some(t) = dcs.iter().find(|d| d.name == to) else {
        return refuse(format!("{to} was not probed"));
    };
    let view = match &t.view {
        Ok(v) => v,
        Err(e) => {
            return refuse(format!(
                "{to} cannot hold the roles: it gives no view ({e})"
            ))
        }
    };
    let a = assess(dcs);
    if let Some(p) = a.removed(&to) {
        return refuse(format!("{to} cannot hold the roles: {p}"));
    }
    let mut plan = Plan::new("samba-ad seize-roles");
    let mut moving = Vec::new();
    let mut seized = Vec::new();
    let find = |h: &str| dcs.iter().find(|d| d.name.eq_ignore_ascii_case(h));
    for role in roles {
        let own = view.roles.get(role.as_str()).cloned().flatten();
        if own.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&to)) {
            continue;
        }
        let most = a.roles.get(role.as_str()).cloned().flatten();
        // The holder as `to`'s copy names it (the one a transfer asks) and as the others do.
        for h in [&own, &most].into_iter().flatten() {
            if !h.eq_ignore_ascii_case(&to) && find(h).is_none() {
                return refuse(format!(
                    "the {role} role's holder {h} is not in the cluster file: drctl cannot tell \
                     whether it answers; add it"
                ));
            }
        }
        let answers = |h: &Option<String>| {
            h.as_deref()
                .filter(|h| !h.eq_ignore_ascii_case(&to))
                .and_then(find)
                .is_some_and(|d| d.answers())
        };
        let action = if answers(&own) {
            // It answers: it hands the role over itself (a seize beside it would leave two
            // holders).
            SambaAction::Transfer {
                dc: to.clone(),
                role: role.clone(),
                from: own.clone().unwrap_or_default(),
            }
        } else if answers(&most) {
            return refuse(format!(
                "{to}'s copy names {} the {role} role's holder, and the other DCs name {}, which \
                 answers: {to} has not replicated yet; rerun once it has (drctl check)",
                own.as_deref().unwrap_or("nobody"),
                most.as_deref().unwrap_or("nobody")
            ));
        } else {
            seized.push(role.clone());
            continue;
        };
        moving.push(action);
    }
    if !seized.is_empty() {
        // One step for every role seized: one samba-tool call when they are all of them.
        moving.push(SambaAction::Seize {
            dc: to.clone(),
            roles: seized,
        });
    }
    if !moving.is_empty() && node.smb_conf.is_none() && node.command_prefix.is_none() {
        plan.note(format!(
            "{to} gives neither command_prefix nor smb_conf: samba-tool runs on this host with \
             its default smb.conf, which must be {to}'s"
        ));
    }
    for action in moving {
        plan.step(Step::new(action));
    }
    for d in dcs.iter().filter(|d| !d.answers()) {
        plan.note(format!(
            "{} does not answer: when it comes back it learns the new holder by replication \
             (a DC removed from the domain must not come back: drctl check names it)",
            d.name
        ));
    }
    let pdc_moves = plan.steps.iter().any(|s| {
        matches!(&s.action, SambaAction::Seize { roles, .. } if roles.iter().any(|r| r == "pdc"))
            || matches!(&s.action, SambaAction::Transfer { role, .. } if role == "pdc")
    });
    plan.step(Step::new(SambaAction::Agreed {
        dc: to.clone(),
        roles: roles.to_vec(),
    }));
    if pdc_moves {
        // Clients find the PDC by its DNS SRV record, which still names the old holder: Samba
        // registers the new one only when samba_dnsupdate runs (P16: up to 10 min).
        plan.step(Step::new(SambaAction::PdcSrv { pdc: to }));
    }
    Ok(plan)
}

/// Every DC that answers and names another holder for one of `roles` pulls the naming
/// contexts of those roles from `dc` itself (`samba-tool drs replicate --local`, into its own
/// database): its replication service can be stuck for minutes on a hung partner (a holder
/// that was SIGSTOPped), and the new holder's own copy is the one that counts. Measured 1.5 s.
pub(super) async fn pull(
    ctx: &SambaCtx,
    dc: &str,
    roles: &[String],
) -> Result<Option<String>, ProcError> {
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
pub(super) async fn replicate(
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

/// Whether `roles` are every FSMO role (one `--role=all` seizes them).
pub(super) fn every_role(roles: &[String]) -> bool {
    probe::ROLES.iter().all(|r| roles.iter().any(|x| x == r))
}

/// Ok(Ok(note)) when `dc`'s own database names it the holder of every one of `roles`.
pub(super) async fn held_by_itself(
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

/// Every DC that answers names `dc` the holder of `roles`.
pub(super) async fn agreed(
    ctx: &SambaCtx,
    dc: &str,
    roles: &[String],
) -> Result<Result<String, String>, ProcError> {
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

/// The PDC's DNS SRV record names `pdc`.
pub(super) async fn pdc_srv_names(
    ctx: &SambaCtx,
    pdc: &str,
) -> Result<Result<String, String>, ProcError> {
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

/// Seizes `roles` on `dc`: its exit status is not the proof (P8): `verify` reads the role
/// owner.
pub(super) async fn seize(
    ctx: &SambaCtx,
    dc: &str,
    roles: &[String],
) -> Result<Option<String>, ProcError> {
    if every_role(roles) {
        return tool(ctx, dc, "fsmo seize --role=all --force").await;
    }
    let mut said = Vec::new();
    for role in roles {
        said.extend(tool(ctx, dc, &format!("fsmo seize --role={role} --force")).await?);
    }
    Ok((!said.is_empty()).then(|| said.join("; ")))
}

/// Registers `pdc`'s DNS records, the PDC's SRV record among them.
pub(super) async fn register_pdc_srv(
    ctx: &SambaCtx,
    pdc: &str,
) -> Result<Option<String>, ProcError> {
    let n = ctx.node(pdc)?;
    run_on(ctx, pdc, DNS_UPDATE, &command_on(n, DNS_UPDATE)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_samba_tools_names_and_an_unknown_one_is_named() {
        assert_eq!(roles_of("").unwrap().len(), 7);
        assert_eq!(roles_of("all").unwrap().len(), 7);
        assert_eq!(roles_of("pdc, RID,pdc").unwrap(), ["pdc", "rid"]);
        let e = roles_of("pdc,schema-master").unwrap_err();
        assert!(
            e.to_string().contains("--role schema-master: unknown"),
            "{e}"
        );
    }

    /// The PDC's SRV record is made with the machine account over NTLM, never after a Kerberos
    /// ticket that a hung holder's KDC can hold up for 60 s (the seize-roles drill, dc1 paused).
    #[test]
    fn the_dns_update_after_a_seize_asks_no_kdc() {
        assert!(DNS_UPDATE.contains("--use-samba-tool"), "{DNS_UPDATE}");
        assert!(DNS_UPDATE.contains("--no-credentials"), "{DNS_UPDATE}");
    }
}
