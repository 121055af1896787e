//! One runbook step: `when`, templates, a plan from a fresh probe (the expansion of its action),
//! and the procedures' runner, with the step's timeout and retries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::action::{RunbookAction, RunbookCtx, Shared};
use super::expand::{build, Args};
use super::model::StepSpec;
use super::run::{RbStepOutcome, Settings};
use super::template::{truthy, Scope};
use crate::engine::{execute, ProcError, RunOptions, RunOutcomeKind, StepOutcome, StepReport};
use crate::engines::drnode::Cluster;
use crate::util::exit::Exit;

fn say(s: &Settings, line: &str) {
    if s.progress {
        eprintln!("{}", crate::util::redact::redact(line));
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
    let args = Args {
        uses: &step.uses,
        map,
    };
    let mut scl = cl.clone();
    scl.step_timeout = step.timeout.unwrap_or(settings.step_timeout);
    let cx = RunbookCtx {
        cluster: scl.clone(),
        shared: shared.clone(),
        dry_run: settings.dry_run,
        ldap: settings
            .ldap
            .as_deref()
            .map(|l| crate::engines::openldap::runbook::for_step(l, &cl.run_id, scl.step_timeout)),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let built = if args.uses.starts_with("openldap.") {
            crate::engines::openldap::runbook::build(
                &args,
                cx.ldap.as_deref(),
                &settings.export_dir,
            )
            .await
        } else {
            let view = scl.probe().await;
            build(&args, &scl, &view, &settings.export_dir).await
        };
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
            confirm: &*settings.ask,
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
