//! What a runbook run takes and gives: its settings, what a resumed run continues from, and
//! its report (apart from the engine that runs it, so the steps and the rollback it calls can
//! use them without importing it back).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::action::{Ask, RunbookAction};
use crate::engine::StepReport;
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

#[derive(Debug, Clone, Serialize)]
pub struct RbStep {
    pub index: usize,
    pub name: String,
    pub uses: String,
    pub outcome: String,
    pub ms: u64,
    pub note: Option<String>,
    pub actions: Vec<StepReport<RunbookAction>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunbookReport {
    pub runbook: String,
    pub run_id: String,
    /// `succeeded`, `already done`, `dry run`, `failed, nothing changed`, `failed part-way`,
    /// `timed out`, `refused`, `aborted`.
    pub outcome: String,
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
