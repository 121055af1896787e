//! Secrets are never rendered for humans or files: every value a runbook read from `{{ env.* }}`,
//! every `secret: true` parameter and the cluster passphrase is registered here when it is
//! first seen, and every place that writes a journal, a report, a note or progress replaces it
//! with `***`. The commands themselves still get the real values.
//!
//! One registry per process (drctl runs one command): the runner, the journal and the printers
//! are far apart, and a secret missed by one of them is a leak, so they all ask the same place.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

/// What a secret is replaced with.
pub const MASK: &str = "***";

static SECRETS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn secrets() -> MutexGuard<'static, BTreeSet<String>> {
    // A panic while holding the lock leaves a set that is still valid.
    SECRETS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remembers a secret value (an empty one hides nothing and is ignored).
pub fn register(secret: &str) {
    let s = secret.trim_end_matches(['\r', '\n']);
    if !s.is_empty() {
        secrets().insert(s.to_string());
    }
}

/// Whether any secret is registered (else nothing needs hiding).
pub fn active() -> bool {
    !secrets().is_empty()
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let set = secrets();
    if set.is_empty() {
        return text.to_string();
    }
    // Longest first, so a secret that contains another is hidden whole.
    let mut all: Vec<&String> = set.iter().collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in all {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// A JSON value with every string (not the keys, not numbers) redacted, so the output stays
/// valid JSON whatever the secret looks like.
pub fn redact_json(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(redact(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(redact_json).collect()),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, redact_json(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_registered_values_longest_first() {
        register("s3cr3t-long");
        register("s3cr3t");
        assert_eq!(redact("a s3cr3t-long and a s3cr3t"), "a *** and a ***");
        let v = redact_json(serde_json::json!({"n": 1, "note": "pw=s3cr3t", "s3cr3t": [true]}));
        assert_eq!(
            v,
            serde_json::json!({"n": 1, "note": "pw=***", "s3cr3t": [true]})
        );
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
