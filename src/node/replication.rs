//! The replica side of replication: pull the primary's log after our last `(epoch, seq)`
//! (partial sync), fall back to a streamed snapshot (full sync) when the replica is empty or
//! too far behind, and stop — flagging it — when the histories diverged, so that no write is
//! overwritten before it has been exported (`drctl demote`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::nodedb::NewEvent;
use super::state::NodeState;
use super::{Node, MEMBERS_PREFIX};
use crate::api::logic::{common_point, holds, known_positions, snapshot_common};
use crate::api::{
    ClientError, DbStatus, Entry, LogQuery, LogResponse, Member, NodeClient, Position, Role,
    SyncSuspension, SYS_PREFIX,
};

mod full_sync;
use full_sync::full_sync;

const BATCH: u64 = 1000;

pub(super) async fn replica_loop(node: Arc<Node>, primary_url: String) {
    let client = match node.peer(&primary_url) {
        Ok(c) => c,
        Err(e) => {
            node.update_sync(|s| {
                s.phase = "failing".into();
                s.last_error = Some(e.to_string());
            });
            return;
        }
    };
    // A command that lifts a suspension after this point wins over this loop's give-up.
    let gen = node.sync_gen.load(Ordering::SeqCst);
    let mut registered = false;
    let mut streak_reported = false;
    let mut resumed_logged = false;
    let mut backoff = Duration::from_millis(50);
    loop {
        let forced = node.force_full_sync.swap(false, Ordering::SeqCst) | took_writes_alone(&node);
        let result = if forced {
            let r = full_sync(&node, &client, "requested (join or on-demand sync)")
                .await
                .map(|_| ());
            if r.is_ok() && !node.state().sync_auto {
                // On-demand sync (seed 001): one full copy, no automatic sync after it.
                node.update_sync(|s| s.phase = "off".into());
                return;
            }
            r
        } else {
            pull_once(&node, &client, &mut resumed_logged).await
        };
        match result {
            Ok(()) => {
                backoff = Duration::from_millis(50);
                if streak_reported {
                    node.event(
                        NewEvent::new("sync", format!("replication from {primary_url} recovered"))
                            .success(true),
                    );
                    streak_reported = false;
                }
                node.update_sync(|s| {
                    s.failures = 0;
                    s.last_error = None;
                });
                if !registered {
                    registered = register(&node, &client).await;
                }
            }
            Err(PullError::Diverged { common, extra }) => {
                node.update_sync(|s| {
                    s.phase = "diverged".into();
                    s.common = Some(common);
                    s.divergent_records = Some(extra);
                    s.last_error = Some(format!(
                        "diverged from {primary_url}: {extra} records past the common point ({common})"
                    ));
                });
                if !streak_reported {
                    node.event(
                        NewEvent::new(
                            "sync",
                            format!(
                                "history diverged from {primary_url}: {extra} local records past {common} never reached it; \
                                 replication stopped until `drctl demote` exports them"
                            ),
                        )
                        .success(false)
                        .details(serde_json::json!({"common": common, "divergent_records": extra})),
                    );
                    streak_reported = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(PullError::Removed(msg)) => {
                node.update_sync(|s| {
                    s.phase = "removed".into();
                    s.last_error = Some(msg.clone());
                });
                if !streak_reported {
                    node.event(NewEvent::new("sync", msg).success(false));
                    streak_reported = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(PullError::Failed(msg)) => {
                let mut failures = 0;
                node.update_sync(|s| {
                    s.phase = "failing".into();
                    s.failures += 1;
                    failures = s.failures;
                    s.last_error = Some(msg.clone());
                });
                if failures >= node.config.sync.max_failures {
                    // Seed 001: a failing sync disables further sync and raises success=false.
                    suspend_sync(&node, gen, &primary_url, failures, &msg);
                    return;
                }
                if !streak_reported {
                    node.event(
                        NewEvent::new("sync", format!("sync from {primary_url} failed: {msg}"))
                            .success(false),
                    );
                    streak_reported = true;
                }
                resumed_logged = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Seed 001's rule: after `sync.max_failures` failed attempts automatic sync stops and an
/// event with `success=false` says so. It is a suspension, not the operator's "off": the
/// operator's setting is untouched, and a procedure that makes this node follow a primary (or
/// `sync auto on`) lifts it. Nothing happens if a command lifted a suspension since this loop
/// started (`gen`) or the node no longer follows `primary_url`: that command's loop runs now.
fn suspend_sync(node: &Node, gen: u64, primary_url: &str, failures: u32, error: &str) {
    let suspension = SyncSuspension {
        failures,
        primary_url: primary_url.to_string(),
        last_error: error.to_string(),
        since: crate::util::clock::now_rfc3339(),
    };
    let mut applies = false;
    let saved = node.update_state(|s| {
        applies = node.sync_gen.load(Ordering::SeqCst) == gen
            && s.role == Role::Replica
            && s.following.as_deref() == Some(primary_url);
        if applies {
            s.sync_suspended = Some(suspension.clone());
        }
    });
    if let Err(e) = &saved {
        // The loop stops all the same; only a restart would forget the suspension.
        tracing::error!(error = %e, "cannot save the sync suspension");
        applies = node.sync_gen.load(Ordering::SeqCst) == gen;
    }
    if !applies {
        return;
    }
    node.update_sync(|s| {
        s.phase = "suspended".into();
        s.suspended = Some(suspension);
    });
    let name = &node.config.name;
    node.event(
        NewEvent::new(
            "sync",
            format!(
                "automatic sync suspended after {failures} failed attempts: {error}; it resumes when \
                 a procedure makes {name} follow a primary (`drctl failover`, `switchover`, `repoint`, \
                 `demote`, `join`) or with `drctl sync auto on {name}`"
            ),
        )
        .success(false)
        .details(serde_json::json!({"suspended": true, "failures": failures, "primary": primary_url})),
    );
}

impl Node {
    /// Inside a state change that makes this node follow a primary (`sync_on`: the caller needs
    /// it to replicate) or sets the operator's sync switch: lifts a suspension and, with
    /// `sync_on`, the operator's "off". Says what it changed, for the event log and the report.
    pub(crate) fn lift_sync_stop(&self, s: &mut NodeState, sync_on: bool) -> Option<String> {
        self.sync_gen.fetch_add(1, Ordering::SeqCst);
        let mut what = Vec::new();
        if let Some(x) = s.sync_suspended.take() {
            what.push(format!(
                "automatic sync had suspended itself after {} failed attempts (since {}); resumed",
                x.failures, x.since
            ));
        }
        if sync_on && !s.sync_auto {
            s.sync_auto = true;
            what.push("automatic sync was off by operator command; turned on".to_string());
        }
        (!what.is_empty()).then(|| what.join("; "))
    }

    /// Whether following a primary (with `sync_on`) would change the sync settings.
    pub(crate) fn sync_stopped(s: &NodeState, sync_on: bool) -> bool {
        s.sync_suspended.is_some() || (sync_on && !s.sync_auto)
    }
}

enum PullError {
    Diverged { common: Position, extra: u64 },
    Removed(String),
    Failed(String),
}

impl From<ClientError> for PullError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Api { body, .. } if body.code == "removed" => {
                PullError::Removed(body.message)
            }
            other => PullError::Failed(other.to_string()),
        }
    }
}

async fn adopt_epoch(node: &Node, primary_epoch: u64) -> Result<(), PullError> {
    if primary_epoch > node.state().epoch {
        node.update_state(|s| s.epoch = primary_epoch)
            .map_err(|e| PullError::Failed(e.to_string()))?;
    }
    Ok(())
}

async fn pull_once(
    node: &Arc<Node>,
    client: &NodeClient,
    resumed_logged: &mut bool,
) -> Result<(), PullError> {
    let head = node.store.head();
    let query = LogQuery {
        after_epoch: head.epoch,
        after_seq: head.seq,
        // The first pull after (re)starting answers at once, so status is accurate at once.
        wait_ms: if *resumed_logged {
            node.config.sync.poll_ms
        } else {
            0
        },
        limit: Some(BATCH),
        host_id: node.host_id.clone(),
        name: node.config.name.clone(),
        url: node.config.advertise.clone(),
        epoch: node.state().epoch,
    };
    match client.repl_log(&query).await? {
        LogResponse::Records {
            primary_epoch,
            head_seq,
            records,
        } => {
            adopt_epoch(node, primary_epoch).await?;
            node.primary_head.store(head_seq, Ordering::Relaxed);
            if !*resumed_logged {
                node.event(
                    NewEvent::new(
                        "sync",
                        format!(
                            "partial sync from {} after {head}: {} behind",
                            client.url(),
                            crate::util::words::count(head_seq.saturating_sub(head.seq), "record")
                        ),
                    )
                    .success(true)
                    .details(serde_json::json!({"mode": "partial", "from_seq": head.seq, "primary_head": head_seq})),
                );
                *resumed_logged = true;
            }
            if !records.is_empty() {
                // Applied only while the node is still a replica, under the role gate: records
                // arriving after it went standalone are not its own writes, and must not be
                // counted (and exported) as such.
                let gate = node.role_gate.read().await;
                if node.state().role != Role::Replica {
                    return Err(PullError::Failed("the node stopped replicating".into()));
                }
                let store = node.store.clone();
                let applied = tokio::task::spawn_blocking(move || store.apply(&records))
                    .await
                    .map_err(|e| PullError::Failed(e.to_string()))?
                    .map_err(|e| PullError::Failed(e.to_string()))?;
                drop(gate);
                node.head_tx.send_replace(applied.seq);
            }
            node.set_db_status(DbStatus::Up);
            node.update_sync(|s| {
                s.phase = "partial".into();
                s.common = None;
                s.divergent_records = None;
            });
            Ok(())
        }
        LogResponse::SnapshotRequired {
            primary_epoch,
            reason,
            ..
        } => {
            adopt_epoch(node, primary_epoch).await?;
            full_sync(node, client, &reason).await?;
            *resumed_logged = false;
            Ok(())
        }
        LogResponse::Diverged { terms, .. } => {
            let store = node.store.clone();
            let (common, extra) = tokio::task::spawn_blocking(move || {
                let (base, head) = (store.base(), store.head());
                let common = common_point(&store.terms()?, &terms, base);
                // Data copied by a full sync past what the primary holds: its entries tell
                // which writes the primary never had (chaos seed 40242).
                let known = known_positions(&terms, Position::default());
                if common.seq <= base.seq && !holds(&known, base) {
                    let mut entries: Vec<Entry> = store
                        .list("")?
                        .into_iter()
                        .filter(|e| e.seq <= base.seq && !e.key.starts_with(SYS_PREFIX))
                        .collect();
                    let (at, past) = snapshot_common(&mut entries, |e| {
                        holds(
                            &known,
                            Position {
                                epoch: e.epoch,
                                seq: e.seq,
                            },
                        )
                    });
                    return Ok((at, past as u64 + head.seq - base.seq));
                }
                Ok::<_, super::store::StoreError>((common, head.seq.saturating_sub(common.seq)))
            })
            .await
            .map_err(|e| PullError::Failed(e.to_string()))?
            .map_err(|e| PullError::Failed(e.to_string()))?;
            Err(PullError::Diverged { common, extra })
        }
    }
}

/// A replica that took writes while standalone (never replaced by a full sync) cannot continue
/// by partial sync: its records may share positions with the primary's yet differ, so it is
/// fully synced. One that took none simply drops the standalone point.
fn took_writes_alone(node: &Arc<Node>) -> bool {
    let Some(at) = node.state().standalone_at else {
        return false;
    };
    if node.store.head().seq > at.seq {
        return true;
    }
    if let Err(e) = node.update_state(|s| {
        if s.role == Role::Replica {
            s.standalone_at = None;
        }
    }) {
        tracing::warn!(error = %e, "cannot clear the standalone point");
    }
    false
}

/// Adds this node to the replicated member list through the primary (joining).
async fn register(node: &Arc<Node>, client: &NodeClient) -> bool {
    let me = Member::new(&node.host_id, &node.config.name, &node.config.advertise);
    let key = format!("{MEMBERS_PREFIX}{}", node.host_id);
    if let Ok(Some(e)) = node.store.get(&key) {
        // Already a member under this name and URL: its state and promotability are the
        // cluster's to change, not ours.
        if let Ok(m) = serde_json::from_str::<Member>(&e.value) {
            if m.name == me.name && m.url == me.url {
                return true;
            }
        }
    }
    match client.add_member(&me).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot register with the primary yet");
            false
        }
    }
}
