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
