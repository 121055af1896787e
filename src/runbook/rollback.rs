//! Rollback: when a step fails before any `point_of_no_return` step has run, the steps before it
//! that changed something and declare an `undo:` are undone, newest first, each through the
//! runner like any step (so an undo is checked, applied and verified too).

use std::sync::Arc;

use super::action::Shared;
use super::model::{Runbook, StepSpec};
use super::run::{RbStepOutcome, RunbookReport, Settings};
use super::step::run_step;
use super::template::Scope;
use crate::engines::drnode::Cluster;

/// Undoes what `changed` lists (indices of steps that changed something); true when everything
/// that changed, apart from the failing step itself, was undone.
pub(super) async fn undo(
    rb: &Runbook,
    changed: &[usize],
    scope: &Scope,
    cl: &Cluster,
    settings: &Settings,
    shared: &Arc<Shared>,
    report: &mut RunbookReport,
) -> bool {
    let failing = report.steps.last().map(|s| s.index);
    let mut all = !changed.iter().any(|i| Some(*i) == failing);
    for &i in changed.iter().rev().filter(|i| Some(**i) != failing) {
        let step = &rb.steps[i];
        let Some((uses, with)) = &step.undo else {
            all = false;
            continue;
        };
        let undo_step = StepSpec {
            id: None,
            name: format!("undo {}", step.name),
            uses: uses.clone(),
            with: with.clone(),
            when: None,
            confirm: None,
            timeout: step.timeout,
            retries: 1,
            point_of_no_return: false,
            undo: None,
        };
        if settings.progress {
            eprintln!("== undo [{}] {} ({uses})", i + 1, step.name);
        }
        let ok = run_step(&undo_step, scope, cl, settings, shared, false)
            .await
            .is_ok();
        if let Some(s) = report.steps.iter_mut().find(|s| s.index == i) {
            s.outcome = if ok {
                RbStepOutcome::Undone
            } else {
                RbStepOutcome::UndoFailed
            };
        }
        all &= ok;
    }
    all
}
