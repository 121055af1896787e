//! The `disk-full` fault: each node's data directory on a tmpfs of its own (as root), so that a
//! run can fill one node's disk while it runs (the tmpfs shrunk to what it holds) and give the
//! room back at the heal. The mounts go when the run ends; a kept run keeps their files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::lab::LabError;

/// Room a node's tmpfs has when its disk is not full.
const ROOM: &str = "256m";

/// The tmpfs mounts of one run, by node name.
#[derive(Debug, Default)]
pub(crate) struct Disks(Vec<(String, PathBuf)>);

fn sh(what: &str, cmd: &mut Command) -> Result<(), LabError> {
    let out = cmd
        .output()
        .map_err(|e| LabError::Failed(format!("{what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Failed(format!(
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Why this host cannot fill a node's disk, if it cannot.
pub(crate) fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("mounting a tmpfs needs root".into());
    }
    None
}

impl Disks {
    /// Mounts a tmpfs over each node's data directory, what it held copied in (the nodes do
    /// not run yet).
    pub(crate) fn mount(nodes: &[(String, PathBuf)]) -> Result<Disks, LabError> {
        let mut disks = Disks::default();
        for (name, dir) in nodes {
            let aside = dir.with_extension("aside");
            std::fs::rename(dir, &aside)
                .and_then(|_| std::fs::create_dir(dir))
                .map_err(|e| LabError::Failed(format!("move {} aside: {e}", dir.display())))?;
            sh(
                &format!("mount a tmpfs on {}", dir.display()),
                Command::new("mount")
                    .args(["-t", "tmpfs", "-o", &format!("size={ROOM}"), "tmpfs"])
                    .arg(dir),
            )?;
            disks.0.push((name.clone(), dir.clone()));
            sh(
                &format!("copy {} onto its tmpfs", aside.display()),
                Command::new("cp").arg("-a").arg(aside.join(".")).arg(dir),
            )?;
            let _ = std::fs::remove_dir_all(&aside);
        }
        Ok(disks)
    }

    /// Fills `name`'s disk: its tmpfs shrunk to the pages it uses. None when it has no tmpfs.
    pub(crate) fn fill(&self, name: &str) -> Option<Result<(), LabError>> {
        let (_, dir) = self.0.iter().find(|(n, _)| n == name)?;
        // The node writes while it runs: a size measured just before the remount can be below
        // what it holds by then, and the kernel refuses it (chaos seed 303 once; seed 528 five
        // times in a row, a node just restarted and catching up). Measured again and tried
        // again, each time with a little more room: a few writes fill it all the same.
        let mut last = None;
        for margin in [0u64, 16 << 10, 64 << 10, 256 << 10, 1 << 20] {
            let used = match nix::sys::statvfs::statvfs(dir) {
                Ok(s) => (s.blocks() - s.blocks_free()) * s.fragment_size(),
                Err(e) => {
                    return Some(Err(LabError::Failed(format!(
                        "statvfs {}: {e}",
                        dir.display()
                    ))))
                }
            };
            match remount(dir, &(used.max(4096) + margin).to_string()) {
                Ok(()) => return Some(Ok(())),
                Err(e) => last = Some(e),
            }
        }
        last.map(Err)
    }

    /// Gives every node its room back.
    pub(crate) fn heal(&self) -> Result<Vec<String>, LabError> {
        let mut healed = Vec::new();
        for (name, dir) in &self.0 {
            remount(dir, ROOM)?;
            healed.push(format!("disk of {name}"));
        }
        Ok(healed)
    }

    /// Unmounts every tmpfs (the nodes stopped), its files copied back into the directory when
    /// the run is kept.
    pub(crate) fn release(&mut self, keep: bool) {
        for (_, dir) in self.0.drain(..) {
            let saved = dir.with_extension("saved");
            if keep {
                let _ = sh(
                    "save a tmpfs",
                    Command::new("cp").arg("-a").arg(&dir).arg(&saved),
                );
            }
            let _ = Command::new("umount").arg("-l").arg(&dir).status();
            if keep && saved.exists() {
                let _ = std::fs::remove_dir(&dir);
                let _ = std::fs::rename(&saved, &dir);
            }
        }
    }
}

fn remount(dir: &Path, size: &str) -> Result<(), LabError> {
    sh(
        &format!("resize the tmpfs on {} to {size}", dir.display()),
        Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(dir),
    )
}

impl Drop for Disks {
    fn drop(&mut self) {
        self.release(false);
    }
}
