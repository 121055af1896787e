//! Everything a command needs to reach the cluster: where the cluster file is, who operates,
//! and, for drnode commands, the drnode cluster (`engines::drnode::Context`).

use std::path::{Path, PathBuf};

use super::args::GlobalArgs;
use super::error::CliError;

pub use crate::engines::drnode::Context;

/// Finds the cluster file: `--cluster`/`DRCTL_CLUSTER`, `./drctl.yaml`, then the lab's.
pub fn cluster_file(global: &GlobalArgs) -> Option<PathBuf> {
    if let Some(p) = &global.cluster {
        return Some(p.clone());
    }
    let local = PathBuf::from("drctl.yaml");
    if local.exists() {
        return Some(local);
    }
    let lab = global.lab_dir.join("cluster.yaml");
    lab.exists().then_some(lab)
}

pub(super) fn operator(global: &GlobalArgs) -> String {
    global
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| format!("uid:{}", nix::unistd::getuid()))
}

/// The command line's view of the cluster, for every engine.
pub fn global(g: &GlobalArgs) -> crate::engine::Global {
    crate::engine::Global {
        cluster_file: cluster_file(g),
        node: g.node.clone(),
        passphrase_file: g.passphrase_file.clone(),
        ca: g.ca.clone(),
        timeout: g.timeout,
        operator: operator(g),
    }
}

/// The drnode cluster of the command line.
pub async fn load(g: &GlobalArgs) -> Result<Context, CliError> {
    let global = global(g);
    let inventory = match &global.cluster_file {
        Some(path) => {
            Some(crate::engines::load_inventory(path).map_err(|e| CliError::usage(e.to_string()))?)
        }
        None => None,
    };
    Ok(Context::open(&global, inventory).await?)
}

/// Resolves `p` relative to `base`'s directory.
pub fn relative_to(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.parent().unwrap_or(Path::new(".")).join(p)
    }
}
