//! Demote a restored or fenced old primary (seed 002: it "believes it is master"): if its
//! history diverged, export the records that never propagated, then resync it as a replica.

use std::path::PathBuf;

use super::step::Action;
use super::{divergence, reachable, Cluster, Plan, ProcError};
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;

pub async fn demote(
    cl: &Cluster,
    view: &ClusterView,
    node: &str,
    to: Option<&str>,
    export: Option<PathBuf>,
) -> Result<Plan<Action>, ProcError> {
    cl.target(node)?;
    let primary = match to {
        Some(p) => {
            cl.target(p)?;
            p.to_string()
        }
        None => view
            .primary()
            .map(|p| p.name.clone())
            .ok_or_else(|| ProcError::refused("no primary answers to demote to").unchanged())?,
    };
    reachable(view, node)?;
    let p = reachable(view, &primary)?;
    if node == primary {
        return Err(ProcError::refused(format!(
            "{node} is the primary: move the primary first (`drctl switchover --to …`)"
        ))
        .unchanged());
    }
    if view.primary().map(|n| n.name.as_str()) != Some(primary.as_str()) {
        return Err(ProcError::refused(format!(
            "{primary} is {} at epoch {}, not the primary",
            p.role, p.epoch
        ))
        .unchanged());
    }
    let d = divergence(cl.target(node)?, cl.target(&primary)?).await?;
    let mut plan = Plan::new("demote");
    if d.records > 0 {
        let path =
            crate::util::words::absolute(&export.unwrap_or_else(|| {
                PathBuf::from(format!("drctl-demote-{node}-{}.jsonl", cl.run_id))
            }));
        plan.note(format!(
            "{node} holds {} after {} that {primary} never had: they are exported to {} \
             (JSON lines: key, value, op, epoch, seq), then {node}'s data is replaced by a full sync",
            crate::util::words::count(d.records, "record"),
            d.common,
            path.display()
        ));
        plan.confirm = Some(format!(
            "Export {} of {node} to {} and replace its data with {primary}'s?",
            crate::util::words::count(d.records, "record"),
            path.display()
        ));
        plan.step(Step::new(Action::ExportDivergent {
            node: node.into(),
            primary: primary.clone(),
            path,
        }));
        plan.step(Step::new(Action::Follow {
            node: node.into(),
            primary: primary.clone(),
            full_sync: true,
        }));
    } else {
        plan.note(format!(
            "{node} holds nothing {primary} lacks: it keeps its data and catches up by partial sync"
        ));
        plan.step(Step::new(Action::Follow {
            node: node.into(),
            primary,
            full_sync: false,
        }));
    }
    Ok(plan)
}
