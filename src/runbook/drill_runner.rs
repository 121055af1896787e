//! The drill of every engine whose labs are its own, once: a fresh lab in the drill's
//! directory (stopped even when the drill panics or its future is dropped), the faults, writes
//! by a client while the runbook runs unattended bound to the lab's engine, then `expect:`.
//! Skipped, saying why, where the engine's servers are not installed. An engine gives only what
//! differs (`DrillLab`): its lab, how the lab settles after a fault, its write client and its
//! checks.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use super::drill_model::{Drill, Inject};
use super::drill_pool::{LabPool, Start};
use super::drill_report::{fail, Checks, DrillReport, DrillStep, Expectation};
use super::{engine, Runbook, Settings};
use crate::engine::Bound;
use crate::engines::drnode::Cluster;
use crate::lab::{Lab, LabError, LabKind, Sig};
use crate::util::poll;

/// What the write client of a drill got acknowledged.
pub(crate) trait Acked: Default + Send + Sync + 'static {
    fn count(&self) -> u64;
    /// Attempts refused or cut off and retried elsewhere, for a client that says so.
    fn retried(&self) -> Option<u64> {
        None
    }
}

/// Entries a drill's write client adds: `count` of them named after `prefix`, at `rate` per
/// second if given.
pub(crate) struct Batch {
    pub(crate) prefix: String,
    pub(crate) count: u64,
    pub(crate) rate: Option<f64>,
}

/// The write client at work: an error once an entry is not acknowledged in time.
pub(crate) type Writing = BoxFuture<'static, Result<(), String>>;

/// An engine's lab as its drills use it.
pub(crate) trait DrillLab: Lab + Sized + 'static {
    /// The group `up` brought up: what the engine, the write client and the checks reach.
    type Group: Send + Sync + 'static;
    type Acks: Acked;
    /// What a step name counts the lab's nodes as (`lab up: 3 etcd members`).
    const NODES: &'static str;
    /// The engine's lab as the registry knows it: why it cannot run here, if it cannot.
    const LAB: &'static LabKind;
    /// How long bringing the lab up, a settle, a write and a runbook step may each take.
    const DEADLINE: Duration;
    /// Whether the run waits for the first writes of the client before it starts (false
    /// where the client cannot write until the runbook has made a primary).
    const WRITER_FIRST: bool = true;

    /// Whether this drill's run waits for the client's first writes (`WRITER_FIRST`, unless
    /// the lab says the drill's faults leave nothing to write to).
    fn writer_first(_d: &Drill) -> bool {
        Self::WRITER_FIRST
    }
    /// How often `look` is called until `expect:` holds.
    const LOOK_EVERY: Duration = Duration::from_millis(50);

    /// Whether a later drill may start from a copy of this lab (`drill_pool`): with every node
    /// stopped cleanly (`stop_all`), its directory holds all of its state but what `reopen`
    /// makes again, and the copy starts again (`resume`) as the group it was.
    const REUSE: bool = false;

    /// Lays out a new lab of `nodes` nodes in `dir` (not started).
    fn create(dir: &Path, nodes: u16) -> Result<Self, LabError>;
    /// Stops every node cleanly, so that the lab's directory can be kept (`REUSE`).
    fn stop_all(&mut self) -> Result<(), LabError> {
        Err(cannot_reuse(self.kind()))
    }
    /// Opens the lab whose kept copy was restored into `dir`, making again what lives outside
    /// it (`REUSE`).
    fn reopen(dir: &Path) -> Result<Self, LabError> {
        let _ = dir;
        Err(cannot_reuse(Self::LAB.state_file))
    }
    /// Starts every node of a stopped lab whose group was formed, and waits until it is
    /// healthy (`REUSE`).
    fn resume(&mut self) -> impl Future<Output = Result<Self::Group, LabError>> + Send {
        let kind = self.kind();
        async move { Err(cannot_reuse(kind)) }
    }
    /// Stops every node and removes the lab: the drill is over.
    fn discard(self) -> Result<(), LabError>;
    /// Starts every node, forms the group and waits until it is healthy.
    fn group(&mut self) -> impl Future<Output = Result<Self::Group, LabError>> + Send;
    /// The group's engine, which runs are bound to (`runbook::front::bind`).
    fn bind(group: &Self::Group) -> Bound;
    /// Writes a batch of entries, recording each acknowledged one in `acks`.
    fn write(group: &Self::Group, acks: &Arc<Self::Acks>, batch: Batch) -> Writing;
    /// Waits, after the fault `after`, until the lab is as an operator would find it.
    fn settle<'a>(
        group: &'a Self::Group,
        acks: &'a Self::Acks,
        after: &'a Inject,
    ) -> impl Future<Output = Result<(), LabError>> + Send + 'a;
    /// One look at the lab for `expect:`: the expectations, and how many acknowledged writes
    /// are lost. The runner looks again until they all hold or the deadline passes.
    fn look<'a>(
        d: &'a Drill,
        group: &'a Self::Group,
        acks: &'a Self::Acks,
    ) -> impl Future<Output = (Checks, u64)> + Send + 'a;
}

