//! The runbook steps 389ds plans itself: `procedure.failover`, `procedure.demote`,
//! `assert.reachable`,
//! `assert.unreachable`, `assert.primary-is` (the supplier) and `wait.caught-up`, each built
//! from a fresh probe by the same planner `drctl failover` runs. The parameter names are every
//! engine's (`to`, `node`, `primary`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::steps::DsAction;
use super::DsCluster;
use crate::engine::{bind, Args, EnginePlan, Plan, ProcError, Step};

/// The steps this engine plans.
pub(super) const STEPS: &[&str] = &[
    "procedure.switchover",
    "procedure.failover",
    "procedure.demote",
    "procedure.remove-instance",
    "procedure.repoint",
    "procedure.sync-full",
    "assert.reachable",
    "assert.unreachable",
    "assert.primary-is",
    "wait.caught-up",
    "wait.status",
];

/// Builds the plan of a step from a fresh probe.
pub(super) async fn plan(
    a: &Args<'_>,
    cl: Arc<DsCluster>,
    export_dir: &std::path::Path,
) -> Result<EnginePlan, ProcError> {
    let view = cl.probe().await;
    let asm = view.assess();
    let mut outputs = BTreeMap::new();
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let plan = match a.uses {
        "procedure.failover" => {
            if a.flag("force")? {
                return Err(ProcError::usage(
                    "--force: a 389ds failover never drops a consumer's changes and never \
                     promotes beside a supplier that answers",
                ));
            }
            let to = a.opt("to").filter(|t| t != "auto");
            let p = super::procedures::failover(&cl, &view, to.as_deref())?;
            let target = p.steps.iter().find_map(|s| match &s.action {
                DsAction::Promote { node, .. } => Some(node.clone()),
                _ => None,
            });
            outputs.extend(target.map(|t| ("target".to_string(), t)));
            p
        }
        "procedure.switchover" => {
            let to = a.str("to")?;
            let p = super::procedures::switchover(&cl, &view, &to)?;
            outputs.insert("target".into(), to);
            p
        }
        "procedure.sync-full" => {
            super::reinit::sync_full(&cl, &view, &a.str("from")?, &a.str("to")?)?
        }
        "procedure.repoint" => {
            let primary = a.str("primary")?;
            let p = super::procedures::repoint(&cl, &view, &primary)?;
            outputs.insert("primary".into(), primary);
            p
        }
        "wait.status" if a.opt("role").is_some() || a.opt("db_status").is_some() => {
            return Err(ProcError::usage(
                "wait.status: on 389ds instances only `primary` can be waited for",
            ))
        }
        "procedure.remove-instance" => {
            crate::engines::drnode::runbook::refuse_force(
                a,
                "a 389ds instance is removed whether it answers or not",
            )?;
            super::procedures::remove_instance(&cl, &view, &a.str("node")?)?
        }
        "procedure.demote" => {
            let path = a.opt("export").map(std::path::PathBuf::from);
            super::demote::plan(
                &cl,
                &view,
                &a.str("node")?,
                a.opt("to").as_deref(),
                path,
                export_dir,
            )?
        }
        "wait.caught-up" | "wait.status" => {
            let sup = match a.opt("primary").filter(|p| !p.is_empty()) {
                Some(p) => p,
                None => asm
                    .supplier
                    .clone()
                    .ok_or_else(|| ProcError::refused("wait.caught-up: no supplier answers"))?,
            };
            cl.node(&sup)?;
            let rid = view
                .state(&sup)
                .and_then(|s| s.replica.as_ref())
                .map(|r| r.rid)
                .ok_or_else(|| {
                    ProcError::refused(format!("wait.caught-up: {sup} does not answer"))
                })?;
            let mut p = Plan::new(a.uses);
            p.step(Step::new(DsAction::Converged { supplier: sup, rid }));
            p
        }
        "assert.primary-is" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            if asm.supplier.as_deref() != Some(node.as_str()) {
                return refuse(format!(
                    "assert {node} is the supplier: no, the supplier is {}",
                    asm.supplier.as_deref().unwrap_or("none (none answers)")
                ));
            }
            outputs.insert("primary".into(), node);
            Plan::new(a.uses)
        }
        "assert.reachable" | "assert.unreachable" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            let answers = view.node(&node).is_some_and(|n| n.state.is_ok());
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
                "{other}: the 389ds engine has no such step"
            )))
        }
    };
    Ok(EnginePlan {
        plan: bind(plan, cl, super::KIND),
        outputs,
    })
}
