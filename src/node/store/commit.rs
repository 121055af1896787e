//! The write path of the store: group commit. Writes that arrive while another commits wait in a
//! queue; the next to take the writer commits them all in one transaction (one fsync).

use std::sync::{Arc, Mutex};

use super::{apply_record, Store, StoreError, Writer};
use crate::api::{LogRecord, Op, Position};

/// A write waiting for the group commit that makes it durable.
pub(super) struct Queued {
    epoch: u64,
    op: Op,
    key: String,
    value: Option<String>,
    done: Arc<Mutex<Option<Result<LogRecord, StoreError>>>>,
}

impl Store {
    /// Commits one write as the next record at `epoch`, durably, and returns it.
    ///
    /// Group commit: writes that arrive while another commits wait in a queue, and the first of
    /// them to take the writer commits the whole queue in one transaction (one fsync). Each
    /// write is answered only after the transaction holding it committed.
    pub fn write(
        &self,
        epoch: u64,
        op: Op,
        key: &str,
        value: Option<&str>,
    ) -> Result<LogRecord, StoreError> {
        let done = Arc::new(Mutex::new(None));
        self.queue.lock().expect("queue lock").push(Queued {
            epoch,
            op,
            key: key.to_string(),
            value: value.map(str::to_string),
            done: done.clone(),
        });
        let mut w = self.writer.lock().expect("store lock");
        // Committed by the writer before us while we waited for it?
        if let Some(r) = done.lock().expect("slot lock").take() {
            return r;
        }
        let batch = std::mem::take(&mut *self.queue.lock().expect("queue lock"));
        let results = self.commit_batch(&mut w, &batch);
        for (q, r) in batch.iter().zip(results) {
            *q.done.lock().expect("slot lock") = Some(r);
        }
        drop(w);
        let r = done.lock().expect("slot lock").take();
        r.expect("a write is answered by the commit that took it")
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
