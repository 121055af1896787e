//! Full sync: a consistent snapshot read on the primary, and the whole store replaced by one
//! on the replica, verified by count and digest before it commits.

use rusqlite::params;
use sha2::{Digest, Sha256};

use super::{
    digest_entry, open_conn, read_base, read_head, row_entry, write_base, Store, StoreError,
};
use crate::api::{Entry, Position};

/// One message of a full sync fed to [`Store::replace_all`].
pub enum SnapshotMsg {
    Batch(Vec<Entry>),
    /// The primary's count and digest, and the tally of the batches that were sent.
    End {
        count: u64,
        digest: String,
        tally: SnapshotTally,
    },
}

/// What the entries of a full sync add up to, taken by whoever feeds them to
/// [`Store::replace_all`], entry by entry, as it batches them: their count, the stream's digest
/// (the primary's, over the same entries in the same order), the data's digest the store keeps,
/// and whether each key came after the one before. Hashing twice per entry was a quarter of the
/// store's time in a full sync; the feeder's thread does it while the store inserts.
pub struct SnapshotTally {
    stream: Sha256,
    sum: super::DataSum,
    last_key: Option<String>,
    in_order: bool,
}

impl Default for SnapshotTally {
    fn default() -> Self {
        SnapshotTally {
            stream: Sha256::new(),
            sum: super::DataSum::default(),
            last_key: None,
            in_order: true,
        }
    }
}

impl SnapshotTally {
    pub fn new() -> Self {
        Self::default()
    }

    /// Tallies `e`, the entry sent after those already tallied.
    pub fn add(&mut self, e: &Entry) {
        if self
            .last_key
            .as_deref()
            .is_some_and(|k| k >= e.key.as_str())
        {
            self.in_order = false;
        }
        digest_entry(&mut self.stream, &e.key, &e.value);
        self.sum.add(&e.key, &e.value);
        self.last_key = Some(e.key.clone());
    }
}

/// SQLite's default: the log is copied into the database file once it holds this many pages.
const AUTOCHECKPOINT_PAGES: u32 = 1000;

