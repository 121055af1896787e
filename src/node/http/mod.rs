//! The admin API under `/v1`, over HTTPS only. Every route but `GET /v1/health` needs the
//! cluster passphrase; a wrong one gets 401, is recorded as an event, and changes nothing.
//! `GET /metrics` (Prometheus) takes the passphrase or the node's read-only metrics token.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

mod admin;
pub(crate) mod auth;
mod data;
mod metrics;
mod repl;

use super::error::{ApiError, REQUEST_ID};
use super::nodedb::NewEvent;
use super::{Caller, Node, NodeError};
use crate::api::*;

type Shared = State<Arc<Node>>;

pub(super) async fn serve(
    node: Arc<Node>,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let tls = crate::util::tls::server_config(&node.config.cert, &node.config.key)?;
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
    listener.set_nonblocking(true).map_err(NodeError::Serve)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let stopping = node.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.stopping.send_replace(true);
        stopper.graceful_shutdown(Some(Duration::from_secs(2)));
    });
    node.reconcile();
    let watcher = tokio::spawn(node.clone().peer_watch());
    let app = router(node.clone());
    // TCP_NODELAY: a response is written as several TLS records, and without it the kernel
    // holds the last one until the client's delayed ACK (40 ms on Linux): every follow, promote
    // and status call of a procedure paid it.
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    let result = axum_server::from_tcp(listener)
        .map_err(NodeError::Serve)?
        .acceptor(acceptor)
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
        .route("/v1/entries", get(data::list_entries))
        .route(
            "/v1/entries/{*key}",
            get(data::get_entry)
                .put(data::put_entry)
                .delete(data::delete_entry),
        )
        .route(
            "/v1/members",
            get(data::list_members).post(data::add_member),
        )
        .route(
            "/v1/settings/{name}",
            get(data::get_setting).put(data::put_setting),
        )
        .route("/v1/local", get(data::list_local))
        .route(
            "/v1/local/{name}",
            get(data::get_local).put(data::put_local),
        )
        .route("/v1/events", get(data::events).post(data::post_event))
        .route("/v1/repl/log", get(repl::repl_log))
        .route("/v1/repl/terms", get(repl::repl_terms))
        .route("/v1/repl/snapshot", get(repl::repl_snapshot))
        .route("/v1/admin/promote", post(admin::promote))
        .route("/v1/admin/follow", post(admin::follow))
        .route("/v1/admin/standalone", post(admin::standalone))
        .route("/v1/admin/drain", post(admin::drain))
        .route("/v1/admin/sync-auto", post(admin::sync_auto))
        .route("/v1/admin/undrain", post(admin::undrain))
        .route("/v1/admin/lock", post(admin::take_lock))
        .route("/v1/admin/unlock", post(admin::release_lock))
        .route("/v1/admin/fence", post(admin::fence))
        .route("/v1/log", get(repl::read_log))
        .route("/v1/roles/{role}", post(admin::set_role))
        .route("/v1/admin/release-role", post(admin::release_role))
        .route("/v1/admin/drop-member", post(admin::drop_member))
        .route("/v1/admin/services", post(admin::services))
        .route("/v1/admin/maintenance", post(admin::maintenance))
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
        .route(
            "/metrics",
            get(metrics::scrape).route_layer(middleware::from_fn_with_state(
                node.clone(),
                metrics::authenticate_scraper,
            )),
        )
        .merge(authed)
        .layer(middleware::from_fn_with_state(
            node.clone(),
            metrics::observe,
        ))
        .layer(middleware::from_fn(request_id))
        .with_state(node)
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// A new request id: a random prefix drawn once per process and a counter, 16 hex digits. A
/// random id per request cost a `getrandom` call on every request of the write path.
fn next_request_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::LazyLock;
    static PREFIX: LazyLock<u32> = LazyLock::new(rand::random);
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{:08x}{:08x}",
        *PREFIX,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Gives every request an id, in the `x-request-id` header and in error bodies.
async fn request_id(req: Request, next: Next) -> Response {
    let id = next_request_id();
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
    let presented = bearer(req.headers());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if !presented.is_some_and(|p| node.config.passphrase.matches(p)) {
        auth::refused(&node, peer, method.as_str(), &path);
        return ApiError::Unauthorized.into_response();
    }
    // A peer of another cluster sharing the CA and passphrase: no replication or registration
    // across clusters.
    if let Some(theirs) = req
        .headers()
        .get(crate::api::client::CLUSTER_HEADER)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(64)
                .collect::<String>()
        })
        .filter(|c| *c != node.config.cluster)
    {
        node.event(
            NewEvent::new(
                "wrong_cluster",
                format!(
                    "refused {method} {path} from {peer}: the caller belongs to cluster {theirs}"
                ),
            )
            .success(false),
        );
        return ApiError::WrongCluster {
            mine: node.config.cluster.clone(),
            theirs,
        }
        .into_response();
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

fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}
