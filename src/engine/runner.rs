//! Runs a plan: check every step first (a dry run stops there; if all are done, the run is
//! "already done" and changes nothing), confirm destructive plans, take the cluster lock, then
//! check → apply → verify each step, undoing earlier steps that declare an undo when a later
//! one fails. Progress goes to stderr; the report is returned for a table or JSON.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::act::{Act, RunContext};
use super::outcome::{RunOutcomeKind, StepOutcome};
use super::plan::Plan;
use super::step::Check;
use super::ProcError;
use crate::util::exit::Exit;

/// Asks the operator a yes/no question; Err when nobody can be asked.
pub(crate) type Confirm = dyn Fn(&str) -> Result<bool, ProcError> + Send + Sync;

pub(crate) struct RunOptions<'a> {
    pub dry_run: bool,
    pub break_lock: bool,
    pub lock_ttl: Duration,
    pub confirm: &'a Confirm,
    /// Print step progress on stderr.
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport<A> {
    pub step: String,
    #[serde(flatten)]
    pub action: A,
    pub outcome: StepOutcome,
    pub ms: u64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunReport<A> {
    pub procedure: String,
    pub run_id: String,
    pub outcome: RunOutcomeKind,
    pub summary: Vec<String>,
    pub steps: Vec<StepReport<A>>,
    pub ms: u64,
    pub error: Option<String>,
    /// The error as it stopped the run, before the runner's "rerun the same command" hint
    /// (which `error` ends with when it stopped part-way): a runbook gives its own.
    #[serde(skip)]
    pub failure: Option<ProcError>,
    #[serde(skip)]
    pub exit: Option<Exit>,
    /// The failure was a timeout, even if the exit says "failed" because nothing changed (a
    /// runbook that changed things in earlier steps reports it as "timed out").
    #[serde(skip)]
    pub timed_out: bool,
}

impl<A> RunReport<A> {
    pub(crate) fn ok(&self) -> bool {
        self.exit.is_none()
    }
}

/// Prints a progress line on stderr without garbling the spinner (hidden off a terminal).
fn say(opts: &RunOptions<'_>, bar: &indicatif::ProgressBar, line: &str) {
    if opts.progress {
        bar.suspend(|| eprintln!("{}", crate::util::redact::redact(line)));
    }
}

pub(crate) async fn execute<A: Act>(
    cl: &A::Ctx,
    plan: Plan<A>,
    opts: &RunOptions<'_>,
) -> RunReport<A> {
    let started = Instant::now();
    let mut report = RunReport {
        procedure: plan.procedure.clone(),
        run_id: cl.run_id().to_string(),
        // Every return goes through `finish`, which sets it.
        outcome: RunOutcomeKind::FailedNothingChanged,
        summary: plan.summary.clone(),
        steps: plan
            .steps
            .iter()
            .map(|s| StepReport {
                step: s.action.describe(),
                action: s.action.clone(),
                outcome: StepOutcome::NotRun,
                ms: 0,
                note: None,
            })
            .collect(),
        ms: 0,
        error: None,
        failure: None,
        exit: None,
        timed_out: false,
    };
    let finish = |mut report: RunReport<A>,
                  outcome: RunOutcomeKind,
                  err: Option<ProcError>,
                  hint: Option<String>| {
        report.outcome = outcome;
        report.ms = started.elapsed().as_millis() as u64;
        if let Some(e) = err {
            report.error = Some(format!("{e}{}", hint.unwrap_or_default()));
            report.exit = Some(e.exit);
            report.failure = Some(e);
        }
        report
    };
    if let Err((outcome, e)) = preflight(cl, &plan, opts, &mut report).await {
        return finish(report, outcome, e, None);
    }
    tracing::debug!(procedure = %plan.procedure, "preflight checked");
    let run_id = cl.run_id().to_string();
    let locked = match cl
        .lock_and_start(
            &plan.procedure,
            opts.lock_ttl,
            opts.break_lock,
            &format!("{} started (run {run_id})", plan.procedure),
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return finish(report, RunOutcomeKind::Refused, Some(e), None),
    };
    tracing::debug!(?locked, "locked, start recorded");
    let mut run = Applying {
        spinner: if opts.progress {
            let s = indicatif::ProgressBar::new_spinner();
            s.enable_steady_tick(Duration::from_millis(100));
            s
        } else {
            indicatif::ProgressBar::hidden()
        },
        changed: false,
        applied: Vec::new(),
        past_ponr: None,
        unanswered: false,
        failure: None,
    };
    run.steps(cl, &plan, opts, &mut report).await;
    run.spinner.finish_and_clear();
    let outcome = run.outcome(cl, &plan, opts, &mut report).await;
    cl.record(
        &locked,
        "procedure",
        &format!("{} {outcome} (run {run_id})", plan.procedure),
        Some(run.failure.is_none()),
    )
    .await;
    cl.unlock(&locked).await;
    report.timed_out = run
        .failure
        .as_ref()
        .is_some_and(|e| e.exit == Exit::TimedOut);
    let (failure, hint) = match run.failure.take() {
        Some(e) => {
            let (e, hint) = said(e, outcome, run.past_ponr, &plan);
            (Some(e), hint)
        }
        None => (None, None),
    };
    finish(report, outcome, failure, hint)
}

/// Checks every step against the cluster as it is now (the same probes as a real run), then
/// stops a dry run, a run with nothing to do, or one the operator does not confirm: Err with
/// the outcome.
async fn preflight<A: Act>(
    cl: &A::Ctx,
    plan: &Plan<A>,
    opts: &RunOptions<'_>,
    report: &mut RunReport<A>,
) -> Result<(), (RunOutcomeKind, Option<ProcError>)> {
    let mut todo = 0;
    // Every step's check at once: each only reads (a dry run runs them too), and each step is
    // checked again right before it runs. In step order, the first error decides.
    let checks = {
        // Forgotten however the checks end, cancelled too: no later check reads it.
        let _reading = Reading::take(cl).await;
        futures_util::future::join_all(plan.steps.iter().map(|s| s.action.check(cl))).await
    };
    for (i, check) in checks.into_iter().enumerate() {
        match check {
            Ok(Check::Done(why)) => {
                report.steps[i].outcome = if opts.dry_run {
                    StepOutcome::WouldSkip
                } else {
                    StepOutcome::AlreadyDone
                };
                report.steps[i].note = Some(why);
            }
            Ok(Check::ToDo) => {
                report.steps[i].outcome = if opts.dry_run {
                    StepOutcome::WouldRun
                } else {
                    StepOutcome::ToDo
                };
                todo += 1;
            }
            Err(e) => return Err((RunOutcomeKind::FailedNothingChanged, Some(e))),
        }
    }
    if opts.dry_run {
        return Err((RunOutcomeKind::DryRun, None));
    }
    if todo == 0 {
        return Err((RunOutcomeKind::AlreadyDone, None));
    }
    match plan.confirm.as_ref().map(|q| (opts.confirm)(q)) {
        None | Some(Ok(true)) => Ok(()),
        Some(Ok(false)) => Err((
            RunOutcomeKind::Aborted,
            Some(ProcError::aborted("aborted by the operator").unchanged()),
        )),
        Some(Err(e)) => Err((RunOutcomeKind::Refused, Some(e))),
    }
}

/// A preflight's reading of the cluster, forgotten when dropped.
struct Reading<'a, C: RunContext>(&'a C);

