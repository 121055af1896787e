//! The runbook steps etcd plans itself: `procedure.switchover`, `procedure.removenode`,
//! `procedure.rejoin`,
//! `assert.reachable`, `assert.primary-is` (the leader) and `wait.caught-up`, each built from a
//! fresh probe by the same planners `drctl switchover/removenode` run: one code path. The
//! parameter names are every engine's (`to`, `node`, `force`, `primary`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{EtcdAction, EtcdCluster};
use crate::engine::{bind, Args, EnginePlan, Plan, ProcError, Step};

/// The steps this engine plans.
pub(super) const STEPS: &[&str] = &[
    "procedure.switchover",
    "procedure.removenode",
    "procedure.rejoin",
    "procedure.failover",
    "procedure.snapshot",
    "procedure.restore",
    "assert.reachable",
    "assert.unreachable",
    "assert.primary-is",
    "wait.caught-up",
];

/// Builds the plan of a step from a fresh probe.
pub(super) async fn plan(
    a: &Args<'_>,
    cl: Arc<EtcdCluster>,
    export_dir: &std::path::Path,
) -> Result<EnginePlan, ProcError> {
    let view = cl.probe().await;
    let asm = view.assess();
    let mut outputs = BTreeMap::new();
    if a.uses == "procedure.rejoin" {
        let p = super::rejoin::plan(&cl, &view, &asm, &a.str("node")?)?;
        return Ok(EnginePlan {
            plan: bind(p, cl, super::KIND),
            outputs,
        });
    }
    if a.uses == "procedure.snapshot" || a.uses == "procedure.restore" {
        let path = super::restore::resolve(
            &a.str(if a.uses == "procedure.snapshot" {
                "path"
            } else {
                "snapshot"
            })?,
            export_dir,
        );
        let p = if a.uses == "procedure.snapshot" {
            outputs.insert("path".into(), path.display().to_string());
            super::restore::snapshot_plan(&view, &asm, path)?
        } else {
            super::restore::restore_plan(&cl, &asm, path)?
        };
        return Ok(EnginePlan {
            plan: bind(p, cl, super::KIND),
            outputs,
        });
    }
    if a.uses == "procedure.failover" {
        let to = a.opt("to").filter(|t| t != "auto");
        let dir = a.opt("export_dir").map(std::path::PathBuf::from);
        let p = super::failover::plan(
            &cl,
            &view,
            &asm,
            to.as_deref(),
            a.flag("force")?,
            dir.as_deref().unwrap_or(export_dir),
        )?;
        let target = p.steps.iter().find_map(|s| match &s.action {
            super::failover::Failover::ForceNewCluster { node, .. }
            | super::failover::Failover::Led { node } => Some(node.clone()),
            _ => None,
        });
        outputs.extend(target.map(|t| ("target".to_string(), t)));
        return Ok(EnginePlan {
            plan: bind(p, cl, super::KIND),
            outputs,
        });
    }
    let plan = match a.uses {
        "procedure.switchover" => {
            let to = a.str("to")?;
            let p = super::procedures::switchover(&cl, &view, &asm, &to)?;
            outputs.insert("target".into(), to);
            p
        }
        "procedure.removenode" => {
            if a.opt("host_id").is_some() {
                return Err(ProcError::usage(
                    "procedure.removenode: etcd members are named by node, not host_id",
                ));
            }
            super::procedures::removenode(&cl, &view, &asm, &a.str("node")?, a.flag("force")?)?
        }
        "wait.caught-up" => {
            let leader = match a.opt("primary") {
                Some(p) => p,
                None => asm
                    .leader
                    .clone()
                    .ok_or_else(|| ProcError::refused("wait.caught-up: no leader answers"))?,
            };
            cl.node(&leader)?;
            let mut p = Plan::new(a.uses);
            p.step(Step::new(EtcdAction::LeaderCaughtUp { node: leader }));
            p
        }
        "assert.primary-is" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            if asm.leader.as_deref() != Some(node.as_str()) {
                return Err(ProcError::refused(format!(
                    "assert {node} is the leader: no, the leader is {}",
                    asm.leader.as_deref().unwrap_or("none (no quorum)")
                ))
                .unchanged());
            }
            outputs.insert("primary".into(), node);
            Plan::new(a.uses)
        }
        "assert.reachable" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.node(&node).map(|n| &n.state) {
                Some(Err(e)) => {
                    return Err(
                        ProcError::refused(format!("assert {node} answers: no, it {e}"))
                            .unchanged(),
                    )
                }
                _ => Plan::new(a.uses),
            }
        }
        "assert.unreachable" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.node(&node).map(|n| &n.state) {
                Some(Err(e)) if e.is_unreachable() => Plan::new(a.uses),
                Some(Err(e)) => {
                    return Err(ProcError::refused(format!(
                        "assert {node} does not answer: it answers with an error ({e})"
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
                "{other}: the etcd engine has no such step"
            )))
        }
    };
    Ok(EnginePlan {
        plan: bind(plan, cl, super::KIND),
        outputs,
    })
}
