//! Seizing the FSMO roles of a DC that does not answer (`drctl seize-roles --to DC`): per role,
//! `samba-tool fsmo seize --role=R --force` run on the new holder against its own database
//! (over LDAP the RID role's RID Set cannot be made and the exit status lies: P8), proved by
//! the new holder's own `fSMORoleOwner`, never by the exit status; then every DC that answers
//! names it (replication). `--force`: the holder was found silent, and without it samba-tool
//! first tries a transfer that waits 60 to 300 s per role on a hung holder (P17).
//!
//! Refused, changing nothing, while a role's holder answers (a refused bind is an answer): a
//! seize beside a live holder leaves two DCs that each believe they hold it. A transfer is the
//! remedy then, and it is not drctl's yet.

use std::time::Duration;

use serde::Serialize;

use super::assess::{assess, probe_all, Probed};
use super::probe::{self, ROLES};
use super::DcNode;
use crate::engine::{check_holds, verify_holds, Act, Check, Plan, ProcError, RunContext, Step};

/// What a Samba procedure acts on.
pub(crate) struct SambaCtx {
    pub(crate) nodes: Vec<DcNode>,
    pub(crate) run_id: String,
    /// Connect timeout per DC.
    pub(crate) timeout: Duration,
    /// How long a step's verification may wait.
    pub(crate) step_timeout: Duration,
}

impl SambaCtx {
    fn node(&self, name: &str) -> Result<&DcNode, ProcError> {
        crate::util::names::lookup(&self.nodes, name, |n| &n.name).map_err(|known| {
            ProcError::usage(format!(
                "unknown node '{name}': the cluster's samba-ad DCs are {known}"
            ))
        })
    }

    pub(crate) async fn probe(&self) -> Vec<Probed> {
        probe_all(&self.nodes, self.timeout).await
    }
}

/// Samba runs take the host lock for the whole run (`Engine::run_lock`).
impl RunContext for SambaCtx {
    fn run_id(&self) -> &str {
        &self.run_id
    }
    async fn lock(&self, _: &str, _: Duration, _: bool) -> Result<Vec<String>, ProcError> {
        Ok(Vec::new())
    }
    async fn unlock(&self, _: &[String]) {}
    async fn record(&self, _: &[String], kind: &str, message: &str, success: Option<bool>) {
        tracing::info!(kind, success, "{message}");
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum SambaAction {
    /// `dc`'s own database names it the holder of `role`.
    Seize { dc: String, role: String },
    /// Every DC that answers names `dc` the holder of `roles`.
    Agreed { dc: String, roles: Vec<String> },
}

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
    if let Some(p) = a
        .problems
        .iter()
        .find(|p| p.starts_with(&format!("{to}: not a DC of the domain")))
    {
        return refuse(format!("{to} cannot hold the roles: {p}"));
    }
    let mut plan = Plan::new("samba-ad seize-roles");
    let mut moving = Vec::new();
    for role in roles {
        let own = view.roles.get(role.as_str()).cloned().flatten();
        if own.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&to)) {
            continue;
        }
        // The holder as `to` sees it and as the others do: neither may answer.
        let holders = [own, a.roles.get(role.as_str()).cloned().flatten()];
        for h in holders.iter().flatten() {
            if h.eq_ignore_ascii_case(&to) {
                continue;
            }
            match dcs.iter().find(|d| d.name.eq_ignore_ascii_case(h)) {
                Some(d) if d.answers() => {
                    return refuse(format!(
                        "the {role} role's holder {h} answers: a seize beside it would leave two \
                         holders; transfer it (samba-tool fsmo transfer --role={role} on {to}), \
                         or stop {h} first if it is failing"
                    ))
                }
                Some(_) => {}
                None => {
                    return refuse(format!(
                        "the {role} role's holder {h} is not in the cluster file: drctl cannot \
                         tell whether it answers; add it (it is refused while it answers)"
                    ))
                }
            }
        }
        moving.push(role.clone());
    }
    if !moving.is_empty() && node.smb_conf.is_none() && node.command_prefix.is_none() {
        plan.note(format!(
            "{to} gives neither command_prefix nor smb_conf: samba-tool runs on this host with \
             its default smb.conf, which must be {to}'s"
        ));
    }
    for role in &moving {
        plan.step(Step::new(SambaAction::Seize {
            dc: to.clone(),
            role: role.clone(),
        }));
    }
    for d in dcs.iter().filter(|d| !d.answers()) {
        plan.note(format!(
            "{} does not answer: when it comes back it learns the new holder by replication \
             (a DC removed from the domain must not come back: drctl check names it)",
            d.name
        ));
    }
    plan.step(Step::new(SambaAction::Agreed {
        dc: to,
        roles: roles.to_vec(),
    }));
    Ok(plan)
}

