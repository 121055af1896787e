//! The log: matching a replica's position against it, the records shipped after that
//! position, the seq range of each epoch, and truncation to the newest records kept.

use rusqlite::{params, OptionalExtension};

use super::{op_parse, write_base, Shown, Store, StoreError};
use crate::api::{LogRecord, Position, Term};

/// Where a replica's position stands against this node's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The logs agree at the position: records after it can be shipped.
    Ok,
    /// The records after the position are no longer kept here.
    SnapshotRequired(String),
    /// The position's record is not this node's: the histories split.
    Diverged,
}

impl Store {
    /// Drops log records beyond the newest `keep`, moving the log base forward.
    pub fn truncate_log(&self, keep: u64) -> Result<(), StoreError> {
        let mut w = self.writer.lock().expect("store lock");
        if w.head.seq <= w.base.seq + keep {
            return Ok(());
        }
        let cut = w.head.seq - keep;
        let tx = w.conn.transaction().map_err(self.sql("begin truncating"))?;
        let epoch: u64 = tx
            .query_row("SELECT epoch FROM log WHERE seq = ?1", [cut], |r| r.get(0))
            .map_err(self.sql("read the new log base"))?;
        tx.execute("DELETE FROM log WHERE seq <= ?1", [cut])
            .map_err(self.sql("truncate the log"))?;
        write_base(&tx, Position { epoch, seq: cut }).map_err(self.sql("move the log base"))?;
        tx.commit().map_err(self.sql("commit truncation"))?;
        w.base = Position { epoch, seq: cut };
        self.show(&w);
        Ok(())
    }

    /// Log matching: can records after `after` be shipped from this log?
    pub fn check_match(&self, after: Position) -> Result<Match, StoreError> {
        let Shown { head, base, .. } = self.seen();
        // Past the head shown: a batch is committed (and may have been shipped, or copied by a
        // snapshot) a moment before it is shown, so the log itself is asked below. Taking the
        // copy's word made a replica that pulled that batch "diverged, 0 records past the
        // common point", its replication stopped until a demote (`lab bench`, 32 clients).
        let past_head = after.seq > head.seq;
        if after.seq < base.seq {
            return Ok(Match::SnapshotRequired(format!(
                "records after seq {} are no longer kept (oldest kept: {})",
                after.seq,
                base.seq + 1
            )));
        }
        if after.seq == base.seq {
            return Ok(if after.epoch == base.epoch || after.seq == 0 {
                Match::Ok
            } else {
                Match::Diverged
            });
        }
        let reader = self.reader.lock().expect("reader lock");
        let epoch: Option<u64> = reader
            .query_row("SELECT epoch FROM log WHERE seq = ?1", [after.seq], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.sql("read a log record"))?;
        Ok(match epoch {
            Some(e) if e == after.epoch => Match::Ok,
            Some(_) => Match::Diverged,
            None if past_head => Match::Diverged,
            None => Match::SnapshotRequired(format!("record {} is missing", after.seq)),
        })
    }

    pub fn log_after(&self, seq: u64, limit: u64) -> Result<Vec<LogRecord>, StoreError> {
        let reader = self.reader.lock().expect("reader lock");
        let mut stmt = reader
            .prepare_cached(
                "SELECT epoch, seq, op, key, value FROM log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(self.sql("read the log"))?;
        let rows = stmt
            .query_map(params![seq, limit], |r| {
                Ok(LogRecord {
                    epoch: r.get(0)?,
                    seq: r.get(1)?,
                    op: op_parse(&r.get::<_, String>(2)?),
                    key: r.get(3)?,
                    value: r.get(4)?,
                })
            })
            .map_err(self.sql("read the log"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sql("read the log"))
    }

    /// Every record after `seq` (for exporting a divergent tail).
    pub fn records_after(&self, seq: u64) -> Result<Vec<LogRecord>, StoreError> {
        self.log_after(seq, u64::MAX >> 1)
    }

    /// The seq range of each epoch in the kept log.
    pub fn terms(&self) -> Result<Vec<Term>, StoreError> {
        let reader = self.reader.lock().expect("reader lock");
        let mut stmt = reader
            .prepare_cached(
                "SELECT epoch, MIN(seq), MAX(seq) FROM log GROUP BY epoch ORDER BY MIN(seq)",
            )
            .map_err(self.sql("read the log terms"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Term {
                    epoch: r.get(0)?,
                    first_seq: r.get(1)?,
                    last_seq: r.get(2)?,
                })
            })
            .map_err(self.sql("read the log terms"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sql("read the log terms"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::store;
    use super::*;
    use crate::api::Op;

    #[test]
    fn a_batch_committed_before_it_is_shown_is_no_divergence() {
        let (_dir, s) = store();
        s.write(1, Op::Put, "a", Some("1")).unwrap();
        let shown = s.seen();
        s.write(1, Op::Put, "b", Some("2")).unwrap();
        // The moment between a commit and its copy: a replica already pulled record 2.
        *s.shown.lock().unwrap() = shown;
        // (after, the answer): the record pulled, one of another epoch, one never written.
        for (epoch, seq, want) in [
            (1, 2, Match::Ok),
            (2, 2, Match::Diverged),
            (1, 3, Match::Diverged),
        ] {
            assert_eq!(
                s.check_match(Position { epoch, seq }).unwrap(),
                want,
                "after {epoch}/{seq}"
            );
        }
    }

    #[test]
    fn write_reopen_and_match() {
        let (dir, s) = store();
        s.write(1, Op::Put, "a", Some("1")).unwrap();
        s.write(1, Op::Put, "b", Some("2")).unwrap();
        s.write(2, Op::Del, "a", None).unwrap();
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.head(), Position { epoch: 2, seq: 3 });
        assert_eq!(s.get("a").unwrap(), None);
        assert_eq!(s.get("b").unwrap().unwrap().value, "2");
        assert_eq!(
            s.check_match(Position { epoch: 1, seq: 2 }).unwrap(),
            Match::Ok
        );
        assert_eq!(
            s.check_match(Position { epoch: 2, seq: 2 }).unwrap(),
            Match::Diverged
        );
        assert_eq!(
            s.check_match(Position { epoch: 2, seq: 9 }).unwrap(),
            Match::Diverged
        );
        assert_eq!(s.check_match(Position::default()).unwrap(), Match::Ok);
        s.truncate_log(1).unwrap();
        assert!(matches!(
            s.check_match(Position { epoch: 1, seq: 1 }).unwrap(),
            Match::SnapshotRequired(_)
        ));
        assert_eq!(
            s.check_match(Position { epoch: 1, seq: 2 }).unwrap(),
            Match::Ok
        );
    }
}
