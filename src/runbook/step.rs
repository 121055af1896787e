//! One runbook step: `when`, templates, a plan from a fresh probe (the expansion of its action),
//! and the procedures' runner, with the step's timeout and retries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::action::{RunbookAction, RunbookCtx, Shared};
use super::expand::{build, Args, Expansion};
use super::model::StepSpec;
use super::run::{RbStepOutcome, Settings};
use super::template::{truthy, Scope};
use crate::engine::{
    execute, Plan, ProcError, RunOptions, RunOutcomeKind, StepEnv, StepOutcome, StepReport,
};
use crate::engines::drnode::Cluster;
use crate::util::exit::Exit;

fn say(s: &Settings, line: &str) {
    if s.progress {
        eprintln!(
            "{}",
            crate::util::words::fold_for_stderr(&crate::util::redact::redact(line))
        );
    }
}

pub(super) struct StepDone {
    pub outcome: RbStepOutcome,
    pub note: Option<String>,
    pub actions: Vec<StepReport<RunbookAction>>,
    pub outputs: BTreeMap<String, String>,
    pub changed: bool,
}

type StepFailure = (ProcError, Vec<StepReport<RunbookAction>>, bool);

/// Renders, plans and runs one step (with its retries).
pub(super) async fn run_step(
    step: &StepSpec,
    scope: &Scope,
    cl: &Cluster,
    settings: &Settings,
    shared: &Arc<Shared>,
    after_change: bool,
) -> Result<StepDone, StepFailure> {
    let usage = |m: String| {
        (
            ProcError::usage(format!("{}: {m}", step.name)),
            Vec::new(),
            false,
        )
    };
    if let Some(w) = &step.when {
        let r = scope.render(w).map_err(usage)?;
        if !truthy(&r) {
            return Ok(StepDone {
                outcome: RbStepOutcome::Skipped,
                note: Some(format!("when: {r}")),
                actions: Vec::new(),
                outputs: BTreeMap::new(),
                changed: false,
            });
        }
    }
    let with = scope.render_with(&step.uses, &step.with).map_err(usage)?;
    let map = match with {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    // An older name of an engine step is planned as the step it is now.
    let (uses, renames) = super::registry::canonical(&step.uses);
    let mut map = map;
    for (old, new) in renames {
        if let Some(v) = map.remove(*old) {
            map.insert(new.to_string(), v);
        }
    }
    let args = Args { uses, map };
    let mut scl = cl.clone();
    scl.step_timeout = step_timeout(step.timeout, settings.step_timeout);
    let cx = RunbookCtx {
        cluster: scl.clone(),
        shared: shared.clone(),
        dry_run: settings.dry_run,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let engine = settings.engine.as_ref().filter(|e| e.plans(args.uses));
        let built = if let Some(engine) = engine {
            let env = StepEnv {
                run_id: cl.run_id.clone(),
                step_timeout: scl.step_timeout,
                export_dir: settings.export_dir.clone(),
            };
            engine.plan(&args, &env).await.map(|p| Expansion {
                plan: Plan {
                    procedure: p.plan.procedure,
                    summary: p.plan.summary,
                    steps: p
                        .plan
                        .steps
                        .into_iter()
                        .map(|s| s.map(RunbookAction::Engine))
                        .collect(),
                    confirm: p.plan.confirm,
                },
                outputs: p.outputs,
            })
        } else {
            // The run's probe from right before its first step, if no step read it yet.
            let fresh = shared.fresh.lock().expect("fresh lock").take();
            let fresh_used = fresh.is_some();
            let view = match fresh {
                Some(view) => view,
                None => scl.probe().await,
            };
            tracing::debug!(reused = fresh_used, "probed");
            let built = build(&args, &scl, &view, &settings.export_dir).await;
            if built.is_ok() {
                cx.cluster.prepare(&view);
            }
            built
        };
        tracing::debug!("planned");
        let exp = match built {
            Ok(e) => e,
            // A dry run cannot plan a step whose preconditions an earlier step would create.
            Err(e) if settings.dry_run && after_change => {
                return Ok(StepDone {
                    outcome: RbStepOutcome::PlannedWhenReached,
                    note: Some(e.to_string()),
                    actions: Vec::new(),
                    outputs: BTreeMap::new(),
                    changed: false,
                });
            }
            Err(e) => return Err((e, Vec::new(), false)),
        };
        let mut plan = exp.plan;
        // A procedure's own question names what it found (the writes that may be lost, the
        // records exported); the step's `confirm:` asks where the procedure would not.
        if let (None, Some(q)) = (&plan.confirm, &step.confirm) {
            // Shown to the operator only: no secret in it.
            plan.confirm = Some(crate::util::redact::redact(
                &scope.render(q).map_err(usage)?,
            ));
        }
        for line in &plan.summary {
            say(settings, &format!("   {line}"));
        }
        let opts = RunOptions {
            dry_run: settings.dry_run,
            break_lock: settings.break_lock,
            lock_ttl: Duration::from_secs(600),
            confirm: &*shared.ask,
            progress: settings.progress,
        };
        let sub = execute(&cx, plan, &opts).await;
        let changed = sub.outcome.part_way()
            || sub
                .steps
                .iter()
                .any(|s| s.outcome == StepOutcome::Done && crate::engine::Act::changes(&s.action));
        if sub.ok() {
            let would_run = sub.steps.iter().any(|s| s.outcome == StepOutcome::WouldRun);
            let outcome = match sub.outcome {
                RunOutcomeKind::DryRun if would_run => RbStepOutcome::WouldRun,
                RunOutcomeKind::DryRun => RbStepOutcome::WouldSkip,
                RunOutcomeKind::AlreadyDone => RbStepOutcome::AlreadyDone,
                _ => RbStepOutcome::Done,
            };
            let note = sub.steps.iter().filter_map(|s| s.note.clone()).next_back();
            return Ok(StepDone {
                outcome,
                note,
                actions: sub.steps,
                outputs: exp.outputs,
                changed,
            });
        }
        let exit = match sub.exit.unwrap_or(Exit::Failed) {
            Exit::Failed if sub.timed_out => Exit::TimedOut,
            e => e,
        };
        let retry =
            attempt <= step.retries as usize && matches!(exit, Exit::Failed | Exit::TimedOut);
        // The error without the runner's own "rerun the same command" hint: the runbook's to give.
        let err = sub
            .failure
            .clone()
            .unwrap_or_else(|| ProcError::failed(sub.outcome.to_string()))
            .with_exit(exit);
        if !retry {
            return Err((err, sub.steps, changed));
        }
        say(
            settings,
            &format!("   attempt {attempt} failed ({err}); retrying"),
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How long a step may take: `--wait`, or the step's own `timeout:` when it is longer. A
/// runbook's timeout gives a slow step (a catch-up) more time; it never cuts the operator's
/// `--wait` short (an OpenLDAP group slower than the runbook's author guessed).
pub(super) fn step_timeout(own: Option<Duration>, wait: Duration) -> Duration {
    own.map_or(wait, |t| t.max(wait))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn a_step_timeout_extends_wait_and_never_cuts_it() {
        let s = Duration::from_secs;
        assert_eq!(super::step_timeout(None, s(30)), s(30));
        assert_eq!(super::step_timeout(Some(s(120)), s(30)), s(120));
        assert_eq!(super::step_timeout(Some(s(60)), s(300)), s(300));
    }
}
