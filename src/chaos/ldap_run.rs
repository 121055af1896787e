//! One chaos run on a fresh slapd lab (`--kind openldap`): start it, add entries at a steady
//! rate while the schedule plays (kill -9, SIGSTOP/SIGCONT and restarts of slapd, the OpenLDAP
//! procedures through the drctl binary, drctl killed part-way, racing operators, delays), heal,
//! let the operator policy recover, then hand everything to the LDAP checker. The lab is torn
//! down after; a failed run's directory is kept under `--keep-failed`.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::disk::Disks;
use super::drctl::Drctl;
use super::keep::Teardown;
use super::ldap_ctx::{LCtx, LdapObserved};
use super::ldap_writer as lw;
use super::operate::heal;
use super::operate::{play_schedule, writer_ended, Tally};
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
    // Partitions need every slapd in a network namespace of its own (root, `ip`); without
    // them a partition step is skipped and says so.
    let namespaced = sched
        .steps
        .iter()
        .any(|s| matches!(s, super::schedule::Step::Partition { .. }))
        && crate::lab::netns::unavailable().is_none();
    let lab = match LdapLab::create_in(dir, sched.nodes, namespaced) {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the slapd lab: {e}"));
            let _ = std::fs::remove_dir_all(dir);
            return report;
        }
    };
    // A disk that can fill: each slapd's database directory on a tmpfs of its own (as root).
    let fills = sched
        .steps
        .iter()
        .any(|s| matches!(s, super::schedule::Step::DiskFull { .. }));
    let mut disks = Disks::default();
    if fills && super::disk::unavailable().is_none() {
        let dbs: Vec<(String, std::path::PathBuf)> = lab
            .nodes
            .iter()
            .map(|n| (n.name.clone(), lab.dir.join(&n.name).join("db")))
            .collect();
        match Disks::mount(&dbs) {
            Ok(d) => disks = d,
            Err(e) => {
                report.error = Some(format!("cannot put the slapd databases on disks: {e}"));
                drop(disks);
                let _ = lab.down(false);
                return report;
            }
        }
    }
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
    let drctl = Drctl::new(&lab.dir, &lab.cluster_file())
        .map_err(|e| LabError::Failed(format!("cannot prepare drctl: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::new()));
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
        lab,
        cl,
        admins,
        drctl,
        tally: Tally::new(started),
        acks: acks.clone(),
        writers: Vec::new(),
        writable_checks: 0,
        net: lab.net.clone(),
        disks: Some(disks),
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
    let obs = LdapObserved {
        acks: acks.lock().expect("acks").clone(),
        calls: ctx.tally.calls.clone(),
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
    report.judged(
        v.verdicts,
        (ctx.tally.faults, obs.calls.len(), obs.acks.len()),
        (v.lost, v.exported),
        std::mem::take(&mut ctx.tally.timeline),
    );
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
