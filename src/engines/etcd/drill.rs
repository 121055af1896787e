//! Drills on a lab of real etcd members (`drill: {kind: etcd}`): a fresh lab in a temporary
//! directory, faults (SIGKILL, SIGSTOP, restarts, acknowledged writes, another runbook), writes
//! by a client while the runbook runs, the runbook unattended, then `expect:` (leader, health,
//! roles, membership, no acknowledged write lost). Skipped, saying why, where etcd is missing.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::lab::{missing_tools, EtcdLab};
use super::writes::{self as ew, Acks};
use super::EtcdCluster;
use crate::engines::drnode::Cluster;
use crate::lab::{LabError, Sig};
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::{fail, DrillReport, DrillStep, Expectation};
use crate::runbook::model::Compiler;
use crate::runbook::{engine, Runbook};
use crate::util::poll;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(30);

/// What an etcd drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "etcd", 1..=9, "members");
    let e = &d.expect;
    if !(e.ldap.is_empty()
        && e.ldap_absent.is_empty()
        && e.holders.is_empty()
        && e.services.is_empty()
        && e.packages.is_empty()
        && e.exported.is_none()
        && e.converged.is_none())
    {
        c.problem(
            node.mark,
            "drill.expect",
            "an etcd drill expects primary (the leader), primary_not, healthy, roles, members and no_write_lost",
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
    let lab = match EtcdLab::create(&dir, d.nodes) {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the etcd lab: {e}"));
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

/// Stops the lab's members even when the drill panics or its future is dropped.
struct Teardown(Option<EtcdLab>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take() {
            let _ = lab.discard();
        }
    }
}

fn urls(cl: &EtcdCluster) -> Vec<String> {
    cl.nodes.iter().map(|n| n.url.clone()).collect()
}

async fn run(
    rb: &Runbook,
    d: &Drill,
    lab: &mut EtcdLab,
    dir: &Path,
    report: &mut DrillReport,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), LabError> {
    let t0 = Instant::now();
    let cl = lab.up(DEADLINE).await?;
    report.steps.push(DrillStep {
        name: format!("lab up: {} etcd members", lab.nodes.len()),
        outcome: "done".into(),
        ms: t0.elapsed().as_millis() as u64,
    });
    let acks = Arc::new(Acks::default());
    let http = super::client::plain_http().map_err(fail)?;
    let settings = || {
        let mut s = crate::runbook::unattended(http.clone(), dir);
        s.journal_dir = Some(dir.join("runs"));
        s.step_timeout = DEADLINE;
        s.engine = Some(Arc::new(super::Etcd::of(&cl, "drill")));
        s
    };
    for (i, inj) in d.inject.iter().enumerate() {
        let t0 = Instant::now();
        let name = format!("inject: {}", inj.describe());
        progress(&format!("  {} {name}", rb.name));
        inject(lab, &cl, inj, &format!("pre{i}"), &acks, &settings()).await?;
        settle(&cl).await?;
        report.steps.push(DrillStep {
            name,
            outcome: "done".into(),
            ms: t0.elapsed().as_millis() as u64,
        });
    }
    let before = acks.count.load(Ordering::Relaxed);
    let writer = d.writes.as_ref().map(|w| {
        let (urls, a, (count, rate)) = (urls(&cl), acks.clone(), (w.count, w.rate));
        tokio::spawn(async move { ew::write(&urls, "run", count, Some(rate), DEADLINE, &a).await })
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
    let run_cl = Cluster::new(&cl.name, &[], "drill", DEADLINE);
    progress(&format!("  {} run (run {})", rb.name, run_cl.run_id));
    let mid = acks.count.load(Ordering::Relaxed);
    let run = engine::run(rb, vars, run_cl, &settings(), None).await;
    let during = acks.count.load(Ordering::Relaxed) - mid;
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
            "  {} {during} writes acknowledged while the runbook ran",
            rb.name
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

/// Waits until the members that answer agree on a leader and have applied its log, when
/// enough answer to elect one (a killed leader is replaced within about a second), or until no
/// member claims to lead, when too few answer: what an operator sees before acting, and what
/// makes every acknowledged write held by every member.
async fn settle(cl: &EtcdCluster) -> Result<(), LabError> {
    poll::within(DEADLINE, Duration::from_millis(20), || async {
        let view = cl.probe().await;
        let a = view.assess();
        let (voters, live) = a.voters(&view);
        if live < super::assess::quorum(voters) {
            // Settled once a leader that lost its quorum has stepped down.
            return match &a.leader {
                None => Break(()),
                Some(l) => Continue(vec![format!("{l} still leads without a quorum")]),
            };
        }
        let Some(head) = a.leader.as_deref().and_then(|l| view.state(l)) else {
            return Continue(a.problems);
        };
        let head = head.status.raft_index;
        let behind: Vec<String> = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| (n, s)))
            .filter(|(_, s)| s.status.raft_applied_index < head)
            .map(|(n, s)| {
                format!(
                    "{} applied {} of {head}",
                    n.name, s.status.raft_applied_index
                )
            })
            .collect();
        if behind.is_empty() {
            Break(())
        } else {
            Continue(behind)
        }
    })
    .await
    .map_err(|p| {
        fail(format!(
            "the lab did not settle within {DEADLINE:?}: {}",
            p.join("; ")
        ))
    })
}

async fn inject(
    lab: &EtcdLab,
    cl: &EtcdCluster,
    inj: &Inject,
    prefix: &str,
    acks: &Acks,
    settings: &crate::runbook::Settings,
) -> Result<(), LabError> {
    match inj {
        Inject::Kill(n) => drop(lab.signal(n, Sig::Kill)?),
        Inject::Pause(n) => drop(lab.signal(n, Sig::Stop)?),
        Inject::Resume(n) => drop(lab.signal(n, Sig::Cont)?),
        Inject::Restart(n) => drop(lab.start(n)?),
        Inject::Writes(count) => ew::write(&urls(cl), prefix, *count, None, DEADLINE, acks)
            .await
            .map_err(|e| fail(format!("writes before the run: {e}")))?,
        Inject::Runbook { name, vars } => {
            let run_cl = Cluster::new(&cl.name, &[], "drill", DEADLINE);
            let r = crate::runbook::run_bundled(name, vars, run_cl, settings)
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
                "{} is not a fault an etcd drill can inject",
                other.describe()
            )))
        }
    }
    Ok(())
}