/// How a drill's first step is named: the lab created and up.
pub(crate) const LAB_UP: &str = "lab up";

fn cannot_reuse(what: &str) -> LabError {
    LabError::Failed(format!("a {what} lab cannot be kept for later drills"))
}

/// The drill as the registry hands it out (`runbook::drill_hooks::DrillRun`).
pub(crate) fn start<'a, L: DrillLab>(
    rb: &'a Runbook,
    d: &'a Drill,
    base: &'a Path,
    pool: &'a LabPool,
    progress: &'a (dyn Fn(&str) + Sync),
    report: &'a mut DrillReport,
) -> BoxFuture<'a, ()> {
    Box::pin(drill::<L>(rb, d, base, pool, progress, report))
}

async fn drill<L: DrillLab>(
    rb: &Runbook,
    d: &Drill,
    base: &Path,
    pool: &LabPool,
    progress: &(dyn Fn(&str) + Sync),
    report: &mut DrillReport,
) {
    if let Some(why) = (L::LAB.unavailable)() {
        report.skipped = Some(why);
        return;
    }
    let created = Instant::now();
    let fresh = crate::lab::sweep::drill_dir(base, &rb.name);
    let started = pool.start(kind(d), d.nodes, L::REUSE);
    let (dir, lab, start) = match started {
        Ok(Start::Restored { dir }) => (dir.clone(), L::reopen(&dir), Begin::Resume),
        Ok(Start::Keep { later }) => (
            fresh.clone(),
            L::create(&fresh, d.nodes),
            Begin::Keep(later),
        ),
        Ok(Start::Fresh) => (fresh.clone(), L::create(&fresh, d.nodes), Begin::Up),
        Err(e) => (fresh.clone(), Err(e), Begin::Up),
    };
    // The kept lab is free again once this drill's lab is torn down, however the drill ends.
    let _held =
        Held(matches!(start, Begin::Resume | Begin::Keep(_)).then_some((pool, kind(d), d.nodes)));
    let lab = match lab {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(format!("cannot create the {} lab: {e}", kind(d)));
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    };
    let mut guard = Teardown(Some(lab));
    let lab = guard.0.as_mut().expect("just set");
    let begun = Begun {
        how: start,
        created,
        pool,
    };
    if let Err(e) = run(rb, d, lab, &dir, begun, report, progress).await {
        report.error = Some(e.to_string());
    }
    if let Err(e) = guard.0.take().expect("still set").discard() {
        progress(&format!("warning: lab teardown: {e}"));
    }
}

/// How a drill's lab comes up.
#[derive(Clone, Copy)]
enum Begin {
    /// Created and brought up for this drill alone.
    Up,
    /// Created and brought up, then kept for this many later drills.
    Keep(usize),
    /// Restored from the kept copy and started again.
    Resume,
}

