//! Replication routes: the log a replica pulls (long-polled, log matching on `(epoch, seq)`),
//! the terms and raw log of any node, and the streamed snapshot of a full sync.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::super::error::ApiError;
use super::super::store::Match;
use super::Shared;
use crate::api::*;

/// While writes pour in, log requests of one replica start at most this often, so that each
/// answer (and the fsync the replica pays to apply it) carries the group commits of a few
/// milliseconds, not one each: the replicas' fsyncs took the disk from the primary's commits
/// (8 writers got 7,300 acknowledged writes/s, now 9,200-10,300).
const PULL_SPACING: Duration = Duration::from_millis(10);

/// Records per second committed since a replica's previous request above which its requests
/// are spaced. Below it every request is answered at once: at a few hundred writes per second
/// a replica stays level with the primary between writes, which the checks that a replica
/// caught up look for (a switchover's verification under 300 writes/s took 300 ms spaced).
const BUSY_RECORDS_PER_S: f64 = 2_000.0;

/// Records that must be waiting before a request is spaced: one record that happened to land
/// between a replica's answer and its next request, a fraction of a millisecond later, is no
/// sign of a busy primary.
const BUSY_RECORDS: f64 = 8.0;

/// A replica asks for the records after its last one; long-polls when there are none yet.
pub(super) async fn repl_log(
    State(node): Shared,
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LogResponse>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let st = node.state();
    match st.role {
        Role::Primary => {}
        Role::Fenced => {
            return Err(ApiError::Fenced {
                reason: st.fenced_reason.unwrap_or_default(),
            })
        }
        other => {
            return Err(ApiError::NotPrimary {
                role: other.to_string(),
                primary: st.following,
            })
        }
    }
    if q.epoch > st.epoch {
        let reason = format!(
            "replica {} ({}) is at epoch {}, this node at epoch {}: another node was promoted",
            q.name, q.url, q.epoch, st.epoch
        );
        node.fence(reason.clone(), Some(q.epoch)).await?;
        return Err(ApiError::StaleEpoch(reason));
    }
    if let Some(m) = node
        .members()?
        .into_iter()
        .find(|m| m.host_id == q.host_id && m.state == MemberState::Removed)
    {
        return Err(ApiError::Removed(format!(
            "{} was removed from cluster {} at {}; run `drctl standalone {}` on it",
            m.name,
            node.config.cluster,
            m.removed_at.unwrap_or_else(|| "an earlier time".into()),
            m.name
        )));
    }
    let previous = node.note_replica(
        &q.host_id,
        ReplicaProgress {
            name: q.name.clone(),
            url: q.url.clone(),
            acked_seq: q.after_seq,
            epoch: q.epoch,
            last_seen_ms_ago: 0,
            polling: false,
        },
    );
    let _open = node.open_poll(&q.host_id);
    let after = Position {
        epoch: q.after_epoch,
        seq: q.after_seq,
    };
    let head = node.store.head();
    if after.seq == 0 && head.seq > 0 {
        return Ok(Json(LogResponse::SnapshotRequired {
            primary_epoch: st.epoch,
            head_seq: head.seq,
            reason: "the replica is empty".into(),
        }));
    }
    let store = node.store.clone();
    let matched = tokio::task::spawn_blocking(move || store.check_match(after)).await??;
    match matched {
        Match::SnapshotRequired(reason) => {
            return Ok(Json(LogResponse::SnapshotRequired {
                primary_epoch: st.epoch,
                head_seq: head.seq,
                reason,
            }))
        }
        Match::Diverged => {
            let store = node.store.clone();
            let terms = tokio::task::spawn_blocking(move || store.terms()).await??;
            return Ok(Json(LogResponse::Diverged {
                primary_epoch: st.epoch,
                head_seq: head.seq,
                terms,
            }));
        }
        Match::Ok => {}
    }
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let mut head_rx = node.head_tx.subscribe();
    let mut stopping = node.stopping.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(30_000));
    // Spaced only while the primary commits fast, and never while a switchover drains (its
    // target's last pull must come at once).
    let pending = head.seq.saturating_sub(after.seq) as f64;
    let not_before = previous
        .filter(|at| pending >= (BUSY_RECORDS_PER_S * at.elapsed().as_secs_f64()).max(BUSY_RECORDS))
        .map(|at| tokio::time::Instant::from_std(at) + PULL_SPACING);
    loop {
        if let Some(t) = not_before.filter(|t| *t > tokio::time::Instant::now()) {
            if !node.draining() {
                tokio::time::sleep_until(t.min(deadline)).await;
            }
        }
        let store = node.store.clone();
        let records =
            tokio::task::spawn_blocking(move || store.log_after(after.seq, limit)).await??;
        if !records.is_empty() || tokio::time::Instant::now() >= deadline || *stopping.borrow() {
            return Ok(Json(LogResponse::Records {
                primary_epoch: node.state().epoch,
                head_seq: node.store.head().seq,
                records,
            }));
        }
        // Wake on a new record, a role change, shutdown, or the deadline.
        tokio::select! {
            woke = tokio::time::timeout_at(deadline, head_rx.changed()) => {
                if woke.is_err() {
                    continue;
                }
            }
            _ = stopping.changed() => continue,
        }
        if node.state().role != Role::Primary {
            return Err(ApiError::NotPrimary {
                role: node.state().role.to_string(),
                primary: None,
            });
        }
    }
}

