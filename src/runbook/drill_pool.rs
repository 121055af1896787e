//! Labs kept between the drills of one `drctl drill` command. The first drill of a kind and
//! size that later drills of the same kind and size follow brings its lab up as usual, stops
//! every node cleanly and keeps a copy of the lab's directory; each later drill starts from that
//! copy, restored into the same directory (the servers' configuration names its paths and
//! ports), instead of building the lab again (a Samba domain: provision, joins and replication,
//! about 50 s). Each drill still meets a lab no other drill has touched: the copy is taken
//! before any fault, and every later drill gets a fresh copy of it.
//!
//! Only an engine whose lab says its directory is all of its state (`DrillLab::REUSE`) is kept.
//! Kept copies are removed once the last drill of their kind and size has started, and when the
//! pool is dropped; a killed `drctl` leaves them to the next drill's sweep (their names carry
//! their owner, like every drill directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::lab::LabError;

/// A lab's kind and its number of nodes: drills that agree on both can share a kept lab.
type Key = (String, u16);

/// The labs one `drctl drill` command keeps between its drills.
#[derive(Default)]
pub struct LabPool {
    /// Drills still to start, by kind and size.
    ahead: Mutex<BTreeMap<Key, usize>>,
    kept: Mutex<BTreeMap<Key, Kept>>,
}

/// A lab kept for later drills.
struct Kept {
    /// Where the lab runs: the directory its servers' configuration names.
    dir: PathBuf,
    /// The lab's directory as it was with the group up and every node stopped cleanly.
    copy: PathBuf,
    /// A drill runs on it now.
    busy: bool,
}

/// What a drill starting now gets from the pool.
pub(crate) enum Start {
    /// No kept lab to start from, and no later drill to keep one for: a lab of its own.
    Fresh,
    /// No kept lab yet, but `later` drills of the same kind and size follow: bring the lab up
    /// in the drill's own directory, then offer it with [`LabPool::keep`].
    Keep { later: usize },
    /// The kept lab, restored into `dir` (its directory) from the kept copy.
    Restored { dir: PathBuf },
}

impl LabPool {
    /// A pool for the drills about to run, each named by its lab's kind and size.
    pub fn new<'a>(drills: impl IntoIterator<Item = (&'a str, u16)>) -> LabPool {
        let mut ahead = BTreeMap::new();
        for (kind, nodes) in drills {
            *ahead.entry((kind.to_string(), nodes)).or_insert(0) += 1;
        }
        LabPool {
            ahead: Mutex::new(ahead),
            kept: Mutex::default(),
        }
    }

    /// A drill of `kind` on `nodes` nodes starts, in a lab of its own directory unless a kept
    /// lab is restored (in the kept one's directory). For a lab that cannot be
    /// reused (`reusable` false), always `Fresh`.
    pub(crate) fn start(&self, kind: &str, nodes: u16, reusable: bool) -> Result<Start, LabError> {
        let key = (kind.to_string(), nodes);
        let later = {
            let mut ahead = self.ahead.lock().expect("pool");
            let left = ahead.entry(key.clone()).or_insert(1);
            *left = left.saturating_sub(1);
            *left
        };
        if !reusable {
            return Ok(Start::Fresh);
        }
        let mut kept = self.kept.lock().expect("pool");
        match kept.get_mut(&key) {
            Some(k) if !k.busy => {
                k.busy = true;
                let (dir, copy) = (k.dir.clone(), k.copy.clone());
                drop(kept);
                if let Err(e) = restore(&copy, &dir) {
                    self.done(kind, nodes);
                    return Err(e);
                }
                Ok(Start::Restored { dir })
            }
            // Busy, or none yet while another drill of the kind is bringing one up.
            Some(_) => Ok(Start::Fresh),
            None if later > 0 => Ok(Start::Keep { later }),
            None => Ok(Start::Fresh),
        }
    }

    /// Keeps a copy of the lab in `dir`, every node of it stopped cleanly, for the later drills
    /// of `kind` on `nodes` nodes; the drill running on it now holds it until [`LabPool::done`].
    pub(crate) fn keep(&self, kind: &str, nodes: u16, dir: &Path) -> Result<(), LabError> {
        let copy = copy_dir_of(dir);
        let _ = std::fs::remove_dir_all(&copy);
        cp(dir, &copy)?;
        let old = self.kept.lock().expect("pool").insert(
            (kind.to_string(), nodes),
            Kept {
                dir: dir.to_path_buf(),
                copy,
                busy: true,
            },
        );
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old.copy);
        }
        Ok(())
    }

    /// The drill on the kept lab of `kind` on `nodes` nodes is over (its lab torn down): the
    /// next may restore it, or, with no drill of its kind and size ahead, the copy is removed.
    pub(crate) fn done(&self, kind: &str, nodes: u16) {
        let key = (kind.to_string(), nodes);
        let none_ahead = self.ahead.lock().expect("pool").get(&key).copied() == Some(0);
        let mut kept = self.kept.lock().expect("pool");
        if none_ahead {
            if let Some(k) = kept.remove(&key) {
                let _ = std::fs::remove_dir_all(k.copy);
            }
        } else if let Some(k) = kept.get_mut(&key) {
            k.busy = false;
        }
    }
}

