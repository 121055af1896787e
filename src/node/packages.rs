//! Node-local package files (seed 003: package data is not replicated and was copied by hand):
//! listed with checksums, downloaded, uploaded atomically, removed. `drctl packages sync` copies
//! the primary's set to every replica through these calls.
//!
//! Only regular files are packages: a symlink (or anything else) in the directory is neither
//! listed, nor served, nor copied — a link to `/etc/shadow` planted on the primary would
//! otherwise reach every replica. The node records an event for each one it skips.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::Node;
use crate::api::PackageInfo;

fn dir(node: &Node) -> PathBuf {
    node.config.data_dir.join("packages")
}

/// Package names are plain file names: letters, digits, '.', '_', '-', not starting with '.'.
pub(super) fn validate_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "'{name}' is not a package file name (letters, digits, '.', '_', '-'; not starting with '.')"
        )))
    }
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> ApiError + '_ {
    move |e| super::error::io_error(what, e)
}

/// Reads a package only if `path` is a regular file itself, not through a link: the file
/// opened is checked to be the very one looked at (a link swapped in between is refused).
/// None when there is no such package.
fn read_regular(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let seen = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => m,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut f = std::fs::File::open(path)?;
    let opened = f.metadata()?;
    if !opened.file_type().is_file() || (opened.dev(), opened.ino()) != (seen.dev(), seen.ino()) {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Records, once per path and process, that an entry of the directory is not served.
fn skipped(node: &Node, path: &std::path::Path, what: &str) {
    static SAID: std::sync::Mutex<std::collections::BTreeSet<PathBuf>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let first = SAID
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_path_buf());
    if first {
        let message = format!(
            "{} is {what}, not a regular file: it is neither listed, served nor copied",
            path.display()
        );
        tracing::warn!("{message}");
        node.event(super::nodedb::NewEvent::new("package_skipped", message));
    }
}

pub(super) fn list_dir(node: &Node) -> Result<Vec<PackageInfo>, ApiError> {
    let d = dir(node);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&d) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io("read the packages directory")(e)),
    };
    for e in entries {
        let e = e.map_err(io("read the packages directory"))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if validate_name(&name).is_err() {
            continue;
        }
        // The entry itself, not what a link points at.
        let kind = e.file_type().map_err(io("read the packages directory"))?;
        if !kind.is_file() {
            let what = if kind.is_symlink() {
                "a symlink"
            } else if kind.is_dir() {
                "a directory"
            } else {
                "a special file"
            };
            skipped(node, &e.path(), what);
            continue;
        }
        let Some(bytes) = read_regular(&e.path()).map_err(io("read a package"))? else {
            continue;
        };
        out.push(PackageInfo {
            name,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
    }
    out.sort();
    Ok(out)
}

pub(super) async fn list(
    State(node): State<Arc<Node>>,
) -> Result<Json<Vec<PackageInfo>>, ApiError> {
    let n = node.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || list_dir(&n)).await??,
    ))
}

pub(super) async fn download(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    validate_name(&name)?;
    let path = dir(&node).join(&name);
    match tokio::task::spawn_blocking(move || read_regular(&path)).await? {
        Ok(Some(bytes)) => Ok(([("content-type", "application/octet-stream")], bytes)),
        Ok(None) => Err(ApiError::not_found(format!("package '{name}'"))),
        Err(e) => Err(io("read a package")(e)),
    }
}

pub(super) async fn upload(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<PackageInfo>, ApiError> {
    validate_name(&name)?;
    let d = dir(&node);
    let info = PackageInfo {
        name: name.clone(),
        size: body.len() as u64,
        sha256: hex::encode(Sha256::digest(&body)),
    };
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::fs::create_dir_all(&d).map_err(io("create the packages directory"))?;
        // An unpredictable tmp name, created exclusively: nothing planted is followed.
        let mut tmp = tempfile::Builder::new()
            .prefix(".drctl-upload-")
            .tempfile_in(&d)
            .map_err(io("write a package"))?;
        tmp.write_all(&body).map_err(io("write a package"))?;
        tmp.as_file().sync_all().map_err(io("write a package"))?;
        // rename(2) replaces a link at the name itself, never its target.
        tmp.persist(d.join(&name))
            .map_err(|e| io("write a package")(e.error))?;
        std::fs::File::open(&d)
            .and_then(|f| f.sync_all())
            .map_err(io("write a package"))
    })
    .await??;
    Ok(Json(info))
}

pub(super) async fn remove(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    validate_name(&name)?;
    match tokio::fs::remove_file(dir(&node).join(&name)).await {
        Ok(()) => Ok(Json(serde_json::json!({"removed": name}))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ApiError::not_found(format!("package '{name}'")))
        }
        Err(e) => Err(io("remove a package")(e)),
    }
}
