//! Drills on a lab of real slapd (`drill: {kind: openldap}`): a fresh lab in a temporary
//! directory, faults (SIGKILL, SIGSTOP, restarts, acknowledged writes), writes by a client
//! while the runbook runs, the runbook unattended, then `expect:` (provider, converged data,
//! no acknowledged write lost). Skipped, saying why, where slapd is not installed.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::writes::{self as lw, Acks};
use crate::engines::drnode::Cluster;
use crate::engines::openldap::lab::{missing_tools, LdapLab};
use crate::engines::openldap::lab_up::{self as up, as_admin};
use crate::engines::openldap::{LdapCluster, LdapNode};
use crate::lab::{LabError, Sig};
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::{fail, DrillReport, DrillStep, Expectation};
use crate::runbook::model::Compiler;
use crate::runbook::{engine, Runbook};
use crate::util::poll;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(30);

/// What an openldap drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "openldap", 2..=9, "slapd");
}

/// The drill as the registry hands it out.
pub(crate) fn start<'a>(
    rb: &'a Runbook,
    d: &'a Drill,
    base: &'a Path,
    progress: &'a (dyn Fn(&str) + Sync),
    report: &'a mut DrillReport,
) -> futures_util::future::BoxFuture<'a, ()> {
    Box::pin(drill(rb, d, base, progress, report))
}

pub(crate) async fn drill(
    rb: &Runbook,
    d: &Drill,
    base: &Path,
    progress: &(dyn Fn(&str) + Sync),
    report: &mut DrillReport,
) {
    if let Some(why) = missing_tools() {
        report.skipped = Some(why);
        return;
    }
    let dir = crate::lab::sweep::drill_dir(base, &rb.name);
    let lab = match LdapLab::create(&dir, d.nodes) {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the openldap lab: {e}"));
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    };
    let mut guard = Teardown(Some(lab));
    let lab = guard.0.as_ref().expect("just set");
    if let Err(e) = run(rb, d, lab, &dir, report, progress).await {
        report.error = Some(e.to_string());
    }
    if let Err(e) = guard.0.take().expect("still set").down(false) {
        progress(&format!("warning: lab teardown: {e}"));
    }
}

/// Stops the lab's slapd even when the drill panics or its future is dropped.
struct Teardown(Option<LdapLab>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take() {
            let _ = lab.down(false);
        }
    }
}

fn admins(cl: &LdapCluster) -> Vec<LdapNode> {
    cl.nodes.iter().map(as_admin).collect()
}

