//! Secrets are never rendered for humans or files: every value a runbook read from `{{ env.* }}`,
//! every `secret: true` parameter and the cluster passphrase is registered here when it is
//! first seen, and every place that writes a journal, a report, a note or progress replaces it
//! with `***`. The commands themselves still get the real values.
//!
//! One registry per process (drctl runs one command): the runner, the journal and the printers
//! are far apart, and a secret missed by one of them is a leak, so they all ask the same place.
//! Log lines go through [`Redacting`] too: no log statement prints a secret today, but a
//! dependency's debug line or a future `error = %e` could, and the writer catches them all.

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

/// JSON text with every string value redacted (not the keys, not numbers), so the output
/// stays valid JSON whatever the secret looks like, and keeps its field order.
pub fn redact_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..start]);
        let lit = &rest[start..];
        // The closing quote: the first one not escaped.
        let mut end = 1;
        let bytes = lit.as_bytes();
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let end = (end + 1).min(lit.len());
        let raw = &lit[..end];
        let is_key = lit[end..].trim_start().starts_with(':');
        match serde_json::from_str::<String>(raw) {
            Ok(text) if !is_key => {
                out.push_str(&serde_json::to_string(&redact(&text)).expect("a string serializes"))
            }
            _ => out.push_str(raw),
        }
        rest = &lit[end..];
    }
    out.push_str(rest);
    out
}

/// A writer that hides every registered secret in what passes through it: the tracing
/// subscribers of drctl and drnode write through it to stderr.
pub struct Redacting<W>(pub W);

impl Redacting<std::io::Stderr> {
    /// For `tracing_subscriber::fmt().with_writer(Redacting::stderr)`.
    pub fn stderr() -> Self {
        Redacting(std::io::stderr())
    }
}

impl<W: std::io::Write> std::io::Write for Redacting<W> {
    /// Takes the whole buffer at once: the fmt subscriber writes one event per call, so a
    /// secret is never split across two writes.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if active() {
            let text = redact(&String::from_utf8_lossy(buf));
            self.0.write_all(text.as_bytes())?;
        } else {
            self.0.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
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
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn the_log_writer_hides_secrets() {
        use std::io::Write;
        register("l0g-secret");
        let mut w = Redacting(Vec::new());
        w.write_all(b"DEBUG bind failed for pw=l0g-secret\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(w.0).unwrap(),
            "DEBUG bind failed for pw=***\n"
        );
    }

    #[test]
    fn json_stays_valid_and_keeps_keys_and_order() {
        register("zq");
        let text = r#"{"z": 1, "note": "pw=zq\n", "zq": ["a \"zq\"", 7], "n": "\\zq"}"#;
        let v = redact_json(text);
        assert_eq!(
            v,
            r#"{"z": 1, "note": "pw=***\n", "zq": ["a \"***\"", 7], "n": "\\***"}"#
        );
        assert!(serde_json::from_str::<serde_json::Value>(&v).is_ok());
    }
}