impl<'a, C: RunContext> Reading<'a, C> {
    async fn take(cl: &'a C) -> Reading<'a, C> {
        // Held before the probe: a cancelled probe forgets whatever it left.
        let reading = Reading(cl);
        cl.take_reading().await;
        reading
    }
}

impl<C: RunContext> Drop for Reading<'_, C> {
    fn drop(&mut self) {
        self.0.forget_reading();
    }
}

/// A run past its preflight: what it changed and how it stopped.
struct Applying {
    spinner: indicatif::ProgressBar,
    changed: bool,
    /// The steps that changed something, in order.
    applied: Vec<usize>,
    /// The point of no return this run passed (or found passed), if any.
    past_ponr: Option<usize>,
    /// A change request went unanswered: "nothing was changed" cannot be said.
    unanswered: bool,
    failure: Option<ProcError>,
}

/// What one step did, for the run to take in once it ended.
#[derive(Default)]
struct Effects {
    /// Its action changes something and was applied.
    changed: bool,
    /// Its change request went unanswered.
    unanswered: bool,
    /// It is a point of no return that took effect (or was found done).
    past_ponr: bool,
}

impl Applying {
    /// check → apply → verify each step (steps marked `alongside` together), until one fails.
    async fn steps<A: Act>(
        &mut self,
        cl: &A::Ctx,
        plan: &Plan<A>,
        opts: &RunOptions<'_>,
        report: &mut RunReport<A>,
    ) {
        let total = plan.steps.len();
        let mut i = 0;
        while i < total {
            let end = if plan.steps[i].alongside {
                i + plan.steps[i..].iter().take_while(|s| s.alongside).count()
            } else {
                i + 1
            };
            for (k, step) in plan.steps.iter().enumerate().take(end).skip(i) {
                self.spinner
                    .set_message(crate::util::redact::redact(&step.action.describe()));
                say(
                    opts,
                    &self.spinner,
                    &format!("[{}/{total}] {}", k + 1, step.action.describe()),
                );
            }
            let ended = futures_util::future::join_all((i..end).map(|k| async move {
                let t0 = Instant::now();
                let (result, effects) = run_step(cl, k, &plan.steps[k]).await;
                (k, result, effects, t0.elapsed().as_millis() as u64)
            }))
            .await;
            for (k, result, effects, ms) in ended {
                report.steps[k].ms = ms;
                if effects.changed {
                    self.changed = true;
                    self.applied.push(k);
                }
                self.unanswered |= effects.unanswered;
                if effects.past_ponr {
                    self.past_ponr = Some(k);
                }
                let named = |what: &str| {
                    if end - i > 1 {
                        format!("      [{}] {what}", k + 1)
                    } else {
                        format!("      {what}")
                    }
                };
                match result {
                    Ok((outcome, note)) => {
                        say(
                            opts,
                            &self.spinner,
                            &named(&format!(
                                "{outcome} ({ms} ms){}",
                                note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
                            )),
                        );
                        report.steps[k].outcome = outcome;
                        report.steps[k].note = note;
                    }
                    Err(e) => {
                        // The reason is said once: in the report and on drctl's last line.
                        say(opts, &self.spinner, &named("failed"));
                        report.steps[k].outcome = StepOutcome::Failed;
                        report.steps[k].note = Some(e.to_string());
                        // The first step to fail, in the plan's order, is the run's failure.
                        self.failure.get_or_insert(e);
                    }
                }
            }
            if self.failure.is_some() {
                break;
            }
            i = end;
        }
    }

