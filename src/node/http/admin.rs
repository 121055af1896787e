//! Admin routes: role changes, drain, lock, fence, operation-master roles, membership
//! acknowledgements, services, maintenance, automatic sync.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::super::error::ApiError;
use super::super::nodedb::NewEvent;
use super::{caller, json_body, node_status, Shared};
use crate::api::*;

pub(super) async fn promote(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<PromoteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    node.promote(req.epoch, req.procedure, &caller(&headers))
        .await?;
    node_status(State(node)).await
}

pub(super) async fn follow(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<FollowRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    node.follow(
        &req.primary_url,
        req.full_sync,
        req.sync_on,
        req.if_head,
        &caller(&headers),
    )
    .await?;
    node_status(State(node)).await
}

pub(super) async fn standalone(
    State(node): Shared,
    headers: HeaderMap,
) -> Result<Json<NodeStatus>, ApiError> {
    node.standalone(&caller(&headers)).await?;
    node_status(State(node)).await
}

pub(super) async fn drain(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<DrainRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<DrainResponse>, ApiError> {
    let req = json_body(body)?;
    let ttl = Duration::from_millis(req.ttl_ms.clamp(100, 600_000));
    let head = node.drain(ttl, &caller(&headers)).await?;
    Ok(Json(DrainResponse { head }))
}

pub(super) async fn undrain(
    State(node): Shared,
    headers: HeaderMap,
) -> Result<Json<NodeStatus>, ApiError> {
    node.undrain(&caller(&headers));
    node_status(State(node)).await
}

pub(super) async fn take_lock(
    State(node): Shared,
    body: Result<Json<LockRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<LockInfo>, ApiError> {
    let req = json_body(body)?;
    if req.started.as_ref().is_some_and(|m| m.len() > 4096) {
        return Err(ApiError::BadRequest(
            "a lock's start event needs a message under 4096 bytes".into(),
        ));
    }
    let info = node.take_lock(&req)?;
    if let Some(message) = req.started {
        node.event(NewEvent::new("procedure", message).by(Some(req.holder), Some(req.run_id)));
    }
    Ok(Json(info))
}

pub(super) async fn release_lock(
    State(node): Shared,
    body: Result<Json<UnlockRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    node.release_lock(&req.run_id);
    Ok(Json(serde_json::json!({"released": true})))
}

pub(super) async fn fence(
    State(node): Shared,
    body: Result<Json<FenceRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    if req.epoch == 0 || req.epoch > MAX_EPOCH {
        return Err(ApiError::BadRequest(format!(
            "epoch {} is out of range: an epoch is between 1 and {MAX_EPOCH}",
            req.epoch
        )));
    }
    let st = node.state();
    let newer = req.epoch > st.epoch;
    let same = req.same_epoch && req.epoch == st.epoch && st.role == Role::Primary;
    if newer || same {
        node.fence(req.reason, Some(req.epoch)).await?;
    }
    node_status(State(node)).await
}

pub(super) async fn sync_auto(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<SyncAutoRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    node.set_sync_auto(req.on, &caller(&headers)).await?;
    node_status(State(node)).await
}

pub(super) async fn set_role(
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
pub(super) struct ReleaseRole {
    role: String,
}

/// The holder of a role acknowledges a transfer (it holds it by the replicated record).
pub(super) async fn release_role(
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
pub(super) async fn drop_member(
    State(node): Shared,
    body: Result<Json<DropMemberRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    uuid::Uuid::parse_str(&req.host_id)
        .map_err(|_| ApiError::BadRequest(format!("'{}' is not a host id", req.host_id)))?;
    node.db.set_local(
        &format!("dropped-{}", req.host_id),
        &crate::util::clock::now_rfc3339(),
    )?;
    Ok(Json(
        serde_json::json!({"dropped": req.host_id, "by": node.host_id}),
    ))
}

pub(super) async fn services(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<ServicesRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    node.set_services(req.running, &caller(&headers))?;
    node_status(State(node)).await
}

pub(super) async fn maintenance(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<MaintenanceRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeStatus>, ApiError> {
    let req = json_body(body)?;
    node.set_maintenance(req.maintenance, &caller(&headers))
        .await?;
    node_status(State(node)).await
}
