//! The admin API under `/v1`, over HTTPS only. Every route but `GET /v1/health` needs the
//! cluster passphrase; a wrong one gets 401, is recorded as an event, and changes nothing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::error::{ApiError, REQUEST_ID};
use super::nodedb::NewEvent;
use super::store::Match;
use super::{Caller, Node, NodeError, SETTINGS_PREFIX, SYS_PREFIX};
use crate::api::*;

type Shared = State<Arc<Node>>;

pub async fn serve(
    node: Arc<Node>,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let tls = crate::tls::server_config(&node.config.cert, &node.config.key)?;
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
    listener.set_nonblocking(true).map_err(NodeError::Serve)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(2)));
    });
    node.reconcile();
    let watcher = tokio::spawn(node.clone().peer_watch());
    let app = router(node.clone());
    let result = axum_server::from_tcp_rustls(listener, tls)
        .map_err(NodeError::Serve)?
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .map_err(NodeError::Serve);
    watcher.abort();
    if let Some(t) = node.repl_task.lock().expect("task lock").take() {
        t.abort();
    }
    node.event(NewEvent::new("stop", "node stopped"));
    result
}

fn router(node: Arc<Node>) -> Router {
    let authed = Router::new()
        .route("/v1/node", get(node_status))
        .route("/v1/entries", get(list_entries))
        .route(
            "/v1/entries/{*key}",
            get(get_entry).put(put_entry).delete(delete_entry),
        )
        .route("/v1/members", get(list_members).post(add_member))
        .route("/v1/settings/{name}", get(get_setting).put(put_setting))
        .route("/v1/local", get(list_local))
        .route("/v1/local/{name}", get(get_local).put(put_local))
        .route("/v1/events", get(events).post(post_event))
        .route("/v1/repl/log", get(repl_log))
        .route("/v1/repl/terms", get(repl_terms))
        .route("/v1/repl/snapshot", get(repl_snapshot))
        .route("/v1/admin/promote", post(promote))
        .route("/v1/admin/follow", post(follow))
        .route("/v1/admin/standalone", post(standalone))
        .route("/v1/admin/drain", post(drain))
        .route("/v1/admin/sync-auto", post(sync_auto))
        .route("/v1/admin/undrain", post(undrain))
        .route("/v1/admin/lock", post(take_lock))
        .route("/v1/admin/unlock", post(release_lock))
        .route("/v1/admin/fence", post(fence))
        .route("/v1/log", get(read_log))
        .route("/v1/roles/{role}", post(set_role))
        .route("/v1/admin/release-role", post(release_role))
        .route("/v1/admin/drop-member", post(drop_member))
        .route("/v1/admin/services", post(services))
        .route("/v1/admin/maintenance", post(maintenance))
        .route("/v1/packages", get(super::packages::list))
        .route(
            "/v1/packages/{name}",
            get(super::packages::download)
                .put(super::packages::upload)
                .delete(super::packages::remove),
        )
        .fallback(|| async { ApiError::not_found("route") })
        .route_layer(middleware::from_fn_with_state(node.clone(), authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024));
    Router::new()
        .route("/v1/health", get(health))
        .merge(authed)
        .layer(middleware::from_fn(request_id))
        .with_state(node)
}

/// Gives every request an id, in the `x-request-id` header and in error bodies.
async fn request_id(req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let mut resp = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

fn caller(headers: &HeaderMap) -> Caller {
    let get = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(128).collect::<String>())
    };
    Caller {
        operator: get(OPERATOR_HEADER),
        run_id: get(RUN_ID_HEADER),
    }
}

/// Checks the passphrase; records refused calls and every admin change as events.
async fn authenticate(
    State(node): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if !presented.is_some_and(|p| node.config.passphrase.matches(p)) {
        node.event(
            NewEvent::new(
                "auth_failed",
                format!("refused {method} {path} from {peer}: wrong or missing passphrase"),
            )
            .success(false)
            .details(serde_json::json!({"peer": peer.to_string(), "method": method.as_str(), "path": path})),
        );
        return ApiError::Unauthorized.into_response();
    }
    let who = caller(req.headers());
    let is_admin_change = method != Method::GET
        && [
            "/v1/admin/",
            "/v1/members",
            "/v1/settings/",
            "/v1/local/",
            "/v1/roles/",
            "/v1/packages/",
        ]
        .iter()
        .any(|p| path.starts_with(p));
    let resp = next.run(req).await;
    if is_admin_change {
        let status = resp.status();
        node.event(
            NewEvent::new("admin", format!("{method} {path} -> {}", status.as_u16()))
                .success(status.is_success())
                .by(who.operator, who.run_id),
        );
    }
    resp
}