    /// The run's outcome; on a failure before the point of no return, what declared an undo is
    /// undone, newest first (if that was all it changed, nothing is). Past the point of no
    /// return nothing is undone: it is finished forward.
    async fn outcome<A: Act>(
        &self,
        cl: &A::Ctx,
        plan: &Plan<A>,
        opts: &RunOptions<'_>,
        report: &mut RunReport<A>,
    ) -> RunOutcomeKind {
        let Some(failure) = &self.failure else {
            return RunOutcomeKind::Succeeded;
        };
        let mut undone_all = self.past_ponr.is_none();
        for &i in self
            .applied
            .iter()
            .rev()
            .filter(|_| self.past_ponr.is_none())
        {
            match &plan.steps[i].undo {
                Some(undo) => {
                    say(
                        opts,
                        &self.spinner,
                        &format!("      undo: {}", undo.describe()),
                    );
                    let ok = match undo.apply(cl).await {
                        Ok(_) => undo.verify(cl).await.is_ok(),
                        Err(_) => false,
                    };
                    report.steps[i].outcome = if ok {
                        StepOutcome::Undone
                    } else {
                        StepOutcome::UndoFailed
                    };
                    undone_all &= ok;
                }
                None => undone_all = false,
            }
        }
        let timed_out = failure.exit == Exit::TimedOut;
        if self.past_ponr.is_none() && !self.unanswered && (!self.changed || undone_all) {
            RunOutcomeKind::FailedNothingChanged
        } else if timed_out {
            RunOutcomeKind::TimedOut
        } else {
            RunOutcomeKind::FailedPartWay
        }
    }
}

/// check → apply → verify of one step, and what it did (also when it failed part-way).
async fn run_step<A: Act>(
    cl: &A::Ctx,
    i: usize,
    step: &super::step::Step<A>,
) -> (Result<(StepOutcome, Option<String>), ProcError>, Effects) {
    let mut effects = Effects::default();
    let check = match step.action.check(cl).await {
        Ok(c) => c,
        Err(e) => return (Err(e), effects),
    };
    tracing::debug!(step = i, "checked");
    if let Check::Done(why) = check {
        effects.past_ponr = step.point_of_no_return;
        return (Ok((StepOutcome::AlreadyDone, Some(why))), effects);
    }
    let applied_now = step.action.apply(cl).await;
    tracing::debug!(step = i, "applied");
    effects.unanswered = applied_now.as_ref().is_err_and(|e| e.unanswered) && step.action.changes();
    if step.point_of_no_return {
        // A request that failed may still have taken effect (the answer was lost): ask
        // again before deciding whether earlier steps may be undone.
        effects.past_ponr = match &applied_now {
            Ok(_) => true,
            Err(_) => matches!(step.action.check(cl).await, Ok(Check::Done(_)) | Err(_)),
        };
    }
    let note = match applied_now {
        Ok(note) => note,
        Err(e) => return (Err(e), effects),
    };
    effects.changed = step.action.changes();
    let verified = step.action.verify(cl).await;
    tracing::debug!(step = i, "verified");
    (verified.map(|v| (StepOutcome::Done, note.or(v))), effects)
}

