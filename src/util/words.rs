//! Small pieces of operator-facing text: counted nouns and paths as an operator can use them.

use std::path::{Path, PathBuf};

/// "1 record", "19 records", "0 writes" (nouns that take an `s`).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The path as an operator can open it from any directory: absolute, from the current one.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_nouns_and_absolute_paths() {
        assert_eq!(count(1u64, "record"), "1 record");
        assert_eq!(count(19u64, "record"), "19 records");
        assert_eq!(count(0u64, "write"), "0 writes");
        assert!(absolute(Path::new("drctl-demote.jsonl")).is_absolute());
    }
}
