//! Export files — the writes a demote or failover saves before a resync overwrites them — are
//! written once: never over another file, never through a symlink planted at their path, never
//! seen half-written, readable by their owner only. A rerun that finds its own export (same
//! bytes) at the path counts it as written, so a resumed procedure stays idempotent.

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::engine::ProcError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "refusing to write the export to {path}: it already exists ({what}); move it away or \
         choose another path"
    )]
    Exists { path: PathBuf, what: &'static str },
    #[error("cannot write the export {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<ExportError> for ProcError {
    fn from(e: ExportError) -> Self {
        match e {
            // Nothing was written: a precondition, like any other refusal.
            ExportError::Exists { .. } => ProcError::refused(e.to_string()),
            ExportError::Io { .. } => ProcError::failed(e.to_string()),
        }
    }
}

/// What `write_new` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Created,
    /// The path already held exactly these bytes (an earlier attempt of the same run).
    AlreadyThere,
}

/// Whether `path` is a regular file (not a link) holding exactly `content`; Err says what
/// else is there.
fn holds(path: &Path, content: &[u8]) -> Result<bool, &'static str> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(false),
        Ok(m) if m.file_type().is_symlink() => Err("a symlink"),
        Ok(m) if !m.file_type().is_file() => Err("not a regular file"),
        Ok(_) => match std::fs::read(path) {
            Ok(b) if b == content => Ok(true),
            _ => Err("a file with other content"),
        },
    }
}

/// Writes `content` to a new file `path` (mode 0600): through an unpredictable tmp file in the
/// same directory, synced, then linked into place only if nothing is there.
pub(crate) fn write_new(path: &Path, content: &[u8]) -> Result<Written, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let exists = |what| ExportError::Exists {
        path: path.to_path_buf(),
        what,
    };
    match holds(path, content) {
        Ok(true) => return Ok(Written::AlreadyThere),
        Ok(false) => {}
        Err(what) => return Err(exists(what)),
    }
    let dir = dir_of(path);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let tmp = synced_tmp(dir, content).map_err(io)?;
    // link(2): fails if anything (a file, a dangling link) took the name meanwhile.
    if let Err(e) = tmp.persist_noclobber(path) {
        return match (e.error.kind(), holds(path, content)) {
            (std::io::ErrorKind::AlreadyExists, Ok(true)) => Ok(Written::AlreadyThere),
            (std::io::ErrorKind::AlreadyExists, Err(what)) => Err(exists(what)),
            _ => Err(io(e.error)),
        };
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(Written::Created)
}

/// [`write_new`], or over an earlier export of the same run that `content` extends (its bytes
/// first, then more records: the node took writes while it was exported, so it was exported
/// again). Never over anything else.
pub(crate) fn write_extending(path: &Path, content: &[u8]) -> Result<Written, ExportError> {
    let earlier = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => std::fs::read(path).ok(),
        _ => None,
    };
    if !earlier.is_some_and(|e| e.len() < content.len() && content.starts_with(&e)) {
        return write_new(path, content);
    }
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = dir_of(path);
    let tmp = synced_tmp(dir, content).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(Written::Created)
}

/// The directory an export lands in.
fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `content` in an unpredictable tmp file (mode 0600) in `dir`, synced: renamed or linked into
/// place by the caller.
fn synced_tmp(dir: &Path, content: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".drctl-export-")
        .tempfile_in(dir)?;
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_export_is_replaced_only_by_one_that_extends_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("export.jsonl");
        assert_eq!(write_extending(&p, b"a\n").unwrap(), Written::Created);
        assert_eq!(write_extending(&p, b"a\n").unwrap(), Written::AlreadyThere);
        assert_eq!(write_extending(&p, b"a\nb\n").unwrap(), Written::Created);
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            write_extending(&p, b"c\n"),
            Err(ExportError::Exists { .. })
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\n");
    }

    #[test]
    fn writes_once_private_and_never_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/export.jsonl");
        assert_eq!(write_new(&p, b"a\n").unwrap(), Written::Created);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(write_new(&p, b"a\n").unwrap(), Written::AlreadyThere);
        assert!(matches!(
            write_new(&p, b"b\n"),
            Err(ExportError::Exists { .. })
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"a\n");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(matches!(
            write_new(&link, b"keep"),
            Err(ExportError::Exists {
                what: "a symlink",
                ..
            })
        ));
        let dangling = dir.path().join("dangling.jsonl");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(write_new(&dangling, b"x").is_err());
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "tmp files left: {left:?}");
    }
}
