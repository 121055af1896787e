//! The `Engine` trait: what the CLI and the runbooks need from a kind of replicated system.
//! Every method but `kind` and `verbs` has a default that refuses, naming the engine, so an
//! engine claims a verb by implementing it (the skeleton implements none). `run` is shared by the
//! engines whose runs are bound to them: each gives only how it names and finds its primary
//! (`primary`) and itself to bind runs to (`bound`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::dynstep::{EnginePlan, StepEnv};
use super::host_lock::HostLock;
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
    /// The bundled runbook of a verb that every engine claiming it shares, with its one set of
    /// parameters; None for a verb whose runbook is an engine's own.
    pub fn shared(verb: Verb, args: &VerbArgs) -> Option<Front> {
        let a = |name: &str| args.get(name).cloned().unwrap_or_default();
        let (runbook, vars) = match verb {
            Verb::Switchover => ("managed-switchover", vec![("to", a("to"))]),
            Verb::Failover => (
                "forced-failover",
                vec![
                    (
                        "target",
                        args.get("to").cloned().unwrap_or_else(|| "auto".into()),
                    ),
                    ("force", a("force")),
                    ("export_dir", a("export_dir")),
                ],
            ),
            Verb::Repoint => ("repoint-primary", vec![("primary", a("primary"))]),
            Verb::Demote => (
                "demote-old-primary",
                vec![
                    ("node", a("node")),
                    ("to", a("to")),
                    ("export", a("export")),
                ],
            ),
            Verb::RemoveInstance => (
                "remove-failed-instance",
                vec![
                    ("node", a("node")),
                    (
                        "force",
                        args.get("force").cloned().unwrap_or_else(|| "false".into()),
                    ),
                ],
            ),
            _ => return None,
        };
        Some(Front::new(verb, runbook, &vars))
    }

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

    /// The bundled runbook that performs a procedure verb, with its parameters: by default the
    /// one every engine claiming the verb shares (`Front::shared`).
    fn front(&self, verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
        match Front::shared(verb, args) {
            Some(f) if self.supports(verb) => Ok(f),
            _ => Err(unsupported(self.kind(), verb)),
        }
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

    /// A guard held for a whole run that changes the cluster, taken before any step is
    /// planned; None when the engine locks each step (drnode). By default, for an engine that
    /// binds its runs (it has no lease of ours on its nodes): the cluster's per-host run lock
    /// (`host_lock.rs`).
    fn run_lock(
        &self,
        run_id: &str,
        operator: &str,
        runbook: &str,
    ) -> Result<Option<Box<dyn std::any::Any + Send>>, ProcError> {
        let Some(b) = self.bound() else {
            return Ok(None);
        };
        let urls: Vec<&str> = b.urls.iter().map(String::as_str).collect();
        let lock = HostLock::acquire(self.kind(), &b.cluster, &urls, run_id, operator, runbook)?;
        Ok(Some(Box::new(lock)))
    }

    /// The node this engine calls primary, for `--expect-primary` (found with `wait`), and
    /// how it names it; None where the engine has none or checks `--expect-*` in its own `run`.
    fn primary(&self, _wait: Duration) -> Option<Primary<'_>> {
        None
    }

    /// `node` was just woken (a drill resumed or restarted it): forget that it let a request
    /// time out, so what runs next asks it again at once.
    fn forget_silence(&self, _node: &str) {}

    /// What a run bound to this engine needs of it (`runbook::front::bind`); None where runs
    /// are not bound to the engine.
    fn bound(&self) -> Option<Bound> {
        None
    }

    /// Runs a front: `--expect-*` checks, then the runbook with its journal. By default, with
    /// `primary` and `bound` (refused, naming the engine, without them).
    fn run<'a>(
        &'a self,
        front: Front,
        opts: &'a ProcOptions,
    ) -> BoxFuture<'a, Result<RunOutcome, ProcError>> {
        Box::pin(run_bound(self, front, opts))
    }
}

/// The refusal of a verb an engine does not support (exit 2: the command does not apply).
pub(crate) fn unsupported(kind: &str, verb: Verb) -> ProcError {
    ProcError::usage(format!("{verb}: the {kind} engine does not support it")).unchanged()
}

/// How an engine names its primary in `--expect-*` refusals.
#[derive(Debug)]
pub struct PrimaryWords {
    /// What the engine calls it ("leader", "provider", "supplier").
    pub title: &'static str,
    /// What is said when none is found ("none (no quorum)").
    pub none: &'static str,
    /// The refusal of `--expect-epoch`, which says what to use instead.
    pub no_epoch: &'static str,
}

/// The engine's primary, for `--expect-primary`: how it is named, and a probe that finds it
/// (run only when `--expect-primary` is given).
pub struct Primary<'a> {
    pub words: &'static PrimaryWords,
    pub now: BoxFuture<'a, Option<String>>,
}

impl PrimaryWords {
    pub fn probe<'a>(
        &'static self,
        now: impl std::future::Future<Output = Option<String>> + Send + 'a,
    ) -> Primary<'a> {
        Primary {
            words: self,
            now: Box::pin(now),
        }
    }
}

impl Primary<'_> {
    /// Refuses, changing nothing, unless the options' expectations hold.
    pub(crate) async fn check(self, opts: &ProcOptions) -> Result<(), ProcError> {
        if opts.expect_epoch.is_some() {
            return Err(ProcError::usage(self.words.no_epoch));
        }
        if let Some(want) = &opts.expect_primary {
            let now = self.now.await;
            if now.as_deref() != Some(want.as_str()) {
                return Err(ProcError::refused(format!(
                    "--expect-primary {want}: the {} is {}",
                    self.words.title,
                    now.unwrap_or_else(|| self.words.none.into())
                ))
                .unchanged());
            }
        }
        Ok(())
    }
}

/// Runs a front's bundled runbook bound to an engine (`runbook::front::run_bound`, handed over
/// in `Bound` so that the contract knows no runbook).
pub(super) type RunBound =
    for<'a> fn(&'a Front, &'a ProcOptions, Bound) -> BoxFuture<'a, Result<RunOutcome, ProcError>>;

/// What a run bound to an engine needs of it: the engine itself, the cluster's name, who
/// operates, its nodes' URLs, and how its runbook is run.
pub struct Bound {
    pub engine: std::sync::Arc<dyn Engine>,
    pub cluster: String,
    pub operator: String,
    /// The nodes' URLs: the host lock a run takes is theirs.
    pub urls: Vec<String>,
    pub run: RunBound,
}

/// `Engine::run` of an engine that binds its runs (etcd, OpenLDAP, 389ds): `--expect-epoch`
/// refused (their groups have no epoch of drctl's), `--expect-primary` checked against the node
/// the engine calls primary, then the front's bundled runbook.
async fn run_bound<E: Engine + ?Sized>(
    engine: &E,
    front: Front,
    opts: &ProcOptions,
) -> Result<RunOutcome, ProcError> {
    let (Some(primary), Some(bound)) = (engine.primary(opts.wait), engine.bound()) else {
        return Err(unsupported(engine.kind(), front.verb));
    };
    primary.check(opts).await?;
    let run = bound.run;
    run(&front, opts, bound).await
}