/// How the drill's lab came to be, and since when.
struct Begun<'a> {
    how: Begin,
    created: Instant,
    pool: &'a LabPool,
}

/// Tells the pool the drill on its kept lab is over, when dropped.
struct Held<'a>(Option<(&'a LabPool, &'a str, u16)>);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some((pool, kind, nodes)) = self.0 {
            pool.done(kind, nodes);
        }
    }
}

/// The lab's group, up and healthy: brought up, brought up and kept, or resumed from the
/// kept copy. The step's name says which.
async fn bring_up<L: DrillLab>(
    lab: &mut L,
    d: &Drill,
    dir: &Path,
    begun: &Begun<'_>,
) -> Result<(L::Group, String), LabError> {
    let what = format!("{LAB_UP}: {} {}", d.nodes, L::NODES);
    match begun.how {
        Begin::Up => Ok((lab.group().await?, what)),
        Begin::Resume => Ok((lab.resume().await?, format!("{what}, from the kept copy"))),
        Begin::Keep(later) => {
            drop(lab.group().await?);
            lab.stop_all()?;
            begun.pool.keep(kind(d), d.nodes, dir)?;
            let group = lab.resume().await?;
            Ok((group, format!("{what}, kept for {later} later drill(s)")))
        }
    }
}

/// Stops the lab's nodes even when the drill panics or its future is dropped.
struct Teardown<L: DrillLab>(Option<L>);

impl<L: DrillLab> Drop for Teardown<L> {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take() {
            let _ = lab.discard();
        }
    }
}

/// The drill's kind: the engine's, which chose this runner.
fn kind(d: &Drill) -> &str {
    d.kind.as_deref().unwrap_or_default()
}

async fn run<L: DrillLab>(
    rb: &Runbook,
    d: &Drill,
    lab: &mut L,
    dir: &Path,
    begun: Begun<'_>,
    report: &mut DrillReport,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), LabError> {
    let (group, name) = bring_up(lab, d, dir, &begun).await?;
    // From the lab's creation on: its start time, which `lab bench` takes from a drill's.
    report.steps.push(DrillStep {
        name,
        outcome: "done".into(),
        ms: begun.created.elapsed().as_millis() as u64,
    });
    let acks = Arc::new(L::Acks::default());
    let http = super::front::trusting_no_ca().map_err(fail)?;
    let bound = L::bind(&group);
    let settings = || {
        let mut s = super::unattended(http.clone(), dir);
        s.journal_dir = Some(dir.join("runs"));
        s.step_timeout = L::DEADLINE;
        s.engine = Some(bound.engine.clone());
        s
    };
    for (i, inj) in d.inject.iter().enumerate() {
        let t0 = Instant::now();
        let name = format!("inject: {}", inj.describe());
        progress(&format!("  {} {name}", rb.name));
        inject(lab, &group, &bound.cluster, d, i, &acks, &settings()).await?;
        if let Inject::Resume(n) | Inject::Restart(n) = inj {
            // The drill woke it: its timeouts while paused or down are history.
            bound.engine.forget_silence(n);
        }
        L::settle(&group, &acks, inj).await?;
        report.steps.push(DrillStep {
            name,
            outcome: "done".into(),
            ms: t0.elapsed().as_millis() as u64,
        });
    }
    // Writes while the runbook runs, from a client that follows the primary through the change.
    let before = acks.count();
    let writer = d.writes.as_ref().map(|w| {
        let batch = Batch {
            prefix: "run".into(),
            count: w.count,
            rate: Some(w.rate),
        };
        tokio::spawn(L::write(&group, &acks, batch))
    });
    if let (Some(w), true) = (&d.writes, L::writer_first(d)) {
        let min = before + (w.rate / 4.0).max(1.0) as u64;
        poll::within(L::DEADLINE, Duration::from_millis(10), || async {
            poll::holds(acks.count() >= min)
        })
        .await
        .map_err(|()| fail("the writer made no progress before the run"))?;
    }
    let vars = engine::resolve_vars(rb, &d.vars).map_err(|e| fail(e.message))?;
    let run_cl = Cluster::new(&bound.cluster, &[], "drill", L::DEADLINE);
    progress(&format!("  {} run (run {})", rb.name, run_cl.run_id));
    let (mid, mid_retried) = (acks.count(), acks.retried());
    let run = engine::run(rb, vars, run_cl, &settings(), None).await;
    let during = acks.count() - mid;
    let retried = acks.retried().zip(mid_retried).map(|(r, m)| r - m);
    report.take_run(&run);
    if let Some(handle) = writer {
        if let Err(e) = handle.await.map_err(fail)? {
            report.expectations.push(Expectation {
                what: "writes during the run".into(),
                ok: false,
                detail: e,
            });
        }
        let retried = retried
            .map(|r| format!("; {r} attempts refused or cut off and retried"))
            .unwrap_or_default();
        progress(&format!(
            "  {} {during} writes acknowledged while the runbook ran{retried}",
            rb.name
        ));
    }
    if let Some(e) = run.error {
        return Err(fail(format!("the runbook {}: {e}", run.outcome)));
    }
    report.writes_acknowledged = acks.count();
    let looked = poll::within(L::DEADLINE, L::LOOK_EVERY, || async {
        let (out, lost) = L::look(d, &group, &acks).await;
        if out.all_ok() {
            Break((out, lost))
        } else {
            Continue((out, lost))
        }
    })
    .await;
    let (out, lost) = looked.unwrap_or_else(|last| last);
    report.writes_lost = lost;
    report.expectations.extend(out.0);
    Ok(())
}