async fn run(
    rb: &Runbook,
    d: &Drill,
    lab: &LdapLab,
    dir: &Path,
    report: &mut DrillReport,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), LabError> {
    let t0 = Instant::now();
    let cl = up::up(lab, DEADLINE).await?;
    report.steps.push(DrillStep {
        name: format!("lab up: {} slapd", lab.nodes.len()),
        outcome: "done".into(),
        ms: t0.elapsed().as_millis() as u64,
    });
    let acks = Arc::new(Acks::default());
    let http = super::runbook::http_client().map_err(fail)?;
    let settings = || {
        let mut s = crate::runbook::unattended(http.clone(), dir);
        s.journal_dir = Some(dir.join("runs"));
        s.step_timeout = DEADLINE;
        s.engine = Some(Arc::new(super::Openldap::of(&cl, "drill")));
        s
    };
    for (i, inj) in d.inject.iter().enumerate() {
        let t0 = Instant::now();
        let name = format!("inject: {}", inj.describe());
        progress(&format!("  {} {name}", rb.name));
        match inj {
            Inject::Kill(n) => drop(lab.signal(n, Sig::Kill)?),
            Inject::Pause(n) => drop(lab.signal(n, Sig::Stop)?),
            Inject::Resume(n) => drop(lab.signal(n, Sig::Cont)?),
            Inject::Restart(n) => lab.start(n)?,
            Inject::Writes(count) => {
                let prefix = format!("pre{i}");
                lw::write(&admins(&cl), &prefix, *count, None, DEADLINE, acks.clone())
                    .await
                    .map_err(|e| fail(format!("writes before the run: {e}")))?;
                wait_converged(&cl).await?;
            }
            Inject::Runbook { name, vars } => {
                let run_cl = Cluster::new(&cl.name, &[], "drill", DEADLINE);
                let r = crate::runbook::run_bundled(name, vars, run_cl, &settings())
                    .await
                    .map_err(fail)?;
                if !r.ok() {
                    return Err(fail(format!(
                        "inject runbook {name}: {} ({})",
                        r.outcome,
                        r.error.unwrap_or_default()
                    )));
                }
            }
            other => {
                return Err(fail(format!(
                    "{} is not a fault an openldap drill can inject (kill, pause, resume, restart, writes, runbook)",
                    other.describe()
                )))
            }
        }
        report.steps.push(DrillStep {
            name,
            outcome: "done".into(),
            ms: t0.elapsed().as_millis() as u64,
        });
    }
    // Writes while the runbook runs, from a client that follows the provider through the change.
    let before = acks.count.load(Ordering::Relaxed);
    let writer = d.writes.as_ref().map(|w| {
        let (nodes, a, (count, rate)) = (admins(&cl), acks.clone(), (w.count, w.rate));
        tokio::spawn(async move { lw::write(&nodes, "run", count, Some(rate), DEADLINE, a).await })
    });
    if let Some(w) = &d.writes {
        let min = before + (w.rate / 4.0).max(1.0) as u64;
        poll::within(DEADLINE, Duration::from_millis(10), || async {
            poll::holds(acks.count.load(Ordering::Relaxed) >= min)
        })
        .await
        .map_err(|()| fail("the writer made no progress before the run"))?;
    }
    let vars = engine::resolve_vars(rb, &d.vars).map_err(|e| fail(e.message))?;
    let settings = settings();
    let run_cl = Cluster::new(&cl.name, &[], "drill", DEADLINE);
    progress(&format!("  {} run (run {})", rb.name, run_cl.run_id));
    let (mid, mid_retried) = (
        acks.count.load(Ordering::Relaxed),
        acks.retried.load(Ordering::Relaxed),
    );
    let run = engine::run(rb, vars, run_cl, &settings, None).await;
    let during = acks.count.load(Ordering::Relaxed) - mid;
    let retried = acks.retried.load(Ordering::Relaxed) - mid_retried;
    report.take_run(&run);
    if let Some(handle) = writer {
        if let Err(e) = handle.await.map_err(fail)? {
            report.expectations.push(Expectation {
                what: "writes during the run".into(),
                ok: false,
                detail: e,
            });
        }
        progress(&format!(
            "  {} {during} writes acknowledged while the runbook ran; {retried} attempts refused or cut off and retried",
            rb.name
        ));
    }
    if let Some(e) = run.error {
        return Err(fail(format!("the runbook {}: {e}", run.outcome)));
    }
    report.writes_acknowledged = acks.count.load(Ordering::Relaxed);
    let ex = super::drill_check::expect(d, &cl, &acks, report).await;
    report.expectations.extend(ex);
    Ok(())
}

/// Waits until every answering node holds the provider's data.
async fn wait_converged(cl: &LdapCluster) -> Result<(), LabError> {
    poll::within(DEADLINE, Duration::from_millis(20), || async {
        let view = cl.probe().await;
        let p = view.provider();
        let fps: std::collections::HashSet<&str> = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| s.fingerprint.as_str()))
            .collect();
        if p.is_some() && fps.len() == 1 {
            Break(())
        } else {
            Continue((p, fps.len()))
        }
    })
    .await
    .map_err(|(p, fps)| {
        fail(format!(
            "the lab did not converge within {} s (provider {p:?}, {fps} fingerprints)",
            DEADLINE.as_secs(),
        ))
    })
}
