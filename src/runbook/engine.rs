//! Runs a runbook: each step in turn is rendered, planned from a fresh probe and run by the
//! procedures' runner (check → apply → verify); the journal records every step; a failure before
//! a `point_of_no_return` undoes the earlier steps that declare an `undo`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::action::Shared;
use super::journal::{now_ms, Entry, Journal};
use super::model::Runbook;
pub use super::run::{RbStep, RbStepOutcome, Resume, RunbookReport, Settings};
use super::step::run_step;
use super::template::Scope;
use crate::engine::{ProcError, RunOutcomeKind};
use crate::engines::drnode::Cluster;
use crate::util::exit::Exit;

/// Fills defaults, refuses unknown and missing parameters.
pub fn resolve_vars(
    rb: &Runbook,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ProcError> {
    let mut vars = BTreeMap::new();
    for (k, v) in given {
        if !rb.params.contains_key(k) {
            let hint = super::error::nearest(k, rb.params.keys().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(ProcError::usage(format!(
                "--var {k}: runbook {} has no parameter '{k}'{hint}; it has: {}",
                rb.name,
                rb.params.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        vars.insert(k.clone(), v.clone());
    }
    for (k, p) in &rb.params {
        if vars.contains_key(k) {
            continue;
        }
        match (&p.default, p.required) {
            (Some(d), _) => {
                vars.insert(k.clone(), d.clone());
            }
            (None, true) => {
                return Err(ProcError::usage(format!(
                    "runbook {} needs --var {k}=… ({})",
                    rb.name, p.description
                )))
            }
            (None, false) => {
                vars.insert(k.clone(), String::new());
            }
        }
    }
    Ok(vars)
}

fn say(s: &Settings, line: &str) {
    if s.progress {
        eprintln!(
            "{}",
            crate::util::words::fold_for_stderr(&crate::util::redact::redact(line))
        );
    }
}

pub async fn run(
    rb: &Runbook,
    vars: BTreeMap<String, String>,
    mut cl: Cluster,
    settings: &Settings,
    resume: Option<Resume>,
) -> RunbookReport {
    let started = Instant::now();
    if let Some(r) = &resume {
        cl = cl.with_run_id(&r.run_id);
    }
    let resume = resume.unwrap_or_default();
    let run_id = cl.run_id.clone();
    let report = RunbookReport {
        runbook: rb.name.clone(),
        run_id: run_id.clone(),
        // Every return sets it.
        outcome: RunOutcomeKind::FailedNothingChanged,
        steps: Vec::new(),
        ms: 0,
        error: None,
        journal: None,
        resume: None,
        notes: Vec::new(),
        exit: None,
    };
    let (_run_lock, fresh) = match run_lock(rb, &cl, settings).await {
        Ok(locked) => locked,
        Err(e) => {
            return fail(
                report,
                started,
                RunOutcomeKind::Refused,
                e.to_string(),
                e.exit,
            )
        }
    };
    tracing::debug!(runbook = %rb.name, "run lock taken");
    let journal = match open_journal(rb, &cl, settings, &resume, &vars) {
        Ok(j) => j,
        Err(e) => {
            return fail(
                report,
                started,
                RunOutcomeKind::Refused,
                e.to_string(),
                Exit::Usage,
            )
        }
    };
    let mut scope = Scope {
        vars,
        steps: BTreeMap::new(),
        run_id: run_id.clone(),
    };
    for (i, outs) in &resume.outputs {
        if let Some(id) = rb.steps.get(*i).and_then(|s| s.id.clone()) {
            scope.steps.insert(id, outs.clone());
        }
    }
    let mut r = Running {
        rb,
        cl: &cl,
        settings,
        shared: shared_state(settings),
        journal,
        report,
        failure: None,
        changed_steps: Vec::new(),
        passed_ponr: false,
    };
    *r.shared.fresh.lock().expect("fresh lock") = fresh;
    r.report.journal = r.journal.as_ref().map(|j| j.path.display().to_string());
    tracing::debug!("journal opened");
    r.steps(&resume, &mut scope).await;
    let outcome = r.outcome(&scope).await;
    tracing::debug!(%outcome, "steps ended");
    // The run's lock goes with it on every node, even one this process did not lock (a resumed
    // run whose steps were all done took none, while the killed run's lock stays behind).
    let held = r.shared.held.lock().await.take();
    if !settings.dry_run {
        let released = cl
            .release_run_lock(&held.unwrap_or_default(), !resume.run_id.is_empty())
            .await;
        r.shared.notes.lock().expect("notes lock").extend(released);
    }
    tracing::debug!("run lock released");
    r.report.notes = std::mem::take(&mut *r.shared.notes.lock().expect("notes lock"));
    r.report.outcome = outcome;
    r.report.ms = started.elapsed().as_millis() as u64;
    if let Some(e) = r.failure.take() {
        r.said(e, outcome, &run_id);
    }
    let report = r.report;
    if let Some(j) = r.journal.as_mut() {
        j.write(&Entry::End {
            outcome,
            ms: report.ms,
            error: report.error.clone(),
        });
    }
    report
}

/// The run's lock: an engine that locks a whole run (OpenLDAP's host lock) takes it before any
/// step is planned (a plan made while another run changes the group would be stale) and holds
/// it until this run ends; a dry run changes nothing and takes none. drnode: another live run's
/// lock is said first, before any precondition its work breaks; the probe that read it is
/// returned, for the first step's plan.
async fn run_lock(
    rb: &Runbook,
    cl: &Cluster,
    settings: &Settings,
) -> Result<
    (
        RunLock,
        Option<crate::engines::drnode::cluster::ClusterView>,
    ),
    ProcError,
> {
    let guard = match (&settings.engine, settings.dry_run) {
        (Some(e), false) => e.run_lock(&cl.run_id, &cl.operator, &rb.name)?,
        _ => None,
    };
    if settings.engine.is_none() && !settings.break_lock {
        let (in_the_way, view) = cl.lock_in_the_way().await;
        if let Some(why) = in_the_way {
            return Err(ProcError::refused(why).unchanged());
        }
        return Ok((guard, Some(view)));
    }
    Ok((guard, None))
}

/// An engine's lock on a whole run, released when dropped.
type RunLock = Option<Box<dyn std::any::Any + Send>>;

/// The run's journal (none for a dry run), its first entry written: the start, or a resume.
fn open_journal(
    rb: &Runbook,
    cl: &Cluster,
    settings: &Settings,
    resume: &Resume,
    vars: &BTreeMap<String, String>,
) -> Result<Option<Journal>, String> {
    let (Some(dir), false) = (&settings.journal_dir, settings.dry_run) else {
        return Ok(None);
    };
    let first = if resume.verified.is_empty() && resume.run_id.is_empty() {
        Entry::Start {
            run_id: cl.run_id.clone(),
            cluster: cl.name.clone(),
            runbook: rb.name.clone(),
            source: rb.source.clone(),
            text: rb.text.clone(),
            vars: vars.clone(),
            at_ms: now_ms(),
        }
    } else {
        Entry::Resume { at_ms: now_ms() }
    };
    Journal::open(dir, &cl.run_id, &first)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// What every step shares, with the prompt's time counted apart: time at the prompt is the
/// operator's, not the step's.
fn shared_state(settings: &Settings) -> Prompted {
    let asked_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ask: crate::engine::Ask = {
        let (inner, asked_ms) = (settings.ask.clone(), asked_ms.clone());
        Arc::new(move |q: &str| {
            let t = Instant::now();
            let answer = inner(q);
            asked_ms.fetch_add(
                t.elapsed().as_millis() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
            answer
        })
    };
    Prompted {
        shared: Arc::new(Shared {
            ask,
            held: tokio::sync::Mutex::new(None),
            outputs: std::sync::Mutex::new(BTreeMap::new()),
            http: settings.http.clone(),
            notes: std::sync::Mutex::new(Vec::new()),
            fresh: std::sync::Mutex::new(None),
        }),
        asked_ms,
    }
}

/// The steps' shared state and the milliseconds spent at the prompt.
struct Prompted {
    shared: Arc<Shared>,
    asked_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl std::ops::Deref for Prompted {
    type Target = Arc<Shared>;
    fn deref(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// A run under way: what it has done so far.
struct Running<'a> {
    rb: &'a Runbook,
    cl: &'a Cluster,
    settings: &'a Settings,
    shared: Prompted,
    journal: Option<Journal>,
    report: RunbookReport,
    failure: Option<ProcError>,
    changed_steps: Vec<usize>,
    passed_ponr: bool,
}

impl Running<'_> {
    fn journal(&mut self, entry: Entry) {
        if let Some(j) = self.journal.as_mut() {
            j.write(&entry);
        }
    }

    /// Runs each step in turn until one fails; the steps left are reported as not run.
    async fn steps(&mut self, resume: &Resume, scope: &mut Scope) {
        let (rb, settings) = (self.rb, self.settings);
        let total = rb.steps.len();
        let mut would_change = false;
        for (i, step) in rb.steps.iter().enumerate() {
            let (t0, asked_before) = (
                Instant::now(),
                self.shared
                    .asked_ms
                    .load(std::sync::atomic::Ordering::Relaxed),
            );
            let mut rs = RbStep {
                index: i,
                name: step.name.clone(),
                uses: step.uses.clone(),
                // Every path below sets it.
                outcome: RbStepOutcome::NotRun,
                ms: 0,
                note: None,
                actions: Vec::new(),
            };
            if resume.verified.contains(&i) {
                rs.outcome = RbStepOutcome::VerifiedEarlier;
                self.passed_ponr |= step.point_of_no_return;
                if resume.changed.contains(&i) {
                    self.changed_steps.push(i);
                }
                self.report.steps.push(rs);
                continue;
            }
            say(
                settings,
                &format!("== [{}/{total}] {} ({})", i + 1, step.name, step.uses),
            );
            tracing::debug!(step = i, uses = %step.uses, "runbook step");
            let result = run_step(step, scope, self.cl, settings, &self.shared, would_change).await;
            tracing::debug!(step = i, "runbook step ended");
            let asked = self
                .shared
                .asked_ms
                .load(std::sync::atomic::Ordering::Relaxed)
                - asked_before;
            rs.ms = (t0.elapsed().as_millis() as u64).saturating_sub(asked);
            let outputs = std::mem::take(&mut *self.shared.outputs.lock().expect("outputs lock"));
            match result {
                Ok(mut done) => {
                    done.outputs.extend(outputs);
                    rs.outcome = done.outcome;
                    rs.note = done.note;
                    rs.actions = done.actions;
                    would_change |= rs.outcome == RbStepOutcome::WouldRun;
                    if done.changed {
                        self.changed_steps.push(i);
                    }
                    self.passed_ponr |= step.point_of_no_return && !settings.dry_run;
                    if let Some(id) = &step.id {
                        scope.steps.insert(id.clone(), done.outputs.clone());
                    }
                    self.journal(Entry::Step {
                        index: i,
                        name: step.name.clone(),
                        outcome: rs.outcome,
                        ms: rs.ms,
                        note: rs.note.clone(),
                        outputs: done.outputs,
                        changed: done.changed,
                    });
                    self.report.steps.push(rs);
                }
                Err((e, actions, changed)) => {
                    // The reason is said once, on drctl's last line (and in the report).
                    say(settings, "   failed");
                    rs.outcome = RbStepOutcome::Failed;
                    rs.note = Some(e.to_string());
                    rs.actions = actions;
                    if changed {
                        self.changed_steps.push(i);
                    }
                    self.journal(Entry::Step {
                        index: i,
                        name: step.name.clone(),
                        outcome: RbStepOutcome::Failed,
                        ms: rs.ms,
                        note: rs.note.clone(),
                        outputs: BTreeMap::new(),
                        changed,
                    });
                    self.report.steps.push(rs);
                    self.failure = Some(e);
                    break;
                }
            }
        }
        for (index, s) in rb.steps.iter().enumerate().skip(self.report.steps.len()) {
            self.report.steps.push(RbStep {
                index,
                name: s.name.clone(),
                uses: s.uses.clone(),
                outcome: RbStepOutcome::NotRun,
                ms: 0,
                note: None,
                actions: Vec::new(),
            });
        }
    }

    /// The run's outcome; a failure before the point of no return first undoes the steps that
    /// changed something and declare an undo.
    async fn outcome(&mut self, scope: &Scope) -> RunOutcomeKind {
        let exit = match &self.failure {
            None if self.settings.dry_run => return RunOutcomeKind::DryRun,
            // Nothing changed: every changing step was done already (reads and waits may have
            // run).
            None if self.changed_steps.is_empty() => return RunOutcomeKind::AlreadyDone,
            None => return RunOutcomeKind::Succeeded,
            Some(e) => e.exit,
        };
        let mut all_undone = true;
        if !self.passed_ponr {
            all_undone = super::rollback::undo(
                self.rb,
                &self.changed_steps,
                scope,
                self.cl,
                self.settings,
                &self.shared,
                &mut self.report,
            )
            .await;
            // A resume must not skip a step that was undone.
            let undone: Vec<(usize, String, RbStepOutcome)> = self
                .report
                .steps
                .iter()
                .filter(|s| s.outcome.undo())
                .map(|s| (s.index, s.name.clone(), s.outcome))
                .collect();
            for (index, name, outcome) in undone {
                self.journal(Entry::Step {
                    index,
                    name,
                    outcome,
                    ms: 0,
                    note: None,
                    outputs: BTreeMap::new(),
                    changed: true,
                });
            }
        }
        let nothing = self.changed_steps.is_empty() || (!self.passed_ponr && all_undone);
        match exit {
            Exit::Refused if nothing => RunOutcomeKind::Refused,
            Exit::Aborted if nothing => RunOutcomeKind::Aborted,
            _ if nothing => RunOutcomeKind::FailedNothingChanged,
            Exit::TimedOut => RunOutcomeKind::TimedOut,
            _ => RunOutcomeKind::FailedPartWay,
        }
    }

    /// The failure as the report and drctl's last line say it, with how to go on.
    fn said(&mut self, mut e: ProcError, outcome: RunOutcomeKind, run_id: &str) {
        if outcome.part_way() {
            // Earlier steps did change things: the step's own "nothing was changed" misleads.
            e.changed = Some(true);
            let cmd = format!("drctl run --resume {run_id}");
            e.message = format!(
                "{}\n{}: see `drctl status` and the journal {}, then continue with `{cmd}` \
                 (verified steps are skipped)",
                e.message,
                if outcome == RunOutcomeKind::TimedOut {
                    "timed out, the outcome is unknown"
                } else {
                    "the runbook stopped part-way"
                },
                self.report.journal.clone().unwrap_or_default()
            );
            self.report.resume = Some(cmd);
            if outcome == RunOutcomeKind::FailedPartWay {
                e.exit = Exit::Failed;
            }
        } else if e.exit == Exit::TimedOut {
            e.exit = Exit::Failed;
        }
        if outcome == RunOutcomeKind::FailedNothingChanged {
            e.changed = Some(false);
        }
        self.report.error = Some(e.to_string());
        self.report.exit = Some(e.exit);
    }
}

fn fail(
    mut r: RunbookReport,
    started: Instant,
    outcome: RunOutcomeKind,
    msg: String,
    exit: Exit,
) -> RunbookReport {
    r.outcome = outcome;
    r.ms = started.elapsed().as_millis() as u64;
    r.error = Some(msg);
    r.exit = Some(exit);
    r
}
