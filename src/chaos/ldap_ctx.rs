//! What a slapd chaos run (`--kind openldap`) acts on and observes: the run's context that plays
//! schedule steps and procedures, healing, and the observations handed to the LDAP checker and
//! policy (which `ldap_run.rs` calls, so they do not import it).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::drctl::{proc_args, Call, Drctl, Kill};
use super::ldap_writer::LdapAck;
use super::operate::{self, nth_ack, Operate, Tally};
use super::schedule::{Pick, Proc, Step};
use crate::engine::RunOutcomeKind;
use crate::engines::openldap::lab::LdapLab;
use crate::engines::openldap::{LdapCluster, LdapNode, LdapRole, LdapView};
use crate::lab::netns::Net;
use crate::lab::LabError;

/// What a directory run (slapd, 389ds) observed, for its checker; `V` is the engine's view.
pub(crate) struct Observed<V> {
    pub acks: Vec<LdapAck>,
    pub calls: Vec<Call>,
    pub exports: PathBuf,
    pub converged: Result<(), String>,
    pub final_view: V,
    pub admins: Vec<LdapNode>,
    /// Procedures after which more servers took writes than before (and more than one).
    pub writers: Vec<String>,
    pub writable_checks: u64,
    /// (node, server log) of every node.
    pub logs: Vec<(String, PathBuf)>,
}

pub(crate) type LdapObserved = Observed<LdapView>;

/// A directory run's context: its lab `L`, the engine's cluster `C`, the operators, the tally.
pub(crate) struct DirCtx<'a, L, C> {
    pub lab: &'a L,
    pub cl: C,
    pub admins: Vec<LdapNode>,
    pub drctl: Drctl,
    pub tally: Tally,
    pub acks: Arc<Mutex<Vec<LdapAck>>>,
    pub writers: Vec<String>,
    pub writable_checks: u64,
    /// The lab's network when each server runs in a namespace of its own (links can be cut).
    pub net: Option<Net>,
    /// Each server's database on a tmpfs of its own, when its disk can fill.
    pub disks: Option<&'a super::disk::Disks>,
}

impl<'a, L, C> DirCtx<'a, L, C> {
    /// A directory run's context, started now: no network namespaces, no disks of its own.
    pub(crate) fn new(
        lab: &'a L,
        cl: C,
        admins: Vec<LdapNode>,
        drctl: Drctl,
        acks: Arc<Mutex<Vec<LdapAck>>>,
        started: Instant,
    ) -> Self {
        DirCtx {
            lab,
            cl,
            admins,
            drctl,
            tally: Tally::new(started),
            acks,
            writers: Vec::new(),
            writable_checks: 0,
            net: None,
            disks: None,
        }
    }

    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.tally.note(what, result);
    }

    /// What the run observed, for the checker: the policy's verdict `converged`, the group as
    /// it ended, and `logs` (node, server log) beside what the context holds.
    pub(crate) fn observed<V>(
        &self,
        converged: Result<(), String>,
        final_view: V,
        logs: Vec<(String, PathBuf)>,
    ) -> Observed<V> {
        Observed {
            acks: self.acks.lock().expect("acks").clone(),
            calls: self.tally.calls.clone(),
            exports: self.drctl.exports.clone(),
            converged,
            final_view,
            admins: self.admins.clone(),
            writers: self.writers.clone(),
            writable_checks: self.writable_checks,
            logs,
        }
    }

    /// Cuts `name` off every other node and drctl (and so the write client); false when the
    /// lab has no namespaces.
    pub(crate) fn cut_off(&mut self, name: &str) -> Result<bool, LabError> {
        let Some(net) = self.net.as_mut() else {
            return Ok(false);
        };
        for other in net.others(name) {
            net.cut(name, &other)?;
        }
        Ok(true)
    }

    /// Restores every cut link; the nodes they touched.
    pub(crate) fn heal_links(&mut self) -> Result<Vec<String>, LabError> {
        let Some(net) = self.net.as_mut() else {
            return Ok(Vec::new());
        };
        let mut touched = BTreeSet::new();
        for (a, b) in net.cuts.clone() {
            net.heal(&a, &b)?;
            touched.extend([a, b]);
        }
        touched.remove(crate::lab::netns::DRCTL);
        Ok(touched.into_iter().collect())
    }
}

/// The servers of a directory group that take client writes now.
pub(crate) trait Writable {
    async fn writable(&self) -> BTreeSet<String>;
}

impl Writable for LdapCluster {
    async fn writable(&self) -> BTreeSet<String> {
        writable(&self.probe().await)
    }
}

