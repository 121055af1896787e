//! `GET /metrics` for a Prometheus scraper, which presents the node's read-only metrics token
//! or the passphrase, and the timing of every request for the latency histograms.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::super::error::ApiError;
use super::{auth, bearer, Shared};

/// Times every request by its route's template, for the latency histograms.
pub(super) async fn observe(State(node): Shared, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Known methods only: an unauthenticated caller must not mint label values at will.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| route_label(p.as_str()));
    let resp = next.run(req).await;
    node.metrics.request(method, &route, started.elapsed());
    resp
}

/// A route's template as Prometheus writes its own handlers' (`/v1/entries/*key`,
/// `/v1/roles/:role`): no braces in a label value, which naive parsers cut at.
fn route_label(template: &str) -> String {
    template
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) if param.starts_with('*') => param.to_string(),
                Some(param) => format!(":{param}"),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// A Prometheus scraper presents the node's metrics token (`metrics_token_file`: it reads the
/// metrics and nothing else) or the cluster passphrase; anything else is refused and recorded
/// like any refused call.
pub(super) async fn authenticate_scraper(
    State(node): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let allowed = bearer(req.headers()).is_some_and(|p| {
        node.config.passphrase.matches(p)
            || node
                .config
                .metrics_token
                .as_ref()
                .is_some_and(|t| t.matches(p))
    });
    if !allowed {
        auth::refused(&node, peer, req.method().as_str(), req.uri().path());
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
}

pub(super) async fn scrape(State(node): Shared) -> Result<Response, ApiError> {
    let n = node.clone();
    let body = tokio::task::spawn_blocking(move || n.scrape()).await??;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            crate::node::metrics::CONTENT_TYPE,
        )],
        body,
    )
        .into_response())
}