impl Store {
    /// Copies the write-ahead log into the database file on a connection of its own, in a
    /// thread of its own: writers and readers go on meanwhile (a passive checkpoint waits for
    /// nobody, and a writer's own automatic checkpoint skips while this one runs).
    fn checkpoint_aside(&self) {
        let path = self.path.clone();
        let spawned = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                let done = open_conn(&path)
                    .and_then(|c| c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())));
                if let Err(e) = done {
                    // Not an error of the sync: the next automatic checkpoint copies it.
                    tracing::warn!(error = %e, "checkpoint after a full sync");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the checkpoint after a full sync");
        }
    }

    /// Reads a consistent snapshot (position + every entry) inside one read transaction,
    /// handing entries to `sink` in batches. Returns the count and digest.
    pub fn read_snapshot(
        &self,
        mut header: impl FnMut(Position, u64) -> bool,
        mut sink: impl FnMut(Vec<Entry>) -> bool,
    ) -> Result<(u64, String), StoreError> {
        // A dedicated connection: a long snapshot must not hold the shared reader.
        let conn = open_conn(&self.path).map_err(self.sql("open a snapshot reader"))?;
        let tx = conn
            .unchecked_transaction()
            .map_err(self.sql("begin a snapshot"))?;
        let base = read_base(&tx).map_err(self.sql("read the snapshot position"))?;
        let position = read_head(&tx, base).map_err(self.sql("read the snapshot position"))?;
        let count: u64 = tx
            .query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))
            .map_err(self.sql("count entries"))?;
        if !header(position, count) {
            return Err(StoreError::SyncAborted("the receiver went away".into()));
        }
        let mut stmt = tx
            .prepare("SELECT key, value, epoch, seq FROM entries ORDER BY key")
            .map_err(self.sql("read the snapshot"))?;
        let mut rows = stmt.query([]).map_err(self.sql("read the snapshot"))?;
        let mut hasher = Sha256::new();
        let mut batch = Vec::with_capacity(500);
        let mut sent = 0u64;
        while let Some(row) = rows.next().map_err(self.sql("read the snapshot"))? {
            let e = row_entry(row).map_err(self.sql("read the snapshot"))?;
            digest_entry(&mut hasher, &e.key, &e.value);
            batch.push(e);
            if batch.len() == 500 {
                sent += batch.len() as u64;
                if !sink(std::mem::take(&mut batch)) {
                    return Err(StoreError::SyncAborted("the receiver went away".into()));
                }
            }
        }
        sent += batch.len() as u64;
        if !batch.is_empty() && !sink(batch) {
            return Err(StoreError::SyncAborted("the receiver went away".into()));
        }
        Ok((sent, hex::encode(hasher.finalize())))
    }

    /// Replaces all replicated data and the log with a snapshot at `position`, in one
    /// transaction: if the stream breaks or does not verify, nothing changes. It verifies that
    /// it inserted as many entries as the primary sent and the feeder tallied, in key order, and
    /// that the tally's digest is the primary's.
    pub fn replace_all(
        &self,
        position: Position,
        mut next: impl FnMut() -> Option<SnapshotMsg>,
        progress: &std::sync::atomic::AtomicU64,
    ) -> Result<u64, StoreError> {
        use std::sync::atomic::Ordering;
        let mut w = self.writer.lock().expect("store lock");
        let tx = w
            .conn
            .transaction()
            .map_err(self.sql("begin a full sync"))?;
        tx.execute_batch("DELETE FROM entries; DELETE FROM log;")
            .map_err(self.sql("clear the data for a full sync"))?;
        let mut count = 0u64;
        loop {
            match next() {
                Some(SnapshotMsg::Batch(entries)) => {
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT OR REPLACE INTO entries (key, value, epoch, seq) VALUES (?1, ?2, ?3, ?4)",
                        )
                        .map_err(self.sql("insert snapshot entries"))?;
                    for e in entries {
                        stmt.execute(params![e.key, e.value, e.epoch, e.seq])
                            .map_err(self.sql("insert snapshot entries"))?;
                        count += 1;
                    }
                    progress.store(count, Ordering::Relaxed);
                }
                Some(SnapshotMsg::End {
                    count: sent,
                    digest,
                    tally,
                }) => {
                    let got = hex::encode(tally.stream.finalize());
                    if sent != count || tally.sum.count != count || !tally.in_order || got != digest
                    {
                        return Err(StoreError::SyncAborted(format!(
                            "snapshot did not verify: {count} entries received of {sent} \
                             ({} tallied, keys in order: {}), digest {got} vs {digest}",
                            tally.sum.count, tally.in_order
                        )));
                    }
                    let sum = tally.sum;
                    write_base(&tx, position).map_err(self.sql("set the log base"))?;
                    // Durable once the commit has synced the write-ahead log. Copying the whole
                    // store from the log into the database file (the automatic checkpoint that
                    // would follow this commit: a third of the sync) is done after it, beside
                    // the writes that follow.
                    tx.pragma_update(None, "wal_autocheckpoint", 0)
                        .map_err(self.sql("defer the checkpoint"))?;
                    let committed = tx.commit().map_err(self.sql("commit the full sync"));
                    // Whatever this says, the commit stands or fails on its own: a sync that
                    // committed must be taken as done (head, base and digest below).
                    if let Err(e) =
                        w.conn
                            .pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)
                    {
                        tracing::warn!(error = %e, "cannot turn the automatic checkpoint on again");
                    }
                    committed?;
                    w.head = position;
                    w.base = position;
                    w.sum = sum;
                    self.show(&w);
                    drop(w);
                    self.checkpoint_aside();
                    return Ok(count);
                }
                None => {
                    return Err(StoreError::SyncAborted(
                        "the snapshot stream ended early".into(),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::super::tests::store;
    use super::super::STORE_FILE;
    use super::*;
    use crate::api::Op;

    /// Every message of a full sync of `from`, as the replica receives them.
    fn snapshot_of(from: &Store) -> (Position, Vec<SnapshotMsg>) {
        let (mut position, mut msgs) = (Position::default(), Vec::new());
        let mut tally = SnapshotTally::new();
        let (count, digest) = from
            .read_snapshot(
                |p, _| {
                    position = p;
                    true
                },
                |batch| {
                    batch.iter().for_each(|e| tally.add(e));
                    msgs.push(SnapshotMsg::Batch(batch));
                    true
                },
            )
            .unwrap();
        msgs.push(SnapshotMsg::End {
            count,
            digest,
            tally,
        });
        (position, msgs)
    }

    #[test]
    fn a_full_sync_is_whole_after_a_crash_right_after_it_returns() {
        let (_a, primary) = store();
        for i in 0..3000 {
            primary
                .write(1, Op::Put, &format!("k/{i:05}"), Some(&"v".repeat(200)))
                .unwrap();
        }
        let (_b, replica) = store();
        replica.write(1, Op::Put, "old", Some("gone")).unwrap();
        let (position, msgs) = snapshot_of(&primary);
        let mut msgs = msgs.into_iter();
        let count = replica
            .replace_all(position, || msgs.next(), &AtomicU64::new(0))
            .unwrap();
        assert_eq!(count, 3000);
        // The files as a crash now would leave them (the checkpoint may be half done): the
        // database, its write-ahead log and the log's index, copied while the store is open.
        let crashed = tempfile::tempdir().unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("{STORE_FILE}{suffix}");
            std::fs::copy(
                replica.path.with_file_name(&name),
                crashed.path().join(&name),
            )
            .unwrap();
        }
        let reopened = Store::open(crashed.path()).unwrap();
        assert_eq!(reopened.stats().unwrap(), primary.stats().unwrap());
        assert_eq!(reopened.get("old").unwrap(), None);
        assert_eq!(reopened.head(), position);
    }

    #[test]
    fn a_full_sync_that_does_not_add_up_changes_nothing() {
        let (_a, primary) = store();
        for i in 0..20 {
            primary
                .write(1, Op::Put, &format!("k/{i:02}"), Some("v"))
                .unwrap();
        }
        let (_b, replica) = store();
        replica.write(1, Op::Put, "old", Some("kept")).unwrap();
        let before = replica.stats().unwrap();
        type Spoil = fn(&mut Vec<SnapshotMsg>);
        let spoil: [(&str, Spoil); 3] = [
            ("the primary's digest differs", |m| {
                if let Some(SnapshotMsg::End { digest, .. }) = m.last_mut() {
                    *digest = "00".repeat(32);
                }
            }),
            ("an entry tallied was not sent", |m| {
                if let SnapshotMsg::Batch(b) = &mut m[0] {
                    b.pop();
                }
            }),
            (
                "a key came twice (the primary's digest and count agree)",
                |m| {
                    let (mut tally, mut stream) = (SnapshotTally::new(), Sha256::new());
                    let batches = m.iter_mut().filter_map(|m| match m {
                        SnapshotMsg::Batch(b) => Some(b),
                        SnapshotMsg::End { .. } => None,
                    });
                    for (n, b) in batches.enumerate() {
                        if n == 0 {
                            b[1] = b[0].clone();
                        }
                        for e in b.iter() {
                            tally.add(e);
                            digest_entry(&mut stream, &e.key, &e.value);
                        }
                    }
                    if let Some(SnapshotMsg::End {
                        tally: t, digest, ..
                    }) = m.last_mut()
                    {
                        *t = tally;
                        *digest = hex::encode(stream.finalize());
                    }
                },
            ),
        ];
        for (what, f) in spoil {
            let (position, mut msgs) = snapshot_of(&primary);
            f(&mut msgs);
            let mut msgs = msgs.into_iter();
            let e = replica
                .replace_all(position, || msgs.next(), &AtomicU64::new(0))
                .expect_err(what);
            assert!(e.to_string().contains("did not verify"), "{what}: {e}");
            assert_eq!(replica.stats().unwrap(), before, "{what}");
            assert_eq!(
                replica.get("old").unwrap().map(|e| e.value),
                Some("kept".into())
            );
        }
    }
}
