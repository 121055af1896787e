//! Node-local durable data that never replicates: the event log and node-local settings
//! (seed 003: logs, credential store, web agent name). A separate SQLite file from the store,
//! so a full sync never blocks an event and a wiped store keeps its history.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::api::Event;

pub const NODE_DB_FILE: &str = "node.db";

#[derive(Debug, thiserror::Error)]
#[error("node database {path}: cannot {verb}: {source}")]
pub struct NodeDbError {
    path: PathBuf,
    verb: &'static str,
    source: rusqlite::Error,
}

impl NodeDbError {
    pub fn is_disk_full(&self) -> bool {
        super::sqlite::disk_full(&self.source)
    }
}

pub struct NodeDb {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// An event about to be recorded.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub kind: String,
    pub message: String,
    pub success: Option<bool>,
    pub operator: Option<String>,
    pub run_id: Option<String>,
    pub details: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        NewEvent {
            kind: kind.to_string(),
            message: message.into(),
            ..Default::default()
        }
    }
    pub fn success(mut self, ok: bool) -> Self {
        self.success = Some(ok);
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
    pub fn by(mut self, operator: Option<String>, run_id: Option<String>) -> Self {
        self.operator = operator;
        self.run_id = run_id;
        self
    }
}

impl NodeDb {
    pub fn open(data_dir: &Path) -> Result<NodeDb, NodeDbError> {
        let path = data_dir.join(NODE_DB_FILE);
        let err = |verb| {
            let path = path.clone();
            move |source| NodeDbError { path, verb, source }
        };
        let conn = Connection::open(&path).map_err(err("open"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("set WAL mode"))?;
        // Events commit without an fsync of their own (WAL, NORMAL: safe against a crash of the
        // process, the last ones may go with a power cut): an event is written inside the
        // admin request it records, and one fsync each was on every procedure step's path.
        // A local setting, which a client is told is written, is committed with FULL.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err("set the sync mode"))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT,
                 ts TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, success INTEGER,
                 operator TEXT, run_id TEXT, details TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS local (k TEXT PRIMARY KEY, v TEXT NOT NULL);",
        )
        .map_err(err("create tables"))?;
        Ok(NodeDb {
            path,
            conn: Mutex::new(conn),
        })
    }

    fn err(&self, verb: &'static str) -> impl FnOnce(rusqlite::Error) -> NodeDbError + '_ {
        move |source| NodeDbError {
            path: self.path.clone(),
            verb,
            source,
        }
    }

    pub fn record(&self, e: NewEvent) -> Result<u64, NodeDbError> {
        let conn = self.conn.lock().expect("node db lock");
        conn.prepare_cached(
            "INSERT INTO events (ts, kind, message, success, operator, run_id, details)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                crate::util::clock::now_rfc3339(),
                e.kind,
                e.message,
                e.success,
                e.operator,
                e.run_id,
                e.details.to_string()
            ])
        })
        .map_err(self.err("record an event"))?;
        Ok(conn.last_insert_rowid() as u64)
    }

    /// Rewrites an event's message and details (an aggregated event counting on).
    pub fn update_event(
        &self,
        id: u64,
        message: &str,
        details: &serde_json::Value,
    ) -> Result<(), NodeDbError> {
        let conn = self.conn.lock().expect("node db lock");
        conn.prepare_cached("UPDATE events SET message = ?2, details = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, message, details.to_string()]))
            .map_err(self.err("update an event"))?;
        Ok(())
    }

    pub fn events_after(&self, after: u64, limit: u64) -> Result<Vec<Event>, NodeDbError> {
        let conn = self.conn.lock().expect("node db lock");
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, ts, kind, message, success, operator, run_id, details FROM events
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(self.err("read events"))?;
        let rows = stmt
            .query_map(params![after, limit], |r| {
                let details: String = r.get(7)?;
                Ok(Event {
                    id: r.get(0)?,
                    ts: r.get(1)?,
                    kind: r.get(2)?,
                    message: r.get(3)?,
                    success: r.get(4)?,
                    operator: r.get(5)?,
                    run_id: r.get(6)?,
                    details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                })
            })
            .map_err(self.err("read events"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("read events"))
    }

    pub fn get_local(&self, key: &str) -> Result<Option<String>, NodeDbError> {
        let conn = self.conn.lock().expect("node db lock");
        conn.query_row("SELECT v FROM local WHERE k = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.err("read a local setting"))
    }

    pub fn set_local(&self, key: &str, value: &str) -> Result<(), NodeDbError> {
        let conn = self.conn.lock().expect("node db lock");
        conn.pragma_update(None, "synchronous", "FULL")
            .and_then(|_| {
                conn.execute(
                    "INSERT OR REPLACE INTO local (k, v) VALUES (?1, ?2)",
                    params![key, value],
                )
            })
            .map_err(self.err("write a local setting"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(self.err("set the sync mode"))?;
        Ok(())
    }

    pub fn list_local(&self) -> Result<Vec<(String, String)>, NodeDbError> {
        let conn = self.conn.lock().expect("node db lock");
        let mut stmt = conn
            .prepare_cached("SELECT k, v FROM local ORDER BY k")
            .map_err(self.err("list local settings"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err("list local settings"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("list local settings"))
    }
}
