//! One chaos run on a fresh etcd lab (`--kind etcd`): start it, put keys at a steady rate
//! while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts of members, switchover,
//! removenode, failover after a lost quorum and the rejoin runbook through the drctl binary,
//! drctl killed part-way, racing operators, delays), heal, let the operator policy recover,
//! then hand everything to the etcd checker. The lab is torn down after; a failed run's
//! directory is kept under `--keep-failed`.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::time::{Duration, Instant};

use super::etcd_ctx::{heal, ECtx, EtcdObserved};
use super::harness::{self, Client};
use super::keep::Teardown;
use super::operate::{play_schedule, writer_ended};
use super::report::RunReport;
use super::schedule::Schedule;
use super::{etcd_checker, etcd_policy, etcd_writer, Options};
use crate::engines::etcd::lab::EtcdLab;
use crate::lab::LabError;
use crate::util::poll;

/// Runs one schedule on etcd; returns the timeline, counters and the checker's verdict.
pub(crate) async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> RunReport {
    let started = Instant::now();
    let mut report = RunReport::new(sched);
    let made = EtcdLab::create(dir, sched.nodes);
    let Some(lab) = harness::made(made, "etcd", dir, &mut report) else {
        return report;
    };
    // A kept lab is stopped gracefully; a throwaway one is SIGKILLed (a graceful stop waits on
    // a cluster that loses its quorum member by member).
    let guard = Teardown::new(lab, |l: EtcdLab, keep| {
        drop(if keep {
            l.down(true).map(drop)
        } else {
            l.discard()
        })
    });
    if let Err(e) = play(sched, opts, guard.lab().clone(), started, &mut report).await {
        report.error = Some(e.to_string());
    }
    guard.finish(&mut report, started, opts.keep_failed.as_deref(), dir);
    report
}

async fn play(
    sched: &Schedule,
    opts: &Options,
    mut lab: EtcdLab,
    started: Instant,
    report: &mut RunReport,
) -> Result<(), LabError> {
    let cl = lab.up(Duration::from_secs(30)).await?;
    let Client { drctl, stop, acks } = Client::new(&lab.dir, &lab.cluster_file())?;
    let members = lab
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.url()))
        .collect();
    let w = tokio::spawn(etcd_writer::run(
        members,
        started,
        opts.rate,
        lab.dir.join("acked.jsonl"),
        acks.clone(),
        stop.clone(),
    ));
    let mut ctx = ECtx::new(&lab, cl, drctl, started, acks.clone());
    let failed = play_schedule(&mut ctx, &sched.steps, &stop).await;
    if let Some(e) = writer_ended(w.await) {
        ctx.note("write client", e);
    }
    let healed = heal(ctx.lab, true, true).await;
    ctx.note(
        "heal: SIGCONT paused members, start stopped ones",
        format!("{healed:?}"),
    );
    ctx.before().await;
    let converged = etcd_policy::recover(&mut ctx, opts.deadline).await;
    ctx.after("the recovery policy").await;
    // The view the checker judges, once a leader answers: a member that was paused long may
    // call an election after the cluster converged (etcd 3.4 has no pre-vote by default).
    let final_view = poll::within(
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            let view = ctx.cl.probe().await;
            match view.assess().leader {
                Some(_) => Break(view),
                None => Continue(view),
            }
        },
    )
    .await
    .unwrap_or_else(|view| view);
    let obs = EtcdObserved {
        acks: acks.lock().expect("acks").clone(),
        calls: ctx.tally.calls.clone(),
        converged,
        final_view,
        cl: &ctx.cl,
        forced: ctx.forced.clone(),
        served: ctx.served.clone(),
        logs: lab
            .nodes
            .iter()
            .map(|n| (n.name.clone(), lab.dir.join(&n.name).join("etcd.log")))
            .collect(),
        dir: lab.dir.clone(),
        drctl: ctx.drctl.bin.clone(),
    };
    let v = etcd_checker::check(&obs).await;
    let counts = (obs.calls.len(), obs.acks.len());
    let writes = (v.lost, v.at_risk);
    harness::judged(report, &mut ctx.tally, v.verdicts, counts, writes, failed)
}