impl Drop for LabPool {
    fn drop(&mut self) {
        for k in self.kept.get_mut().expect("pool").values() {
            let _ = std::fs::remove_dir_all(&k.copy);
        }
    }
}

/// Where the copy of the lab in `dir` is kept: beside it, named like a drill directory of the
/// same owner (`drctl-drill-kept-p<pid>s<start>-<random>`), so the sweep knows whose it is.
fn copy_dir_of(dir: &Path) -> PathBuf {
    crate::lab::sweep::drill_dir(dir.parent().unwrap_or(Path::new("/")), "kept")
}

/// Copies `from` to `to` (which must not exist) as it is: modes, owners, links, sparse files
/// and the sockets a stopped server left (`cp -a`).
fn cp(from: &Path, to: &Path) -> Result<(), LabError> {
    let out = Command::new("cp")
        .arg("-a")
        .arg("--reflink=auto")
        .arg("--")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Failed(format!("cannot run cp: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(to);
    Err(LabError::Failed(format!(
        "cannot copy the lab {} to {}: cp -a: {}",
        from.display(),
        to.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Puts the kept copy back where the lab runs, over whatever is left there.
fn restore(copy: &Path, dir: &Path) -> Result<(), LabError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(crate::lab::io("remove", dir)(e))
        }
        _ => {}
    }
    cp(copy, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_in(base: &Path, name: &str) -> PathBuf {
        crate::lab::sweep::drill_dir(base, name)
    }

    #[test]
    fn a_lab_is_kept_only_for_later_drills_of_its_kind_and_size() {
        let base = tempfile::tempdir().unwrap();
        let pool = LabPool::new([("samba-ad", 3), ("samba-ad", 3), ("samba-ad", 2)]);
        // Not reusable: never kept.
        let fresh = dir_in(base.path(), "a");
        assert!(matches!(
            pool.start("etcd", 3, false).unwrap(),
            Start::Fresh
        ));
        // The only drill of its size: nothing to keep a lab for.
        assert!(matches!(
            pool.start("samba-ad", 2, true).unwrap(),
            Start::Fresh
        ));
        // The first of two: keep.
        let Start::Keep { later } = pool.start("samba-ad", 3, true).unwrap() else {
            panic!("not kept")
        };
        assert_eq!(later, 1);
        let dir = fresh;
        std::fs::create_dir_all(dir.join("private")).unwrap();
        std::fs::write(dir.join("private/sam.ldb"), "provisioned").unwrap();
        pool.keep("samba-ad", 3, &dir).unwrap();
        // The drill changes its lab, then tears it down.
        std::fs::write(dir.join("private/sam.ldb"), "seized").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        pool.done("samba-ad", 3);
        // The second starts from the copy, in the same directory, as it was kept.
        let Start::Restored { dir: again } = pool.start("samba-ad", 3, true).unwrap() else {
            panic!("not restored")
        };
        assert_eq!(again, dir);
        let text = std::fs::read_to_string(dir.join("private/sam.ldb")).unwrap();
        assert_eq!(text, "provisioned");
        // The last drill of its kind and size is over: the copy is gone.
        let copy = pool.kept.lock().unwrap()[&("samba-ad".to_string(), 3)]
            .copy
            .clone();
        assert!(copy.is_dir());
        pool.done("samba-ad", 3);
        assert!(!copy.exists());
        assert!(pool.kept.lock().unwrap().is_empty());
    }

    #[test]
    fn a_kept_lab_in_use_is_not_handed_to_a_second_drill() {
        let base = tempfile::tempdir().unwrap();
        let pool = LabPool::new([("389ds", 3); 3]);
        let first = dir_in(base.path(), "a");
        assert!(matches!(
            pool.start("389ds", 3, true).unwrap(),
            Start::Keep { .. }
        ));
        std::fs::create_dir_all(&first).unwrap();
        pool.keep("389ds", 3, &first).unwrap();
        // The first still runs on it: the second gets a lab of its own.
        assert!(matches!(
            pool.start("389ds", 3, true).unwrap(),
            Start::Fresh
        ));
        let copy = pool.kept.lock().unwrap()[&("389ds".to_string(), 3)]
            .copy
            .clone();
        // Dropping the pool removes what it kept.
        drop(pool);
        assert!(!copy.exists());
    }

    #[test]
    fn a_kept_copy_is_named_for_its_owner_so_the_sweep_finds_it() {
        let dir = dir_in(Path::new("/tmp"), "forced-failover");
        let copy = copy_dir_of(&dir);
        assert_eq!(
            crate::lab::sweep::drill_owner(&copy),
            Some(crate::lab::Owner::me())
        );
        assert!(copy
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .contains("-kept-"));
    }
}
