//! What `drctl status`, `check` and `candidates` show: one typed shape for every engine. The
//! fields every engine fills are typed; an engine's own (drnode's sync state, OpenLDAP's CSNs)
//! go into `detail`, flattened into the same JSON object.

use serde::Serialize;
use serde_json::{Map, Value};

/// Seed 002's red / orange / green.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Green,
    Orange,
    Red,
}

/// One node in `drctl status --json`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub name: String,
    pub kind: &'static str,
    pub url: String,
    pub reachable: bool,
    pub host_id: Option<String>,
    pub role: Option<String>,
    pub epoch: Option<u64>,
    pub db_status: Option<String>,
    pub head_seq: Option<u64>,
    pub applied_seq: Option<u64>,
    /// Share of the primary's history held (percent); None when unknown.
    pub owns: Option<f64>,
    pub lag: Option<u64>,
    /// The node this one follows (or itself, for the primary).
    pub primary: Option<String>,
    pub roles_held: Vec<String>,
    pub entries: Option<u64>,
    pub digest: Option<String>,
    pub health: Health,
    pub reasons: Vec<String>,
    /// Why the node gave no answer.
    /// Why the node did not answer (null when it did).
    pub error: Option<String>,
    /// The engine's own fields.
    #[serde(flatten)]
    pub detail: Map<String, Value>,
}

impl StatusRow {
    /// This row with one more engine field in `detail`.
    pub fn with_detail(mut self, key: &str, value: Value) -> StatusRow {
        self.detail.insert(key.to_string(), value);
        self
    }

    /// A node that did not answer: only its name, URL, health and why.
    /// A node that did not answer, with the engine's `detail_keys` (its own per-node fields)
    /// present and null, so that every row has the same keys.
    pub fn unreachable(
        name: &str,
        kind: &'static str,
        url: &str,
        health: Health,
        reasons: Vec<String>,
        error: String,
        detail_keys: &[&str],
    ) -> StatusRow {
        StatusRow {
            name: name.to_string(),
            kind,
            url: url.to_string(),
            reachable: false,
            host_id: None,
            role: None,
            epoch: None,
            db_status: None,
            head_seq: None,
            applied_seq: None,
            owns: None,
            lag: None,
            primary: None,
            roles_held: Vec::new(),
            entries: None,
            digest: None,
            health,
            reasons,
            error: Some(error),
            // The same keys as a node that answers, each unknown.
            detail: detail_keys
                .iter()
                .map(|k| (k.to_string(), Value::Null))
                .collect(),
        }
    }
}

/// The table `drctl status` prints: the engine's columns; HEALTH is added as the last one.
#[derive(Debug, Clone, Default)]
pub struct StatusTable {
    /// `cluster NAME (…)`, the line above the table.
    pub headline: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// The columns shown by default, narrow enough for 80 columns (`-o wide` shows them all);
    /// empty: all.
    pub narrow: Vec<&'static str>,
    /// Lines printed after the verdict (`note: …`).
    pub notes: Vec<String>,
}

/// `drctl status`: the whole cluster.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub cluster: String,
    pub kind: &'static str,
    pub healthy: bool,
    pub problems: Vec<String>,
    pub nodes: Vec<StatusRow>,
    /// The engine's own cluster-wide fields (OpenLDAP: `provider`).
    #[serde(flatten)]
    pub detail: Map<String, Value>,
    #[serde(skip)]
    pub table: StatusTable,
}

/// One node in `drctl candidates`: can it be promoted, and how good a choice is it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub name: String,
    /// 1 = the best choice; None = cannot be promoted.
    pub rank: Option<usize>,
    pub role: Option<String>,
    pub reason: String,
    /// The engine's own fields (its position: epoch and sequence, or a CSN).
    #[serde(flatten)]
    pub detail: Map<String, Value>,
}

/// `drctl candidates`: the ranked nodes and how to print them.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Candidates {
    pub rows: Vec<Candidate>,
    #[serde(skip)]
    pub table: StatusTable,
}

/// A value as its serde name (`Role::Primary` → `primary`), for the typed string fields.
pub(crate) fn serde_name<T: Serialize>(v: &T) -> Option<String> {
    match serde_json::to_value(v).ok()? {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A JSON object's fields (an engine's `detail`); anything else gives none.
pub(crate) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
