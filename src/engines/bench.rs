//! What the engines' `lab bench` share: a procedure timed through drctl (its bundled runbook,
//! command to verified, with where the time went) beside the same procedure by hand, the
//! medians and their ratio.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::{Engine, Verb, VerbArgs};
use crate::engines::drnode::Cluster;
use crate::lab::LabError;
use crate::runbook::RunbookReport;

pub(crate) fn median(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).copied().unwrap_or_default()
}

pub(crate) fn fail(e: impl std::fmt::Display) -> LabError {
    LabError::Failed(e.to_string())
}

/// Where part of one measurement went.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Phase {
    pub(crate) what: String,
    pub(crate) ms: u64,
}

/// One measurement and where its time went.
pub(crate) struct Timed {
    pub(crate) ms: u64,
    pub(crate) phases: Vec<Phase>,
}

/// One side's rounds, and where the time went in the last one.
#[derive(Default)]
pub(crate) struct Side {
    ms: Vec<u64>,
    phases: Vec<Phase>,
}

impl Side {
    pub(crate) fn push(&mut self, t: Timed) -> u64 {
        self.ms.push(t.ms);
        self.phases = t.phases;
        t.ms
    }
}

/// One procedure, through drctl and by hand.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Procedure {
    /// Command to verified, each round.
    pub(crate) drctl_ms: Vec<u64>,
    /// First command to the probe write seen on every other node, each round.
    pub(crate) by_hand_ms: Vec<u64>,
    pub(crate) drctl_median_ms: u64,
    pub(crate) by_hand_median_ms: u64,
    /// Median by hand / median drctl.
    pub(crate) ratio: f64,
    /// Whether the ratio reaches the engine's target, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) meets_target: Option<bool>,
    /// Where the time went in the last round: drctl's actions as its report gives them (and
    /// what is between them: probes, plans, the lock, the journal), the by-hand commands.
    pub(crate) drctl_phases: Vec<Phase>,
    pub(crate) by_hand_phases: Vec<Phase>,
}

impl Procedure {
    pub(crate) fn of(drctl: Side, hand: Side, target: Option<f64>) -> Procedure {
        let (d, h) = (median(&drctl.ms), median(&hand.ms));
        let ratio = h as f64 / d.max(1) as f64;
        Procedure {
            drctl_ms: drctl.ms,
            by_hand_ms: hand.ms,
            drctl_median_ms: d,
            by_hand_median_ms: h,
            ratio,
            meets_target: target.map(|t| ratio >= t),
            drctl_phases: drctl.phases,
            by_hand_phases: hand.phases,
        }
    }
}

/// The bundled runbook of `verb`, as `drctl failover` / `drctl switchover --to TO` runs it on
/// the lab's cluster file (the same front, journal and host lock), command to verified.
pub(crate) async fn drctl<E: Engine + 'static>(
    engine: E,
    verb: Verb,
    args: &VerbArgs,
    lab_dir: &Path,
    cluster: &str,
    deadline: Duration,
) -> Result<Timed, LabError> {
    let front = engine.front(verb, args).map_err(fail)?;
    let http = crate::runbook::front::trusting_no_ca().map_err(fail)?;
    let mut settings = crate::runbook::unattended(http, lab_dir);
    settings.journal_dir = Some(lab_dir.join("runs"));
    settings.step_timeout = deadline;
    settings.engine = Some(Arc::new(engine));
    let run_cl = Cluster::new(cluster, &[], "bench", deadline);
    let what = format!("drctl {verb} ({})", front.runbook);
    timed_run(front.runbook, &front.vars, run_cl, &settings, &what).await
}

/// Runs a bundled runbook as its command does, timed command to verified, with where the time
/// went; a run that did not succeed fails the benchmark, named `what`.
pub(crate) async fn timed_run(
    runbook: &str,
    vars: &std::collections::BTreeMap<String, String>,
    cl: Cluster,
    settings: &crate::runbook::Settings,
    what: &str,
) -> Result<Timed, LabError> {
    let t0 = Instant::now();
    let r = crate::runbook::run_bundled(runbook, vars, cl, settings)
        .await
        .map_err(fail)?;
    let ms = t0.elapsed().as_millis() as u64;
    if !r.ok() {
        return Err(fail(format!(
            "{what}: {}",
            r.error.unwrap_or_else(|| r.outcome.to_string())
        )));
    }
    Ok(Timed {
        ms,
        phases: phases_of(&r, ms),
    })
}

/// drctl's actions with their times, then the rest (probes, plans, lock, journal).
pub(crate) fn phases_of(r: &RunbookReport, total: u64) -> Vec<Phase> {
    let mut out: Vec<Phase> = r
        .steps
        .iter()
        .flat_map(|s| &s.actions)
        .map(|a| Phase {
            what: a.step.clone(),
            ms: a.ms,
        })
        .collect();
    let acted: u64 = out.iter().map(|p| p.ms).sum();
    out.push(Phase {
        what: "between the actions: probes, plans, checks, lock, journal".into(),
        ms: total.saturating_sub(acted),
    });
    out
}
