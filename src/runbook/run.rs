//! What a runbook run takes and gives: its settings, what a resumed run continues from, and
//! its report (apart from the engine that runs it, so the steps and the rollback it calls can
//! use them without importing it back).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::action::{Ask, RunbookAction};
use crate::engine::{RunOutcomeKind, StepReport};
use crate::util::exit::Exit;

pub struct Settings {
    pub dry_run: bool,
    pub ask: Ask,
    pub progress: bool,
    pub break_lock: bool,
    /// How long a step may take to take effect, unless it says `timeout:`.
    pub step_timeout: Duration,
    /// Where journals go; None writes none.
    pub journal_dir: Option<PathBuf>,
    pub export_dir: PathBuf,
    pub http: reqwest::Client,
    /// The engine the run is bound to, for the steps it plans itself (`Engine::plans`);
    /// None runs drnode's native steps only.
    pub engine: Option<Arc<dyn crate::engine::Engine>>,
}

/// What a resumed run continues from.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    pub run_id: String,
    pub verified: BTreeSet<usize>,
    pub outputs: BTreeMap<usize, BTreeMap<String, String>>,
    /// The cluster the run started on.
    pub cluster: String,
    /// Verified steps that changed something (a later failure reports them, may undo them).
    pub changed: BTreeSet<usize>,
}

/// What became of one runbook step: the outcomes of its plan's run, and the runbook's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RbStepOutcome {
    #[serde(rename = "done")]
    Done,
    #[serde(rename = "already done")]
    AlreadyDone,
    #[serde(rename = "would run")]
    WouldRun,
    #[serde(rename = "would skip")]
    WouldSkip,
    /// Its `when:` was false.
    #[serde(rename = "skipped")]
    Skipped,
    /// A dry run could not plan it before an earlier step changes the cluster.
    #[serde(rename = "planned when reached")]
    PlannedWhenReached,
    /// A resumed run found it verified by the run it continues.
    #[serde(rename = "verified earlier")]
    VerifiedEarlier,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "undone")]
    Undone,
    #[serde(rename = "undo failed")]
    UndoFailed,
    #[serde(rename = "not run")]
    NotRun,
}

impl RbStepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RbStepOutcome::Done => "done",
            RbStepOutcome::AlreadyDone => "already done",
            RbStepOutcome::WouldRun => "would run",
            RbStepOutcome::WouldSkip => "would skip",
            RbStepOutcome::Skipped => "skipped",
            RbStepOutcome::PlannedWhenReached => "planned when reached",
            RbStepOutcome::VerifiedEarlier => "verified earlier",
            RbStepOutcome::Failed => "failed",
            RbStepOutcome::Undone => "undone",
            RbStepOutcome::UndoFailed => "undo failed",
            RbStepOutcome::NotRun => "not run",
        }
    }

    /// A step that ended so counts as verified: a resume skips it.
    pub fn verified(self) -> bool {
        matches!(
            self,
            RbStepOutcome::Done | RbStepOutcome::AlreadyDone | RbStepOutcome::Skipped
        )
    }

    /// A dry run's outcome (the step's actions are listed under it).
    pub fn would(self) -> bool {
        matches!(self, RbStepOutcome::WouldRun | RbStepOutcome::WouldSkip)
    }

    /// An undo of it was tried.
    pub fn undo(self) -> bool {
        matches!(self, RbStepOutcome::Undone | RbStepOutcome::UndoFailed)
    }
}

impl fmt::Display for RbStepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RbStep {
    pub index: usize,
    pub name: String,
    pub uses: String,
    pub outcome: RbStepOutcome,
    pub ms: u64,
    pub note: Option<String>,
    pub actions: Vec<StepReport<RunbookAction>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunbookReport {
    pub runbook: String,
    pub run_id: String,
    pub outcome: RunOutcomeKind,
    pub steps: Vec<RbStep>,
    pub ms: u64,
    pub error: Option<String>,
    pub journal: Option<String>,
    /// The command that continues this run, when it stopped part-way.
    pub resume: Option<String>,
    /// What happened to the cluster lock beyond taking and releasing it (a lock taken over
    /// from a run whose drctl is gone, a killed run's lock released by its resume).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip)]
    pub exit: Option<Exit>,
}

impl RunbookReport {
    pub fn ok(&self) -> bool {
        self.exit.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::RbStepOutcome as S;

    /// The serde names are the `--json` and journal contract: Display says the same word.
    #[test]
    fn serde_names_are_the_display_text() {
        for s in [
            S::Done,
            S::AlreadyDone,
            S::WouldRun,
            S::WouldSkip,
            S::Skipped,
            S::PlannedWhenReached,
            S::VerifiedEarlier,
            S::Failed,
            S::Undone,
            S::UndoFailed,
            S::NotRun,
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<S>(&json).unwrap(), s);
        }
    }
}
