//! `drctl entry put|get|list|rm`: replicated entries, through the primary or one `--node`.

use super::args::EntryCommand;
use super::context::Context;
use super::error::CliError;
use super::output::print_json;
use crate::api::client::validate_key;

pub(super) async fn cmd_entry(ctx: &Context, cmd: &EntryCommand) -> Result<(), CliError> {
    let key_ok = |k: &str| validate_key(k).map_err(|e| CliError::usage(format!("key: {e}")));
    match cmd {
        EntryCommand::Put { key, value, json } => {
            key_ok(key)?;
            let target = ctx.default_target().await?;
            let ack = target.client.put_entry(key, value).await?;
            if *json {
                print_json(&ack);
            } else {
                println!(
                    "{} written on {} at epoch {} seq {}",
                    ack.key, ack.node, ack.epoch, ack.seq
                );
            }
        }
        EntryCommand::Get { key, json } => {
            key_ok(key)?;
            let target = ctx.default_target().await?;
            match target.client.get_entry(key).await? {
                Some(e) if *json => print_json(&e),
                Some(e) => println!("{}", e.value),
                None => {
                    return Err(CliError::failed(format!(
                        "no entry '{key}' on {}",
                        target.name
                    )))
                }
            }
        }
        EntryCommand::List { prefix, json } => {
            let target = ctx.default_target().await?;
            let entries = target.client.list_entries(prefix.as_deref()).await?;
            if *json {
                print_json(&entries);
            } else {
                for e in entries {
                    println!("{}\t{}", e.key, e.value);
                }
            }
        }
        EntryCommand::Rm { key, json } => {
            key_ok(key)?;
            let target = ctx.default_target().await?;
            let ack = target.client.delete_entry(key).await?;
            if *json {
                print_json(&ack);
            } else {
                println!(
                    "{} deleted on {} at epoch {} seq {}",
                    ack.key, ack.node, ack.epoch, ack.seq
                );
            }
        }
    }
    Ok(())
}
