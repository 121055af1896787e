//! Drills on a lab of real 389 Directory Server instances (`drill: {kind: 389ds}`): a fresh lab
//! in a temporary directory, faults (SIGKILL, SIGSTOP, restarts, acknowledged writes), writes by a
//! client while the runbook runs, the runbook unattended, then `expect:` (supplier, health,
//! roles, every acknowledged write on the supplier and every answering consumer). Skipped, saying
//! why, where 389-ds-base is missing.

use std::collections::BTreeSet;
use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::Scope;

use super::lab::{missing_tools, DsLab, SUFFIX};
use super::state::one;
use super::{Ds389, DsCluster};
use crate::engines::drnode::Cluster;
use crate::lab::{LabError, Sig};
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::{fail, DrillReport, DrillStep, Expectation};
use crate::runbook::model::Compiler;
use crate::runbook::{engine, Runbook};
use crate::util::poll;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(60);

/// What a 389ds drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "389ds", 2..=5, "instances");
    let e = &d.expect;
    if !(e.ldap.is_empty()
        && e.ldap_absent.is_empty()
        && e.holders.is_empty()
        && e.members.is_empty()
        && e.services.is_empty()
        && e.packages.is_empty()
        && e.exported.is_none()
        && e.converged.is_none())
    {
        c.problem(
            node.mark,
            "drill.expect",
            "a 389ds drill expects primary (the supplier), primary_not, healthy, roles and no_write_lost",
        );
    }
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

async fn drill(
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
    let lab = match DsLab::create(&dir, d.nodes) {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the 389ds lab: {e}"));
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    };
    let mut guard = Teardown(Some(lab));
    let lab = guard.0.as_mut().expect("just set");
    if let Err(e) = run(rb, d, lab, &dir, report, progress).await {
        report.error = Some(e.to_string());
    }
    if let Err(e) = guard.0.take().expect("still set").discard() {
        progress(&format!("warning: lab teardown: {e}"));
    }
}

/// Stops the lab's instances even when the drill panics or its future is dropped.
struct Teardown(Option<DsLab>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take() {
            let _ = lab.discard();
        }
    }
}

/// What the writer got acknowledged.
#[derive(Debug, Default)]
pub(crate) struct Acks {
    pub(crate) count: AtomicU64,
    pub(crate) uids: Mutex<BTreeSet<String>>,
}

