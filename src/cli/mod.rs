//! The operator CLI: clap definitions in `args`, one module per noun, output conventions in
//! `output`. Errors carry their exit code.

mod api_cmd;
pub mod args;
mod certs;
pub mod context;
mod entry;
pub mod error;
mod events;
mod lab;
pub mod output;
mod status;

use clap::CommandFactory;

pub use args::Cli;
use args::Command;
pub use error::{CliError, Exit};

/// Runs one drctl command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let g = &cli.global;
    match &cli.command {
        Command::Status(a) => status::cmd_status(&context::Context::load(g).await?, a).await,
        Command::Check(a) => status::cmd_check(&context::Context::load(g).await?, a.json).await,
        Command::Entry(c) => entry::cmd_entry(&context::Context::load(g).await?, c).await,
        Command::Events(a) => events::cmd_events(&context::Context::load(g).await?, a).await,
        Command::Api(a) => api_cmd::cmd_api(&context::Context::load(g).await?, a).await,
        Command::Certs(c) => certs::cmd_certs(c),
        Command::Lab(c) => lab::cmd_lab(g, c).await,
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "drctl", &mut std::io::stdout());
            Ok(())
        }
    }
}
