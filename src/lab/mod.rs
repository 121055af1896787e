//! Local clusters for trying drctl, tests, drills and chaos: the [`Lab`] trait every engine's
//! lab implements (in its own folder), and the plumbing they share: processes started in their
//! own process group and touched only while they are ours, drill ownership, network namespaces
//! and the sweep of labs whose owner died.
//!
//! **Architecture invariant:** `lab` imports nothing of drctl but `util` and `certs`: it knows no
//! engine. An engine hands its lab to the registry (`Registration::lab`).

mod contract;
pub mod netns;
pub mod owner;
pub mod process;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use contract::{Lab, LabKind, LabOptions, LabRow};
pub use owner::Owner;
pub use process::{ProcState, Sig};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("no lab in {0}: start one with `drctl lab up`")]
    NoLab(PathBuf),
    #[error("a lab is already running in {dir} ({running}); stop it with `drctl lab down` first")]
    Running { dir: PathBuf, running: String },
    #[error("unknown lab node '{name}': the lab has {known}")]
    UnknownNode { name: String, known: String },
    #[error("cannot {verb} {path}: {source}")]
    Io {
        verb: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot find the drnode binary: {0}")]
    NoDrnode(String),
    /// The engine's lab cannot run on this machine (a missing server package), with the fix.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Certs(#[from] crate::certs::CertError),
}

/// Maps an I/O error to [`LabError::Io`] naming what was done to which path.
pub fn io<'a>(verb: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> LabError + 'a {
    move |source| LabError::Io {
        verb,
        path: path.to_path_buf(),
        source,
    }
}

/// The last `n` lines of a server's log, for an error that names why it stopped (a lab's
/// directory, its logs with it, is gone once the drill or test that made it fails). Empty when
/// the file cannot be read.
pub(crate) fn last_lines(path: &Path, n: usize) -> String {
    let Ok(log) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let last: Vec<&str> = log.lines().rev().take(n).collect();
    last.into_iter().rev().map(|l| format!("{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_lines_are_the_tail_of_the_log_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        std::fs::write(&log, "one\ntwo\nthree\n").unwrap();
        assert_eq!(super::last_lines(&log, 2), "two\nthree\n");
        assert_eq!(super::last_lines(&log, 9), "one\ntwo\nthree\n");
        assert_eq!(super::last_lines(&dir.path().join("none"), 2), "");
    }
}
