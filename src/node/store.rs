//! The replicated data and its log, in SQLite (WAL, `synchronous=FULL`). Each write commits the
//! entry and its log record in one transaction before it is acknowledged, so an acknowledged
//! write survives `kill -9`. One writer connection; reads use their own connection so they are
//! never blocked by a long full sync.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::api::{Entry, LogRecord, Op, Position};

mod commit;
mod digest;
mod log;
mod snapshot;

use digest::DataSum;

use commit::Queue;
pub use log::Match;
pub use snapshot::{SnapshotMsg, SnapshotTally};

pub const STORE_FILE: &str = "store.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: cannot {verb}: {source}")]
    Sql {
        path: PathBuf,
        verb: &'static str,
        source: rusqlite::Error,
    },
    #[error("log records do not follow the store's head ({head}): got seq {got}")]
    Gap { head: Position, got: u64 },
    #[error("full sync aborted: {0}")]
    SyncAborted(String),
}

impl StoreError {
    /// The write failed because the disk is full: nothing was committed, reads still work.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sql { source, .. } if super::sqlite::disk_full(source))
    }
}

struct Writer {
    conn: Connection,
    head: Position,
    base: Position,
    /// The digest and count of the data at `head`, changed with it.
    sum: DataSum,
}

/// The writer's position and digest as readers see them: copied from the writer when a change
/// commits, under a lock held only for the copy. A reader never waits for the writer, which a
/// full sync holds while it waits for the next part of the snapshot from the network (seed
/// 45138: requests that read the head on the runtime's threads waited for it until no thread
/// was left to read the network, and the node stood still for good).
#[derive(Clone, Copy)]
struct Shown {
    head: Position,
    base: Position,
    sum: DataSum,
}

impl Writer {
    fn shown(&self) -> Shown {
        Shown {
            head: self.head,
            base: self.base,
            sum: self.sum,
        }
    }
}

pub struct Store {
    path: PathBuf,
    writer: Mutex<Writer>,
    shown: Mutex<Shown>,
    /// Writes waiting for the group commit (see `commit.rs`).
    queue: Mutex<Queue>,
    reader: Mutex<Connection>,
}

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn op_str(op: Op) -> &'static str {
    match op {
        Op::Put => "put",
        Op::Del => "del",
    }
}

fn op_parse(s: &str) -> Op {
    if s == "del" {
        Op::Del
    } else {
        Op::Put
    }
}

