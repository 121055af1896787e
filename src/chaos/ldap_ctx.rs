//! What a slapd chaos run (`--kind openldap`) acts on and observes: the run's context that plays
//! schedule steps and procedures, healing, and the observations handed to the LDAP checker and
//! policy (which `ldap_run.rs` calls, so they do not import it).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::drctl::{proc_args, Call, Drctl};
use super::ldap_writer::LdapAck;
use super::operate::{self, nth_ack, paused, Operate, Tally};
use super::schedule::{Pick, Proc, Step};
use crate::engine::RunOutcomeKind;
use crate::engines::openldap::lab::LdapLab;
use crate::engines::openldap::{LdapCluster, LdapNode, LdapRole, LdapView};
use crate::lab::{LabError, Sig};

/// What a run observed, for the checker.
pub(crate) struct LdapObserved {
    pub acks: Vec<LdapAck>,
    pub calls: Vec<Call>,
    pub exports: PathBuf,
    pub converged: Result<(), String>,
    pub final_view: LdapView,
    pub admins: Vec<LdapNode>,
    /// Procedures after which more slapd took writes than before (and more than one).
    pub writers: Vec<String>,
    pub writable_checks: u64,
    /// (node, slapd log) of every node.
    pub logs: Vec<(String, PathBuf)>,
}

pub(crate) struct LCtx<'a> {
    pub lab: &'a LdapLab,
    pub cl: LdapCluster,
    pub admins: Vec<LdapNode>,
    pub drctl: Drctl,
    pub tally: Tally,
    pub acks: Arc<Mutex<Vec<LdapAck>>>,
    pub writers: Vec<String>,
    pub writable_checks: u64,
}

/// Writable providers among the answering slapd.
pub(super) fn writable(view: &LdapView) -> BTreeSet<String> {
    view.nodes
        .iter()
        .filter(|n| {
            n.state
                .as_ref()
                .is_ok_and(|s| s.role == LdapRole::Provider && !s.read_only)
        })
        .map(|n| n.name.clone())
        .collect()
}

/// SIGCONT to paused slapd (`cont`), start killed ones (`start`); returns the names touched.
pub(super) fn heal(lab: &LdapLab, start: bool, cont: bool) -> Result<Vec<String>, LabError> {
    let mut touched = Vec::new();
    for n in &lab.nodes {
        match lab.pid(&n.name) {
            Some(pid) if cont && paused(pid) => drop(lab.signal(&n.name, Sig::Cont)?),
            None if start => lab.start(&n.name)?,
            _ => continue,
        }
        touched.push(n.name.clone());
    }
    Ok(touched)
}

