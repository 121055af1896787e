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
        cl = super::with_run_id(cl, &r.run_id);
    }
    let resume = resume.unwrap_or_default();
    let run_id = cl.run_id.clone();
    let mut report = RunbookReport {
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
    // An engine that locks a whole run (OpenLDAP's host lock) takes it before any step is
    // planned (a plan made while another run changes the group would be stale) and holds it
    // until this run ends. A dry run changes nothing and takes none.
    let _run_lock = match (&settings.engine, settings.dry_run) {
        (Some(e), false) => match e.run_lock(&run_id, &cl.operator, &rb.name) {
            Ok(guard) => guard,
            Err(e) => {
                return fail(
                    report,
                    started,
                    RunOutcomeKind::Refused,
                    e.to_string(),
                    e.exit,
                )
            }
        },
        _ => None,
    };
    // drnode: another live run's lock is said first, before any precondition its work breaks.
    if settings.engine.is_none() && !settings.break_lock {
        if let Some(why) = cl.lock_in_the_way().await {
            let e = ProcError::refused(why).unchanged();
            return fail(
                report,
                started,
                RunOutcomeKind::Refused,
                e.to_string(),
                e.exit,
            );
        }
    }
    let mut journal = match (&settings.journal_dir, settings.dry_run) {
        (Some(dir), false) => match Journal::open(dir, &run_id) {
            Ok(j) => Some(j),
            Err(e) => {
                return fail(
                    report,
                    started,
                    RunOutcomeKind::Refused,
                    e.to_string(),
                    Exit::Usage,
                )
            }
        },
        _ => None,
    };
    if let Some(j) = journal.as_mut() {
        report.journal = Some(j.path.display().to_string());
        j.write(&if resume.verified.is_empty() && resume.run_id.is_empty() {
            Entry::Start {
                run_id: run_id.clone(),
                cluster: cl.name.clone(),
                runbook: rb.name.clone(),
                source: rb.source.clone(),
                text: rb.text.clone(),
                vars: vars.clone(),
                at_ms: now_ms(),
            }
        } else {
            Entry::Resume { at_ms: now_ms() }
        });
    }
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
    // Time at the prompt is the operator's, not the step's: counted apart, left out of the
    // step times.
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
    let shared = Arc::new(Shared {
        ask,
        held: tokio::sync::Mutex::new(None),
        outputs: std::sync::Mutex::new(BTreeMap::new()),
        http: settings.http.clone(),
        notes: std::sync::Mutex::new(Vec::new()),
    });
    let total = rb.steps.len();
    let mut failure: Option<ProcError> = None;
    let mut changed_steps: Vec<usize> = Vec::new();
    let mut passed_ponr = false;
    let mut would_change = false;
    for (i, step) in rb.steps.iter().enumerate() {
        let (t0, asked_before) = (
            Instant::now(),
            asked_ms.load(std::sync::atomic::Ordering::Relaxed),
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
            passed_ponr |= step.point_of_no_return;
            if resume.changed.contains(&i) {
                changed_steps.push(i);
            }
            report.steps.push(rs);
            continue;
        }
        say(
            settings,
            &format!("== [{}/{total}] {} ({})", i + 1, step.name, step.uses),
        );
        let result = run_step(step, &scope, &cl, settings, &shared, would_change).await;
        let asked = asked_ms.load(std::sync::atomic::Ordering::Relaxed) - asked_before;
        rs.ms = (t0.elapsed().as_millis() as u64).saturating_sub(asked);
        let outputs = std::mem::take(&mut *shared.outputs.lock().expect("outputs lock"));
        match result {
            Ok(mut done) => {
                done.outputs.extend(outputs);
                rs.outcome = done.outcome;
                rs.note = done.note;
                rs.actions = done.actions;
                would_change |= rs.outcome == RbStepOutcome::WouldRun;
                if done.changed {
                    changed_steps.push(i);
                }
                passed_ponr |= step.point_of_no_return && !settings.dry_run;
                if let Some(id) = &step.id {
                    scope.steps.insert(id.clone(), done.outputs.clone());
                }
                if let Some(j) = journal.as_mut() {
                    j.write(&Entry::Step {
                        index: i,
                        name: step.name.clone(),
                        outcome: rs.outcome,
                        ms: rs.ms,
                        note: rs.note.clone(),
                        outputs: done.outputs,
                        changed: done.changed,
                    });
                }
                report.steps.push(rs);
            }
            Err((e, actions, changed)) => {
                // The reason is said once, on drctl's last line (and in the report).
                say(settings, "   failed");
                rs.outcome = RbStepOutcome::Failed;
                rs.note = Some(e.to_string());
                rs.actions = actions;
                if changed {
                    changed_steps.push(i);
                }
                if let Some(j) = journal.as_mut() {
                    j.write(&Entry::Step {
                        index: i,
                        name: step.name.clone(),
                        outcome: RbStepOutcome::Failed,
                        ms: rs.ms,
                        note: rs.note.clone(),
                        outputs: BTreeMap::new(),
                        changed,
                    });
                }
                report.steps.push(rs);
                failure = Some(e);
                break;
            }
        }
    }
    for s in rb.steps.iter().enumerate().skip(report.steps.len()) {
        report.steps.push(RbStep {
            index: s.0,
            name: s.1.name.clone(),
            uses: s.1.uses.clone(),
            outcome: RbStepOutcome::NotRun,
            ms: 0,
            note: None,
            actions: Vec::new(),
        });
    }
    let outcome = match &failure {
        None if settings.dry_run => RunOutcomeKind::DryRun,
        // Nothing changed: every changing step was done already (reads and waits may have run).
        None if changed_steps.is_empty() => RunOutcomeKind::AlreadyDone,
        None => RunOutcomeKind::Succeeded,
        Some(e) => {
            let mut all_undone = true;
            if !passed_ponr {
                all_undone = super::rollback::undo(
                    rb,
                    &changed_steps,
                    &scope,
                    &cl,
                    settings,
                    &shared,
                    &mut report,
                )
                .await;
                // A resume must not skip a step that was undone.
                if let Some(j) = journal.as_mut() {
                    for st in report.steps.iter().filter(|s| s.outcome.undo()) {
                        j.write(&Entry::Step {
                            index: st.index,
                            name: st.name.clone(),
                            outcome: st.outcome,
                            ms: 0,
                            note: None,
                            outputs: BTreeMap::new(),
                            changed: true,
                        });
                    }
                }
            }
            let nothing = changed_steps.is_empty() || (!passed_ponr && all_undone);
            if nothing {
                match e.exit {
                    Exit::Refused => RunOutcomeKind::Refused,
                    Exit::Aborted => RunOutcomeKind::Aborted,
                    _ => RunOutcomeKind::FailedNothingChanged,
                }
            } else if e.exit == Exit::TimedOut {
                RunOutcomeKind::TimedOut
            } else {
                RunOutcomeKind::FailedPartWay
            }
        }
    };
    // The run's lock goes with it on every node, even one this process did not lock (a resumed
    // run whose steps were all done took none, while the killed run's lock stays behind).
    let held = shared.held.lock().await.take();
    if !settings.dry_run {
        let released = cl
            .release_run_lock(&held.unwrap_or_default(), !resume.run_id.is_empty())
            .await;
        shared.notes.lock().expect("notes lock").extend(released);
    }
    report.notes = std::mem::take(&mut *shared.notes.lock().expect("notes lock"));
    report.outcome = outcome;
    report.ms = started.elapsed().as_millis() as u64;
    if let Some(mut e) = failure {
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
                report.journal.clone().unwrap_or_default()
            );
            report.resume = Some(cmd);
            if outcome == RunOutcomeKind::FailedPartWay {
                e.exit = Exit::Failed;
            }
        } else if e.exit == Exit::TimedOut {
            e.exit = Exit::Failed;
        }
        if outcome == RunOutcomeKind::FailedNothingChanged {
            e.changed = Some(false);
        }
        report.error = Some(e.to_string());
        report.exit = Some(e.exit);
    }
    if let Some(j) = journal.as_mut() {
        j.write(&Entry::End {
            outcome,
            ms: report.ms,
            error: report.error.clone(),
        });
    }
    report
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
