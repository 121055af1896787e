//! One chaos run on a fresh slapd lab (`--kind openldap`): start it, add entries at a steady
//! rate while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts of slapd, the OpenLDAP
//! procedures through the drctl binary, drctl killed part-way, racing operators, delays), heal,
//! let the operator policy recover, then hand everything to the LDAP checker. The lab is torn
//! down after; a failed run's directory is kept under `--keep-failed`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::drctl::{proc_args, Call, Drctl};
use super::ldap_writer::{self as lw, LdapAck};
use super::run::Event;
use super::schedule::{Pick, Proc, Schedule, Step, Then};
use super::{ldap_checker, ldap_policy, Options};
use crate::engines::openldap::lab::LdapLab;
use crate::engines::openldap::lab_up::{self as up, as_admin};
use crate::engines::openldap::{LdapCluster, LdapNode, LdapRole, LdapView};
use crate::lab::{LabError, Sig};

/// What a run observed, for the checker.
pub struct LdapObserved {
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

pub struct LCtx<'a> {
    pub lab: &'a LdapLab,
    pub cl: LdapCluster,
    pub admins: Vec<LdapNode>,
    pub drctl: Drctl,
    pub started: Instant,
    pub timeline: Vec<Event>,
    pub calls: Vec<Call>,
    pub acks: Arc<Mutex<Vec<LdapAck>>>,
    pub faults: u64,
    pub writers: Vec<String>,
    pub writable_checks: u64,
}

/// Whether the process is stopped (SIGSTOP): state `T` in /proc.
fn paused(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, r)| r.trim_start().chars().next())
            == Some('T')
    })
}

/// Writable providers among the answering slapd.
pub fn writable(view: &LdapView) -> BTreeSet<String> {
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
pub fn heal(lab: &LdapLab, start: bool, cont: bool) -> Result<Vec<String>, LabError> {
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
    pub fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.timeline.push(Event {
            at_ms: self.started.elapsed().as_millis() as u64,
            what: what.into(),
            result: result.into(),
        });
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
            Proc::SyncOn { .. } | Proc::Standalone { .. } | Proc::Join { .. } => return None,
        })
    }

    /// Runs drctl, records the call in the timeline and, for a procedure that says it
    /// succeeded, whether it left more writable providers than it found.
    pub async fn drctl(
        &mut self,
        operator: &str,
        args: Vec<String>,
        kill: Option<Duration>,
    ) -> Call {
        let before = writable(&self.cl.probe().await);
        let call = self.drctl.call(operator, &args, kill).await;
        self.record(operator, &call, "");
        if call.exit == Some(0) && call.outcome.as_deref() == Some("succeeded") {
            self.judge_writers(&before, &call).await;
        }
        self.calls.push(call.clone());
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

    fn record(&mut self, operator: &str, call: &Call, tag: &str) {
        let result = match (call.killed, call.exit) {
            (true, _) => "SIGKILLed".to_string(),
            (false, Some(c)) => format!(
                "exit {c}{}{}",
                call.outcome
                    .as_ref()
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default(),
                if c == 0 {
                    String::new()
                } else {
                    format!(": {}", call.stderr.lines().last().unwrap_or(""))
                }
            ),
            (false, None) => format!("no exit code: {}", call.stderr),
        };
        self.note(
            format!("{operator}{tag}: drctl {}", call.args.join(" ")),
            result,
        );
    }

    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
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
                self.faults += 1;
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
            Step::Delay { ms } => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                self.note(s.to_string(), "done");
            }
            Step::Proc { proc } => {
                if let Some(args) = self.args_of(*proc).await {
                    self.drctl("chaos-a", args, None).await;
                }
            }
            Step::KillDrctl {
                proc,
                after_ms,
                then,
            } => {
                let Some(args) = self.args_of(*proc).await else {
                    return Ok(());
                };
                self.faults += 1;
                let before = self.drctl.journal_ids();
                let c = self
                    .drctl(
                        "chaos-a",
                        args.clone(),
                        Some(Duration::from_millis(*after_ms)),
                    )
                    .await;
                if !c.killed {
                    return Ok(());
                }
                let new: Vec<String> = self
                    .drctl
                    .journal_ids()
                    .into_iter()
                    .filter(|id| !before.contains(id))
                    .collect();
                let again = match (then, new.first()) {
                    (Then::Resume, Some(id)) => proc_args(&["run", "--resume", id]),
                    _ => args,
                };
                self.drctl("chaos-a", again, None).await;
            }
            Step::Race { a, b, .. } => {
                let (Some(aa), Some(ba)) = (self.args_of(*a).await, self.args_of(*b).await) else {
                    return Ok(());
                };
                self.faults += 1;
                let (d, d2) = (self.drctl.clone(), self.drctl.clone());
                let (ca, cb) =
                    tokio::join!(d.call("chaos-a", &aa, None), d2.call("chaos-b", &ba, None));
                for (op, c) in [("chaos-a", ca), ("chaos-b", cb)] {
                    self.record(op, &c, " (racing)");
                    self.calls.push(c);
                }
            }
            Step::DropAcked { nth } => {
                let ack = {
                    let acks = self.acks.lock().expect("acks");
                    (!acks.is_empty()).then(|| acks[*nth as usize % acks.len()].clone())
                };
                let Some(ack) = ack else {
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

/// Stops the lab's slapd even when the run panics or its future is dropped (SIGINT).
struct Teardown(Option<LdapLab>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take() {
            let _ = lab.down(false);
        }
    }
}

/// Runs one schedule on slapd; returns the timeline, counters and the checker's verdict.
pub async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> super::report::RunReport {
    let started = Instant::now();
    let mut report = super::report::RunReport::new(sched);
    let lab = match LdapLab::create(dir, sched.nodes) {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the slapd lab: {e}"));
            let _ = std::fs::remove_dir_all(dir);
            return report;
        }
    };
    let mut guard = Teardown(Some(lab));
    let lab = guard.0.clone().expect("just set");
    if let Err(e) = play(sched, opts, &lab, started, &mut report).await {
        report.error = Some(e.to_string());
    }
    report.passed = report.error.is_none() && report.invariants.iter().all(|i| i.ok);
    report.ms = started.elapsed().as_millis() as u64;
    let keep = (!report.passed)
        .then_some(opts.keep_failed.as_ref())
        .flatten();
    let _ = guard.0.take().expect("still set").down(keep.is_some());
    if let Some(to) = keep {
        // The verdicts and timeline beside the lab they describe.
        if let Ok(j) = serde_json::to_vec_pretty(&report) {
            let _ = std::fs::write(dir.join("report.json"), j);
        }
        super::keep::keep(dir, to, sched.seed, &mut report);
    }
    report
}

