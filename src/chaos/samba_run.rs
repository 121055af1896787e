//! One chaos run on a fresh Samba AD lab (`--kind samba-ad`, 3 DCs): provision and join it, add
//! users at a steady rate while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts of
//! DCs, seize-roles, remove-instance, join, repoint and sync full through the drctl binary,
//! drctl killed part-way, racing operators, delays), heal, let the operator policy recover, then
//! hand everything to the checker. A DC removed from the domain and then restarted is the seed's
//! zombie: the policy joins it again. The lab is torn down after; a failed run's directory is
//! kept under `--keep-failed`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::harness::{self, Client};
use super::keep::Teardown;
use super::operate::{heal, play_schedule, writer_ended, Tally};
use super::report::RunReport;
use super::samba_ctx::{view, SCtx, SambaObserved};
use super::schedule::Schedule;
use super::{samba_checker, samba_policy, samba_writer, Options};
use crate::engines::samba::lab::SambaLab;
use crate::lab::LabError;

/// Runs one schedule on Samba AD; returns the timeline, counters and the checker's verdict.
pub(crate) async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> RunReport {
    let started = Instant::now();
    let mut report = RunReport::new(sched);
    let made = SambaLab::create(dir, sched.nodes);
    let Some(mut lab) = harness::made(made, "samba-ad", dir, &mut report) else {
        return report;
    };
    let up = lab.up(Duration::from_secs(120)).await;
    let guard = Teardown::new(lab, |l: SambaLab, keep| drop(l.down(keep)));
    match up {
        Ok(()) => {
            if let Err(e) = play(sched, opts, guard.lab(), started, &mut report).await {
                report.error = Some(e.to_string());
            }
        }
        Err(e) => report.error = Some(format!("the samba-ad lab did not come up: {e}")),
    }
    guard.finish(&mut report, started, opts.keep_failed.as_deref(), dir);
    report
}

async fn play(
    sched: &Schedule,
    opts: &Options,
    lab: &SambaLab,
    started: Instant,
    report: &mut RunReport,
) -> Result<(), LabError> {
    let nodes = lab.dc_nodes()?;
    let Client { drctl, stop, acks } = Client::new(&lab.dir, &lab.cluster_file())?;
    let w = tokio::spawn(samba_writer::run(
        nodes.clone(),
        started,
        opts.rate,
        lab.dir.join("acked.jsonl"),
        acks.clone(),
        stop.clone(),
    ));
    let mut ctx = SCtx {
        lab,
        nodes,
        drctl,
        tally: Tally::new(started),
    };
    let failed = play_schedule(&mut ctx, &sched.steps, &stop).await;
    if let Some(e) = writer_ended(w.await) {
        ctx.note("write client", e);
    }
    let healed = heal(ctx.lab, true, true)?;
    ctx.note(
        "heal: SIGCONT paused DCs, start killed ones",
        format!("{healed:?}"),
    );
    let converged = samba_policy::recover(&mut ctx, opts.deadline).await;
    let (final_view, _) = view(&ctx.nodes).await;
    let obs = SambaObserved {
        acks: acks.lock().expect("acks").clone(),
        calls: ctx.tally.calls.clone(),
        exports: ctx.drctl.exports.clone(),
        converged,
        nodes: ctx.nodes.clone(),
        final_view,
    };
    let v = samba_checker::check(&obs).await;
    let counts = (obs.calls.len(), obs.acks.len());
    let writes = (v.lost, v.exported);
    harness::judged(report, &mut ctx.tally, v.verdicts, counts, writes, failed)
}