/// Adds `count` entries `uid=PREFIX-N` (at `rate` per second if given), each to the first
/// instance that takes it (a consumer refers writes to its supplier: no acknowledgement), and
/// records each acknowledged one.
pub(crate) async fn write(
    cl: &DsCluster,
    prefix: &str,
    count: u64,
    rate: Option<f64>,
    acks: &Acks,
) -> Result<(), String> {
    let started = tokio::time::Instant::now();
    let mut at = 0usize;
    for i in 0..count {
        if let Some(r) = rate {
            tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / r)).await;
        }
        let uid = format!("{prefix}-{i:05}");
        let until = Instant::now() + DEADLINE;
        loop {
            let n = &cl.nodes[at % cl.nodes.len()];
            let attrs = vec![
                (
                    "objectClass".to_string(),
                    ["top", "account"].map(String::from).into(),
                ),
                ("uid".to_string(), one(uid.clone())),
            ];
            let added = match n.ldap.connect(Duration::from_secs(1)).await {
                Ok(mut s) => {
                    let r = s.add(&format!("uid={uid},{SUFFIX}"), attrs).await;
                    s.close().await;
                    r.map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            match added {
                Ok(()) => break,
                Err(e) if Instant::now() >= until => {
                    return Err(format!("{uid} not acknowledged within {DEADLINE:?}: {e}"))
                }
                Err(_) => {
                    at += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        acks.uids.lock().expect("acks lock").insert(uid);
        acks.count.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

async fn run(
    rb: &Runbook,
    d: &Drill,
    lab: &mut DsLab,
    dir: &Path,
    report: &mut DrillReport,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), LabError> {
    let t0 = Instant::now();
    let cl = Arc::new(lab.up(DEADLINE).await?);
    report.steps.push(DrillStep {
        name: format!("lab up: {} 389ds instances", lab.nodes.len()),
        outcome: "done".into(),
        ms: t0.elapsed().as_millis() as u64,
    });
    let acks = Arc::new(Acks::default());
    let http = crate::engines::openldap::runbook::http_client().map_err(fail)?;
    let settings = || {
        let mut s = crate::runbook::unattended(http.clone(), dir);
        s.journal_dir = Some(dir.join("runs"));
        s.step_timeout = DEADLINE;
        s.engine = Some(Arc::new(Ds389::of(&cl, "drill")));
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
            Inject::Restart(n) => drop(lab.start(n)?),
            Inject::Writes(count) => {
                write(&cl, &format!("pre{i}"), *count, None, &acks)
                    .await
                    .map_err(|e| fail(format!("writes before the run: {e}")))?;
                settle(&cl, &acks).await?;
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
                    "{} is not a fault a 389ds drill can inject",
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
    let writer = d.writes.as_ref().map(|w| {
        let (cl, a, (count, rate)) = (cl.clone(), acks.clone(), (w.count, w.rate));
        tokio::spawn(async move { write(&cl, "run", count, Some(rate), &a).await })
    });
    let vars = engine::resolve_vars(rb, &d.vars).map_err(|e| fail(e.message))?;
    let run_cl = Cluster::new(&cl.name, &[], "drill", DEADLINE);
    progress(&format!("  {} run (run {})", rb.name, run_cl.run_id));
    let mid = acks.count.load(Ordering::Relaxed);
    let run = engine::run(rb, vars, run_cl, &settings(), None).await;
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
            "  {} {} writes acknowledged while the runbook ran",
            rb.name,
            acks.count.load(Ordering::Relaxed) - mid
        ));
    }
    if let Some(e) = run.error {
        return Err(fail(format!("the runbook {}: {e}", run.outcome)));
    }
    report.writes_acknowledged = acks.count.load(Ordering::Relaxed);
    let ex = expect(d, &cl, &acks, report).await;
    report.expectations.extend(ex);
    Ok(())
}

/// Waits until every instance that answers holds every acknowledged write, or no supplier
/// answers: what makes every write acknowledged before a fault held by the survivors (a
/// supplier's RUV may trail the write it just acknowledged, so it is not what is waited on).
async fn settle(cl: &DsCluster, acks: &Acks) -> Result<(), LabError> {
    let acked = acks.uids.lock().expect("acks lock").clone();
    poll::within(DEADLINE, Duration::from_millis(50), || async {
        let view = cl.probe().await;
        if view.assess().supplier.is_none() {
            return Break(());
        }
        let mut short = Vec::new();
        for n in view.nodes.iter().filter(|n| n.state.is_ok()) {
            match uids(cl, &n.name).await {
                Ok(have) => {
                    let missing = acked.difference(&have).count();
                    if missing > 0 {
                        short.push(format!("{} lacks {missing}", n.name));
                    }
                }
                Err(e) => short.push(e),
            }
        }
        if short.is_empty() {
            Break(())
        } else {
            Continue(short.join(", "))
        }
    })
    .await
    .map_err(|why| fail(format!("the lab did not settle within {DEADLINE:?}: {why}")))
}

/// The uids under the suffix that one instance holds.
async fn uids(cl: &DsCluster, node: &str) -> Result<BTreeSet<String>, String> {
    let mut s = cl.session(node).await.map_err(|e| e.to_string())?;
    let found = s
        .search(SUFFIX, Scope::OneLevel, "(uid=*)", &["uid"])
        .await
        .map_err(|e| e.to_string());
    s.close().await;
    Ok(found?
        .iter()
        .filter_map(|e| super::state::first(e, "uid"))
        .collect())
}

/// `expect:`, waited for up to a deadline: the supplier, roles, health, and every acknowledged
/// write on the supplier and on every consumer that answers.
async fn expect(
    d: &Drill,
    cl: &DsCluster,
    acks: &Acks,
    report: &mut DrillReport,
) -> Vec<Expectation> {
    let acked = acks.uids.lock().expect("acks lock").clone();
    let r = poll::within(DEADLINE, Duration::from_millis(100), || async {
        let mut out = Vec::new();
        let mut check =
            |what: String, ok: bool, detail: String| out.push(Expectation { what, ok, detail });
        let view = cl.probe().await;
        let a = view.assess();
        let sup = a.supplier.clone();
        if let Some(p) = &d.expect.primary {
            check(
                format!("supplier is {p}"),
                sup.as_deref() == Some(p),
                format!("supplier: {sup:?}"),
            );
        }
        if let Some(p) = &d.expect.primary_not {
            check(
                format!("supplier is not {p}"),
                sup.is_some() && sup.as_deref() != Some(p),
                format!("supplier: {sup:?}"),
            );
        }
        for (node, role) in &d.expect.roles {
            let have = match view.node(node).map(|n| &n.state) {
                Some(Ok(s)) => s
                    .kind()
                    .map(|k| format!("{k:?}").to_lowercase())
                    .unwrap_or_else(|| "standalone".into()),
                _ => "unreachable".into(),
            };
            check(
                format!("{node} is {role}"),
                have == *role,
                format!("{node} is {have}"),
            );
        }
        if let Some(want) = d.expect.healthy {
            check(
                format!("healthy is {want}"),
                a.healthy == want,
                a.problems.join("; "),
            );
        }
        let mut lost = 0;
        if d.expect.no_write_lost {
            let mut missing: Vec<String> = Vec::new();
            let mut err = None;
            let holders = view
                .nodes
                .iter()
                .filter(|n| n.state.as_ref().is_ok_and(|s| s.replica.is_some()))
                .filter(|n| !a.stale_suppliers.contains(&n.name));
            for n in holders {
                match uids(cl, &n.name).await {
                    Ok(have) => missing.extend(
                        acked
                            .difference(&have)
                            .map(|u| format!("{u} on {}", n.name)),
                    ),
                    Err(e) => err = Some(e),
                }
            }
            lost = acked
                .iter()
                .filter(|u| missing.iter().any(|m| m.starts_with(&format!("{u} "))))
                .count() as u64;
            check(
                "no acknowledged write lost".into(),
                err.is_none() && missing.is_empty() && !acked.is_empty() && sup.is_some(),
                err.unwrap_or_else(|| {
                    format!(
                        "{} acknowledged, {} missing{}",
                        acked.len(),
                        missing.len(),
                        missing
                            .first()
                            .map(|m| format!(" (e.g. {m})"))
                            .unwrap_or_default()
                    )
                }),
            );
        }
        if out.iter().all(|x| x.ok) {
            Break((out, lost))
        } else {
            Continue((out, lost))
        }
    })
    .await;
    let (out, lost) = r.unwrap_or_else(|last| last);
    report.writes_lost = lost;
    out
}
