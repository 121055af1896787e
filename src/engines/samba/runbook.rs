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
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    if let "assert.reachable" | "assert.unreachable" = a.uses {
        // The DC named alone: another that hangs costs this step nothing.
        let node = a.str("node")?;
        let dc = ctx.node(&node)?;
        let answers = !matches!(
            super::probe::probe(dc, ctx.timeout).await,
            Err(super::probe::ProbeError::Silent(_))
        );
        return match (a.uses == "assert.reachable", answers) {
            (true, false) => refuse(format!("assert {node} answers: no")),
            (false, true) => refuse(format!("assert {node} does not answer: no, it answers")),
            _ => Ok(EnginePlan {
                plan: bind(
                    Plan::<super::ctx::SambaAction>::new(a.uses),
                    ctx,
                    super::KIND,
                ),
                outputs: BTreeMap::new(),
            }),
        };
    }
    let dcs = ctx.probe().await;
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
