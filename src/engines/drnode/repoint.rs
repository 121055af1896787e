//! Repoint (seed 000): set the replicated `primary` setting — the server clients use, the
//! "tokens manager" — and point every replica at it. Only a server holding a complete
//! configuration can take that place.

use serde::Serialize;

use super::step::Action;
use super::switchover::repoint_others;
use super::{reachable, Cluster, Plan, ProcError};
use crate::api::{DbStatus, Role};
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;

pub async fn repoint(
    cl: &Cluster,
    view: &ClusterView,
    primary: &str,
) -> Result<Plan<Action>, ProcError> {
    cl.target(primary)?;
    let p = reachable(view, primary)?;
    let current = view.primary().map(|n| n.name.clone());
    if current.as_deref() != Some(primary) {
        return Err(ProcError::refused(format!(
            "{primary} is {} at epoch {}, not the primary ({}): a replica cannot serve as primary \
             without a promotion; use `drctl switchover --to {primary}` (or `drctl failover --to {primary}` \
             if the primary is lost)",
            p.role,
            p.epoch,
            current
                .map(|c| format!("the primary is {c} at epoch {}", view.epoch()))
                .unwrap_or_else(|| "no primary answers".into())
        )).unchanged());
    }
    let mut plan = Plan::new("repoint");
    plan.step(super::switchover::set_primary(primary));
    repoint_others(cl, view, &mut plan, primary, &[]).await?;
    plan.step(Step::new(Action::Converged {
        primary: primary.into(),
    }));
    Ok(plan)
}

/// One row of `repoint --list`.
#[derive(Debug, Clone, Serialize)]
pub struct RepointRow {
    pub name: String,
    pub eligible: bool,
    pub reason: String,
}

/// Which servers could take the primary's place: only those holding a complete configuration.
pub fn repoint_list(view: &ClusterView) -> Vec<RepointRow> {
    let assessment = view.assess();
    view.nodes
        .iter()
        .zip(&assessment.nodes)
        .map(|(n, a)| {
            let (eligible, reason) = match n.ok() {
                None => (false, "unreachable".to_string()),
                Some(s) if s.db_status != DbStatus::Up => (false, format!("database {}", s.db_status)),
                Some(s) if s.role == Role::Fenced => (false, "fenced".into()),
                Some(s) if s.role == Role::Standalone => (false, "standalone: not replicating".into()),
                Some(s) if s.role == Role::Primary && s.epoch == view.epoch() => {
                    (true, "the current primary".into())
                }
                Some(s) if s.role == Role::Primary => (false, format!("an old primary (epoch {})", s.epoch)),
                Some(_) => match a.owns {
                    Some(o) if o >= 100.0 => (
                        true,
                        "holds a complete configuration (owns 100%); needs a switchover to become primary".into(),
                    ),
                    Some(o) => (false, format!("holds {o}% of the configuration")),
                    None => (false, "unknown share".into()),
                },
            };
            RepointRow {
                name: n.name.clone(),
                eligible,
                reason,
            }
        })
        .collect()
}
