//! Sweeping what a killed drill left behind: its temporary lab directory (named with its owner),
//! the processes still serving from it (drnode, slapd), and its network namespaces and links.
//! Only labs whose owner process is gone are touched; `drctl lab up` labs have no owner.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::contract::LabKind;
use super::owner::Owner;
use super::process::{self, Sig};

pub const DRILL_PREFIX: &str = "drctl-drill-";

/// The directory for a drill of `runbook` under `base`, named with this process as its owner.
pub fn drill_dir(base: &Path, runbook: &str) -> PathBuf {
    base.join(format!(
        "{DRILL_PREFIX}{runbook}-{}-{}",
        Owner::me().tag(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ))
}

/// The owner a drill directory's name carries (`drctl-drill-NAME-p<pid>s<start>-<random>`).
pub fn drill_owner(dir: &Path) -> Option<Owner> {
    let name = dir.file_name()?.to_str()?;
    let rest = name.strip_prefix(DRILL_PREFIX)?;
    let mut parts = rest.rsplit('-');
    parts.next()?;
    Owner::parse_tag(parts.next()?)
}

/// Sweeps the stale drill labs under `base` and stale lab networks; returns what it removed. A
/// lab of one of `kinds` is first taken down by its kind (a Samba lab's processes rename
/// themselves and live in network namespaces named by the lab: no command line names the
/// directory).
pub fn stale(base: &Path, kinds: &[&LabKind]) -> Vec<String> {
    let mut swept = Vec::new();
    let entries = std::fs::read_dir(base).into_iter().flatten().flatten();
    for dir in entries.map(|e| e.path()) {
        let Some(owner) = drill_owner(&dir) else {
            continue;
        };
        if owner.alive() || !dir.is_dir() {
            continue;
        }
        for k in kinds.iter().filter(|k| k.is_in(&dir)) {
            if let Ok(lab) = (k.open)(&dir) {
                let _ = lab.down(true);
            }
        }
        let pids = kill_under(&dir);
        let removed = match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        };
        match removed {
            Ok(()) => swept.push(format!(
                "drill lab {} (owner {owner} is gone{})",
                dir.display(),
                if pids.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; ended pids {}",
                        pids.iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )),
            Err(e) => swept.push(format!("cannot remove {}: {e}", dir.display())),
        }
    }
    if nix::unistd::geteuid().is_root() {
        swept.extend(super::netns::sweep_stale());
    }
    swept
}

/// Ends (SIGKILL) every process serving from inside `dir`, and waits a little for them to go.
fn kill_under(dir: &Path) -> Vec<u32> {
    let me = std::process::id();
    let pids: Vec<u32> = process::pids_under(dir)
        .into_iter()
        .filter(|p| *p != me)
        .collect();
    for &pid in &pids {
        let _ = process::send(pid, Sig::Cont);
        let _ = process::send(pid, Sig::Kill);
    }
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until && !process::pids_under(dir).is_empty() {
        std::thread::sleep(Duration::from_millis(10));
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drill_directory_names_its_owner() {
        let dir = drill_dir(Path::new("/tmp"), "forced-failover");
        assert_eq!(drill_owner(&dir), Some(Owner::me()));
        assert_eq!(
            drill_owner(Path::new("/tmp/drctl-drill-join-1234abcd")),
            None
        );
        assert_eq!(drill_owner(Path::new("/tmp/lab")), None);
    }
}