async fn health(State(node): Shared) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        name: node.config.name.clone(),
        cluster: node.config.cluster.clone(),
    })
}

async fn node_status(State(node): Shared) -> Result<Json<NodeStatus>, ApiError> {
    let n = node.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || n.status()).await??,
    ))
}

fn user_key(key: &str) -> Result<(), ApiError> {
    crate::api::client::validate_key(key).map_err(ApiError::BadRequest)?;
    if key.starts_with(SYS_PREFIX) {
        return Err(ApiError::BadRequest(format!(
            "keys under '{SYS_PREFIX}' are reserved for system records"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct ListQuery {
    prefix: Option<String>,
}

async fn list_entries(
    State(node): Shared,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    let prefix = q.prefix.unwrap_or_default();
    let store = node.store.clone();
    let mut entries = tokio::task::spawn_blocking(move || store.list(&prefix)).await??;
    entries.retain(|e| !e.key.starts_with(SYS_PREFIX));
    for e in &mut entries {
        e.value = node.substitute(&e.key, std::mem::take(&mut e.value));
    }
    Ok(Json(entries))
}

async fn get_entry(State(node): Shared, Path(key): Path<String>) -> Result<Json<Entry>, ApiError> {
    user_key(&key)?;
    node.store
        .get(&key)?
        .map(|mut e| {
            e.value = node.substitute(&e.key, std::mem::take(&mut e.value));
            Json(e)
        })
        .ok_or_else(|| ApiError::not_found(format!("entry '{key}'")))
}

fn forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(FORWARDED_HEADER)
}

async fn put_entry(
    State(node): Shared,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Json<PutEntryRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<WriteAck>, ApiError> {
    user_key(&key)?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    Ok(Json(
        node.write(Op::Put, &key, Some(&body.value), forwarded(&headers))
            .await?,
    ))
}

async fn delete_entry(
    State(node): Shared,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<WriteAck>, ApiError> {
    user_key(&key)?;
    if node.store.get(&key)?.is_none() {
        return Err(ApiError::not_found(format!("entry '{key}'")));
    }
    Ok(Json(
        node.write(Op::Del, &key, None, forwarded(&headers)).await?,
    ))
}

async fn list_members(State(node): Shared) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(node.members()?))
}

async fn add_member(
    State(node): Shared,
    body: Result<Json<Member>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Member>, ApiError> {
    let Json(member) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    crate::names::validate_label(&member.name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    crate::api::client::parse_node_url(&member.url)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if uuid::Uuid::parse_str(&member.host_id).is_err() {
        return Err(ApiError::BadRequest(format!(
            "host_id '{}' is not a UUID",
            member.host_id
        )));
    }
    let st = node.state();
    if st.role == Role::Primary {
        // Membership changes need the naming master (seed 000's FSMO roles).
        node.ensure_holder_answers("naming-master").await?;
    }
    if st.role == Role::Replica {
        let primary = st.following.clone().unwrap_or_default();
        return node
            .peer(&primary)?
            .add_member(&member)
            .await
            .map(Json)
            .map_err(|e| ApiError::Upstream {
                url: primary,
                detail: e.to_string(),
            });
    }
    Ok(Json(node.upsert_member(member).await?))
}

fn setting_name(name: &str) -> Result<(), ApiError> {
    crate::names::validate_label(name)
        .map_err(|e| ApiError::BadRequest(format!("setting name: {e}")))
}

async fn get_setting(
    State(node): Shared,
    Path(name): Path<String>,
) -> Result<Json<SettingValue>, ApiError> {
    setting_name(&name)?;
    node.store
        .get(&format!("{SETTINGS_PREFIX}{name}"))?
        .map(|e| Json(SettingValue { value: e.value }))
        .ok_or_else(|| ApiError::not_found(format!("setting '{name}'")))
}

async fn put_setting(
    State(node): Shared,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Result<Json<SettingValue>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<WriteAck>, ApiError> {
    setting_name(&name)?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let key = format!("{SETTINGS_PREFIX}{name}");
    if node.store.get(&key)?.is_some_and(|e| e.value == body.value) {
        let head = node.store.head();
        return Ok(Json(WriteAck {
            key,
            epoch: head.epoch,
            seq: head.seq,
            node: node.config.name.clone(),
        }));
    }
    Ok(Json(
        node.write(Op::Put, &key, Some(&body.value), forwarded(&headers))
            .await?,
    ))
}

async fn list_local(State(node): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    let map: serde_json::Map<String, serde_json::Value> = node
        .db
        .list_local()?
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    Ok(Json(serde_json::Value::Object(map)))
}

async fn get_local(
    State(node): Shared,
    Path(name): Path<String>,
) -> Result<Json<SettingValue>, ApiError> {
    setting_name(&name)?;
    node.db
        .get_local(&name)?
        .map(|value| Json(SettingValue { value }))
        .ok_or_else(|| ApiError::not_found(format!("local setting '{name}'")))
}

async fn put_local(
    State(node): Shared,
    Path(name): Path<String>,
    body: Result<Json<SettingValue>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<SettingValue>, ApiError> {
    setting_name(&name)?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    node.db.set_local(&name, &body.value)?;
    Ok(Json(body))
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u64>,
}

async fn events(
    State(node): Shared,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Vec<Event>>, ApiError> {
    Ok(Json(node.db.events_after(
        q.after,
        q.limit.unwrap_or(1000).min(10_000),
    )?))
}

/// A replica asks for the records after its last one; long-polls when there are none yet.
async fn repl_log(
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
        node.fence(reason.clone()).await?;
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
    node.note_replica(
        &q.host_id,
        ReplicaProgress {
            name: q.name.clone(),
            url: q.url.clone(),
            acked_seq: q.after_seq,
            epoch: q.epoch,
            last_seen_ms_ago: 0,
        },
    );
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
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(30_000));
    loop {
        let store = node.store.clone();
        let records =
            tokio::task::spawn_blocking(move || store.log_after(after.seq, limit)).await??;
        if !records.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(LogResponse::Records {
                primary_epoch: node.state().epoch,
                head_seq: node.store.head().seq,
                records,
            }));
        }
        // Wake on a new record, a role change, or the deadline.
        if tokio::time::timeout_at(deadline, head_rx.changed())
            .await
            .is_err()
        {
            continue;
        }
        if node.state().role != Role::Primary {
            return Err(ApiError::NotPrimary {
                role: node.state().role.to_string(),
                primary: None,
            });
        }
    }
}

async fn repl_terms(State(node): Shared) -> Result<Json<Vec<Term>>, ApiError> {
    let store = node.store.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || store.terms()).await??,
    ))
}

/// Streams a consistent snapshot as NDJSON: header, entries, end (with count and digest).
async fn repl_snapshot(State(node): Shared) -> Result<Response, ApiError> {
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
                let mut buf = Vec::new();
                for e in batch {
                    buf.extend_from_slice(&line(&SnapshotLine::Entry {
                        key: e.key,
                        value: e.value,
                        epoch: e.epoch,
                        seq: e.seq,
                    }));
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

async fn promote(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<PromoteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    node.promote(req.epoch, req.procedure, &caller(&headers))
        .await?;
    node_status(State(node)).await
}

async fn follow(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<FollowRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    node.follow(&req.primary_url, req.full_sync, &caller(&headers))
        .await?;
    node_status(State(node)).await
}

async fn standalone(State(node): Shared, headers: HeaderMap) -> Result<Json<NodeStatus>, ApiError> {
    node.standalone(&caller(&headers)).await?;
    node_status(State(node)).await
}

fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

async fn drain(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<DrainRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<DrainResponse>, ApiError> {
    let req = json_body(body)?;
    let ttl = Duration::from_millis(req.ttl_ms.clamp(100, 600_000));
    let head = node.drain(ttl, &caller(&headers)).await?;
    Ok(Json(DrainResponse { head }))
}

async fn undrain(State(node): Shared, headers: HeaderMap) -> Result<Json<NodeStatus>, ApiError> {
    node.undrain(&caller(&headers));
    node_status(State(node)).await
}

async fn take_lock(
    State(node): Shared,
    body: Result<Json<LockRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<LockInfo>, ApiError> {
    let req = json_body(body)?;
    Ok(Json(node.take_lock(&req)?))
}

async fn release_lock(
    State(node): Shared,
    body: Result<Json<UnlockRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    node.release_lock(&req.run_id);
    Ok(Json(serde_json::json!({"released": true})))
}

async fn fence(
    State(node): Shared,
    body: Result<Json<FenceRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    let st = node.state();
    if st.role == Role::Primary && req.epoch > st.epoch {
        node.fence(req.reason).await?;
    }
    node_status(State(node)).await
}

#[derive(Deserialize)]
struct LogReadQuery {
    #[serde(default)]
    after_seq: u64,
    limit: Option<u64>,
}

/// Any node's log records after a seq (for exporting a divergent tail).
async fn read_log(
    State(node): Shared,
    Query(q): Query<LogReadQuery>,
) -> Result<Json<Vec<LogRecord>>, ApiError> {
    let store = node.store.clone();
    let limit = q.limit.unwrap_or(10_000).clamp(1, 100_000);
    Ok(Json(
        tokio::task::spawn_blocking(move || store.log_after(q.after_seq, limit)).await??,
    ))
}

async fn post_event(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<NewEventRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    if crate::names::validate_label(&req.kind).is_err() || req.message.len() > 4096 {
        return Err(ApiError::BadRequest(
            "an event needs a kind (letters, digits, '-') and a message under 4096 bytes".into(),
        ));
    }
    let who = caller(&headers);
    let e = NewEvent::new(&req.kind, req.message).by(who.operator, who.run_id);
    let e = match req.success {
        Some(ok) => e.success(ok),
        None => e,
    };
    let id = node.db.record(e)?;
    Ok(Json(serde_json::json!({"id": id})))
}

async fn sync_auto(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<SyncAutoRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    node.set_sync_auto(req.on, &caller(&headers)).await?;
    node_status(State(node)).await
}

async fn set_role(
    State(node): Shared,
    Path(role): Path<String>,
    body: Result<Json<SetRoleRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<WriteAck>, ApiError> {
    let req = json_body(body)?;
    let st = node.state();
    if st.role != Role::Primary {
        return Err(ApiError::NotPrimary {
            role: st.role.to_string(),
            primary: st.following,
        });
    }
    Ok(Json(node.set_role(&role, &req.holder, req.epoch).await?))
}

#[derive(Deserialize)]
struct ReleaseRole {
    role: String,
}

/// The holder of a role acknowledges a transfer (it holds it by the replicated record).
async fn release_role(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<ReleaseRole>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    let record = node
        .role_record(&req.role)?
        .ok_or_else(|| ApiError::not_found(format!("role '{}'", req.role)))?;
    if record.holder != node.host_id {
        return Err(ApiError::Conflict(format!(
            "{} does not hold {} (role epoch {})",
            node.config.name, req.role, record.epoch
        )));
    }
    let who = caller(&headers);
    node.event(
        NewEvent::new("role", format!("released {} for a transfer", req.role))
            .by(who.operator, who.run_id),
    );
    Ok(Json(
        serde_json::json!({"released": req.role, "epoch": record.epoch}),
    ))
}

/// A live member acknowledges dropping a leaving member: it stops treating it as a peer.
async fn drop_member(
    State(node): Shared,
    body: Result<Json<DropMemberRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    uuid::Uuid::parse_str(&req.host_id)
        .map_err(|_| ApiError::BadRequest(format!("'{}' is not a host id", req.host_id)))?;
    node.db.set_local(
        &format!("dropped-{}", req.host_id),
        &crate::clock::now_rfc3339(),
    )?;
    Ok(Json(
        serde_json::json!({"dropped": req.host_id, "by": node.host_id}),
    ))
}

async fn services(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<ServicesRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    node.set_services(req.running, &caller(&headers))?;
    node_status(State(node)).await
}

async fn maintenance(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<MaintenanceRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    node.set_maintenance(req.maintenance, &caller(&headers))
        .await?;
    node_status(State(node)).await
}
