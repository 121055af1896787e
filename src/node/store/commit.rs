//! The write path of the store: group commit. Writes queue up; while the queue holds writes,
//! one committer (a blocking task started by the write that found nobody committing) commits
//! everything queued in one transaction (one fsync), answers each write, and takes the next
//! batch, until the queue is empty. A write costs a push and a wake-up; a thread hop and a
//! fsync are paid once per batch.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{apply_record, Store, StoreError, Writer};
use crate::api::{LogRecord, Op, Position};

type Answer = oneshot::Sender<Result<LogRecord, StoreError>>;

/// A write waiting for the group commit that makes it durable.
pub(super) struct Queued {
    epoch: u64,
    op: Op,
    key: String,
    value: Option<String>,
    done: Answer,
}

/// The writes waiting, and whether a committer is working through them.
#[derive(Default)]
pub(super) struct Queue {
    waiting: Vec<Queued>,
    committing: bool,
}

impl Store {
    /// Queues a write; true when the caller must commit the queue (nobody else is).
    fn enqueue(
        &self,
        epoch: u64,
        op: Op,
        key: &str,
        value: Option<&str>,
    ) -> (bool, oneshot::Receiver<Result<LogRecord, StoreError>>) {
        let (tx, rx) = oneshot::channel();
        let mut q = self.queue.lock().expect("queue lock");
        q.waiting.push(Queued {
            epoch,
            op,
            key: key.to_string(),
            value: value.map(str::to_string),
            done: tx,
        });
        let lead = !q.committing;
        q.committing = true;
        (lead, rx)
    }

    /// Commits batch after batch until the queue is empty, then stands down.
    fn drain(&self) {
        loop {
            let batch = {
                let mut q = self.queue.lock().expect("queue lock");
                if q.waiting.is_empty() {
                    q.committing = false;
                    return;
                }
                std::mem::take(&mut q.waiting)
            };
            let mut w = self.writer.lock().expect("store lock");
            let results = self.commit_batch(&mut w, &batch);
            // Seen before any write of the batch is answered.
            self.show(&w);
            drop(w);
            for (q, r) in batch.into_iter().zip(results) {
                // A writer that gave up waiting is gone; the write is committed all the same.
                let _ = q.done.send(r);
            }
        }
    }

    /// Commits one write as the next record at `epoch`, durably, and returns it (blocking: the
    /// store's own tests; nodes use [`Store::write_async`]).
    #[cfg(test)]
    pub fn write(
        &self,
        epoch: u64,
        op: Op,
        key: &str,
        value: Option<&str>,
    ) -> Result<LogRecord, StoreError> {
        let (lead, rx) = self.enqueue(epoch, op, key, value);
        if lead {
            self.drain();
        }
        rx.blocking_recv()
            .expect("a write is answered by the commit that took it")
    }

    /// Commits one write as the next record at `epoch`, durably, and returns it.
    ///
    /// Group commit: the write joins the queue; the first write to find nobody committing
    /// starts a blocking committer that commits the whole queue in one transaction (one fsync)
    /// and the queue that built up meanwhile in the next. Each write is answered only after
    /// the transaction holding it committed.
    pub async fn write_async(
        self: &Arc<Self>,
        epoch: u64,
        op: Op,
        key: &str,
        value: Option<&str>,
    ) -> Result<LogRecord, StoreError> {
        let (lead, rx) = self.enqueue(epoch, op, key, value);
        if lead {
            let store = self.clone();
            // Detached: the committer answers every write it takes even if this one's caller
            // stops waiting.
            drop(tokio::task::spawn_blocking(move || store.drain()));
        }
        rx.await
            .expect("a write is answered by the commit that took it")
    }

    /// Commits `batch` as the next records, in one transaction; if that fails, one at a time,
    /// so that each write gets its own answer (a full disk fails them all, nothing half done).
    fn commit_batch(&self, w: &mut Writer, batch: &[Queued]) -> Vec<Result<LogRecord, StoreError>> {
        let records: Vec<LogRecord> = (w.head.seq + 1..)
            .zip(batch)
            .map(|(seq, q)| LogRecord {
                epoch: q.epoch,
                seq,
                op: q.op,
                key: q.key.clone(),
                value: q.value.clone(),
            })
            .collect();
        let mut sum = w.sum;
        let all = (|| {
            let tx = w.conn.transaction().map_err(self.sql("begin a write"))?;
            for r in &records {
                apply_record(&tx, r, &mut sum).map_err(self.sql("write"))?;
            }
            tx.commit().map_err(self.sql("commit a write"))
        })();
        if all.is_ok() {
            w.sum = sum;
            if let Some(last) = records.last() {
                w.head = Position {
                    epoch: last.epoch,
                    seq: last.seq,
                };
            }
            return records.into_iter().map(Ok).collect();
        }
        batch
            .iter()
            .map(|q| {
                let record = LogRecord {
                    epoch: q.epoch,
                    seq: w.head.seq + 1,
                    op: q.op,
                    key: q.key.clone(),
                    value: q.value.clone(),
                };
                let mut sum = w.sum;
                let tx = w.conn.transaction().map_err(self.sql("begin a write"))?;
                apply_record(&tx, &record, &mut sum).map_err(self.sql("write"))?;
                tx.commit().map_err(self.sql("commit a write"))?;
                w.sum = sum;
                w.head = Position {
                    epoch: q.epoch,
                    seq: record.seq,
                };
                Ok(record)
            })
            .collect()
    }
}
