//! Which nodes could become primary, best first, and why the others cannot.

use serde::Serialize;

use crate::api::{DbStatus, MemberState, Role};
use crate::engine::serde_name;
use crate::engines::drnode::cluster::ClusterView;

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub name: String,
    /// 1 = the best choice; None = cannot be promoted.
    pub rank: Option<usize>,
    pub promotable: bool,
    pub role: Option<Role>,
    pub epoch: Option<u64>,
    pub head_epoch: Option<u64>,
    pub head_seq: Option<u64>,
    /// Records behind the most advanced candidate.
    pub behind: Option<u64>,
    /// No replica can be promoted and this fenced old primary holds the most advanced history:
    /// `failover --force` promotes it at a new epoch (chaos seed 42020).
    pub last_resort: bool,
    pub reason: String,
}

/// Ranks every node: promotable replicas by the position of their last record, then the rest.
pub fn rank(view: &ClusterView) -> Vec<Candidate> {
    let epoch = view.epoch();
    let mut out: Vec<Candidate> = view
        .nodes
        .iter()
        .map(|n| {
            let mut c = Candidate {
                name: n.name.clone(),
                rank: None,
                promotable: false,
                role: None,
                epoch: None,
                head_epoch: None,
                head_seq: None,
                behind: None,
                last_resort: false,
                reason: String::new(),
            };
            let s = match &n.status {
                Ok(s) => s,
                Err(e) => {
                    c.reason = format!("unreachable ({e})");
                    return c;
                }
            };
            c.role = Some(s.role);
            c.epoch = Some(s.epoch);
            c.head_epoch = Some(s.head_epoch);
            c.head_seq = Some(s.head_seq);
            let leaving = view
                .member(n)
                .filter(|m| matches!(m.state, MemberState::Leaving | MemberState::Removed));
            c.reason = if !n.promotable {
                "promotable: false in the cluster file".into()
            } else if let Some(m) = leaving {
                format!(
                    "{}: a member on its way out is never promoted",
                    serde_name(&m.state).unwrap_or_default()
                )
            } else {
                match s.role {
                    Role::Primary if s.epoch == epoch => "the current primary".into(),
                    Role::Primary => format!("an old primary (epoch {}): demote it first", s.epoch),
                    Role::Fenced => format!(
                        "fenced: {}",
                        s.fenced_reason
                            .clone()
                            .unwrap_or_else(|| "a higher epoch exists".into())
                    ),
                    Role::Standalone => "standalone: not replicating".into(),
                    Role::Replica if s.db_status != DbStatus::Up => {
                        format!("database {}", s.db_status)
                    }
                    Role::Replica if s.sync.phase == "diverged" => {
                        "diverged from its primary".into()
                    }
                    Role::Replica => {
                        c.promotable = true;
                        String::new()
                    }
                }
            };
            c
        })
        .collect();
    let best = out
        .iter()
        .filter(|c| c.promotable)
        .map(|c| (c.head_epoch.unwrap_or(0), c.head_seq.unwrap_or(0)))
        .max();
    if best.is_none() {
        mark_last_resort(view, &mut out);
    }
    if let Some((_, best_seq)) = best {
        for c in out.iter_mut().filter(|c| c.promotable) {
            let behind = best_seq.saturating_sub(c.head_seq.unwrap_or(0));
            c.behind = Some(behind);
            // The position has its own column.
            c.reason = if behind == 0 {
                "most advanced".to_string()
            } else {
                format!("behind by {behind} records")
            };
        }
    }
    out.sort_by(|a, b| {
        b.promotable
            .cmp(&a.promotable)
            .then((b.head_epoch, b.head_seq).cmp(&(a.head_epoch, a.head_seq)))
            .then(a.name.cmp(&b.name))
    });
    for (rank, c) in (1..).zip(out.iter_mut().filter(|c| c.promotable)) {
        c.rank = Some(rank);
    }
    out
}

/// With no promotable replica, the most advanced fenced node (answering, its database up, not
/// on its way out, promotable in the cluster file) is the one a forced failover may promote: a
/// fenced old primary holds the writes it acknowledged, and every other node is standalone,
/// fenced or gone. Left alone, no procedure could ever make a primary again.
fn mark_last_resort(view: &ClusterView, out: &mut [Candidate]) {
    let eligible = |c: &Candidate| {
        let Some(n) = view.nodes.iter().find(|n| n.name == c.name) else {
            return false;
        };
        let leaving = view
            .member(n)
            .is_some_and(|m| matches!(m.state, MemberState::Leaving | MemberState::Removed));
        c.role == Some(Role::Fenced)
            && n.promotable
            && !leaving
            && n.ok().is_some_and(|s| s.db_status == DbStatus::Up)
    };
    let best = out
        .iter()
        .enumerate()
        .filter(|(_, c)| eligible(c))
        .max_by(|(_, a), (_, b)| {
            (a.head_epoch, a.head_seq)
                .cmp(&(b.head_epoch, b.head_seq))
                .then(b.name.cmp(&a.name))
        })
        .map(|(i, _)| i);
    if let Some(c) = best.map(|i| &mut out[i]) {
        c.last_resort = true;
        c.reason = format!(
            "{}; no replica can be promoted: `drctl failover --force` promotes it at a new epoch",
            c.reason
        );
    }
}

/// The node a forced failover may promote when no replica can be: see `Candidate::last_resort`.
pub(super) fn last_resort(ranked: &[Candidate]) -> Option<&Candidate> {
    ranked.iter().find(|c| c.last_resort)
}
