//! Node-local package files (seed 003: package data is not replicated and was copied by hand):
//! listed with checksums, downloaded, uploaded atomically, removed. `drctl packages sync` copies
//! the primary's set to every replica through these calls.

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
pub fn validate_name(name: &str) -> Result<(), ApiError> {
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

pub fn list_dir(node: &Node) -> Result<Vec<PackageInfo>, ApiError> {
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
        if validate_name(&name).is_err() || !e.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).map_err(io("read a package"))?;
        out.push(PackageInfo {
            name,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
    }
    out.sort();
    Ok(out)
}

pub async fn list(State(node): State<Arc<Node>>) -> Result<Json<Vec<PackageInfo>>, ApiError> {
    let n = node.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || list_dir(&n)).await??,
    ))
}

pub async fn download(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    validate_name(&name)?;
    match tokio::fs::read(dir(&node).join(&name)).await {
        Ok(bytes) => Ok(([("content-type", "application/octet-stream")], bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ApiError::not_found(format!("package '{name}'")))
        }
        Err(e) => Err(io("read a package")(e)),
    }
}

pub async fn upload(
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
        let tmp = d.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp).map_err(io("write a package"))?;
        f.write_all(&body).map_err(io("write a package"))?;
        f.sync_all().map_err(io("write a package"))?;
        std::fs::rename(&tmp, d.join(&name)).map_err(io("write a package"))
    })
    .await??;
    Ok(Json(info))
}

pub async fn remove(
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
