//! A procedure subcommand as a run of its bundled runbook (never a file of the same name): the
//! shared end of every engine's `run`, so `drctl switchover --to node-2` and `drctl run
//! managed-switchover --var to=node-2` are one code path, with the same steps, journal and
//! `drctl run --resume`.

use std::path::PathBuf;
use std::sync::Arc;

use super::engine::{self, Settings};
use super::journal;
use crate::engine::{Bound, Engine, Front, ProcError, ProcOptions, RunOutcome};
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

/// Binds the runs of an engine to it (`Engine::bound`): its fronts run their bundled runbook
/// with `run_bound`.
pub(crate) fn bind<'a>(
    engine: impl Engine + 'static,
    cluster: &str,
    operator: &str,
    urls: impl IntoIterator<Item = &'a String>,
) -> Bound {
    Bound {
        engine: Arc::new(engine),
        cluster: cluster.to_string(),
        operator: operator.to_string(),
        urls: urls.into_iter().cloned().collect(),
        run: |front, opts, bound| Box::pin(run_bound(front, opts, bound)),
    }
}

/// A front's runbook on a cluster whose engine the run is bound to; its `http.request` steps
/// trust no CA (the cluster's nodes are not drnode's, whose CA the cluster file names).
async fn run_bound(
    front: &Front,
    opts: &ProcOptions,
    bound: Bound,
) -> Result<RunOutcome, ProcError> {
    let http = trusting_no_ca().map_err(ProcError::failed)?;
    let settings = settings(opts, ".".into(), http, Some(bound.engine));
    let cl = Cluster::new(&bound.cluster, &[], &bound.operator, opts.wait);
    run(front, cl, &settings, opts.json).await
}

/// An HTTP client trusting no CA: plain HTTP only. rustls is configured anyway because reqwest
/// is built with no default crypto provider; drctl's is `util::tls`.
pub(crate) fn trusting_no_ca() -> Result<reqwest::Client, String> {
    let tls = rustls::ClientConfig::builder_with_provider(crate::util::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|e| e.to_string())
}
