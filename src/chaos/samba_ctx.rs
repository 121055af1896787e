//! What a Samba AD chaos run (`--kind samba-ad`) acts on and observes: the run's context that
//! plays schedule steps and procedures, and the observations handed to the checker and the
//! policy (which `samba_run.rs` calls, so they do not import it). "The primary" of a schedule is
//! the PDC emulator's holder; a DC that is removed and killed comes back, when it is restarted,
//! as the seed's zombie.

use std::path::PathBuf;
use std::time::Duration;

use super::drctl::{proc_args, Call, Drctl, Kill};
use super::operate::{self, Operate, Procs, Tally};
use super::samba_writer::SambaAck;
use super::schedule::{Pick, Proc, Step};
use crate::engines::samba::assess::{assess, probe_all, Assessment, Probed};
use crate::engines::samba::lab::SambaLab;
use crate::engines::samba::DcNode;
use crate::lab::{LabError, Sig};

/// What a Samba run observed, for the checker.
pub(crate) struct SambaObserved {
    pub acks: Vec<SambaAck>,
    pub calls: Vec<Call>,
    /// Where the procedures wrote their LDIF exports.
    pub exports: PathBuf,
    pub converged: Result<(), String>,
    pub nodes: Vec<DcNode>,
    pub final_view: Vec<Probed>,
}

pub(crate) struct SCtx<'a> {
    pub lab: &'a SambaLab,
    pub nodes: Vec<DcNode>,
    pub drctl: Drctl,
    pub tally: Tally,
}

impl Procs for SambaLab {
    fn names(&self) -> Vec<String> {
        self.nodes.clone()
    }

    fn pid(&self, node: &str) -> Option<u32> {
        SambaLab::pid(self, node)
    }

    fn signal(&self, node: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        SambaLab::signal(self, node, sig)
    }

    fn start(&self, node: &str) -> Result<(), LabError> {
        SambaLab::start(self, node).map(drop)
    }
}

/// Every DC, read as drctl reads it.
pub(crate) async fn view(nodes: &[DcNode]) -> (Vec<Probed>, Assessment) {
    let dcs = probe_all(nodes, Duration::from_secs(2)).await;
    let a = assess(&dcs);
    (dcs, a)
}

/// Whether `dc` answers as a DC of the domain (not a zombie).
pub(crate) fn member(dcs: &[Probed], a: &Assessment, dc: &str) -> bool {
    dcs.iter().any(|d| d.name == dc && d.view.is_ok()) && a.removed(dc).is_none()
}

/// A DC other than `except` that answers as a DC of the domain: the PDC emulator's holder
/// first, then by name.
pub(crate) fn via(dcs: &[Probed], a: &Assessment, except: &str) -> Option<String> {
    let pdc = a.roles.get("pdc").cloned().flatten();
    let mut ok: Vec<&str> = dcs
        .iter()
        .map(|d| d.name.as_str())
        .filter(|n| *n != except && member(dcs, a, n))
        .collect();
    ok.sort_by_key(|n| (pdc.as_deref() != Some(*n), n.to_string()));
    ok.first().map(|n| n.to_string())
}

impl SCtx<'_> {
    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.tally.note(what, result);
    }

    /// Resolves a pick against the domain as it is now: "the primary" is the PDC emulator's
    /// holder (the first DC when nobody knows).
    async fn resolve(&self, p: Pick) -> String {
        let (_, a) = view(&self.nodes).await;
        let pdc = a
            .roles
            .get("pdc")
            .cloned()
            .flatten()
            .filter(|h| self.lab.nodes.contains(h))
            .unwrap_or_else(|| self.lab.nodes[0].clone());
        p.among(pdc, self.lab.nodes.iter().cloned(), None)
    }
}

impl Operate for SCtx<'_> {
    fn operators(&self) -> &Drctl {
        &self.drctl
    }

    fn tally(&mut self) -> &mut Tally {
        &mut self.tally
    }

    /// The procedure's drctl arguments on Samba AD, names resolved now; None for a procedure
    /// Samba has not, or when no DC answers to run it through.
    async fn args_of(&self, p: Proc) -> Option<Vec<String>> {
        let (dcs, a) = view(&self.nodes).await;
        Some(match p {
            Proc::SeizeRoles { to } => proc_args(&["seize-roles", "--to", &self.resolve(to).await]),
            Proc::Removenode { node } => proc_args(&["remove-instance", &self.resolve(node).await]),
            Proc::Join { node } => {
                let dc = self.resolve(node).await;
                let through = via(&dcs, &a, &dc)?;
                proc_args(&["join", &dc, "--primary", &through])
            }
            Proc::Repoint => proc_args(&["repoint", "--primary", &via(&dcs, &a, "")?]),
            Proc::SyncOn { node } => {
                let dc = self.resolve(node).await;
                let from = via(&dcs, &a, &dc)?;
                proc_args(&["sync", "full", "--from", &from, "--to", &dc])
            }
            _ => return None,
        })
    }

    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Kill>) -> Call {
        let call = self.drctl.call(operator, &args, kill).await;
        self.tally.record(operator, call.clone(), "");
        call
    }

    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        if operate::play(self, s).await {
            return Ok(());
        }
        let name = match s {
            Step::Kill { node } | Step::Pause { node } => Some(self.resolve(*node).await),
            _ => None,
        };
        operate::process_fault(&mut self.tally, self.lab, s, name.as_deref(), "samba-ad")
    }
}
