//! What a 389 Directory Server chaos run (`--kind 389ds`) acts on and observes: the run's
//! context that plays schedule steps and procedures, healing, and the observations handed to
//! the checker and the policy (which `ds_run.rs` calls, so they do not import it).

use std::collections::BTreeSet;

use super::drctl::{Call, Drctl, Kill};
use super::operate::{self, Operate, Tally};
use super::schedule::{Pick, Proc, Step};
use crate::engines::ds389::lab::DsLab;
use crate::engines::ds389::{DsCluster, DsView};
use crate::lab::LabError;

/// What a 389ds run observed, for the checker.
pub(crate) type DsObserved = super::ldap_ctx::Observed<DsView>;

pub(crate) type DsCtx<'a> = super::ldap_ctx::DirCtx<'a, DsLab, DsCluster>;

/// The answering instances that take client writes: a writable backend that does not refer
/// them (a supplier; an old one back; one whose replica did not load; a consumer before its
/// first replication session, pitfall 15).
pub(super) fn writable(view: &DsView) -> BTreeSet<String> {
    view.nodes
        .iter()
        .filter(|n| {
            n.state
                .as_ref()
                .is_ok_and(|s| s.mapping_state == "backend" && !s.read_only)
        })
        .map(|n| n.name.clone())
        .collect()
}

impl super::ldap_ctx::Writable for DsCluster {
    async fn writable(&self) -> BTreeSet<String> {
        writable(&self.probe().await)
    }
}

impl DsCtx<'_> {
    /// Resolves a pick against the group as it is now: "the primary" is the supplier the
    /// assessment names, "fenced" an old supplier beside it.
    async fn resolve(&self, p: Pick) -> String {
        let a = self.cl.probe().await.assess();
        let supplier = a
            .supplier
            .clone()
            .unwrap_or_else(|| self.lab.nodes[0].name.clone());
        let fenced = a.stale_suppliers.first().cloned();
        p.among(
            supplier,
            self.lab.nodes.iter().map(|n| n.name.clone()),
            fenced,
        )
    }
}

impl Operate for DsCtx<'_> {
    fn operators(&self) -> &Drctl {
        &self.drctl
    }

    fn tally(&mut self) -> &mut Tally {
        &mut self.tally
    }

    async fn args_of(&self, p: Proc) -> Option<Vec<String>> {
        super::ldap_ctx::directory_args(p, |k| self.resolve(k)).await
    }

    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Kill>) -> Call {
        self.drctl(operator, args, kill).await
    }

    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        if operate::play(self, s).await {
            return Ok(());
        }
        let name = match s {
            Step::Kill { node } | Step::Pause { node } => Some(self.resolve(*node).await),
            _ => None,
        };
        operate::process_fault(&mut self.tally, self.lab, s, name.as_deref(), "389ds")
    }
}
