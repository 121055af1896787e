//! Pure replication arithmetic shared by the node and drctl.

use super::{Position, Term};

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
    fn owns() {
        assert_eq!(owns_pct(0, 0), 100.0);
        assert_eq!(owns_pct(999, 1000), 99.9);
        assert_eq!(owns_pct(1, 3), 33.3);
        assert_eq!(owns_pct(5, 5), 100.0);
    }
}