impl Store {
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(STORE_FILE);
        let sql = |verb| {
            let path = path.clone();
            move |source| StoreError::Sql { path, verb, source }
        };
        let conn = open_conn(&path).map_err(sql("open"))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL,
                 epoch INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, epoch INTEGER NOT NULL,
                 op TEXT NOT NULL, key TEXT NOT NULL, value TEXT);
             CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
        )
        .map_err(sql("create tables"))?;
        let base = read_base(&conn).map_err(sql("read the log base"))?;
        let head = read_head(&conn, base).map_err(sql("read the log head"))?;
        let sum = data_sum(&conn).map_err(sql("digest the data"))?;
        let reader = open_conn(&path).map_err(sql("open a reader"))?;
        let writer = Writer {
            conn,
            head,
            base,
            sum,
        };
        Ok(Store {
            path,
            shown: Mutex::new(writer.shown()),
            writer: Mutex::new(writer),
            queue: Mutex::new(Queue::default()),
            reader: Mutex::new(reader),
        })
    }

    fn sql(&self, verb: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.clone(),
            verb,
            source,
        }
    }

    /// Makes what `w` committed what readers see.
    fn show(&self, w: &Writer) {
        *self.shown.lock().expect("shown lock") = w.shown();
    }

    fn seen(&self) -> Shown {
        *self.shown.lock().expect("shown lock")
    }

    pub fn head(&self) -> Position {
        self.seen().head
    }

    pub fn base(&self) -> Position {
        self.seen().base
    }

    /// True when the store holds no history at all (a new or wiped node).
    pub fn is_empty(&self) -> bool {
        self.head().seq == 0
    }

    /// Applies records shipped from the primary, in one transaction.
    pub fn apply(&self, records: &[LogRecord]) -> Result<Position, StoreError> {
        let mut w = self.writer.lock().expect("store lock");
        for (expect, r) in (w.head.seq + 1..).zip(records) {
            if r.seq != expect {
                return Err(StoreError::Gap {
                    head: w.head,
                    got: r.seq,
                });
            }
        }
        let Some(last) = records.last() else {
            return Ok(w.head);
        };
        let mut sum = w.sum;
        let tx = w.conn.transaction().map_err(self.sql("begin applying"))?;
        for r in records {
            apply_record(&tx, r, &mut sum).map_err(self.sql("apply a record"))?;
        }
        tx.commit().map_err(self.sql("commit applied records"))?;
        w.head = Position {
            epoch: last.epoch,
            seq: last.seq,
        };
        w.sum = sum;
        self.show(&w);
        Ok(w.head)
    }

    pub fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let reader = self.reader.lock().expect("reader lock");
        get_in(&reader, key).map_err(self.sql("read an entry"))
    }

    /// The entries whose key starts with `prefix`, in key order: a range of the key index (the
    /// members and roles a status reads cost the same beside 10 entries or a million).
    pub fn list(&self, prefix: &str) -> Result<Vec<Entry>, StoreError> {
        let reader = self.reader.lock().expect("reader lock");
        list_in(&reader, prefix).map_err(self.sql("list entries"))
    }

    /// `keys`, and the entries under `prefix`, read in one transaction: what a status reads,
    /// of one moment, for one read lock (each read alone takes and drops its own).
    pub fn get_and_list(
        &self,
        keys: &[&str],
        prefix: &str,
    ) -> Result<(Vec<Option<Entry>>, Vec<Entry>), StoreError> {
        let reader = self.reader.lock().expect("reader lock");
        (|| {
            let tx = reader.unchecked_transaction()?;
            let got = keys
                .iter()
                .map(|k| get_in(&tx, k))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let listed = list_in(&tx, prefix)?;
            tx.finish()?;
            Ok((got, listed))
        })()
        .map_err(self.sql("read entries"))
    }

    /// Position, entry count and digest of the replicated data (equal digests = same data), read
    /// together: the digest belongs to the position reported with it (issue 10 item 4 compares
    /// them across nodes). Kept by every change, so a call costs nothing on any size of store.
    pub fn stats(&self) -> Result<(Position, u64, String), StoreError> {
        let w = self.seen();
        Ok((w.head, w.sum.count, w.sum.hex()))
    }
}

fn digest_entry(hasher: &mut Sha256, key: &str, value: &str) {
    hasher.update((key.len() as u64).to_le_bytes());
    hasher.update(key.as_bytes());
    hasher.update((value.len() as u64).to_le_bytes());
    hasher.update(value.as_bytes());
}

fn get_in(conn: &Connection, key: &str) -> rusqlite::Result<Option<Entry>> {
    conn.prepare_cached("SELECT key, value, epoch, seq FROM entries WHERE key = ?1")?
        .query_row([key], row_entry)
        .optional()
}

fn list_in(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<Entry>> {
    match prefix_end(prefix) {
        Some(end) => conn
            .prepare_cached(
                "SELECT key, value, epoch, seq FROM entries
                 WHERE key >= ?1 AND key < ?2 ORDER BY key",
            )?
            .query_map(params![prefix, end], row_entry)?
            .collect(),
        None => conn
            .prepare_cached(
                "SELECT key, value, epoch, seq FROM entries WHERE key >= ?1 ORDER BY key",
            )?
            .query_map([prefix], row_entry)?
            .collect(),
    }
}

fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        key: r.get(0)?,
        value: r.get(1)?,
        epoch: r.get(2)?,
        seq: r.get(3)?,
    })
}