impl<L, C: Writable> DirCtx<'_, L, C> {
    /// Runs drctl, records the call in the timeline and, for a procedure that says it
    /// succeeded, whether it left more servers taking client writes than it found.
    pub(crate) async fn drctl(
        &mut self,
        operator: &str,
        args: Vec<String>,
        kill: Option<Kill>,
    ) -> Call {
        let before = self.cl.writable().await;
        let call = self.drctl.call(operator, &args, kill).await;
        self.tally.record(operator, call.clone(), "");
        if call.exit == Some(0) && call.outcome == Some(RunOutcomeKind::Succeeded) {
            self.writable_checks += 1;
            let after = self.cl.writable().await;
            if after.len() > before.len().max(1) {
                self.writers.push(format!(
                    "after drctl {} (exit 0, succeeded) {after:?} take writes (before: {before:?})",
                    call.args.join(" ")
                ));
            }
        }
        call
    }
}

pub(crate) type LCtx<'a> = DirCtx<'a, LdapLab, LdapCluster>;

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

/// The drctl arguments of a directory engine's procedure (OpenLDAP, 389ds: `None` for one it
/// does not have, which `--procedures` refuses for it), `resolve` naming the node a pick is now.
pub(super) async fn directory_args<F, Fut>(p: Proc, resolve: F) -> Option<Vec<String>>
where
    F: Fn(Pick) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    Some(match p {
        Proc::Switchover { to } => proc_args(&["switchover", "--to", &resolve(to).await]),
        Proc::Failover => proc_args(&["failover"]),
        Proc::Demote { node } => proc_args(&["demote", &resolve(node).await]),
        Proc::Repoint => proc_args(&["repoint", "--primary", &resolve(Pick::Primary).await]),
        // 389ds only (`sync full`: a total update of a consumer from the supplier now).
        Proc::SyncOn { node } => {
            let (from, to) = (resolve(Pick::Primary).await, resolve(node).await);
            if from == to {
                return None;
            }
            proc_args(&["sync", "full", "--from", &from, "--to", &to])
        }
        Proc::Standalone { .. }
        | Proc::Join { .. }
        | Proc::SeizeRoles { .. }
        | Proc::Removenode { .. }
        | Proc::Run { .. } => return None,
    })
}

impl LCtx<'_> {
    /// Resolves a pick against the group as it is now: "the primary" is the authoritative
    /// provider, "fenced" a provider beside it.
    async fn resolve(&self, p: Pick) -> String {
        let view = self.cl.probe().await;
        let provider = view
            .provider()
            .unwrap_or_else(|| self.lab.nodes[0].name.clone());
        let fenced = view
            .nodes
            .iter()
            .find(|n| {
                n.name != provider && n.state.as_ref().is_ok_and(|s| s.role == LdapRole::Provider)
            })
            .map(|n| n.name.clone());
        p.among(
            provider,
            self.lab.nodes.iter().map(|n| n.name.clone()),
            fenced,
        )
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
        directory_args(p, |k| self.resolve(k)).await
    }

    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Kill>) -> Call {
        self.drctl(operator, args, kill).await
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
                operate::process_step(&mut self.tally, self.lab, s, &name)?;
            }
            Step::Resume => {
                if let Some(d) = self.disks {
                    let disks = d.heal()?;
                    if !disks.is_empty() {
                        self.note("give every full disk its room back", format!("{disks:?}"));
                    }
                }
                let healed = self.heal_links()?;
                if !healed.is_empty() {
                    self.note("restore every cut link", format!("{healed:?}"));
                }
                operate::process_step(&mut self.tally, self.lab, s, "")?;
            }
            Step::DiskFull { node } => {
                let name = self.resolve(*node).await;
                match self.disks.and_then(|d| d.fill(&name)) {
                    None => self.note(
                        format!("{s}: {name}"),
                        "skipped (its database is not on a tmpfs: needs root)",
                    ),
                    Some(r) => {
                        r?;
                        self.tally.faults += 1;
                        self.note(format!("{s}: {name}"), "done");
                    }
                }
            }
            Step::Restart => operate::process_step(&mut self.tally, self.lab, s, "")?,
            Step::Partition { node } => {
                let name = self.resolve(*node).await;
                if self.cut_off(&name)? {
                    self.tally.faults += 1;
                    self.note(format!("{s}: {name}"), "done");
                } else {
                    self.note(
                        format!("{s}: {name}"),
                        "skipped (the lab has no network namespaces)",
                    );
                }
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
