//! The operator CLI: clap definitions in `args`, one module per noun, output conventions in
//! `output`. Errors carry their exit code.

mod admin;
mod api_cmd;
pub mod args;
mod certs;
pub mod chaos;
pub mod context;
mod drill;
mod entry;
pub mod error;
mod events;
mod fronts;
mod lab;
pub mod output;
mod run;
mod runs;
mod status;

use clap::CommandFactory;

use crate::engine::Verb;
use crate::engines::registry;

pub use args::Cli;
use args::Command;
pub use error::{CliError, Exit};

/// The verb a cluster command performs, and the node it names (which picks the engine of a
/// mixed cluster file); None for commands that reach no cluster (lab, run, certs, …).
fn verb_of(cmd: &Command) -> Option<(Verb, Option<&str>)> {
    if let Some(f) = fronts::of(cmd) {
        let named = match cmd {
            Command::Switchover { to, .. } => Some(to.as_str()),
            Command::Failover { to, .. } => to.as_deref(),
            Command::Repoint { primary, .. } => primary.as_deref(),
            Command::Demote { node, .. } => Some(node.as_str()),
            _ => None,
        };
        return Some((f.verb, named));
    }
    Some((
        match cmd {
            Command::Status(_) => Verb::Status,
            Command::Check(_) => Verb::Check,
            Command::Candidates(_) => Verb::Candidates,
            Command::Repoint { .. } => Verb::Repoint,
            Command::Entry(_) => Verb::Entry,
            Command::Events(_) => Verb::Events,
            Command::Api(_) => Verb::Api,
            Command::Removenode { .. } => Verb::Removenode,
            Command::Packages(_) => Verb::Packages,
            Command::Hosts(_) => Verb::Hosts,
            _ => return None,
        },
        None,
    ))
}

/// Runs one drctl command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let g = &cli.global;
    if let Some((verb, named)) = verb_of(&cli.command) {
        return on_cluster(&cli, verb, named).await;
    }
    match &cli.command {
        Command::Certs(c) => certs::cmd_certs(c),
        Command::Lab(c) => lab::cmd_lab(g, c).await,
        Command::Run(a) if a.list => runs::cmd_list(a),
        Command::Run(a) if a.show.is_some() => runs::cmd_show(a),
        Command::Run(a) => run::cmd_run(g, a).await,
        Command::Runbook(c) => run::cmd_runbook(c),
        Command::Drill(a) => drill::cmd_drill(g, a).await,
        Command::Chaos(a) => chaos::cmd_chaos(g, a).await,
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| CliError::failed(format!("cannot render the manual page: {e}")))?;
            output::print_raw(&out);
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "drctl", &mut std::io::stdout());
            Ok(())
        }
        _ => unreachable!("every cluster command has a verb"),
    }
}

/// A command on a cluster: the engine is chosen once (the registry), refuses a verb it does
/// not support before anything runs, and runs the rest.
async fn on_cluster(cli: &Cli, verb: Verb, named: Option<&str>) -> Result<(), CliError> {
    let global = context::global(&cli.global);
    let inventory = match &global.cluster_file {
        Some(path) => {
            Some(crate::engines::load_inventory(path).map_err(|e| CliError::usage(e.to_string()))?)
        }
        None => None,
    };
    let reg = registry::choose(cli.global.kind.as_deref(), inventory.as_ref(), named)
        .map_err(|e| CliError::usage(format!("--kind: {e}")))?;
    if !reg.supports(verb) {
        return Err(crate::engine::unsupported(reg.kind, verb).into());
    }
    let engine = registry::open(reg, &global, inventory).await?;
    if let Some(front) = fronts::of(&cli.command) {
        return fronts::run(engine.as_ref(), front).await;
    }
    match &cli.command {
        Command::Status(a) => status::cmd_status(engine.as_ref(), a).await,
        Command::Check(a) => status::cmd_check(engine.as_ref(), a.json).await,
        Command::Candidates(a) => status::cmd_candidates(engine.as_ref(), a.format()).await,
        // `repoint --list`: with `--primary` it is a front, run above.
        Command::Repoint { proc, .. } => {
            let (json, table) = engine.repoint_list().await?;
            if proc.json {
                output::print_json(&json);
            } else {
                println!("{}", output::render(&status::plain(&table)));
            }
            Ok(())
        }
        // drnode's own reads and edits (no other engine claims these verbs).
        cmd => {
            let ctx = &engine
                .as_any()
                .downcast_ref::<crate::engines::drnode::Drnode>()
                .ok_or_else(|| CliError::from(crate::engine::unsupported(engine.kind(), verb)))?
                .ctx;
            match cmd {
                Command::Entry(c) => entry::cmd_entry(ctx, c).await,
                Command::Events(a) => events::cmd_events(ctx, a).await,
                Command::Api(a) => api_cmd::cmd_api(ctx, a).await,
                _ => admin::dispatch(ctx, cmd)
                    .await
                    .expect("every other cluster verb is admin's"),
            }
        }
    }
}
