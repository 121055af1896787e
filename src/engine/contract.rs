//! The `Engine` trait: what the CLI and the runbooks need from a kind of replicated system.
//! Every method but `kind` and `verbs` has a default that refuses, naming the engine, so an
//! engine claims a verb by implementing it (the skeleton implements none).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::dynstep::{EnginePlan, StepEnv};
use super::status::{Candidates, StatusReport, StatusTable};
use super::Args;
use super::{ProcError, Verb};
use crate::util::exit::Exit;

/// What the command line says about reaching the cluster, for every engine.
#[derive(Debug, Clone)]
pub struct Global {
    /// The cluster file, if there is one.
    pub cluster_file: Option<PathBuf>,
    /// `--node`: a node name or, without a cluster file, a URL.
    pub node: Option<String>,
    pub passphrase_file: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    /// Connect timeout per node.
    pub timeout: Duration,
    /// Who is operating (recorded in events and journals).
    pub operator: String,
}

/// Asks the operator a yes/no question; Err when nobody can be asked.
pub(crate) type Ask = Arc<dyn Fn(&str) -> Result<bool, ProcError> + Send + Sync>;

/// The options every procedure takes (`--dry-run`, `--yes`, `--json`, …).
#[derive(Clone)]
pub struct ProcOptions {
    pub dry_run: bool,
    pub json: bool,
    pub expect_primary: Option<String>,
    pub expect_epoch: Option<u64>,
    pub break_lock: bool,
    /// How long each step may wait to take effect.
    pub wait: Duration,
    pub ask: Ask,
}

/// A procedure as a run of a bundled runbook: which one, with which parameters.
#[derive(Debug, Clone)]
pub struct Front {
    pub verb: Verb,
    pub runbook: &'static str,
    pub vars: BTreeMap<String, String>,
    /// Where exported records go unless the runbook names a file.
    pub export_dir: PathBuf,
}

impl Front {
    pub fn new(verb: Verb, runbook: &'static str, vars: &[(&str, String)]) -> Front {
        Front {
            verb,
            runbook,
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            export_dir: PathBuf::from("."),
        }
    }
}

/// How a procedure ended, already rendered: the report as JSON and as text, and the exit code
/// (None: success) with its message.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub json: String,
    pub text: String,
    pub exit: Option<Exit>,
    pub error: String,
}

/// The arguments of a verb, by the name of the command-line option that gave them.
pub(crate) type VerbArgs = BTreeMap<&'static str, String>;

/// One kind of replicated system behind drctl.
pub trait Engine: Send + Sync {
    /// The kind, as the cluster file spells it.
    fn kind(&self) -> &'static str;
    /// The verbs this engine supports; the others are refused before anything runs.
    fn verbs(&self) -> &'static [Verb];

    /// For the commands only one engine has (drnode's `entry`, `events`, `api`, …): the CLI
    /// downcasts to that engine.
    fn as_any(&self) -> &dyn std::any::Any;

    fn supports(&self, verb: Verb) -> bool {
        self.verbs().contains(&verb)
    }

    /// Probes every node and judges the cluster.
    fn status(&self) -> BoxFuture<'_, Result<StatusReport, ProcError>> {
        let e = unsupported(self.kind(), Verb::Status);
        Box::pin(async move { Err(e) })
    }

    /// Every node ranked for promotion.
    fn candidates(&self) -> BoxFuture<'_, Result<Candidates, ProcError>> {
        let e = unsupported(self.kind(), Verb::Candidates);
        Box::pin(async move { Err(e) })
    }

    /// `repoint --list`: which nodes could serve as primary, as JSON and as a table.
    fn repoint_list(&self) -> BoxFuture<'_, Result<(serde_json::Value, StatusTable), ProcError>> {
        let e = ProcError::usage(format!(
            "repoint --list: the {} engine does not support it (use `drctl candidates`)",
            self.kind()
        ))
        .unchanged();
        Box::pin(async move { Err(e) })
    }

    /// The bundled runbook that performs a procedure verb, with its parameters.
    fn front(&self, verb: Verb, _args: &VerbArgs) -> Result<Front, ProcError> {
        Err(unsupported(self.kind(), verb))
    }

    /// Whether this engine plans the runbook step `uses` itself (its procedures, asserts and
    /// waits); the others are the runbook's own (or drnode's native steps).
    fn plans(&self, _uses: &str) -> bool {
        false
    }

    /// Plans a runbook step from a fresh probe (only for steps `plans` claims).
    fn plan<'a>(
        &'a self,
        args: &'a Args<'a>,
        _env: &'a StepEnv,
    ) -> BoxFuture<'a, Result<EnginePlan, ProcError>> {
        let e = ProcError::usage(format!(
            "{}: the {} engine has no such step",
            args.uses,
            self.kind()
        ));
        Box::pin(async move { Err(e) })
    }

    /// A guard held for a whole run that changes the cluster (OpenLDAP's host lock), taken
    /// before any step is planned; None when the engine locks each step (drnode).
    fn run_lock(
        &self,
        _run_id: &str,
        _operator: &str,
        _runbook: &str,
    ) -> Result<Option<Box<dyn std::any::Any + Send>>, ProcError> {
        Ok(None)
    }

    /// Runs a front: `--expect-*` checks, then the runbook with its journal.
    fn run<'a>(
        &'a self,
        front: Front,
        _opts: &'a ProcOptions,
    ) -> BoxFuture<'a, Result<RunOutcome, ProcError>> {
        let e = unsupported(self.kind(), front.verb);
        Box::pin(async move { Err(e) })
    }
}

/// The refusal of a verb an engine does not support (exit 2: the command does not apply).
pub(crate) fn unsupported(kind: &str, verb: Verb) -> ProcError {
    ProcError::usage(format!("{verb}: the {kind} engine does not support it")).unchanged()
}
