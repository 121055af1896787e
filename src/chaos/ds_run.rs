//! One chaos run on a fresh 389 Directory Server lab (`--kind 389ds`): lay it out and start it,
//! add entries at a steady rate while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts
//! of ns-slapd, the 389ds procedures through the drctl binary, drctl killed part-way, racing
//! operators, delays), heal, let the operator policy recover, then hand everything to the
//! checker. The lab is discarded after (a kept one is stopped cleanly); a failed run's
//! directory is kept under `--keep-failed`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::ds_ctx::DsCtx;
use super::harness::{self, Client};
use super::keep::Teardown;
use super::ldap_writer as lw;
use super::operate::heal;
use super::operate::{play_schedule, writer_ended};
use super::schedule::Schedule;
use super::{ds_checker, ds_policy, Options};
use crate::engines::ds389::lab::{DsLab, SUFFIX};
use crate::engines::openldap::LdapNode;
use crate::lab::LabError;

/// Runs one schedule on 389ds; returns the timeline, counters and the checker's verdict.
pub(crate) async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> super::report::RunReport {
    let started = Instant::now();
    let mut report = super::report::RunReport::new(sched);
    let made = DsLab::create(dir, sched.nodes);
    let Some(mut lab) = harness::made(made, "389ds", dir, &mut report) else {
        return report;
    };
    let up = lab.up(Duration::from_secs(60)).await;
    // Discarded (SIGKILL) unless kept: a clean stop costs seconds per instance.
    let guard = Teardown::new(lab, |l: DsLab, keep| {
        drop(if keep {
            l.down(true).map(drop)
        } else {
            l.discard()
        })
    });
    match up {
        Ok(cl) => {
            if let Err(e) = play(sched, opts, guard.lab(), cl, started, &mut report).await {
                report.error = Some(e.to_string());
            }
        }
        Err(e) => report.error = Some(format!("the 389ds lab did not come up: {e}")),
    }
    guard.finish(&mut report, started, opts.keep_failed.as_deref(), dir);
    report
}

async fn play(
    sched: &Schedule,
    opts: &Options,
    lab: &DsLab,
    cl: crate::engines::ds389::DsCluster,
    started: Instant,
    report: &mut super::report::RunReport,
) -> Result<(), LabError> {
    let admins: Vec<LdapNode> = cl.nodes.iter().map(|n| n.ldap.clone()).collect();
    let Client { drctl, stop, acks } = Client::new(&lab.dir, &lab.cluster_file())?;
    let w = tokio::spawn(lw::run(
        admins.clone(),
        SUFFIX.to_string(),
        started,
        opts.rate,
        lab.dir.join("acked.jsonl"),
        acks.clone(),
        stop.clone(),
    ));
    let mut ctx = DsCtx::new(lab, cl, admins, drctl, acks, started);
    let failed = play_schedule(&mut ctx, &sched.steps, &stop).await;
    if let Some(e) = writer_ended(w.await) {
        ctx.note("write client", e);
    }
    let healed = heal(ctx.lab, true, true)?;
    ctx.note(
        "heal: SIGCONT paused ns-slapd, start killed ones",
        format!("{healed:?}"),
    );
    let converged = ds_policy::recover(&mut ctx, opts.deadline).await;
    let final_view = ctx.cl.probe().await;
    let logs = ctx.lab.nodes.iter();
    let logs = logs
        .map(|n| (n.name.clone(), ctx.lab.errors_log(&n.name)))
        .collect();
    let obs = ctx.observed(converged, final_view, logs);
    let v = ds_checker::check(&obs).await;
    let counts = (obs.calls.len(), obs.acks.len());
    let writes = (v.lost, v.exported);
    harness::judged(report, &mut ctx.tally, v.verdicts, counts, writes, failed)
}
