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
mod openldap;
mod openldap_lab;
pub mod output;
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
    if let Some(front) = fronts::of(&cli.command) {
        let ctx = context::Context::load(g).await?;
        // A front is a runbook run: its notes and errors hide the passphrase too.
        crate::util::redact::register(ctx.passphrase.expose());
        return fronts::run(&ctx, front).await;
    }
    if matches!(
        &cli.command,
        Command::Removenode { .. } | Command::Packages(_) | Command::Hosts(_)
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
            let ranked = crate::engines::drnode::rank(&view);
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
        // `repoint --list`: with `--primary` it is a runbook front, dispatched above.
        Command::Repoint { proc, .. } => {
            let ctx = context::Context::load(g).await?;
            {
                let view = ctx.probe().await;
                let rows = crate::engines::drnode::repoint_list(&view);
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
            }
            Ok(())
        }
        Command::Switchover { .. }
        | Command::Failover { .. }
        | Command::Demote { .. }
        | Command::Standalone { .. }
        | Command::Join { .. }
        | Command::Sync(_)
        | Command::SeizeRoles { .. }
        | Command::RemoveInstance { .. }
        | Command::Services { .. }
        | Command::Upgrade { .. }
        | Command::Removenode { .. }
        | Command::Packages(_)
        | Command::Hosts(_) => unreachable!("dispatched above"),
        Command::Certs(c) => certs::cmd_certs(c),
        Command::Lab(c) => lab::cmd_lab(g, c).await,
        Command::Run(a) => run::cmd_run(g, a).await,
        Command::Runbook(c) => run::cmd_runbook(c),
        Command::Drill(a) => drill::cmd_drill(a).await,
        Command::Chaos(a) => chaos::cmd_chaos(g, a).await,
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "drctl", &mut std::io::stdout());
            Ok(())
        }
    }
}
