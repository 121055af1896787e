//! What the store and the node database both ask of a SQLite error (a leaf: the error module
//! converts their errors, so they cannot ask it).

/// True when SQLite says the disk (or its quota) is full.
pub(crate) fn disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}
