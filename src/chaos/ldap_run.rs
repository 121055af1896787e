//! One chaos run on a fresh slapd lab (`--kind openldap`): start it, add entries at a steady
//! rate while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts of slapd, the OpenLDAP
//! procedures through the drctl binary, drctl killed part-way, racing operators, delays), heal,
//! let the operator policy recover, then hand everything to the LDAP checker. The lab is torn
//! down after; a failed run's directory is kept under `--keep-failed`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::drctl::Drctl;
use super::ldap_ctx::{heal, LCtx, LdapObserved};
use super::ldap_writer as lw;
use super::schedule::Schedule;
use super::{ldap_checker, ldap_policy, Options};
use crate::engines::openldap::lab::LdapLab;
use crate::engines::openldap::lab_up::{self as up, as_admin};
use crate::engines::openldap::LdapNode;
use crate::lab::LabError;

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
pub(crate) async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> super::report::RunReport {
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