async fn play(
    sched: &Schedule,
    opts: &Options,
    lab: &LdapLab,
    started: Instant,
    report: &mut super::report::RunReport,
) -> Result<(), LabError> {
    let cl = up::up(lab, Duration::from_secs(30)).await?;
    let admins: Vec<LdapNode> = cl.nodes.iter().map(as_admin).collect();
    let drctl = Drctl::new(&lab.dir, &lab.cluster_file())
        .map_err(|e| LabError::Failed(format!("cannot prepare drctl: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::new()));
    let w = tokio::spawn(lw::run(
        admins.clone(),
        started,
        opts.rate,
        lab.dir.join("acked.jsonl"),
        acks.clone(),
        stop.clone(),
    ));
    let mut ctx = LCtx {
        lab,
        cl,
        admins,
        drctl,
        started,
        timeline: Vec::new(),
        calls: Vec::new(),
        acks: acks.clone(),
        faults: 0,
        writers: Vec::new(),
        writable_checks: 0,
    };
    // Adds land before the first fault, so there is something to lose.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut failed = None;
    for step in &sched.steps {
        if let Err(e) = ctx.step(step).await {
            failed = Some(e);
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    match w.await {
        Ok(Err(e)) => ctx.note("write client", format!("stopped: {e}")),
        Err(e) => ctx.note("write client", format!("panicked: {e}")),
        Ok(Ok(_)) => {}
    }
    let healed = heal(ctx.lab, true, true)?;
    ctx.note(
        "heal: SIGCONT paused slapd, restart killed ones",
        format!("{healed:?}"),
    );
    let converged = ldap_policy::recover(&mut ctx, opts.deadline).await;
    let final_view = ctx.cl.probe().await;
    let obs = LdapObserved {
        acks: acks.lock().expect("acks").clone(),
        calls: ctx.calls.clone(),
        exports: ctx.drctl.exports.clone(),
        converged,
        final_view,
        admins: ctx.admins.clone(),
        writers: ctx.writers.clone(),
        writable_checks: ctx.writable_checks,
        logs: ctx
            .lab
            .nodes
            .iter()
            .map(|n| (n.name.clone(), ctx.lab.dir.join(&n.name).join("slapd.log")))
            .collect(),
    };
    let v = ldap_checker::check(&obs).await;
    report.invariants = v.verdicts;
    report.faults = ctx.faults;
    report.procedures = obs.calls.len() as u64;
    report.writes_acknowledged = obs.acks.len() as u64;
    report.writes_lost = v.lost;
    report.writes_exported = v.exported;
    report.first_broken = report
        .invariants
        .iter()
        .find(|v| !v.ok)
        .map(|v| format!("{}: {}", v.name, v.evidence));
    report.timeline = std::mem::take(&mut ctx.timeline);
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
