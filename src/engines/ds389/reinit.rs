//! `sync full --from SUPPLIER --to CONSUMER` on 389ds (runbook `ds389-reinit`): a total update
//! of a consumer from the supplier now, planned from one probe.

use super::assess::DsView;
use super::procedures::nothing_ahead;
use super::steps::DsAction;
use super::DsCluster;
use crate::engine::{Plan, ProcError, Step};

/// `sync full --from SUP --to N`: a total update of N from the supplier now, once per run
/// whatever the RUVs say (a consumer whose data went wrong in a way no CSN shows, or one left
/// behind: pitfall 2), done once the total update this run started (marked on the agreement)
/// ended well, then every consumer holds what the supplier holds. Refused, changing
/// nothing, when SUP is not the supplier, N does not answer or is a supplier, SUP does not feed
/// N, or N holds changes SUP lacks (the update would drop them: `demote` exports them first).
pub(crate) fn sync_full(
    cl: &DsCluster,
    view: &DsView,
    from: &str,
    to: &str,
) -> Result<Plan<DsAction>, ProcError> {
    cl.node(from)?;
    cl.node(to)?;
    if from == to {
        return Err(ProcError::usage(format!(
            "--from and --to name the same instance ({from})"
        )));
    }
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = view.assess();
    let (Some(sup), Some(rid)) = (a.supplier.clone(), a.rid) else {
        return refuse(
            "no supplier answers: nothing to re-initialize from (drctl failover)".into(),
        );
    };
    if sup != from {
        return refuse(format!(
            "{from} is not the supplier ({sup} is): a total update comes from the supplier that \
             feeds {to}: drctl sync full --from {sup} --to {to}"
        ));
    }
    let Some(st) = view.state(to) else {
        return refuse(format!("{to} does not answer"));
    };
    if st.replica.is_none() {
        return refuse(format!("{to} has no replica of the suffix"));
    }
    if st.is_supplier() {
        return refuse(format!(
            "{to} is a supplier: a total update would replace a supplier's data (to make it a \
             consumer, drctl demote {to})"
        ));
    }
    let port = view
        .nodes
        .iter()
        .find(|n| n.name == to)
        .map(|n| n.port)
        .unwrap_or_default();
    if view
        .state(&sup)
        .and_then(|s| s.agreement_to(port))
        .is_none()
    {
        return refuse(format!(
            "{sup} does not feed {to} (no agreement): drctl repoint --primary {sup}"
        ));
    }
    nothing_ahead(view, to, &sup)?;
    let mut plan = Plan::new("389ds sync full");
    plan.note(format!(
        "{to}'s copy of the suffix is replaced by {sup}'s (a total update); it refers client \
         writes to {sup} meanwhile"
    ));
    plan.step(Step::new(DsAction::Agreement {
        from: sup.clone(),
        to: to.into(),
        rid,
    }));
    plan.step(Step::new(DsAction::Init {
        from: sup.clone(),
        to: to.into(),
        always: false,
        exported: false,
        run: Some(cl.run_id.clone()),
    }));
    plan.step(Step::new(DsAction::Converged { supplier: sup, rid }));
    Ok(plan)
}
