//! One chaos run on a fresh drnode lab: start it, write at a steady rate while the schedule
//! plays, heal, let the operator policy recover, then hand everything to the checker. The lab is
//! torn down after; a failed run's directory is kept under `--keep-failed`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::ctx::{heal, set_sync_give_up, Ctx, Observed};
use super::harness::{self, Client};
use super::sampler::{Samples, Wipes};
use super::schedule::Schedule;
use super::writer;
use super::{checker, policy, Options};
use crate::engines::drnode::cluster::probe;
use crate::engines::drnode::lab::DrnodeLab as Lab;
use crate::lab::LabError;

/// Runs one schedule; returns the timeline, counters and the checker's verdict.
pub(crate) async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> super::report::RunReport {
    let started = Instant::now();
    let mut report = super::report::RunReport::new(sched);
    let made = Lab::create_for_drill(dir, sched.nodes, harness::partitions(sched), None)
        .and_then(|lab| set_sync_give_up(&lab, opts.sync_give_up).map(|_| lab));
    let mut lab = match made {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the lab: {e}"));
            return report;
        }
    };
    // A disk that can fill: each node's data directory on a tmpfs of its own (as root).
    let dirs = || {
        let nodes = lab.state.nodes.iter();
        nodes
            .map(|n| (n.name.clone(), n.data_dir.clone()))
            .collect()
    };
    let mut disks = match harness::disks(sched, dirs) {
        Ok(d) => d,
        Err(e) => {
            report.error = Some(format!("cannot put the nodes on their own disks: {e}"));
            let _ = lab.down(false);
            return report;
        }
    };
    let result = play(sched, opts, &mut lab, &disks, started, &mut report).await;
    if let Err(e) = result {
        report.error = Some(e.to_string());
    }
    report.passed = report.error.is_none() && report.invariants.iter().all(|i| i.ok);
    report.ms = started.elapsed().as_millis() as u64;
    let keep = (!report.passed)
        .then_some(opts.keep_failed.as_ref())
        .flatten();
    // The nodes stop before their disks go (a kept run keeps the disks' files).
    let names: Vec<String> = lab.state.nodes.iter().map(|n| n.name.clone()).collect();
    for n in names {
        let _ = lab.stop(&n);
    }
    disks.release(keep.is_some());
    let _ = lab.down(keep.is_some());
    if let Some(to) = keep {
        super::keep::keep(dir, to, sched.seed, &mut report);
    }
    report
}

async fn play(
    sched: &Schedule,
    opts: &Options,
    lab: &mut Lab,
    disks: &super::disk::Disks,
    started: Instant,
    report: &mut super::report::RunReport,
) -> Result<(), LabError> {
    let (cluster, targets) = lab.form_cluster(Duration::from_secs(20)).await?;
    let Client {
        drctl,
        stop: stop_w,
        acks,
    } = Client::new(&lab.dir, &lab.cluster_file())?;
    let stop_s = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Samples::default()));
    let wipes = Arc::new(Wipes::default());
    let w = tokio::spawn(writer::run(
        targets.clone(),
        started,
        opts.rate,
        lab.dir.join("acked.jsonl"),
        acks.clone(),
        stop_w.clone(),
    ));
    // Only where an operator may make a node standalone: every other campaign is as before.
    let local = opts
        .mix
        .procedures
        .iter()
        .any(|p| p == "standalone")
        .then(|| {
            tokio::spawn(writer::run_local(
                targets.clone(),
                started,
                opts.rate,
                lab.dir.join("acked-local.jsonl"),
                acks.clone(),
                stop_w.clone(),
            ))
        });
    let s = tokio::spawn(super::sampler::run(
        cluster.clone(),
        targets.clone(),
        started,
        samples.clone(),
        wipes.clone(),
        stop_s.clone(),
    ));
    let mut ctx = Ctx {
        lab,
        cluster,
        targets,
        drctl,
        started,
        timeline: Vec::new(),
        calls: Vec::new(),
        acks: acks.clone(),
        wipes,
        faults: 0,
        leaked_locks: Vec::new(),
        refusals_changed: Vec::new(),
        disks,
    };
    // Writes land before the first fault, so there is something to lose.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut failed = None;
    for step in &sched.steps {
        if let Err(e) = ctx.step(step).await {
            failed = Some(e);
            break;
        }
    }
    stop_w.store(true, Ordering::SeqCst);
    let _ = w.await;
    if let Some(l) = local {
        let _ = l.await;
    }
    let mut healed = disks.heal()?;
    healed.extend(heal(ctx.lab, true, true).await?);
    ctx.note("heal: resume paused, restart killed", format!("{healed:?}"));
    // The links are back: a node this run's clients found silent answers now (seed 5089: the
    // final view missed the healed primary it still remembered as silent, and counted every
    // write lost).
    ctx.targets.iter().for_each(|t| t.client.forget_timeout());
    let converged = policy::recover(&mut ctx, opts.deadline).await;
    stop_s.store(true, Ordering::SeqCst);
    let _ = s.await;
    ctx.targets.iter().for_each(|t| t.client.forget_timeout());
    let final_view = probe(&ctx.cluster, &ctx.targets).await;
    let obs = Observed {
        acks: acks.lock().expect("acks").clone(),
        samples: samples.lock().expect("samples").clone(),
        calls: ctx.calls.clone(),
        dir: ctx.lab.dir.clone(),
        exports: ctx.drctl.exports.clone(),
        converged,
        final_view,
        nodes: ctx
            .lab
            .state
            .nodes
            .iter()
            .map(|n| (n.name.clone(), n.data_dir.clone()))
            .collect(),
        targets: ctx.targets.clone(),
        leaked_locks: ctx.leaked_locks.clone(),
        refusals_changed: ctx.refusals_changed.clone(),
    };
    let (verdicts, lost) = checker::check(&obs).await;
    report.invariants = verdicts;
    report.fill(&obs, ctx.faults, lost);
    report.timeline = std::mem::take(&mut ctx.timeline);
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
