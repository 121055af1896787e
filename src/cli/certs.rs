//! `drctl certs init|issue`.

use super::args::CertsCommand;
use super::error::CliError;
use crate::certs::{self, CertError};

pub(super) fn cmd_certs(cmd: &CertsCommand) -> Result<(), CliError> {
    let map = |e: CertError| match e {
        CertError::Exists { .. } => CliError::refused(e.to_string()),
        CertError::Name(_) | CertError::NoCa { .. } => CliError::usage(e.to_string()),
        other => CliError::failed(other.to_string()),
    };
    match cmd {
        CertsCommand::Init { dir, cluster_name } => {
            let files = certs::init_ca(dir, cluster_name).map_err(map)?;
            println!("{}", files.cert.display());
            eprintln!("CA key: {} (keep it private)", files.key.display());
        }
        CertsCommand::Issue {
            name,
            dir,
            cluster_name,
            sans,
        } => {
            let files = certs::issue(dir, name, cluster_name, sans).map_err(map)?;
            println!("{}", files.cert.display());
            eprintln!("key: {}", files.key.display());
        }
    }
    Ok(())
}
