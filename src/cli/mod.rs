//! The operator CLI: clap definitions in `args`, one module per noun, output conventions in
//! `output`. Errors carry their exit code.

mod admin;
mod api_cmd;
pub mod args;
mod certs;
pub mod context;
mod drill;
mod entry;
pub mod error;
mod events;
mod lab;
mod openldap;
mod openldap_lab;
pub mod output;
mod procedure;
mod run;
pub mod runbook_args;
mod status;

use clap::CommandFactory;

pub use args::Cli;
use args::Command;
pub use error::{CliError, Exit};

/// Runs one drctl command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let g = &cli.global;
    if let Some(done) = openldap::dispatch(&cli).await {
        return done;
    }
    if matches!(
        &cli.command,
        Command::SeizeRoles { .. }
            | Command::RemoveInstance { .. }
            | Command::Removenode { .. }
            | Command::Sync(args::SyncCommand::Full { .. })
            | Command::Services { .. }
            | Command::Packages(_)
            | Command::Upgrade { .. }
            | Command::Hosts(_)
    ) {
        let ctx = context::Context::load(g).await?;
        return admin::dispatch(&ctx, &cli.command)
            .await
            .expect("matched above");
    }
    match &cli.command {
        Command::Status(a) => status::cmd_status(&context::Context::load(g).await?, a).await,
        Command::Check(a) => status::cmd_check(&context::Context::load(g).await?, a.json).await,
        Command::Entry(c) => entry::cmd_entry(&context::Context::load(g).await?, c).await,
        Command::Events(a) => events::cmd_events(&context::Context::load(g).await?, a).await,
        Command::Api(a) => api_cmd::cmd_api(&context::Context::load(g).await?, a).await,
        Command::Candidates(a) => {
            let ctx = context::Context::load(g).await?;
            let view = ctx.probe().await;
            let ranked = crate::procedures::rank(&view);
            if a.json {
                output::print_json(&ranked);
            } else {
                let mut t = output::table(&["RANK", "NODE", "ROLE", "EPOCH", "POSITION", "REASON"]);
                for c in &ranked {
                    t.add_row(vec![
                        c.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        c.name.clone(),
                        c.role.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        c.epoch.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
                        match (c.head_epoch, c.head_seq) {
                            (Some(e), Some(s)) => format!("epoch {e} seq {s}"),
                            _ => "-".into(),
                        },
                        c.reason.clone(),
                    ]);
                }
                println!("{t}");
            }
            Ok(())
        }
        Command::Switchover { to, proc } => {
            let ctx = context::Context::load(g).await?;
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::switchover(cl, view, to).await
            })
            .await
        }
        Command::Failover {
            to,
            force,
            export_dir,
            proc,
        } => {
            let ctx = context::Context::load(g).await?;
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::failover(cl, view, to.as_deref(), *force, export_dir).await
            })
            .await
        }
        Command::Repoint {
            primary,
            list,
            proc,
        } => {
            let ctx = context::Context::load(g).await?;
            if *list {
                let view = ctx.probe().await;
                let rows = crate::procedures::repoint_list(&view);
                if proc.json {
                    output::print_json(&rows);
                } else {
                    let mut t = output::table(&["NODE", "CAN SERVE", "WHY"]);
                    for r in &rows {
                        t.add_row(vec![
                            r.name.clone(),
                            if r.eligible { "yes" } else { "no" }.to_string(),
                            r.reason.clone(),
                        ]);
                    }
                    println!("{t}");
                }
                return Ok(());
            }
            let primary = primary
                .as_deref()
                .expect("clap requires --primary without --list");
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::repoint(cl, view, primary).await
            })
            .await
        }
        Command::Demote {
            node,
            to,
            export,
            proc,
        } => {
            let ctx = context::Context::load(g).await?;
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::demote(cl, view, node, to.as_deref(), export.clone()).await
            })
            .await
        }
        Command::Standalone { node, proc } => {
            let ctx = context::Context::load(g).await?;
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::standalone(cl, view, node).await
            })
            .await
        }
        Command::Join {
            node,
            primary,
            proc,
        } => {
            let ctx = context::Context::load(g).await?;
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::join(cl, view, node, primary).await
            })
            .await
        }
        Command::SeizeRoles { .. }
        | Command::RemoveInstance { .. }
        | Command::Removenode { .. }
        | Command::Sync(args::SyncCommand::Full { .. })
        | Command::Services { .. }
        | Command::Packages(_)
        | Command::Upgrade { .. }
        | Command::Hosts(_) => unreachable!("dispatched above"),
        Command::Sync(args::SyncCommand::Auto { state, node, proc }) => {
            let ctx = context::Context::load(g).await?;
            let on = state == "on";
            procedure::run(&ctx, proc, async |cl, view| {
                crate::procedures::sync_auto(cl, view, node, on).await
            })
            .await
        }
        Command::Certs(c) => certs::cmd_certs(c),
        Command::Lab(c) => lab::cmd_lab(g, c).await,
        Command::Run(a) => run::cmd_run(g, a).await,
        Command::Runbook(c) => run::cmd_runbook(c),
        Command::Drill(a) => drill::cmd_drill(a).await,
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "drctl", &mut std::io::stdout());
            Ok(())
        }
    }
}
