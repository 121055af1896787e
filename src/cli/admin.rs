//! The reads and local edits beside the procedures: `removenode status`, `packages
//! list|put|rm`, `hosts render|apply` (the procedures themselves are runbook fronts, `fronts`).

use super::args::{Command, HostsCommand, PackagesCommand};
use super::context::Context;
use super::error::CliError;
use super::output::{print_json, table};
use crate::engines::drnode as p;

/// Runs one of this module's commands; None if `cmd` is not one of them.
pub(super) async fn dispatch(ctx: &Context, cmd: &Command) -> Option<Result<(), CliError>> {
    Some(match cmd {
        Command::Removenode { target, proc, .. } if target == "status" => {
            removenode_status(ctx, proc.json).await
        }
        Command::Packages(cmd) => packages(ctx, cmd).await,
        Command::Hosts(cmd) => hosts(ctx, cmd).await,
        _ => return None,
    })
}

async fn removenode_status(ctx: &Context, json: bool) -> Result<(), CliError> {
    let view = ctx.probe().await;
    let pending = p::removenode_status(&view);
    if json {
        print_json(&pending);
        return Ok(());
    }
    if pending.is_empty() {
        println!("no removal pending");
        return Ok(());
    }
    let mut t = table(&["NODE", "HOST ID", "STATE", "ACKNOWLEDGED BY", "NOT YET"]);
    for r in &pending {
        t.add_row(vec![
            r.name.clone(),
            r.host_id.clone(),
            format!("{:?}", r.state).to_lowercase(),
            r.acknowledged_by.join(", "),
            r.missing.join(", "),
        ]);
    }
    println!("{}", super::output::render(&t));
    Ok(())
}

async fn packages(ctx: &Context, cmd: &PackagesCommand) -> Result<(), CliError> {
    let target = ctx.default_target().await?;
    match cmd {
        PackagesCommand::List { json } => {
            let list = target.client.packages().await?;
            if *json {
                print_json(&list);
            } else {
                for p in list {
                    println!("{}\t{}\t{}", p.name, p.size, p.sha256);
                }
            }
        }
        PackagesCommand::Put { file, name } => {
            let name = match name {
                Some(n) => n.clone(),
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        CliError::usage(format!("{} has no file name", file.display()))
                    })?,
            };
            let body = std::fs::read(file)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
            let info = target.client.upload_package(&name, body.into()).await?;
            println!(
                "{} uploaded to {} ({} bytes, sha256 {})",
                info.name, target.name, info.size, info.sha256
            );
        }
        PackagesCommand::Rm { name } => {
            target.client.delete_package(name).await?;
            println!("{name} removed from {}", target.name);
        }
        PackagesCommand::Sync { .. } => unreachable!("a runbook front"),
    }
    Ok(())
}

async fn hosts(ctx: &Context, cmd: &HostsCommand) -> Result<(), CliError> {
    let inv = ctx
        .inventory
        .as_ref()
        .ok_or_else(|| CliError::usage("hosts needs a cluster file (--cluster)"))?;
    let view = ctx.probe().await;
    let primary = view.primary().map(|n| n.name.clone());
    let block = crate::hosts::render(inv, primary.as_deref())
        .map_err(|e| CliError::usage(e.to_string()))?;
    match cmd {
        HostsCommand::Render => print!("{block}"),
        HostsCommand::Apply { file } => {
            let changed =
                crate::hosts::apply(file, &inv.file.cluster, &block).map_err(|e| match e {
                    crate::hosts::HostsError::Io { .. } => CliError::failed(e.to_string()),
                    other => CliError::usage(other.to_string()),
                })?;
            if changed {
                println!(
                    "hosts block for cluster {} written to {}",
                    inv.file.cluster,
                    file.display()
                );
            } else {
                println!(
                    "{} already holds the hosts block for cluster {}: already done",
                    file.display(),
                    inv.file.cluster
                );
            }
        }
    }
    Ok(())
}
