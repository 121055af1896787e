//! The runbook steps Samba AD plans itself: `procedure.seize-roles`,
//! `procedure.remove-instance`, `procedure.repoint-clients`, `procedure.join`,
//! `procedure.sync-full`, `assert.reachable` and `assert.unreachable`, each from a fresh
//! probe of every DC, by the same planners the commands run. The parameter names are every
//! engine's (`to`, `roles`, `node`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::ctx::SambaCtx;
use super::seize;
use crate::engine::{bind, Args, EnginePlan, Plan, ProcError};

/// The steps this engine plans.
pub(super) const STEPS: &[&str] = &[
    "procedure.seize-roles",
    "procedure.remove-instance",
    "procedure.repoint-clients",
    "procedure.join",
    "procedure.sync-full",
    "assert.reachable",
    "assert.unreachable",
];

/// Builds the plan of a step from a fresh probe.
pub(super) async fn plan(a: &Args<'_>, ctx: Arc<SambaCtx>) -> Result<EnginePlan, ProcError> {
    let dcs = ctx.probe().await;
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let plan = match a.uses {
        "procedure.seize-roles" => {
            let to = a.str("to")?;
            let roles = seize::roles_of(&a.opt("roles").unwrap_or_default())?;
            seize::plan(&ctx, &dcs, &to, &roles)?
        }
        "procedure.remove-instance" => {
            let force = a.opt("force").is_some_and(|f| f == "true");
            super::remove::plan(&ctx, &dcs, &a.str("node")?, force)?
        }
        "procedure.repoint-clients" => super::clients::plan(&ctx, &dcs, &a.str("primary")?)?,
        "procedure.join" => {
            let node = a.str("node")?;
            let export = a
                .opt("export")
                .filter(|e| !e.is_empty())
                .map(std::path::PathBuf::from);
            super::rejoin::plan(&ctx, &dcs, &node, &a.str("primary")?, export)?
        }
        "procedure.sync-full" => {
            super::rejoin::replicate_plan(&ctx, &dcs, &a.str("from")?, &a.str("to")?).await?
        }
        "assert.reachable" | "assert.unreachable" => {
            let node = a.str("node")?;
            let answers = dcs
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(&node))
                .ok_or_else(|| {
                    ProcError::usage(format!("unknown node '{node}': not a DC of the cluster"))
                })?
                .answers();
            match (a.uses == "assert.reachable", answers) {
                (true, false) => return refuse(format!("assert {node} answers: no")),
                (false, true) => {
                    return refuse(format!("assert {node} does not answer: no, it answers"))
                }
                _ => Plan::new(a.uses),
            }
        }
        other => {
            return Err(ProcError::usage(format!(
                "{other}: the samba-ad engine has no such step"
            )))
        }
    };
    Ok(EnginePlan {
        plan: bind(plan, ctx, super::KIND),
        outputs: BTreeMap::new(),
    })
}