/// One fault: a signal, a restart, acknowledged writes or another bundled runbook.
async fn inject<L: DrillLab>(
    lab: &mut L,
    group: &L::Group,
    cluster: &str,
    d: &Drill,
    i: usize,
    acks: &Arc<L::Acks>,
    settings: &Settings,
) -> Result<(), LabError> {
    match &d.inject[i] {
        Inject::Kill(n) => drop(lab.signal(n, Sig::Kill)?),
        Inject::Pause(n) => drop(lab.signal(n, Sig::Stop)?),
        Inject::Resume(n) => drop(lab.signal(n, Sig::Cont)?),
        Inject::Restart(n) => drop(lab.start(n)?),
        Inject::Writes(count) => {
            let batch = Batch {
                prefix: format!("pre{i}"),
                count: *count,
                rate: None,
            };
            L::write(group, acks, batch)
                .await
                .map_err(|e| fail(format!("writes before the run: {e}")))?
        }
        Inject::Runbook { name, vars } => {
            let run_cl = Cluster::new(cluster, &[], "drill", L::DEADLINE);
            run_injected("inject", name, vars, run_cl, settings).await?
        }
        other => {
            let can = "kill, pause, resume, restart, writes, runbook";
            let what = other.describe();
            let kind = kind(d);
            return Err(fail(format!(
                "{what} is not a fault an {kind} drill can inject ({can})"
            )));
        }
    }
    Ok(())
}

/// Runs a bundled runbook as a fault (`inject` or `after`: `runbook`); the drill fails unless
/// it succeeds.
pub(super) async fn run_injected(
    phase: &str,
    name: &str,
    vars: &BTreeMap<String, String>,
    cl: Cluster,
    settings: &Settings,
) -> Result<(), LabError> {
    let r = super::run_bundled(name, vars, cl, settings)
        .await
        .map_err(fail)?;
    if r.ok() {
        return Ok(());
    }
    Err(fail(format!(
        "{phase} runbook {name}: {} ({})",
        r.outcome,
        r.error.unwrap_or_default()
    )))
}