impl LCtx<'_> {
    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.tally.note(what, result);
    }

    /// Resolves a pick against the group as it is now: "the primary" is the authoritative
    /// provider, "fenced" a provider beside it.
    async fn resolve(&self, p: Pick) -> String {
        let view = self.cl.probe().await;
        let provider = view
            .provider()
            .unwrap_or_else(|| self.lab.nodes[0].name.clone());
        let others: Vec<String> = self
            .lab
            .nodes
            .iter()
            .map(|n| n.name.clone())
            .filter(|n| *n != provider)
            .collect();
        let other = |k: u8| others[k as usize % others.len().max(1)].clone();
        match p {
            Pick::Primary => provider,
            Pick::Other(_) if others.is_empty() => provider,
            Pick::Other(k) => other(k),
            Pick::FencedOr(k) => view
                .nodes
                .iter()
                .find(|n| {
                    n.name != provider
                        && n.state.as_ref().is_ok_and(|s| s.role == LdapRole::Provider)
                })
                .map(|n| n.name.clone())
                .unwrap_or_else(|| other(k)),
        }
    }

    async fn args_of(&self, p: Proc) -> Option<Vec<String>> {
        Some(match p {
            Proc::Switchover { to } => proc_args(&["switchover", "--to", &self.resolve(to).await]),
            Proc::Failover => proc_args(&["failover"]),
            Proc::Demote { node } => proc_args(&["demote", &self.resolve(node).await]),
            Proc::Repoint => {
                proc_args(&["repoint", "--primary", &self.resolve(Pick::Primary).await])
            }
            // Not OpenLDAP procedures (`--procedures` refuses them for this kind).
            Proc::SyncOn { .. }
            | Proc::Standalone { .. }
            | Proc::Join { .. }
            | Proc::SeizeRoles { .. }
            | Proc::Removenode { .. }
            | Proc::Run { .. } => return None,
        })
    }

    /// Runs drctl, records the call in the timeline and, for a procedure that says it
    /// succeeded, whether it left more writable providers than it found.
    pub(crate) async fn drctl(
        &mut self,
        operator: &str,
        args: Vec<String>,
        kill: Option<Duration>,
    ) -> Call {
        let before = writable(&self.cl.probe().await);
        let call = self.drctl.call(operator, &args, kill).await;
        self.tally.record(operator, call.clone(), "");
        if call.exit == Some(0) && call.outcome == Some(RunOutcomeKind::Succeeded) {
            self.judge_writers(&before, &call).await;
        }
        call
    }

    async fn judge_writers(&mut self, before: &BTreeSet<String>, call: &Call) {
        self.writable_checks += 1;
        let after = writable(&self.cl.probe().await);
        if after.len() > before.len().max(1) {
            self.writers.push(format!(
                "after drctl {} (exit 0, succeeded) {after:?} take writes (before: {before:?})",
                call.args.join(" ")
            ));
        }
    }

    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        if operate::play(self, s).await {
            return Ok(());
        }
        match s {
            // Not drawn for slapd (not in LDAP_FAULTS): nothing tells a promoted slapd yet.
            Step::DiesOnPromotion { .. } => self.note(s.to_string(), "skipped (drnode only)"),
            Step::Kill { node } | Step::Pause { node } => {
                let name = self.resolve(*node).await;
                match self.lab.pid(&name) {
                    None => {
                        self.note(format!("{s}: {name}"), "skipped (not running)");
                        return Ok(());
                    }
                    Some(pid) if paused(pid) && matches!(s, Step::Pause { .. }) => {
                        self.note(format!("{s}: {name}"), "skipped (paused)");
                        return Ok(());
                    }
                    Some(_) => {}
                }
                self.tally.faults += 1;
                let sig = if matches!(s, Step::Kill { .. }) {
                    Sig::Kill
                } else {
                    Sig::Stop
                };
                self.lab.signal(&name, sig)?;
                self.note(format!("{s}: {name}"), "done");
            }
            Step::Resume | Step::Restart => {
                let names = heal(
                    self.lab,
                    matches!(s, Step::Restart),
                    !matches!(s, Step::Restart),
                )?;
                self.note(s.to_string(), format!("{names:?}"));
            }
            Step::Wipe { .. } => self.note(s.to_string(), "skipped (not a slapd fault)"),
            // Played by `operate::play` above.
            Step::Delay { .. } | Step::Proc { .. } | Step::KillDrctl { .. } | Step::Race { .. } => {
            }
            Step::DropAcked { nth } => {
                let Some(ack) = nth_ack(&self.acks, *nth) else {
                    self.note(s.to_string(), "skipped (nothing acknowledged yet)");
                    return Ok(());
                };
                let name = self.resolve(Pick::Primary).await;
                let admin = self
                    .admins
                    .iter()
                    .find(|n| n.name == name)
                    .expect("a lab node");
                let r = match admin.connect(Duration::from_secs(2)).await {
                    Ok(mut sess) => {
                        let r = sess.delete(&ack.dn).await;
                        sess.close().await;
                        r.map(|_| "deleted").map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                };
                self.note(format!("{s}: {}", ack.dn), format!("{r:?} on {name}"));
            }
        }
        Ok(())
    }
}

impl Operate for LCtx<'_> {
    fn operators(&self) -> &Drctl {
        &self.drctl
    }
    fn tally(&mut self) -> &mut Tally {
        &mut self.tally
    }
    async fn args_of(&self, p: Proc) -> Option<Vec<String>> {
        LCtx::args_of(self, p).await
    }
    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Duration>) -> Call {
        self.drctl(operator, args, kill).await
    }
    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        LCtx::step(self, s).await
    }
}
