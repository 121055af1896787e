//! One procedure at a time per cluster on this host, for the engines that have no lease of ours
//! on their nodes (drnode's cluster lock lives on the nodes): an exclusive `flock` on
//! `$XDG_STATE_HOME/drctl/locks/KIND-CLUSTER-HASH.lock`, taken before the first step is planned
//! and held to the end of the run. Without it, two OpenLDAP switchovers in two shells raced and
//! lost 18 acknowledged adds (chaos seed 9008), and two etcd failovers after quorum loss could
//! each force a new cluster from a different survivor. The kernel releases the lock when its
//! drctl dies (even `kill -9`), so a killed run's lock is taken over by the next run or
//! `run --resume` with nothing to break. The file names the holder (operator, run id,
//! procedure, pid) for the refusal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::engine::ProcError;

/// The held lock; dropping it (or the process ending) releases it.
pub(crate) struct HostLock {
    _file: Flock<File>,
    pub(crate) path: PathBuf,
}

impl std::fmt::Debug for HostLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostLock({})", self.path.display())
    }
}

/// `$XDG_STATE_HOME/drctl/locks/KIND-CLUSTER-HASH.lock`: the cluster name made file-safe and a
/// hash of its nodes' URLs (two labs or clusters that share a name do not exclude each other;
/// every run on the same cluster file takes the same lock).
pub(crate) fn path_for(kind: &str, cluster: &str, urls: &[&str]) -> PathBuf {
    use sha2::{Digest, Sha256};
    let mut urls: Vec<&str> = urls.to_vec();
    urls.sort();
    let hash = hex::encode(&Sha256::digest(urls.join("\n").as_bytes())[..4]);
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
    let runs = crate::util::state::runs_dir();
    runs.parent()
        .map(|p| p.to_path_buf())
        .unwrap_or(runs)
        .join("locks")
        .join(format!("{kind}-{safe}-{hash}.lock"))
}

/// The holder line, once the run that holds the lock has written it: a run that has just taken
/// the lock still shows its predecessor's line (whose drctl is gone) for a moment.
fn read_holder(f: &mut File) -> String {
    for _ in 0..25 {
        let mut text = String::new();
        let _ = f.rewind().and_then(|()| f.read_to_string(&mut text));
        let line = text.trim().to_string();
        let pid = line
            .split("drctl pid ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists()) {
            return line;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    "a run that is just starting (holder not written yet)".into()
}

impl HostLock {
    /// Takes the lock of the `kind` cluster for `run_id`, or refuses (exit 3) naming the run
    /// that holds it.
    pub(crate) fn acquire(
        kind: &str,
        cluster: &str,
        urls: &[&str],
        run_id: &str,
        operator: &str,
        procedure: &str,
    ) -> Result<HostLock, ProcError> {
        let path = path_for(kind, cluster, urls);
        let io = |what: &str, e: std::io::Error| {
            ProcError::refused(format!(
                "cannot {what} the {kind} lock file {}: {e}",
                path.display()
            ))
            .unchanged()
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
                let holder = read_holder(&mut f);
                return Err(ProcError::refused(format!(
                    "the {kind} cluster {cluster} is locked by another run on this host: {holder} \
                     (that run's drctl still runs; wait for it to end, it holds {})",
                    path.display()
                ))
                .unchanged());
            }
            Err((_, e)) => return Err(io("lock", e.into())),
        };
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "this host".into());
        // Written over the old holder, then cut to length: a run refused meanwhile never
        // reads an empty file.
        let line = format!(
            "held by {operator} for {procedure} (run {run_id}, drctl pid {} on {})\n",
            std::process::id(),
            host
        );
        let written = file
            .rewind()
            .and_then(|()| file.write_all(line.as_bytes()))
            .and_then(|()| file.set_len(line.len() as u64))
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), %e, "cannot write the holder into the lock file");
        }
        Ok(HostLock { _file: file, path })
    }
}
