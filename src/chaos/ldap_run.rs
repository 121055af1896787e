//! One chaos run on a fresh slapd lab (`--kind openldap`): start it, add entries at a steady
//! rate while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts of slapd, the OpenLDAP
//! procedures through the drctl binary, drctl killed part-way, racing operators, delays), heal,
//! let the operator policy recover, then hand everything to the LDAP checker. The lab is torn
//! down after; a failed run's directory is kept under `--keep-failed`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::disk::Disks;
use super::harness::{self, Client};
use super::keep::Teardown;
use super::ldap_ctx::LCtx;
use super::ldap_writer as lw;
use super::operate::heal;
use super::operate::{play_schedule, writer_ended};
use super::schedule::Schedule;
use super::{ldap_checker, ldap_policy, Options};
use crate::engines::openldap::lab::LdapLab;
use crate::engines::openldap::lab_up::{self as up, as_admin};
use crate::engines::openldap::LdapNode;
use crate::lab::LabError;

/// Runs one schedule on slapd; returns the timeline, counters and the checker's verdict.
pub(crate) async fn run(sched: &Schedule, opts: &Options, dir: &Path) -> super::report::RunReport {
    let started = Instant::now();
    let mut report = super::report::RunReport::new(sched);
    let made = LdapLab::create_in(dir, sched.nodes, harness::partitions(sched));
    let Some(lab) = harness::made(made, "slapd", dir, &mut report) else {
        return report;
    };
    // A disk that can fill: each slapd's database directory on a tmpfs of its own (as root).
    let dbs = || {
        let nodes = lab.nodes.iter();
        nodes
            .map(|n| (n.name.clone(), lab.dir.join(&n.name).join("db")))
            .collect()
    };
    let disks = match harness::disks(sched, dbs) {
        Ok(d) => d,
        Err(e) => {
            report.error = Some(format!("cannot put the slapd databases on disks: {e}"));
            let _ = lab.down(false);
            return report;
        }
    };
    // The servers stop before their disks go (a kept run keeps the disks' files).
    let guard = Teardown::new((lab, disks), |(l, mut d): (LdapLab, Disks), keep| {
        for n in &l.nodes {
            let _ = l.signal(&n.name, crate::lab::Sig::Term);
        }
        d.release(keep);
        drop(l.down(keep))
    });
    let (lab, disks) = guard.lab();
    if let Err(e) = play(sched, opts, lab, disks, started, &mut report).await {
        report.error = Some(e.to_string());
    }
    guard.finish(&mut report, started, opts.keep_failed.as_deref(), dir);
    report
}

async fn play(
    sched: &Schedule,
    opts: &Options,
    lab: &LdapLab,
    disks: &Disks,
    started: Instant,
    report: &mut super::report::RunReport,
) -> Result<(), LabError> {
    let cl = up::up(lab, Duration::from_secs(30)).await?;
    let admins: Vec<LdapNode> = cl.nodes.iter().map(as_admin).collect();
    let Client { drctl, stop, acks } = Client::new(&lab.dir, &lab.cluster_file())?;
    let w = tokio::spawn(lw::run(
        admins.clone(),
        lw::base(),
        started,
        opts.rate,
        lab.dir.join("acked.jsonl"),
        acks.clone(),
        stop.clone(),
    ));
    let mut ctx = LCtx {
        net: lab.net.clone(),
        disks: Some(disks),
        ..LCtx::new(lab, cl, admins, drctl, acks, started)
    };
    let failed = play_schedule(&mut ctx, &sched.steps, &stop).await;
    if let Some(e) = writer_ended(w.await) {
        ctx.note("write client", e);
    }
    // The links first: a slapd restarted here then reaches its provider at once.
    let mut healed = ctx.heal_links()?;
    healed.extend(disks.heal()?);
    healed.extend(heal(ctx.lab, true, true)?);
    healed.sort();
    healed.dedup();
    ctx.note(
        "heal: SIGCONT paused slapd, restart killed ones, restore cut links",
        format!("{healed:?}"),
    );
    let converged = ldap_policy::recover(&mut ctx, opts.deadline).await;
    let final_view = ctx.cl.probe().await;
    let logs = ctx.lab.nodes.iter();
    let logs = logs
        .map(|n| (n.name.clone(), ctx.lab.dir.join(&n.name).join("slapd.log")))
        .collect();
    let obs = ctx.observed(converged, final_view, logs);
    let v = ldap_checker::check(&obs).await;
    let counts = (obs.calls.len(), obs.acks.len());
    let writes = (v.lost, v.exported);
    harness::judged(report, &mut ctx.tally, v.verdicts, counts, writes, failed)
}
