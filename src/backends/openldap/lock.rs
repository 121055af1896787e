//! One OpenLDAP procedure at a time per cluster on this host: an exclusive `flock` on
//! `$XDG_STATE_HOME/drctl/locks/openldap-CLUSTER.lock`, taken before the first step is planned
//! and held to the end of the run. slapd has no lease of ours (drnode's cluster lock lives on
//! the nodes): without this, two switchovers in two shells raced and lost 18 acknowledged adds
//! (chaos seed 9008). The kernel releases the lock when its drctl dies (even `kill -9`), so a
//! killed run's lock is taken over by the next run or `run --resume` with nothing to break.
//! The file names the holder (operator, run id, procedure, pid) for the refusal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::procedures::ProcError;

/// The held lock; dropping it (or the process ending) releases it.
pub struct HostLock {
    _file: Flock<File>,
    pub path: PathBuf,
}

impl std::fmt::Debug for HostLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostLock({})", self.path.display())
    }
}

/// `$XDG_STATE_HOME/drctl/locks/openldap-CLUSTER.lock` (the cluster name made file-safe).
pub fn path_for(cluster: &str) -> PathBuf {
    let safe: String = cluster
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let runs = crate::runbook::journal::runs_dir();
    runs.parent()
        .map(|p| p.to_path_buf())
        .unwrap_or(runs)
        .join("locks")
        .join(format!("openldap-{safe}.lock"))
}

impl HostLock {
    /// Takes the lock for `run_id`, or refuses (exit 3) naming the run that holds it.
    pub fn acquire(
        cluster: &str,
        run_id: &str,
        operator: &str,
        procedure: &str,
    ) -> Result<HostLock, ProcError> {
        let path = path_for(cluster);
        let io = |what: &str, e: std::io::Error| {
            ProcError::refused(format!(
                "cannot {what} the OpenLDAP lock file {}: {e}; nothing was changed",
                path.display()
            ))
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create the directory of", e))?;
        }
        // Not truncated before the lock is ours: the holder stays readable.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("open", e))?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(f) => f,
            Err((mut f, Errno::EWOULDBLOCK)) => {
                let mut holder = String::new();
                let _ = f.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(ProcError::refused(format!(
                    "the OpenLDAP group {cluster} is locked by another run on this host: {} \
                     (that run's drctl still runs; wait for it to end, it holds {}); nothing was changed",
                    if holder.is_empty() { "holder unknown" } else { holder },
                    path.display()
                )));
            }
            Err((_, e)) => return Err(io("lock", e.into())),
        };
        let me = crate::procedures::this_process();
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| {
                writeln!(
                    file,
                    "held by {operator} for {procedure} (run {run_id}, drctl pid {} on {})",
                    me.pid, me.host
                )
            })
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), %e, "cannot write the holder into the lock file");
        }
        Ok(HostLock { _file: file, path })
    }
}
