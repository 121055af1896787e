//! A failed run's directory (lab, logs, acked-write log, exports, journals) kept under
//! `--keep-failed DIR/seed-S`, and the lab of a run torn down however the run ends.

use std::path::Path;
use std::time::Instant;

use super::report::RunReport;

/// Stops a run's lab even when the run panics or its future is dropped (SIGINT).
pub(super) struct Teardown<L> {
    lab: Option<L>,
    /// Stops the lab; `true`: keep its directory.
    down: fn(L, bool),
}

impl<L> Teardown<L> {
    pub(super) fn new(lab: L, down: fn(L, bool)) -> Teardown<L> {
        Teardown {
            lab: Some(lab),
            down,
        }
    }

    pub(super) fn lab(&self) -> &L {
        self.lab.as_ref().expect("torn down only by finish or drop")
    }

    /// Ends the run: its verdict and time, the lab stopped, and a failed run's directory kept
    /// under `keep_failed` with its report beside it.
    pub(super) fn finish(
        mut self,
        report: &mut RunReport,
        started: Instant,
        keep_failed: Option<&Path>,
        dir: &Path,
    ) {
        report.passed = report.error.is_none() && report.invariants.iter().all(|i| i.ok);
        report.ms = started.elapsed().as_millis() as u64;
        let to = keep_failed.filter(|_| !report.passed);
        if let Some(lab) = self.lab.take() {
            (self.down)(lab, to.is_some());
        }
        if let Some(to) = to {
            // The verdicts and timeline beside the lab they describe.
            if let Ok(j) = serde_json::to_vec_pretty(&*report) {
                let _ = std::fs::write(dir.join("report.json"), j);
            }
            keep(dir, to, report.seed, report);
        }
    }
}

impl<L> Drop for Teardown<L> {
    fn drop(&mut self) {
        if let Some(lab) = self.lab.take() {
            (self.down)(lab, false);
        }
    }
}

/// Moves a failed run's directory to `to/seed-S` and says where in the report.
pub(super) fn keep(dir: &Path, to: &Path, seed: u64, report: &mut RunReport) {
    let dest = to.join(format!("seed-{seed}"));
    let _ = std::fs::create_dir_all(to);
    let _ = std::fs::remove_dir_all(&dest);
    match std::fs::rename(dir, &dest).or_else(|_| copy_dir(dir, &dest)) {
        Ok(()) => report.kept = Some(dest.display().to_string()),
        Err(e) => report
            .error
            .get_or_insert(format!("cannot keep {}: {e}", dir.display()))
            .push('.'),
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}
