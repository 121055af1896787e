//! Runbooks (DESIGN §5): YAML procedures compiled like a small program — YAML → validated model
//! → a plan per step → the procedures' runner — with a journal for resuming, rollback before a
//! point of no return, and drills that prove each runbook on a fresh lab.

pub(crate) mod action;
pub mod bundled;
pub(crate) mod compiler;
pub(crate) mod ctx;
pub mod directory;
pub mod drill;
mod drill_check;
pub(crate) mod drill_hooks;
pub mod drill_model;
pub mod drill_pool;
pub(crate) mod drill_report;
pub(crate) mod drill_runner;
pub mod engine;
mod error;
pub(crate) mod expand;
pub(crate) mod expansion;
pub mod front;
mod http;
pub mod journal;
mod ldap;
pub mod model;
pub mod registry;
mod render;
mod rollback;
mod run;
mod step;
mod template;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::util::yaml;

pub(crate) use action::Ask;
pub use engine::{resolve_vars, RbStep, Resume, RunbookReport, Settings};
pub use error::{nearest, LoadError, Problem, RunbookError};
pub use render::{outcome, render};

pub use model::{compile, Runbook};

use crate::engine::ProcError;
use crate::engines::drnode::Cluster;

/// Loads a runbook: an existing file, else a bundled runbook by name.
pub fn load(name_or_file: &str) -> Result<Runbook, RunbookError> {
    let path = Path::new(name_or_file);
    if path.is_file() {
        let text = yaml::read_bounded(path).map_err(|e| RunbookError::Read {
            path: name_or_file.to_string(),
            source: match e {
                yaml::ReadError::Io(e) => e,
                too_large => std::io::Error::new(std::io::ErrorKind::InvalidData, too_large),
            },
        })?;
        return Ok(compile(name_or_file, &text)?);
    }
    load_bundled(name_or_file.trim_end_matches(".yaml"))
}

/// Loads a bundled runbook by name, never a file (a procedure subcommand runs its own runbook
/// whatever files the working directory holds).
pub fn load_bundled(name: &str) -> Result<Runbook, RunbookError> {
    match bundled::get(name) {
        Some(text) => Ok(compile(&format!("runbooks/{name}.yaml"), text)?),
        None => Err(RunbookError::Unknown {
            name: name.to_string(),
            suggestion: nearest(name, bundled::names()),
            known: bundled::names().collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Reads a run's journal: the runbook as it ran, its variables, and what is verified.
pub fn load_resume(
    dir: &Path,
    run_id: &str,
) -> Result<(Runbook, BTreeMap<String, String>, Resume), RunbookError> {
    let entries = journal::read(dir, run_id)?;
    let Some(journal::Entry::Start {
        source,
        text,
        vars,
        cluster,
        ..
    }) = entries.first().cloned()
    else {
        // Journals are created whole with their start: an empty one is an older drctl's,
        // killed as it began (chaos seed 46230).
        return Err(RunbookError::Journal {
            path: run_id.into(),
            message: if entries.is_empty() {
                "the run never started (its journal is empty: drctl stopped as it began), so \
                 it changed nothing; run the procedure again"
                    .into()
            } else {
                "it does not start with a start event".into()
            },
        });
    };
    let rb = compile(&source, &text)?;
    let mut resume = Resume {
        run_id: run_id.to_string(),
        cluster,
        ..Resume::default()
    };
    for e in &entries {
        if let journal::Entry::Step {
            index,
            outcome,
            outputs,
            changed,
            ..
        } = e
        {
            if *changed {
                resume.changed.insert(*index);
            }
            if outcome.verified() {
                resume.verified.insert(*index);
                resume.outputs.insert(*index, outputs.clone());
            } else {
                resume.verified.remove(index);
            }
            if *outcome == run::RbStepOutcome::Undone {
                resume.changed.remove(index);
            }
        }
    }
    // Continue after the last verified step: a step verified after a later failure is not trusted.
    let first_gap = (0..rb.steps.len())
        .find(|i| !resume.verified.contains(i))
        .unwrap_or(rb.steps.len());
    resume.verified.retain(|i| *i < first_gap);
    resume.changed.retain(|i| resume.verified.contains(i));
    Ok((rb, vars, resume))
}

/// Runs a bundled runbook non-interactively on `cl` (for the procedure subcommands and drills).
pub async fn run_bundled(
    name: &str,
    vars: &BTreeMap<String, String>,
    cl: Cluster,
    settings: &Settings,
) -> Result<RunbookReport, RunbookError> {
    let rb = load(name)?;
    let vars = resolve_vars(&rb, vars)?;
    Ok(engine::run(&rb, vars, cl, settings, None).await)
}

/// Settings for an unattended run: yes to every question, no progress, no journal.
pub fn unattended(http: reqwest::Client, export_dir: &Path) -> Settings {
    let ask: Ask = Arc::new(|_: &str| Ok::<bool, ProcError>(true));
    Settings {
        dry_run: false,
        ask,
        progress: false,
        break_lock: false,
        step_timeout: std::time::Duration::from_secs(60),
        journal_dir: None,
        export_dir: export_dir.to_path_buf(),
        http,
        engine: None,
    }
}

/// The verb a `procedure.*` step performs.
pub fn verb_of(uses: &str) -> Option<crate::engine::Verb> {
    use crate::engine::Verb;
    Some(match uses.strip_prefix("procedure.")? {
        "switchover" => Verb::Switchover,
        "failover" => Verb::Failover,
        "repoint" => Verb::Repoint,
        "demote" => Verb::Demote,
        "join" => Verb::Join,
        "standalone" => Verb::Standalone,
        "sync-auto" | "sync-full" => Verb::Sync,
        "seize-roles" => Verb::SeizeRoles,
        "remove-instance" => Verb::RemoveInstance,
        "removenode" => Verb::Removenode,
        "services" => Verb::Services,
        "packages-sync" => Verb::Packages,
        "upgrade" => Verb::Upgrade,
        _ => return None,
    })
}

/// Refuses, before anything runs, a runbook with a `procedure.X` step the bound engine does not
/// support, naming the step and the engine.
pub fn check_engine(
    rb: &Runbook,
    engine: &crate::engine::Registration,
) -> Result<(), RunbookError> {
    let problems: Vec<String> = rb
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let verb = verb_of(&s.uses)?;
            (!engine.supports(verb)).then(|| {
                format!(
                    "steps[{i}].uses: {}: the {} engine does not support {verb}",
                    s.uses, engine.kind
                )
            })
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(RunbookError::Usage {
        message: format!(
            "runbook {}: {}; nothing was changed",
            rb.name,
            problems.join("; ")
        ),
    })
}
