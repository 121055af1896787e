//! Where drctl keeps its state on this machine: run journals, and beside them the upgrade
//! records and lock notes the engines keep (a leaf, so an engine need not import the runbooks).

use std::path::PathBuf;

/// `$XDG_STATE_HOME/drctl/runs`, else `~/.local/state/drctl/runs`.
pub fn runs_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".local/state")
        });
    base.join("drctl").join("runs")
}
