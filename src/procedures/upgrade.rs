//! Upgrading by dropping every node to standalone (seed 003 §5.13.9): maintenance on, the
//! primary then each replica standalone, the upgrade command per node, the cluster re-formed
//! around the same primary (partial sync: no write happened in between), maintenance off.
//! A rerun finds its own maintenance (by id) and continues.

use sha2::{Digest, Sha256};

use super::step::{Action, Step};
use super::{Cluster, Plan, ProcError};
use crate::api::Maintenance;
use crate::cluster::ClusterView;

pub async fn upgrade(
    cl: &Cluster,
    view: &ClusterView,
    command: &str,
    id: Option<&str>,
) -> Result<Plan, ProcError> {
    if command.trim().is_empty() {
        return Err(ProcError::usage("--exec needs a command"));
    }
    let id = match id {
        Some(i) => {
            crate::names::validate_label(i).map_err(|e| ProcError::usage(format!("--id: {e}")))?;
            i.to_string()
        }
        None => hex::encode(Sha256::digest(command.as_bytes()))[..12].to_string(),
    };
    let down: Vec<&str> = view
        .nodes
        .iter()
        .filter(|n| n.ok().is_none())
        .map(|n| n.name.as_str())
        .collect();
    if !down.is_empty() {
        return Err(ProcError::refused(format!(
            "{} do(es) not answer: an upgrade re-forms the whole cluster; nothing was changed",
            down.join(", ")
        )));
    }
    // A maintenance of this upgrade already running names the primary to re-form around.
    let ongoing = view
        .nodes
        .iter()
        .filter_map(|n| n.ok())
        .filter_map(|s| s.maintenance.clone())
        .find(|m| m.id == id);
    let primary = match &ongoing {
        Some(m) => m.primary.clone(),
        None => view
            .primary()
            .map(|p| p.name.clone())
            .ok_or_else(|| ProcError::refused("no primary answers; nothing was changed"))?,
    };
    cl.target(&primary)?;
    let maintenance = Maintenance {
        id: id.clone(),
        reason: format!("upgrade {id}"),
        primary: primary.clone(),
    };
    let mut plan = Plan::new("upgrade");
    let names: Vec<String> = std::iter::once(primary.clone())
        .chain(
            view.nodes
                .iter()
                .map(|n| n.name.clone())
                .filter(|n| *n != primary),
        )
        .collect();
    // Finished before (every node ran it, no maintenance left): nothing to do.
    let mut finished = ongoing.is_none();
    for n in &names {
        let ran = cl
            .target(n)?
            .client
            .get_local(&format!("upgrade-{id}"))
            .await?;
        finished &= ran.is_some();
    }
    if finished {
        plan.note(format!(
            "upgrade {id} already ran on every node; give another --id to run the command again"
        ));
        plan.step(Step::new(Action::Converged { primary }));
        return Ok(plan);
    }
    plan.note(format!(
        "upgrade {id}: writes are refused until the cluster is re-formed around {primary}"
    ));
    plan.confirm = Some(format!(
        "Put the cluster in maintenance and run `{command}` for each node?"
    ));
    for n in &names {
        plan.step(Step::new(Action::Maintenance {
            node: n.clone(),
            maintenance: Some(maintenance.clone()),
        }));
    }
    for n in &names {
        plan.step(Step::new(Action::Standalone { node: n.clone() }));
    }
    for n in &names {
        plan.step(Step::new(Action::Exec {
            node: n.clone(),
            command: command.to_string(),
            marker: id.clone(),
        }));
    }
    plan.step(Step::new(Action::Promote {
        node: primary.clone(),
        epoch: view.epoch(),
        caught_up_with: None,
        procedure: "upgrade".into(),
    }));
    for n in names.iter().skip(1) {
        plan.step(Step::new(Action::Follow {
            node: n.clone(),
            primary: primary.clone(),
            full_sync: false,
        }));
    }
    for n in &names {
        plan.step(Step::new(Action::Maintenance {
            node: n.clone(),
            maintenance: None,
        }));
    }
    plan.step(Step::new(Action::Converged { primary }));
    Ok(plan)
}
