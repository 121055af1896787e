//! Pure replication arithmetic shared by the node and drctl.

use super::{Entry, Position, Term};

/// Share of the primary's history held, floored to one decimal so 100 means "all of it".
pub(crate) fn owns_pct(applied: u64, primary_head: u64) -> f64 {
    if primary_head == 0 || applied >= primary_head {
        return 100.0;
    }
    floor1((applied as f64 * 100.0 / primary_head as f64).min(99.9))
}

pub(crate) fn floor1(x: f64) -> f64 {
    (x * 10.0).floor() / 10.0
}

/// The last position two logs share, from their terms: for each epoch both hold, the lesser of
/// their last seqs (a seq is written once per epoch, so the histories agree up to there).
pub(crate) fn common_point(mine: &[Term], theirs: &[Term], base: Position) -> Position {
    let mut best = base;
    for m in mine {
        if let Some(t) = theirs.iter().find(|t| t.epoch == m.epoch) {
            if m.first_seq <= t.last_seq && t.first_seq <= m.last_seq {
                let seq = m.last_seq.min(t.last_seq);
                if seq >= best.seq {
                    best = Position {
                        epoch: m.epoch,
                        seq,
                    };
                }
            }
        }
    }
    best
}

/// Whether a history holds `p`, a position another history holds, from the positions it is
/// known to hold (the ends of its terms, its log base): an epoch has one writer, which writes
/// its seqs in order, so both holding that writer's (epoch, x ≥ seq) means both hold `p`.
pub(crate) fn holds(known: &[Position], p: Position) -> bool {
    p.seq == 0 || known.iter().any(|k| k.epoch == p.epoch && k.seq >= p.seq)
}

/// The positions a history is known to hold: the end of each of its terms, and its base.
pub(crate) fn known_positions(terms: &[Term], base: Position) -> Vec<Position> {
    terms
        .iter()
        .map(|t| Position {
            epoch: t.epoch,
            seq: t.last_seq,
        })
        .chain([base])
        .collect()
}

/// The last position of a snapshot another history holds, and how many of its entries lie past
/// it. A snapshot (the data a full sync copied) has no records: each entry is its key's last
/// write, at its (epoch, seq), so the newest entry the other history holds (`held`) is the last
/// position both share that can be proved; the entries after it are writes the other never had.
/// `entries` come out sorted newest first, the ones past the common point leading.
pub(crate) fn snapshot_common(
    entries: &mut [Entry],
    held: impl Fn(&Entry) -> bool,
) -> (Position, usize) {
    entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
    match entries.iter().position(held) {
        Some(i) => (
            Position {
                epoch: entries[i].epoch,
                seq: entries[i].seq,
            },
            i,
        ),
        None => (Position::default(), entries.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(epoch: u64, first_seq: u64, last_seq: u64) -> Term {
        Term {
            epoch,
            first_seq,
            last_seq,
        }
    }

    #[test]
    fn split_histories() {
        // The old primary wrote 1..=105 at epoch 3; the new one took over after 100 at epoch 4.
        let mine = [t(1, 1, 50), t(3, 51, 105)];
        let theirs = [t(1, 1, 50), t(3, 51, 100), t(4, 101, 120)];
        assert_eq!(
            common_point(&mine, &theirs, Position::default()),
            Position { epoch: 3, seq: 100 }
        );
        // A replica merely behind shares its whole log.
        let behind = [t(1, 1, 50), t(3, 51, 90)];
        assert_eq!(common_point(&behind, &theirs, Position::default()).seq, 90);
        // Nothing in common.
        assert_eq!(
            common_point(&[t(7, 1, 3)], &theirs, Position::default()).seq,
            0
        );
    }

    #[test]
    fn a_snapshot_past_the_other_history_yields_its_newer_entries() {
        // Copied at (1,14) from an old primary; the new one was promoted at 10 (epoch 2).
        let theirs = [t(1, 1, 10), t(2, 11, 20)];
        let known = known_positions(&theirs, Position::default());
        assert!(!holds(&known, Position { epoch: 1, seq: 14 }));
        assert!(holds(&known, Position { epoch: 1, seq: 9 }));
        assert!(holds(&known, Position::default()));
        let e = |key: &str, epoch, seq| Entry {
            key: key.into(),
            value: "v".into(),
            epoch,
            seq,
        };
        let mut entries = vec![e("a", 1, 3), e("b", 1, 12), e("c", 1, 9), e("d", 1, 14)];
        let (common, past) = snapshot_common(&mut entries, |x| {
            holds(
                &known,
                Position {
                    epoch: x.epoch,
                    seq: x.seq,
                },
            )
        });
        assert_eq!(common, Position { epoch: 1, seq: 9 });
        assert_eq!(past, 2);
        assert_eq!([&entries[0].key, &entries[1].key], ["d", "b"]);
        // Nothing held: every entry lies past the start.
        let (common, past) = snapshot_common(&mut entries, |_| false);
        assert_eq!((common, past), (Position::default(), 4));
    }

    #[test]
    fn owns() {
        assert_eq!(owns_pct(0, 0), 100.0);
        assert_eq!(owns_pct(999, 1000), 99.9);
        assert_eq!(owns_pct(1, 3), 33.3);
        assert_eq!(owns_pct(5, 5), 100.0);
    }
}
