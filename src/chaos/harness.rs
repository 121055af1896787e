//! What every engine's chaos run does around its own lab, write client, policy and checker: the
//! lab made (or the reason in the report), the network namespaces and disks its schedule needs,
//! drctl and the state the write client shares, and the checker's verdict into the report.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use super::checker::Verdict;
use super::disk::Disks;
use super::drctl::Drctl;
use super::operate::Tally;
use super::report::RunReport;
use super::schedule::{Schedule, Step};
use crate::lab::LabError;

/// The lab `made`, or None with the reason in the report and its directory gone.
pub(super) fn made<L, E: Display>(
    made: Result<L, E>,
    kind: &str,
    dir: &Path,
    report: &mut RunReport,
) -> Option<L> {
    match made {
        Ok(l) => Some(l),
        Err(e) => {
            report.error = Some(format!("cannot create the {kind} lab: {e}"));
            let _ = std::fs::remove_dir_all(dir);
            None
        }
    }
}

/// Whether the schedule cuts links and the nodes can be put in network namespaces of their own
/// (root, `ip`); elsewhere a partition step is skipped and says so.
pub(super) fn partitions(sched: &Schedule) -> bool {
    sched
        .steps
        .iter()
        .any(|s| matches!(s, Step::Partition { .. }))
        && crate::lab::netns::unavailable().is_none()
}

/// Each of the `dirs` (node, directory) on a tmpfs of its own when the schedule fills a disk
/// and tmpfs can be mounted (as root); no disk otherwise.
pub(super) fn disks(
    sched: &Schedule,
    dirs: impl FnOnce() -> Vec<(String, PathBuf)>,
) -> Result<Disks, LabError> {
    let fills = sched
        .steps
        .iter()
        .any(|s| matches!(s, Step::DiskFull { .. }));
    if fills && super::disk::unavailable().is_none() {
        Disks::mount(&dirs())
    } else {
        Ok(Disks::default())
    }
}

/// The operators' drctl, and what the write client shares with the run: its stop flag and the
/// writes it saw acknowledged.
pub(super) struct Client<A> {
    pub drctl: Drctl,
    pub stop: Arc<AtomicBool>,
    pub acks: Arc<Mutex<Vec<A>>>,
}

impl<A> Client<A> {
    /// drctl for the lab in `dir` with its cluster file.
    pub(super) fn new(dir: &Path, cluster_file: &Path) -> Result<Client<A>, LabError> {
        Ok(Client {
            drctl: Drctl::new(dir, cluster_file)
                .map_err(|e| LabError::Failed(format!("cannot prepare drctl: {e}")))?,
            stop: Arc::new(AtomicBool::new(false)),
            acks: Arc::new(Mutex::new(Vec::new())),
        })
    }
}

/// The checker's verdicts, the counters and the timeline into the report; then the error that
/// cut the schedule short, if one did.
pub(super) fn judged(
    report: &mut RunReport,
    tally: &mut Tally,
    verdicts: Vec<Verdict>,
    (calls, acks): (usize, usize),
    (lost, exported): (u64, u64),
    failed: Option<LabError>,
) -> Result<(), LabError> {
    report.judged(
        verdicts,
        (tally.faults, calls, acks),
        (lost, exported),
        std::mem::take(&mut tally.timeline),
    );
    failed.map_or(Ok(()), Err)
}
