//! Operation-master roles (seed 000): transfer a role when its holder answers (it releases
//! first), seize it when it does not (a higher role epoch; a returning old holder sees the
//! newer record and does not act as holder).

use super::step::Action;
use super::{reachable, Cluster, Plan, ProcError};
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;
use crate::node::OPERATION_ROLES;

pub async fn seize_roles(
    cl: &Cluster,
    view: &ClusterView,
    to: &str,
    roles: &[String],
) -> Result<Plan<Action>, ProcError> {
    // A holder that answers is transferred from, one that does not is seized from: a holder
    // that only missed the short probe timeout is asked again patiently.
    let patient;
    let view = if view.maybe_slow() {
        patient = cl.probe_patiently().await;
        &patient
    } else {
        view
    };
    cl.target(to)?;
    let t = reachable(view, to)?;
    for r in roles {
        if !OPERATION_ROLES.contains(&r.as_str()) {
            return Err(ProcError::usage(format!(
                "unknown role '{r}': the roles are {}",
                OPERATION_ROLES.join(", ")
            )));
        }
    }
    let roles: Vec<String> = if roles.is_empty() {
        OPERATION_ROLES.iter().map(|r| r.to_string()).collect()
    } else {
        roles.to_vec()
    };
    let primary = view.primary().map(|p| p.name.clone()).ok_or_else(|| {
        ProcError::refused("no primary answers to record the new holder: fail over first")
            .unchanged()
    })?;
    if !view.members.iter().any(|m| m.host_id == t.host_id) {
        return Err(ProcError::refused(format!("{to} is not a member of the cluster")).unchanged());
    }
    let records = view.roles();
    let mut plan = Plan::new("seize-roles");
    let mut seized = Vec::new();
    for role in &roles {
        let (holder, epoch) = match records.get(role) {
            Some(r) => (Some(r.holder.clone()), r.epoch),
            None => (None, 0),
        };
        if holder.as_deref() == Some(t.host_id.as_str()) {
            plan.note(format!("{to} already holds {role} (role epoch {epoch})"));
        }
        let holder_name = holder.as_deref().and_then(|h| view.name_of_host(h));
        let answers = holder_name
            .as_deref()
            .and_then(|n| view.node(n))
            .is_some_and(|n| n.ok().is_some());
        if let (Some(h), true) = (&holder_name, answers) {
            if holder.as_deref() != Some(t.host_id.as_str()) {
                plan.note(format!("{role}: {h} answers: transfer (it releases first)"));
                plan.step(Step::new(Action::ReleaseRole {
                    node: h.clone(),
                    role: role.clone(),
                }));
            }
        } else if holder.as_deref() != Some(t.host_id.as_str()) {
            let who = holder_name.clone().unwrap_or_else(|| "nobody".into());
            plan.note(format!("{role}: its holder {who} does not answer: seize"));
            seized.push(format!("{role} from {who}"));
        }
        plan.step(Step::new(Action::SetRole {
            role: role.clone(),
            node: to.into(),
            epoch: super::next_epoch(epoch)?,
            via: primary.clone(),
        }));
    }
    if !seized.is_empty() {
        plan.confirm = Some(format!(
            "Seize {} onto {to}? The old holder must not come back as holder; if it does, it sees \
             the newer record and gives the role up.",
            seized.join(", ")
        ));
    }
    Ok(plan)
}
