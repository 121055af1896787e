//! What a 389 Directory Server chaos run (`--kind 389ds`) acts on and observes: the run's
//! context that plays schedule steps and procedures, healing, and the observations handed to
//! the checker and the policy (which `ds_run.rs` calls, so they do not import it).

use std::collections::BTreeSet;

use super::drctl::{Call, Drctl, Kill};
use super::operate::{self, Operate, Tally};
use super::schedule::{Pick, Proc, Step};
use crate::engine::RunOutcomeKind;
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

impl DsCtx<'_> {
    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.tally.note(what, result);
    }

    /// Resolves a pick against the group as it is now: "the primary" is the supplier the
    /// assessment names, "fenced" an old supplier beside it.
    async fn resolve(&self, p: Pick) -> String {
        let view = self.cl.probe().await;
        let a = view.assess();
        let supplier = a
            .supplier
            .clone()
            .unwrap_or_else(|| self.lab.nodes[0].name.clone());
        let others: Vec<String> = self
            .lab
            .nodes
            .iter()
            .map(|n| n.name.clone())
            .filter(|n| *n != supplier)
            .collect();
        let other = |k: u8| others[k as usize % others.len().max(1)].clone();
        match p {
            Pick::Primary => supplier,
            Pick::Other(_) if others.is_empty() => supplier,
            Pick::Other(k) => other(k),
            Pick::FencedOr(k) => a
                .stale_suppliers
                .first()
                .cloned()
                .unwrap_or_else(|| other(k)),
        }
    }

    async fn args_of(&self, p: Proc) -> Option<Vec<String>> {
        super::ldap_ctx::directory_args(p, |k| self.resolve(k)).await
    }

    /// Runs drctl, records the call and, for a procedure that says it succeeded, whether it left
    /// more instances taking client writes than it found.
    pub(crate) async fn drctl(
        &mut self,
        operator: &str,
        args: Vec<String>,
        kill: Option<Kill>,
    ) -> Call {
        let before = writable(&self.cl.probe().await);
        let call = self.drctl.call(operator, &args, kill).await;
        self.tally.record(operator, call.clone(), "");
        if call.exit == Some(0) && call.outcome == Some(RunOutcomeKind::Succeeded) {
            self.writable_checks += 1;
            let after = writable(&self.cl.probe().await);
            if after.len() > before.len().max(1) {
                self.writers.push(format!(
                    "after drctl {} (exit 0, succeeded) {after:?} take writes (before: {before:?})",
                    call.args.join(" ")
                ));
            }
        }
        call
    }

    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        if operate::play(self, s).await {
            return Ok(());
        }
        match s {
            Step::Kill { node } | Step::Pause { node } => {
                let name = self.resolve(*node).await;
                operate::process_step(&mut self.tally, self.lab, s, &name)?;
            }
            Step::Resume | Step::Restart => {
                operate::process_step(&mut self.tally, self.lab, s, "")?
            }
            // Not drawn for 389ds (not in its faults).
            Step::DiesOnPromotion { .. }
            | Step::Wipe { .. }
            | Step::DropAcked { .. }
            | Step::Partition { .. }
            | Step::DiskFull { .. } => self.note(s.to_string(), "skipped (not a 389ds fault)"),
            // Played by `operate::play` above.
            Step::Delay { .. } | Step::Proc { .. } | Step::KillDrctl { .. } | Step::Race { .. } => {
            }
        }
        Ok(())
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
        DsCtx::args_of(self, p).await
    }
    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Kill>) -> Call {
        self.drctl(operator, args, kill).await
    }
    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        DsCtx::step(self, s).await
    }
}
