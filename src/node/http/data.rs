//! Data routes: entries, members, replicated settings, node-local settings, events.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::super::error::ApiError;
use super::super::nodedb::NewEvent;
use super::super::{SETTINGS_PREFIX, SYS_PREFIX};
use super::{caller, json_body, Shared};
use crate::api::*;

pub(super) fn user_key(key: &str) -> Result<(), ApiError> {
    crate::api::client::validate_key(key).map_err(ApiError::BadRequest)?;
    if key.starts_with(SYS_PREFIX) {
        return Err(ApiError::BadRequest(format!(
            "keys under '{SYS_PREFIX}' are reserved for system records"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    prefix: Option<String>,
}

pub(super) async fn list_entries(
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

pub(super) async fn get_entry(
    State(node): Shared,
    Path(key): Path<String>,
) -> Result<Json<Entry>, ApiError> {
    user_key(&key)?;
    node.store
        .get(&key)?
        .map(|mut e| {
            e.value = node.substitute(&e.key, std::mem::take(&mut e.value));
            Json(e)
        })
        .ok_or_else(|| ApiError::not_found(format!("entry '{key}'")))
}

pub(super) fn forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(FORWARDED_HEADER)
}

pub(super) async fn put_entry(
    State(node): Shared,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Json<PutEntryRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<WriteAck>, ApiError> {
    user_key(&key)?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let result = node
        .write(Op::Put, &key, Some(&body.value), forwarded(&headers))
        .await;
    node.metrics.write("put", &node.config.name, &result);
    Ok(Json(result?))
}

pub(super) async fn delete_entry(
    State(node): Shared,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<WriteAck>, ApiError> {
    user_key(&key)?;
    if node.store.get(&key)?.is_none() {
        return Err(ApiError::not_found(format!("entry '{key}'")));
    }
    let result = node.write(Op::Del, &key, None, forwarded(&headers)).await;
    node.metrics.write("delete", &node.config.name, &result);
    Ok(Json(result?))
}

pub(super) async fn list_members(State(node): Shared) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(node.members()?))
}

pub(super) async fn add_member(
    State(node): Shared,
    body: Result<Json<Member>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Member>, ApiError> {
    let Json(member) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    crate::util::names::validate_label(&member.name)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
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

pub(super) fn setting_name(name: &str) -> Result<(), ApiError> {
    crate::util::names::validate_label(name)
        .map_err(|e| ApiError::BadRequest(format!("setting name: {e}")))
}

pub(super) async fn get_setting(
    State(node): Shared,
    Path(name): Path<String>,
) -> Result<Json<SettingValue>, ApiError> {
    setting_name(&name)?;
    node.store
        .get(&format!("{SETTINGS_PREFIX}{name}"))?
        .map(|e| Json(SettingValue { value: e.value }))
        .ok_or_else(|| ApiError::not_found(format!("setting '{name}'")))
}

pub(super) async fn put_setting(
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
            standalone: false,
        }));
    }
    Ok(Json(
        node.write(Op::Put, &key, Some(&body.value), forwarded(&headers))
            .await?,
    ))
}

pub(super) async fn list_local(State(node): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    let map: serde_json::Map<String, serde_json::Value> = node
        .db
        .list_local()?
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    Ok(Json(serde_json::Value::Object(map)))
}

pub(super) async fn get_local(
    State(node): Shared,
    Path(name): Path<String>,
) -> Result<Json<SettingValue>, ApiError> {
    setting_name(&name)?;
    node.db
        .get_local(&name)?
        .map(|value| Json(SettingValue { value }))
        .ok_or_else(|| ApiError::not_found(format!("local setting '{name}'")))
}

pub(super) async fn put_local(
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
pub(super) struct EventsQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u64>,
}

pub(super) async fn events(
    State(node): Shared,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Vec<Event>>, ApiError> {
    Ok(Json(node.db.events_after(
        q.after,
        q.limit.unwrap_or(1000).min(10_000),
    )?))
}

pub(super) async fn post_event(
    State(node): Shared,
    headers: HeaderMap,
    body: Result<Json<NewEventRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = json_body(body)?;
    if crate::util::names::validate_label(&req.kind).is_err() || req.message.len() > 4096 {
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