/// Writes one record and its entry; `sum` follows the entry's change (the caller keeps it only
/// if the transaction commits).
fn apply_record(
    tx: &rusqlite::Transaction<'_>,
    r: &LogRecord,
    sum: &mut DataSum,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO log (seq, epoch, op, key, value) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![r.seq, r.epoch, op_str(r.op), r.key, r.value])?;
    let old: Option<String> = tx
        .prepare_cached("SELECT value FROM entries WHERE key = ?1")?
        .query_row([&r.key], |row| row.get(0))
        .optional()?;
    if let Some(old) = &old {
        sum.remove(&r.key, old);
    }
    if let (Op::Put, Some(v)) = (r.op, &r.value) {
        sum.add(&r.key, v);
    }
    match (r.op, &r.value) {
        (Op::Put, Some(v)) => {
            tx.prepare_cached(
                "INSERT INTO entries (key, value, epoch, seq) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, epoch = excluded.epoch, seq = excluded.seq",
            )?
            .execute(params![r.key, v, r.epoch, r.seq])?;
        }
        _ => {
            tx.prepare_cached("DELETE FROM entries WHERE key = ?1")?
                .execute([&r.key])?;
        }
    }
    Ok(())
}

/// The least string greater than every string that starts with `prefix` (keys compare as
/// UTF-8 bytes, which order as their chars do), or none: the prefix is empty or all `char::MAX`.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The digest and count of every entry, read once when the store opens.
fn data_sum(conn: &Connection) -> rusqlite::Result<DataSum> {
    let mut sum = DataSum::default();
    let mut stmt = conn.prepare("SELECT key, value FROM entries")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        sum.add(&row.get::<_, String>(0)?, &row.get::<_, String>(1)?);
    }
    Ok(sum)
}

fn read_base(conn: &Connection) -> rusqlite::Result<Position> {
    let get = |k: &str| -> rusqlite::Result<u64> {
        Ok(conn
            .query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    };
    Ok(Position {
        epoch: get("base_epoch")?,
        seq: get("base_seq")?,
    })
}

fn write_base(conn: &Connection, base: Position) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("INSERT OR REPLACE INTO meta (k, v) VALUES (?1, ?2)")?;
    stmt.execute(params!["base_epoch", base.epoch])?;
    stmt.execute(params!["base_seq", base.seq])?;
    Ok(())
}

