//! Demoting a restored old supplier (`procedure.demote`, the bundled `demote-old-primary`):
//! the recipe of `shared/engine-labs/389ds/README.md` §5, with its order fixed so that nothing
//! it acknowledged is lost silently:
//!
//! 1. client writes referred to the current supplier (`referral on update`): from here on it
//!    takes none that would go nowhere (pitfall 15);
//! 2. what it holds that the current supplier lacks exported as LDIF, each entry named: every
//!    entry with a CSN of its replica id beyond the current supplier's RUV for that id
//!    (`nscpentrywsi` shows a CSN on every value), and every delete (tombstone) beyond it;
//! 3. its agreements deleted, then the replica entry made a consumer's by a plain modify
//!    (`dsconf replication demote` starts a CleanAllRUV: pitfall 11), accepting only the current
//!    supplier's identity;
//! 4. a clean restart, so its CSN generator forgets the old replica id (pitfall 12);
//! 5. an agreement from the current supplier and a total update (its RUV lost its old id, so
//!    incremental updates cannot reach it: pitfall 17), then verified.

use std::path::{Path, PathBuf};

use super::assess::DsView;
use super::steps::DsAction;
use super::DsCluster;
use crate::engine::{Plan, ProcError, Step};

/// The plan from one probe: demote `node` under the current supplier (`to`, when given, must
/// be it), its divergent changes exported to `path` (default: in `export_dir`).
pub(crate) fn plan(
    cl: &DsCluster,
    view: &DsView,
    node: &str,
    to: Option<&str>,
    path: Option<PathBuf>,
    export_dir: &Path,
) -> Result<Plan<DsAction>, ProcError> {
    cl.node(node)?;
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = view.assess();
    let (Some(sup), Some(rid)) = (a.supplier.clone(), a.rid) else {
        return refuse(format!(
            "no supplier answers to demote {node} under: fail over first (drctl failover)"
        ));
    };
    if let Some(t) = to.filter(|t| *t != sup) {
        return refuse(format!("--to {t}: the supplier is {sup}"));
    }
    if sup == node {
        return refuse(format!(
            "{node} is the current supplier: the consumers accept its updates; move the \
             supplier first (`drctl switchover --to OTHER`)"
        ));
    }
    let Some(st) = view.state(node) else {
        return refuse(format!("{node} does not answer: start it first"));
    };
    if st.replica.is_none() {
        return refuse(format!("{node}: replication is not enabled for the suffix"));
    }
    let n = cl.node(node)?;
    if n.start_command.is_none() || n.stop_command.is_none() {
        return refuse(format!(
            "{node}: the cluster file gives no start_command and stop_command, and a demoted \
             389ds instance must restart cleanly to forget its replica id"
        ));
    }
    let path =
        path.unwrap_or_else(|| export_dir.join(format!("drctl-demote-{node}-{}.ldif", cl.run_id)));
    let mut plan = Plan::new("389ds demote");
    plan.note(format!(
        "{node} becomes a consumer of {sup} (replica id {rid}); what it holds that {sup} lacks \
         is exported to {} first",
        crate::util::words::absolute(&path).display()
    ));
    plan.step(Step::new(DsAction::Refer {
        node: node.into(),
        to: sup.clone(),
    }));
    plan.step(Step::new(DsAction::Export {
        node: node.into(),
        supplier: sup.clone(),
        path,
    }));
    plan.step(Step::new(DsAction::DropAgreements { node: node.into() }));
    plan.step(
        Step::new(DsAction::Demote {
            node: node.into(),
            rid,
        })
        .point_of_no_return(),
    );
    plan.step(Step::new(DsAction::Settle { node: node.into() }));
    plan.step(Step::new(DsAction::Agreement {
        from: sup.clone(),
        to: node.into(),
        rid,
    }));
    // Writes taken while its replica was off carry no CSN: no RUV shows them, so the total
    // update runs whatever the RUVs say (after their export).
    let off = st.replica.as_ref().is_some_and(|r| !r.loaded);
    if off {
        plan.note(format!(
            "{node}'s replication is off (its replica did not load): the writes it took since \
             carry no CSN; the new ones among them are exported, then it is re-initialized"
        ));
    }
    plan.step(Step::new(DsAction::Init {
        from: sup.clone(),
        to: node.into(),
        always: off,
        exported: true,
        run: None,
    }));
    plan.step(Step::new(DsAction::Converged { supplier: sup, rid }));
    Ok(plan)
}
