//! The runbook steps OpenLDAP plans itself: `procedure.failover|switchover|repoint|demote`,
//! `assert.unreachable`, `assert.primary-is` and `wait.caught-up`, each built from a fresh
//! probe by the same planners `drctl failover/switchover/repoint/demote` run: one code path.
//! The parameter names are every engine's (`to`, `primary`, `node`, `export`); the plan's
//! actions are `LdapAction`s bound to this run's cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{LdapAction, LdapCluster};
use crate::engine::{bind, Args, EnginePlan, Plan, ProcError, Step};

/// The steps this engine plans.
pub const STEPS: &[&str] = &[
    "procedure.failover",
    "procedure.switchover",
    "procedure.repoint",
    "procedure.demote",
    "assert.reachable",
    "assert.unreachable",
    "assert.primary-is",
    "wait.caught-up",
    "wait.status",
];

/// The provider the plan ends on (its last `Converged` step).
fn target(p: &Plan<LdapAction>) -> Option<String> {
    p.steps.iter().rev().find_map(|s| match &s.action {
        LdapAction::Converged { provider, .. } => Some(provider.clone()),
        _ => None,
    })
}

/// Builds the plan of a step from a fresh probe. `export_dir` is where a demotion's exported
/// entries go unless the step names a file.
pub async fn plan(
    a: &Args<'_>,
    cl: Arc<LdapCluster>,
    export_dir: &std::path::Path,
) -> Result<EnginePlan, ProcError> {
    let view = cl.probe().await;
    let mut outputs = BTreeMap::new();
    let plan = match a.uses {
        "procedure.failover" => {
            let to = a.opt("to").filter(|t| !t.is_empty() && t != "auto");
            super::failover(&cl, &view, to.as_deref(), a.flag("force")?).await?
        }
        "procedure.switchover" => super::switchover(&cl, &view, &a.str("to")?).await?,
        "procedure.repoint" => super::repoint(&cl, &view, &a.str("primary")?).await?,
        "procedure.demote" => {
            let node = a.str("node")?;
            let export = a
                .opt("export")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    export_dir.join(format!("drctl-demote-{node}-{}.ldif", cl.run_id))
                });
            super::demote(&cl, &view, &node, a.opt("to").as_deref(), Some(export)).await?
        }
        // A node "reports" the provider when it follows it with equal data: the group converged.
        "wait.status" if a.opt("role").is_some() || a.opt("db_status").is_some() => {
            return Err(ProcError::usage(
                "wait.status: on openldap nodes only `primary` can be waited for",
            ))
        }
        "wait.caught-up" | "wait.status" => {
            let provider = match a.opt("primary").filter(|p| !p.is_empty()) {
                Some(p) => p,
                None => view.provider().ok_or_else(|| {
                    ProcError::refused(format!("{}: no provider answers", a.uses))
                })?,
            };
            cl.node(&provider)?;
            let mut p = Plan::new(a.uses);
            // A consumer stalled behind the provider never catches up by itself: noted, not
            // waited for (until the timeout, for nothing).
            let stalled =
                super::stalled(&view, &cl.nodes, &provider, cl.timeout, super::STALL_WINDOW).await;
            for n in &stalled {
                p.note(format!(
                    "{n} is stalled behind {provider}: run `drctl demote {n} --to {provider}`"
                ));
            }
            p.step(Step::new(LdapAction::Converged {
                provider,
                require: Vec::new(),
                stalled,
            }));
            p
        }
        "assert.primary-is" => {
            // A read, done now: nothing to run.
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.provider() {
                Some(p) if p == node => {}
                other => {
                    return Err(ProcError::refused(format!(
                        "assert {node} is the provider: no, the provider is {}",
                        other.unwrap_or_else(|| "unknown (none answers)".into())
                    ))
                    .unchanged())
                }
            }
            outputs.insert("primary".into(), node.clone());
            outputs.insert("provider".into(), node);
            Plan::new(a.uses)
        }
        "assert.reachable" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.node(&node).map(|n| &n.state) {
                Some(Ok(_)) => Plan::new(a.uses),
                Some(Err(e)) => {
                    return Err(
                        ProcError::refused(format!("assert {node} answers: no ({e})")).unchanged(),
                    )
                }
                None => return Err(ProcError::usage(format!("unknown node '{node}'"))),
            }
        }
        "assert.unreachable" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.node(&node).map(|n| &n.state) {
                Some(Err(e)) if e.is_unreachable() => Plan::new(a.uses),
                Some(Err(e)) => {
                    return Err(ProcError::refused(format!(
                        "assert {node} does not answer: it answers but refuses drctl ({e})"
                    ))
                    .unchanged())
                }
                _ => {
                    return Err(ProcError::refused(format!(
                        "assert {node} does not answer: no, it answers"
                    ))
                    .unchanged())
                }
            }
        }
        other => {
            return Err(ProcError::usage(format!(
                "{other}: the openldap engine has no such step"
            )))
        }
    };
    if let Some(t) = target(&plan) {
        outputs.insert("target".into(), t.clone());
        outputs.insert("provider".into(), t);
    }
    Ok(EnginePlan {
        plan: bind(plan, cl, super::KIND),
        outputs,
    })
}
