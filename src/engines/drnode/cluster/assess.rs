//! Judging a cluster view: each node green (as it should be), orange (running, but the group is
//! misconfigured: behind, following the wrong primary, fenced, …) or red (down), and the list of
//! problems that makes the cluster unhealthy.

use super::{ClusterView, NodeView};
use crate::api::{DbStatus, Role, SyncMode, SyncState};

pub(crate) use crate::engine::Health;

#[derive(Debug, Clone)]
pub struct NodeAssessment {
    pub health: Health,
    /// Why the node is not green.
    pub reasons: Vec<String>,
    /// Share of the primary's history held, from the primary's head when it answered; `None`
    /// (unknown) for a replica whose primary does not answer, and for a fenced or old primary.
    pub owns: Option<f64>,
    pub lag: Option<u64>,
    /// The primary this node follows (its own name for a primary).
    pub primary: Option<String>,
    /// At the primary's very position, but holding different records (issue 10 item 4).
    pub diverged: bool,
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub healthy: bool,
    pub problems: Vec<String>,
    pub nodes: Vec<NodeAssessment>,
}

pub(super) fn assess(view: &ClusterView) -> Assessment {
    let epoch = view.epoch();
    let primary = view.primary();
    let primaries_at_epoch: Vec<&NodeView> = view
        .nodes
        .iter()
        .filter(|n| {
            n.ok()
                .is_some_and(|s| s.role == Role::Primary && s.epoch == epoch)
        })
        .collect();
    let mut problems = Vec::new();
    if primaries_at_epoch.len() > 1 {
        problems.push(format!(
            "split brain: {} are all primary at epoch {epoch}",
            primaries_at_epoch
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if primary.is_none() {
        problems.push(format!("no reachable primary at epoch {epoch}"));
    }
    let single = view.nodes.len() == 1;
    let nodes: Vec<NodeAssessment> = view
        .nodes
        .iter()
        .map(|n| assess_node(view, n, primary, epoch, single))
        .collect();
    for (n, a) in view.nodes.iter().zip(&nodes) {
        // A removed member is shown, but never wedges the others' health.
        if view.is_removed(n) {
            continue;
        }
        for r in &a.reasons {
            problems.push(format!("{}: {r}", n.name));
        }
    }
    // A run under way (an upgrade drops every node to standalone) explains the rest: said
    // first, so that nobody reaches for a failover in the middle of it.
    let lock = view
        .nodes
        .iter()
        .find_map(|n| n.ok().and_then(|s| s.lock.clone()));
    if let (Some(l), false) = (lock, problems.is_empty()) {
        problems.insert(
            0,
            format!(
                "a procedure is under way: {} (run {}, by {}, {}) holds the cluster lock for {} \
                 more: wait for it to end, or `drctl run --resume {}` if its drctl was killed",
                l.reason,
                l.run_id,
                l.holder,
                l.owner,
                crate::util::duration::human(std::time::Duration::from_millis(l.expires_in_ms)),
                l.run_id
            ),
        );
    }
    Assessment {
        healthy: problems.is_empty(),
        problems,
        nodes,
    }
}

fn assess_node(
    view: &ClusterView,
    n: &NodeView,
    primary: Option<&NodeView>,
    epoch: u64,
    single: bool,
) -> NodeAssessment {
    let mut a = assess_role(view, n, primary, epoch, single);
    if let Some(m) = view.member(n) {
        match m.state {
            crate::api::MemberState::Removed => {
                a.health = if n.ok().is_some() {
                    Health::Orange
                } else {
                    Health::Red
                };
                a.reasons = vec![format!(
                    "removed from cluster {} at {}; run `drctl standalone {}` on it",
                    view.cluster,
                    m.removed_at.clone().unwrap_or_default(),
                    n.name
                )];
            }
            crate::api::MemberState::Leaving => {
                a.health = Health::Orange;
                a.reasons.push(format!(
                    "leaving: `drctl removenode status` shows who has not acknowledged ({} so far)",
                    m.acks.len()
                ));
            }
            _ => {}
        }
    }
    a
}

fn assess_role(
    view: &ClusterView,
    n: &NodeView,
    primary: Option<&NodeView>,
    epoch: u64,
    single: bool,
) -> NodeAssessment {
    let s = match &n.status {
        Ok(s) => s,
        Err(e) => {
            return NodeAssessment {
                health: Health::Red,
                reasons: vec![if e.is_unreachable() {
                    format!("unreachable ({e})")
                } else {
                    e.to_string()
                }],
                owns: None,
                lag: None,
                primary: None,
                diverged: false,
            }
        }
    };
    let mut reasons = Vec::new();
    let mut red = false;
    let primary_status = primary.and_then(|p| p.ok());
    let primary_name = primary.map(|p| p.name.clone());
    // What a replica last saw of a primary that no longer answers proves nothing: it may have
    // acknowledged writes since. Only the primary's own head makes OWNS and LAG known.
    let (mut owns, mut lag) = match s.role {
        Role::Standalone => (Some(s.owns), Some(s.lag)),
        Role::Primary if s.epoch >= epoch => (Some(s.owns), Some(s.lag)),
        _ => (None, None),
    };
    let mut follows = None;
    let mut diverged = false;
    if let Some(took) = s.standalone_writes.filter(|w| *w > 0 && !single) {
        reasons.push(format!(
            "took {} while standalone that no primary has: `drctl join {} --primary P` \
             exports them before replacing its data",
            crate::util::words::count(took, "write"),
            n.name
        ));
    }
    if s.db_status == DbStatus::Down {
        red = true;
        reasons.push("database is down".into());
    } else if s.db_status == DbStatus::Initializing {
        reasons.push(format!("database is initializing (owns {}%)", s.owns));
    }
    match s.role {
        Role::Primary => {
            follows = Some(n.name.clone());
            if s.epoch < epoch {
                let other = primary_name
                    .clone()
                    .unwrap_or_else(|| "another node".into());
                reasons.push(format!(
                    "believes it is primary at epoch {}; {other} is primary at epoch {epoch}",
                    s.epoch
                ));
            }
        }
        Role::Fenced => {
            reasons.push(format!(
                "fenced: {}",
                s.fenced_reason
                    .clone()
                    .unwrap_or_else(|| "a higher epoch exists".into())
            ));
        }
        Role::Standalone => {
            if !single {
                reasons.push("standalone: not replicating".into());
            }
        }
        Role::Replica => {
            let url = s
                .following
                .as_ref()
                .map(|f| f.url.clone())
                .unwrap_or_default();
            follows = Some(
                view.name_of(&url)
                    .map(str::to_string)
                    .unwrap_or_else(|| url.clone()),
            );
            if let Some(p) = primary_status {
                if p.url != url {
                    reasons.push(format!(
                        "follows {}, but the primary is {}",
                        follows.clone().unwrap_or_default(),
                        primary_name.clone().unwrap_or_default()
                    ));
                } else {
                    // The primary's own head is fresher than what the replica last saw.
                    owns = Some(crate::api::logic::owns_pct(s.applied_seq, p.head_seq));
                    lag = Some(p.head_seq.saturating_sub(s.applied_seq));
                }
            }
            if let Some(p) = primary_status {
                // Only equal positions compare (each digest belongs to its head): under writes
                // the positions differ and nothing is concluded.
                if s.applied_seq == p.head_seq
                    && (s.digest != p.digest || s.head_epoch != p.head_epoch)
                {
                    diverged = true;
                    reasons.push(format!(
                        "diverged: at seq {} like the primary {}, but its records differ (epoch {} \
                         digest {} vs epoch {} digest {}): `drctl demote {}` exports them and \
                         resyncs it",
                        s.applied_seq,
                        primary_name.clone().unwrap_or_default(),
                        s.head_epoch,
                        s.digest.chars().take(12).collect::<String>(),
                        p.head_epoch,
                        p.digest.chars().take(12).collect::<String>(),
                        n.name
                    ));
                }
            }
            if s.epoch < epoch {
                reasons.push(format!(
                    "at epoch {}, the cluster is at epoch {epoch}",
                    s.epoch
                ));
            }
            match s.sync.mode() {
                SyncMode::On => {}
                SyncMode::Off => reasons.push(format!(
                    "automatic sync is off (turned off by command): `drctl sync auto on {}` turns it on",
                    n.name
                )),
                SyncMode::Suspended => reasons.push(format!(
                    "automatic sync suspended after {} failed attempts ({}): once its primary \
                     answers, `drctl sync auto on {}`; if the primary is lost, `drctl failover` \
                     (or `drctl repoint --primary P`) makes it follow and resumes it",
                    s.sync.suspended.as_ref().map_or(0, |x| x.failures),
                    s.sync.last_error.clone().unwrap_or_default(),
                    n.name
                )),
            }
            if let Some(o) = owns.filter(|o| *o < 100.0) {
                reasons.push(format!(
                    "owns {o}% ({} behind)",
                    crate::util::words::count(lag.unwrap_or(0), "record")
                ));
            }
            if matches!(s.sync.phase.as_str(), "diverged" | "failing" | "removed") {
                reasons.push(format!(
                    "sync {}: {}",
                    s.sync.phase,
                    s.sync.last_error.clone().unwrap_or_default()
                ));
            }
        }
    }
    let health = if red {
        Health::Red
    } else if reasons.is_empty() {
        Health::Green
    } else {
        Health::Orange
    };
    NodeAssessment {
        health,
        reasons,
        owns,
        lag,
        primary: follows,
        diverged,
    }
}

/// The SYNC cell of `drctl status`: `on`, `off` (the operator's command) or `suspended (N
/// failures)` (stopped by itself, seed 001).
pub(crate) fn sync_cell(s: &SyncState) -> String {
    match (s.mode(), &s.suspended) {
        (SyncMode::Suspended, Some(x)) => format!("suspended ({} failures)", x.failures),
        (SyncMode::Suspended, None) => "suspended".into(),
        (SyncMode::Off, _) => "off".into(),
        (SyncMode::On, _) => "on".into(),
    }
}