/// The shell command that seizes `role` on `n`.
fn seize_command(n: &DcNode, role: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut c = String::new();
    if let Some(p) = &n.command_prefix {
        c.push_str(p);
        c.push(' ');
    }
    c.push_str(&format!("samba-tool fsmo seize --role={role} --force"));
    if let Some(conf) = &n.smb_conf {
        c.push_str(&format!(" -s {}", quote(&conf.to_string_lossy())));
    }
    c
}

impl SambaAction {
    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, ctx: &SambaCtx) -> Result<Result<String, String>, ProcError> {
        match self {
            SambaAction::Seize { dc, role } => {
                let v = probe::probe(ctx.node(dc)?, ctx.timeout)
                    .await
                    .map_err(|e| ProcError::failed(format!("{dc}: {e}")))?;
                let own = v.roles.get(role.as_str()).cloned().flatten();
                Ok(match own {
                    Some(h) if h.eq_ignore_ascii_case(dc) => {
                        Ok(format!("{dc} holds the {role} role"))
                    }
                    h => Err(format!(
                        "{dc} sees the {role} role held by {}",
                        h.as_deref().unwrap_or("nobody")
                    )),
                })
            }
            SambaAction::Agreed { dc, roles } => {
                let dcs = ctx.probe().await;
                let mut behind = Vec::new();
                let mut agreeing = 0;
                for d in &dcs {
                    let Ok(v) = &d.view else { continue };
                    let other: Vec<&str> = roles
                        .iter()
                        .filter(|r| {
                            v.roles
                                .get(r.as_str())
                                .cloned()
                                .flatten()
                                .is_none_or(|h| !h.eq_ignore_ascii_case(dc))
                        })
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
        }
    }
}

impl Act for SambaAction {
    type Ctx = SambaCtx;
    fn describe(&self) -> String {
        match self {
            SambaAction::Seize { dc, role } => {
                format!("seize the {role} role on {dc} (samba-tool fsmo seize --force)")
            }
            SambaAction::Agreed { dc, roles } => format!(
                "wait until every DC that answers names {dc} the holder of {}",
                roles.join(", ")
            ),
        }
    }
    fn changes(&self) -> bool {
        matches!(self, SambaAction::Seize { .. })
    }
    async fn check(&self, ctx: &SambaCtx) -> Result<Check, ProcError> {
        check_holds(self.holds(ctx).await)
    }
    async fn apply(&self, ctx: &SambaCtx) -> Result<Option<String>, ProcError> {
        match self {
            SambaAction::Seize { dc, role } => {
                let n = ctx.node(dc)?;
                let bound = Duration::from_secs(60).max(ctx.step_timeout);
                // Its exit status is not the proof (P8): `verify` reads the role owner.
                let out = crate::engines::etcd::rejoin::host(
                    &format!("{dc}: samba-tool fsmo seize --role={role}"),
                    &seize_command(n, role),
                    &[],
                    bound,
                )
                .await;
                Ok(match out {
                    Ok(o) => o.lines().last().map(str::to_string),
                    Err(e) => Some(format!("{e} (the role owner decides)")),
                })
            }
            SambaAction::Agreed { .. } => Ok(None),
        }
    }
    async fn verify(&self, ctx: &SambaCtx) -> Result<Option<String>, ProcError> {
        verify_holds(ctx.step_timeout, self.describe(), || self.holds(ctx)).await
    }
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

    #[test]
    fn the_seize_runs_on_the_dc_with_its_smb_conf_quoted() {
        let n = DcNode {
            name: "dc2".into(),
            url: "ldapi:///x".into(),
            access: super::super::Access::Ldapi {
                socket: "/x".into(),
            },
            realm: "SDC.TEST".into(),
            command_prefix: Some("ip netns exec sdc-dc2".into()),
            smb_conf: Some("/tmp/a b/smb.conf".into()),
        };
        assert_eq!(
            seize_command(&n, "pdc"),
            "ip netns exec sdc-dc2 samba-tool fsmo seize --role=pdc --force -s '/tmp/a b/smb.conf'"
        );
    }
}
