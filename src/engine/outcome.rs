//! What became of a run and of each of its steps: enums whose serde names (and Display) are the
//! words the `--json` reports, the journal and the tables have always used.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What became of one action of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutcome {
    #[serde(rename = "done")]
    Done,
    #[serde(rename = "already done")]
    AlreadyDone,
    #[serde(rename = "would run")]
    WouldRun,
    #[serde(rename = "would skip")]
    WouldSkip,
    /// Checked and found to do; left so when an earlier step failed.
    #[serde(rename = "to do")]
    ToDo,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "undone")]
    Undone,
    #[serde(rename = "undo failed")]
    UndoFailed,
    #[serde(rename = "not run")]
    NotRun,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Done => "done",
            StepOutcome::AlreadyDone => "already done",
            StepOutcome::WouldRun => "would run",
            StepOutcome::WouldSkip => "would skip",
            StepOutcome::ToDo => "to do",
            StepOutcome::Failed => "failed",
            StepOutcome::Undone => "undone",
            StepOutcome::UndoFailed => "undo failed",
            StepOutcome::NotRun => "not run",
        }
    }
}

/// What became of a run as a whole (of a plan, or of a runbook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunOutcomeKind {
    #[serde(rename = "succeeded")]
    Succeeded,
    /// Every step that changes something was done already: nothing changed.
    #[serde(rename = "already done")]
    AlreadyDone,
    #[serde(rename = "dry run")]
    DryRun,
    #[serde(rename = "refused")]
    Refused,
    #[serde(rename = "aborted")]
    Aborted,
    #[serde(rename = "failed, nothing changed")]
    FailedNothingChanged,
    #[serde(rename = "failed part-way")]
    FailedPartWay,
    /// Stopped part-way on a timeout: the outcome of the last step is unknown.
    #[serde(rename = "timed out")]
    TimedOut,
}

impl RunOutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcomeKind::Succeeded => "succeeded",
            RunOutcomeKind::AlreadyDone => "already done",
            RunOutcomeKind::DryRun => "dry run",
            RunOutcomeKind::Refused => "refused",
            RunOutcomeKind::Aborted => "aborted",
            RunOutcomeKind::FailedNothingChanged => "failed, nothing changed",
            RunOutcomeKind::FailedPartWay => "failed part-way",
            RunOutcomeKind::TimedOut => "timed out",
        }
    }

    /// The run stopped with something changed (a resume or a rerun finishes it).
    pub fn part_way(self) -> bool {
        matches!(
            self,
            RunOutcomeKind::FailedPartWay | RunOutcomeKind::TimedOut
        )
    }

    /// The run failed (apart from a refusal or an abort).
    pub fn failed(self) -> bool {
        matches!(
            self,
            RunOutcomeKind::FailedNothingChanged | RunOutcomeKind::FailedPartWay
        )
    }
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RunOutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serde names are the `--json` contract: Display and serde must say the same word.
    #[test]
    fn serde_names_are_the_display_text() {
        use StepOutcome as S;
        for s in [
            S::Done,
            S::AlreadyDone,
            S::WouldRun,
            S::WouldSkip,
            S::ToDo,
            S::Failed,
            S::Undone,
            S::UndoFailed,
            S::NotRun,
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<S>(&json).unwrap(), s);
        }
        use RunOutcomeKind as R;
        for r in [
            R::Succeeded,
            R::AlreadyDone,
            R::DryRun,
            R::Refused,
            R::Aborted,
            R::FailedNothingChanged,
            R::FailedPartWay,
            R::TimedOut,
        ] {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{r}\""));
            assert_eq!(serde_json::from_str::<R>(&json).unwrap(), r);
        }
    }
}
