//! One drnode per data directory: an exclusive `flock` on `drnode.lock`, held for the life of
//! the process (released by the kernel even on `kill -9`). Two nodes on one directory both ran
//! and the second left a wrong URL in the replicated member list for good.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

pub(super) const LOCK_FILE: &str = "drnode.lock";

#[derive(Debug, thiserror::Error)]
pub enum DirLockError {
    #[error(
        "data directory {dir} is in use by another drnode (pid {holder}); stop it first, \
         or give this node its own data directory"
    )]
    Busy { dir: PathBuf, holder: String },
    #[error("cannot lock the data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or the process ending) releases the directory.
pub(super) struct DirLock {
    _file: Flock<File>,
}

impl DirLock {
    pub(super) fn acquire(dir: &Path) -> Result<DirLock, DirLockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| DirLockError::Io {
            path: path.clone(),
            source,
        };
        // Not truncated before the lock is ours: the holder's pid stays readable.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(f) => f,
            Err((mut f, Errno::EWOULDBLOCK)) => {
                let mut holder = String::new();
                let _ = f.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(DirLockError::Busy {
                    dir: dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "unknown".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err((_, e)) => return Err(io(e.into())),
        };
        // The pid is for the message of a second node; the lock holds without it (a full disk
        // must not keep a node from starting to serve reads).
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), %e, "cannot write the pid into the lock file");
        }
        Ok(DirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).err().expect("refused");
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        DirLock::acquire(dir.path()).unwrap();
    }
}