/// `expect:`, waited for up to a deadline: the leader, roles, membership, health, and every
/// acknowledged key readable through the leader.
async fn expect(
    d: &Drill,
    cl: &EtcdCluster,
    acks: &Acks,
    report: &mut DrillReport,
) -> Vec<Expectation> {
    let acked = acks.keys.lock().expect("acks lock").clone();
    let r = poll::within(DEADLINE, Duration::from_millis(50), || async {
        let mut out = Vec::new();
        let mut check =
            |what: String, ok: bool, detail: String| out.push(Expectation { what, ok, detail });
        let view = cl.probe().await;
        let a = view.assess();
        let leader = a.leader.clone();
        if let Some(p) = &d.expect.primary {
            check(
                format!("leader is {p}"),
                leader.as_deref() == Some(p),
                format!("leader: {leader:?}"),
            );
        }
        if let Some(p) = &d.expect.primary_not {
            check(
                format!("leader is not {p}"),
                leader.is_some() && leader.as_deref() != Some(p),
                format!("leader: {leader:?}"),
            );
        }
        for (node, role) in &d.expect.roles {
            let i = view.nodes.iter().position(|n| &n.name == node);
            let have = i
                .and_then(|i| a.nodes[i].role)
                .map(|r| r.to_string())
                .unwrap_or_else(|| "unreachable".into());
            check(
                format!("{node} is {role}"),
                have == *role,
                format!("{node} is {have}"),
            );
        }
        for (node, state) in &d.expect.members {
            let have = match a.member_of(&view, node) {
                Some(m) if m.is_learner => "learner",
                Some(_) => "member",
                None => "removed",
            };
            check(
                format!("{node} is {state}"),
                have == state,
                format!("{node} is {have} ({} members)", a.members.len()),
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
            let at = leader.as_deref().and_then(|l| cl.node(l).ok());
            let present = match at {
                Some(n) => cl
                    .client
                    .keys(&n.url, ew::PREFIX)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("no leader answers".into()),
            };
            match present {
                Ok(keys) => {
                    let keys: std::collections::BTreeSet<String> = keys.into_iter().collect();
                    let missing: Vec<&String> = acked.difference(&keys).collect();
                    lost = missing.len() as u64;
                    check(
                        "no acknowledged write lost".into(),
                        missing.is_empty() && !acked.is_empty(),
                        format!(
                            "{} acknowledged, {} present, {} lost{}",
                            acked.len(),
                            keys.len(),
                            missing.len(),
                            missing
                                .first()
                                .map(|k| format!(" (e.g. {k})"))
                                .unwrap_or_default()
                        ),
                    );
                }
                Err(e) => check("no acknowledged write lost".into(), false, e),
            }
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
