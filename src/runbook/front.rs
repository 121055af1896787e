//! A procedure subcommand as a run of its bundled runbook (never a file of the same name): the
//! shared end of every engine's `run`, so `drctl switchover --to node-2` and `drctl run
//! managed-switchover --var to=node-2` are one code path, with the same steps, journal and
//! `drctl run --resume`.

use std::path::PathBuf;
use std::sync::Arc;

use super::engine::{self, Settings};
use super::journal;
use crate::engine::{Front, ProcError, ProcOptions, RunOutcome};
use crate::engines::drnode::Cluster;

/// The engine settings of a front: its options, a journal in the state directory.
pub fn settings(
    opts: &ProcOptions,
    export_dir: PathBuf,
    http: reqwest::Client,
    engine: Option<Arc<dyn crate::engine::Engine>>,
) -> Settings {
    Settings {
        dry_run: opts.dry_run,
        ask: opts.ask.clone(),
        progress: !opts.json,
        break_lock: opts.break_lock,
        step_timeout: opts.wait,
        journal_dir: Some(journal::runs_dir()),
        export_dir,
        http,
        engine,
    }
}

/// Runs the front's bundled runbook and renders its report.
pub async fn run(
    front: &Front,
    cl: Cluster,
    settings: &Settings,
    json: bool,
) -> Result<RunOutcome, ProcError> {
    let rb = super::load_bundled(front.runbook)
        .map_err(|e| ProcError::usage(e.to_string()).with_exit(e.exit()))?;
    let vars = engine::resolve_vars(&rb, &front.vars)?;
    if !json {
        eprintln!(
            "runbook {} (run {}){}",
            rb.name,
            cl.run_id,
            if settings.dry_run { ", dry run" } else { "" }
        );
    }
    let report = engine::run(&rb, vars, cl, settings, None).await;
    Ok(super::outcome(&report))
}
