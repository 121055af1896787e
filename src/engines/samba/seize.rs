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
}