fn read_head(conn: &Connection, base: Position) -> rusqlite::Result<Position> {
    let last: Option<(u64, u64)> = conn
        .query_row(
            "SELECT epoch, seq FROM log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match last {
        Some((epoch, seq)) if seq > base.seq => Position { epoch, seq },
        _ => base,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use super::*;

    pub(super) fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        (dir, s)
    }

    #[test]
    fn a_prefix_lists_exactly_the_keys_that_start_with_it() {
        let (_dir, s) = store();
        for k in [
            "members/a",
            "members/z\u{10FFFF}",
            "members0",
            "member",
            "roles/x",
            "m",
        ] {
            s.write(1, Op::Put, k, Some("v")).unwrap();
        }
        let keys =
            |p: &str| -> Vec<String> { s.list(p).unwrap().into_iter().map(|e| e.key).collect() };
        assert_eq!(keys("members/"), ["members/a", "members/z\u{10FFFF}"]);
        assert_eq!(
            keys("member"),
            ["member", "members/a", "members/z\u{10FFFF}", "members0"]
        );
        assert_eq!(keys("").len(), 6);
        assert_eq!(keys("x"), Vec::<String>::new());
        // Read together, as a status reads: the same answers as read one by one.
        let (got, listed) = s
            .get_and_list(&["roles/x", "nothing", "m"], "members/")
            .unwrap();
        let values: Vec<Option<String>> = got.into_iter().map(|e| e.map(|e| e.key)).collect();
        assert_eq!(values, [Some("roles/x".into()), None, Some("m".into())]);
        assert_eq!(listed, s.list("members/").unwrap());
        assert_eq!(prefix_end("a\u{D7FF}"), Some("a\u{E000}".to_string()));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    /// The digest kept by each change equals the one computed from the data when the store
    /// opens again, and a replica that applied the same records has the same one.
    #[test]
    fn the_kept_digest_is_the_digest_of_the_data() {
        let (dir, s) = store();
        let mut records = Vec::new();
        for (i, (op, k, v)) in [
            (Op::Put, "a", Some("1")),
            (Op::Put, "b", Some("2")),
            (Op::Put, "a", Some("3")),
            (Op::Del, "b", None),
            (Op::Del, "nothing", None),
        ]
        .into_iter()
        .enumerate()
        {
            let r = s.write(1, op, k, v).unwrap();
            assert_eq!(r.seq, i as u64 + 1);
            records.push(r);
        }
        let (_, count, digest) = s.stats().unwrap();
        assert_eq!(count, 1);
        drop(s);
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.stats().unwrap().2, digest);
        let (_d2, replica) = store();
        replica.apply(&records).unwrap();
        assert_eq!(replica.stats().unwrap().2, digest);
        let (_d3, other) = store();
        other.write(1, Op::Put, "a", Some("3")).unwrap();
        assert_eq!(other.stats().unwrap().1, 1);
        assert_eq!(
            other.stats().unwrap().2,
            digest,
            "the same data, another history"
        );
    }

    /// Group commit: concurrent writers each get their own record, seqs are dense and unique,
    /// and every acknowledged record is in the store after a reopen.
    #[test]
    fn concurrent_writes_each_get_a_durable_record_of_their_own() {
        let (dir, s) = store();
        let s = Arc::new(s);
        let acked: Vec<LogRecord> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let s = s.clone();
                    scope.spawn(move || {
                        (0..50)
                            .map(|i| {
                                s.write(3, Op::Put, &format!("k/{t}/{i}"), Some("v"))
                                    .unwrap()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut seqs: Vec<u64> = acked.iter().map(|r| r.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=400).collect::<Vec<_>>());
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.head(), Position { epoch: 3, seq: 400 });
        for r in &acked {
            let e = s
                .get(&r.key)
                .unwrap()
                .expect("an acknowledged write is kept");
            assert_eq!(e.seq, r.seq);
        }
    }

    /// The async path: tasks on a multi-thread runtime each get their own durable record, and
    /// a writer that stops waiting (its future dropped) does not leave the queue without a
    /// committer: the writes after it are still answered.
    #[test]
    fn concurrent_async_writes_each_get_a_durable_record_of_their_own() {
        let (dir, s) = store();
        let s = Arc::new(s);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let acked: Vec<LogRecord> = rt.block_on(async {
            // Polled once (queued, committer started), then dropped.
            let _ = futures_util::FutureExt::now_or_never(s.write_async(
                3,
                Op::Put,
                "abandoned",
                Some("v"),
            ));
            let tasks: Vec<_> = (0..8)
                .map(|t| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        let mut out = Vec::new();
                        for i in 0..50 {
                            let k = format!("k/{t}/{i}");
                            out.push(s.write_async(3, Op::Put, &k, Some("v")).await.unwrap());
                        }
                        out
                    })
                })
                .collect();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all
        });
        let mut seqs: Vec<u64> = acked.iter().map(|r| r.seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 400, "every write got a record of its own");
        drop(rt);
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        for r in &acked {
            let e = s
                .get(&r.key)
                .unwrap()
                .expect("an acknowledged write is kept");
            assert_eq!(e.seq, r.seq);
        }
    }

    #[test]
    fn apply_refuses_gaps() {
        let (_d, s) = store();
        let r = |seq| LogRecord {
            epoch: 1,
            seq,
            op: Op::Put,
            key: format!("k{seq}"),
            value: Some("v".into()),
        };
        s.apply(&[r(1), r(2)]).unwrap();
        assert!(matches!(s.apply(&[r(4)]), Err(StoreError::Gap { .. })));
        assert_eq!(s.head().seq, 2);
    }
}
