//! A failed run's directory (lab, logs, acked-write log, exports, journals) kept under
//! `--keep-failed DIR/seed-S`.

use std::path::Path;

/// Moves a failed run's directory to `to/seed-S` and says where in the report.
pub(super) fn keep(dir: &Path, to: &Path, seed: u64, report: &mut super::report::RunReport) {
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