pub(super) async fn repl_terms(State(node): Shared) -> Result<Json<Vec<Term>>, ApiError> {
    let store = node.store.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || store.terms()).await??,
    ))
}

/// Streams a consistent snapshot as NDJSON: header, entries, end (with count and digest).
pub(super) async fn repl_snapshot(State(node): Shared) -> Result<Response, ApiError> {
    let st = node.state();
    if !matches!(st.role, Role::Primary | Role::Standalone) {
        return Err(ApiError::NotPrimary {
            role: st.role.to_string(),
            primary: st.following,
        });
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(16);
    let store = node.store.clone();
    let epoch = st.epoch;
    tokio::task::spawn_blocking(move || {
        let line = |l: &SnapshotLine| {
            let mut v = serde_json::to_vec(l).expect("snapshot line serializes");
            v.push(b'\n');
            bytes::Bytes::from(v)
        };
        let header_tx = tx.clone();
        let batch_tx = tx.clone();
        let result = store.read_snapshot(
            |position, count| {
                header_tx
                    .blocking_send(line(&SnapshotLine::Header {
                        epoch,
                        position,
                        count,
                    }))
                    .is_ok()
            },
            |batch| {
                // Written straight into the chunk: a buffer per line cost an allocation and a
                // copy for each entry.
                let mut buf = Vec::with_capacity(batch.len() * 96);
                for e in batch {
                    let l = SnapshotLine::Entry {
                        key: e.key,
                        value: e.value,
                        epoch: e.epoch,
                        seq: e.seq,
                    };
                    serde_json::to_writer(&mut buf, &l).expect("snapshot line serializes");
                    buf.push(b'\n');
                }
                batch_tx.blocking_send(bytes::Bytes::from(buf)).is_ok()
            },
        );
        match result {
            Ok((count, digest)) => {
                let _ = tx.blocking_send(line(&SnapshotLine::End { count, digest }));
            }
            Err(e) => tracing::warn!(error = %e, "snapshot stream ended early"),
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    let mut resp = Body::from_stream(stream).into_response();
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
pub(super) struct LogReadQuery {
    #[serde(default)]
    after_seq: u64,
    limit: Option<u64>,
}

/// Any node's log records after a seq (for exporting a divergent tail).
pub(super) async fn read_log(
    State(node): Shared,
    Query(q): Query<LogReadQuery>,
) -> Result<Json<Vec<LogRecord>>, ApiError> {
    let store = node.store.clone();
    let limit = q.limit.unwrap_or(10_000).clamp(1, 100_000);
    Ok(Json(
        tokio::task::spawn_blocking(move || store.log_after(q.after_seq, limit)).await??,
    ))
}