/// The failure as it is said: "nothing was changed", or where it stopped and how to finish.
fn said<A: Act>(
    mut e: ProcError,
    outcome: RunOutcomeKind,
    past_ponr: Option<usize>,
    plan: &Plan<A>,
) -> (ProcError, Option<String>) {
    let mut hint = None;
    match outcome {
        RunOutcomeKind::FailedNothingChanged => {
            e.changed = Some(false);
            if e.exit == Exit::TimedOut {
                e.exit = Exit::Failed;
            }
        }
        RunOutcomeKind::FailedPartWay | RunOutcomeKind::TimedOut => {
            let ponr = past_ponr
                .map(|i| {
                    format!(
                        "\nit stopped past its point of no return ({}): nothing before it was \
                         undone, as undoing would let the old primary take writes beside the \
                         new epoch",
                        plan.steps[i].action.describe()
                    )
                })
                .unwrap_or_default();
            // Earlier steps did change things: a "nothing was changed" of its own misleads.
            e.message = format!("{}{ponr}", e.message);
            e.changed = Some(true);
            hint = Some(
                "\nthe procedure stopped part-way: see `drctl status`, then rerun the same \
                 command to finish it (completed steps are skipped)"
                    .to_string(),
            );
        }
        _ => {}
    }
    (e, hint)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::engine::Step;

    /// A step that waits at a barrier shared by the steps meant to run together (run one
    /// after another, the first would wait alone until its timeout), then fails if told to.
    #[derive(Debug, Clone, Serialize)]
    struct Meet {
        name: &'static str,
        meet: bool,
        fail: bool,
    }

    struct Ctx {
        barrier: tokio::sync::Barrier,
        applied: Mutex<Vec<&'static str>>,
    }

    impl RunContext for Ctx {
        fn run_id(&self) -> &str {
            "test"
        }
    }

    impl Act for Meet {
        type Ctx = Ctx;
        fn describe(&self) -> String {
            self.name.to_string()
        }
        async fn check(&self, _: &Ctx) -> Result<Check, ProcError> {
            Ok(Check::ToDo)
        }
        async fn apply(&self, cl: &Ctx) -> Result<Option<String>, ProcError> {
            cl.applied.lock().expect("log").push(self.name);
            if self.meet {
                tokio::time::timeout(Duration::from_secs(5), cl.barrier.wait())
                    .await
                    .map_err(|_| ProcError::timed_out(format!("{} met nobody", self.name)))?;
            }
            if self.fail {
                return Err(ProcError::failed(format!("{} failed", self.name)));
            }
            Ok(None)
        }
        async fn verify(&self, _: &Ctx) -> Result<Option<String>, ProcError> {
            Ok(None)
        }
    }

    async fn run(steps: Vec<Step<Meet>>, meeting: usize) -> (RunReport<Meet>, Vec<&'static str>) {
        let cl = Ctx {
            barrier: tokio::sync::Barrier::new(meeting),
            applied: Mutex::new(Vec::new()),
        };
        let mut plan = Plan::new("test");
        steps.into_iter().for_each(|s| {
            plan.step(s);
        });
        let confirm = |_: &str| Ok(true);
        let opts = RunOptions {
            dry_run: false,
            break_lock: false,
            lock_ttl: Duration::from_secs(30),
            confirm: &confirm,
            progress: false,
        };
        let report = execute(&cl, plan, &opts).await;
        (report, cl.applied.into_inner().expect("log"))
    }

    fn meet(name: &'static str, fail: bool) -> Step<Meet> {
        Step::new(Meet {
            name,
            meet: true,
            fail,
        })
        .alongside()
    }

    /// A step on its own after them.
    fn after() -> Step<Meet> {
        Step::new(Meet {
            name: "after",
            meet: false,
            fail: false,
        })
    }

    #[tokio::test]
    async fn steps_alongside_run_at_the_same_time() {
        let (report, applied) = run(vec![meet("a", false), meet("b", false), after()], 2).await;
        assert!(report.ok(), "{:?}", report.error);
        assert_eq!(report.outcome, RunOutcomeKind::Succeeded);
        assert!(report.steps.iter().all(|s| s.outcome == StepOutcome::Done));
        assert_eq!(
            applied.last(),
            Some(&"after"),
            "the next step waits for both"
        );
    }

    #[tokio::test]
    async fn the_first_failure_among_steps_alongside_stops_the_run_once_all_ended() {
        let (report, applied) = run(vec![meet("a", true), meet("b", false), after()], 2).await;
        assert_eq!(report.steps[0].outcome, StepOutcome::Failed);
        assert_eq!(report.steps[1].outcome, StepOutcome::Done);
        assert_eq!(report.steps[2].outcome, StepOutcome::ToDo, "left to do");
        assert!(!applied.contains(&"after"));
        let error = report.error.unwrap_or_default();
        assert!(error.starts_with("a failed"), "{error}");
        assert_eq!(report.outcome, RunOutcomeKind::FailedPartWay);
    }
}
