//! The write path: primary or standalone commits, replicas forward, fenced nodes refuse;
//! schema writes need the schema master; operation-master role records.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::error::ApiError;
use super::*;
use crate::api::{MemberState, Op, Role, WriteAck};

impl Node {
    /// Commits a write if this node takes writes, forwards it if it is a replica.
    pub async fn write(
        self: &Arc<Self>,
        op: Op,
        key: &str,
        value: Option<&str>,
        forwarded: bool,
    ) -> Result<WriteAck, ApiError> {
        let gate = self.role_gate.read().await;
        let st = self.state();
        match st.role {
            Role::Primary | Role::Standalone => {
                if self.draining() {
                    return Err(ApiError::Unavailable {
                        reason: "this primary is draining for a switchover".into(),
                        retry_after_s: 1,
                    });
                }
                if let Some(m) = &st.maintenance {
                    return Err(ApiError::Unavailable {
                        reason: format!("the cluster is in maintenance: {}", m.reason),
                        retry_after_s: 10,
                    });
                }
                if key.starts_with("schema/") {
                    // Schema changes need the schema master (seed 000's FSMO roles).
                    drop(gate);
                    self.ensure_holder_answers("schema-master").await?;
                    return Box::pin(self.write_unchecked(op, key, value)).await;
                }
                if st.role == Role::Primary && !self.peers_checked.load(Ordering::SeqCst) {
                    return Err(ApiError::Unavailable {
                        reason: "this primary is checking its peers for a newer epoch".into(),
                        retry_after_s: 1,
                    });
                }
                let record = self.store.write_async(st.epoch, op, key, value).await?;
                drop(gate);
                self.advance_head(record.seq);
                if record.seq % 256 == 0 {
                    let store = self.store.clone();
                    let keep = self.config.log_keep;
                    tokio::task::spawn_blocking(move || store.truncate_log(keep)).await??;
                }
                Ok(WriteAck {
                    key: record.key,
                    epoch: record.epoch,
                    seq: record.seq,
                    node: self.config.name.clone(),
                    standalone: st.role == Role::Standalone,
                })
            }
            Role::Fenced => Err(ApiError::Fenced {
                reason: st
                    .fenced_reason
                    .unwrap_or_else(|| "a higher epoch exists".into()),
            }),
            Role::Replica => {
                drop(gate);
                let Some(primary) = st.following.clone().filter(|_| !forwarded) else {
                    return Err(ApiError::NotPrimary {
                        role: "replica".into(),
                        primary: st.following,
                    });
                };
                let client = self.peer(&primary)?;
                let result = match (op, value) {
                    (Op::Put, Some(v)) if key.starts_with(SETTINGS_PREFIX) => {
                        client.put_setting(&key[SETTINGS_PREFIX.len()..], v).await
                    }
                    (Op::Put, Some(v)) => client.put_entry(key, v).await,
                    _ => client.delete_entry(key).await,
                };
                result.map_err(|e| forwarded_error(&primary, e))
            }
        }
    }

    /// The write itself, once the schema master has answered.
    pub(crate) async fn write_unchecked(
        self: &Arc<Self>,
        op: Op,
        key: &str,
        value: Option<&str>,
    ) -> Result<WriteAck, ApiError> {
        let _gate = self.role_gate.read().await;
        let st = self.state();
        if !matches!(st.role, Role::Primary | Role::Standalone)
            || st.maintenance.is_some()
            || self.draining()
        {
            return Err(ApiError::Unavailable {
                reason: "the node stopped taking writes".into(),
                retry_after_s: 1,
            });
        }
        let record = self.store.write_async(st.epoch, op, key, value).await?;
        self.advance_head(record.seq);
        Ok(WriteAck {
            key: record.key,
            epoch: record.epoch,
            seq: record.seq,
            node: self.config.name.clone(),
            standalone: st.role == Role::Standalone,
        })
    }

    /// Tells waiting replicas about a new head; writes of one group commit answer in any order,
    /// so the announced head only moves forward.
    fn advance_head(&self, seq: u64) {
        self.head_tx.send_if_modified(|h| {
            let newer = seq > *h;
            if newer {
                *h = seq;
            }
            newer
        });
    }

    /// The replicated record of an operation-master role.
    pub fn role_record(&self, role: &str) -> Result<Option<crate::api::RoleRecord>, ApiError> {
        Ok(self
            .store
            .get(&format!("{ROLES_PREFIX}{role}"))?
            .and_then(|e| serde_json::from_str(&e.value).ok()))
    }

    /// Refuses unless the holder of `role` answers (itself, or a member reached within 1 s).
    pub async fn ensure_holder_answers(&self, role: &str) -> Result<(), ApiError> {
        let Some(record) = self.role_record(role)? else {
            return Ok(());
        };
        if record.holder == self.host_id {
            return Ok(());
        }
        let member = self
            .members()?
            .into_iter()
            .find(|m| m.host_id == record.holder);
        let name = member
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| record.holder.clone());
        let down = || ApiError::RoleHolderDown {
            role: role.to_string(),
            holder: name.clone(),
        };
        let Some(member) = member else {
            return Err(down());
        };
        let client = self.peer(&member.url)?;
        match tokio::time::timeout(Duration::from_millis(500), client.health()).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(down()),
        }
    }

    /// Writes a new holder for `role` at a higher role epoch (transfer or seize).
    pub async fn set_role(
        self: &Arc<Self>,
        role: &str,
        holder: &str,
        epoch: u64,
    ) -> Result<WriteAck, ApiError> {
        if !OPERATION_ROLES.contains(&role) {
            return Err(ApiError::BadRequest(format!(
                "unknown role '{role}': the roles are {}",
                OPERATION_ROLES.join(", ")
            )));
        }
        if !self
            .members()?
            .iter()
            .any(|m| m.host_id == holder && m.state == MemberState::Normal)
        {
            return Err(ApiError::BadRequest(format!(
                "{holder} is not a member of the cluster"
            )));
        }
        let current = self.role_record(role)?;
        if let Some(c) = &current {
            if c.holder == holder && c.epoch >= epoch {
                let head = self.store.head();
                return Ok(WriteAck {
                    key: format!("{ROLES_PREFIX}{role}"),
                    epoch: head.epoch,
                    seq: head.seq,
                    node: self.config.name.clone(),
                    standalone: false,
                });
            }
            if epoch <= c.epoch {
                return Err(ApiError::StaleEpoch(format!(
                    "{role} is at role epoch {}; a new holder needs a higher one",
                    c.epoch
                )));
            }
        }
        let value = serde_json::to_string(&crate::api::RoleRecord {
            holder: holder.to_string(),
            epoch,
        })
        .expect("role record serializes");
        self.write(
            Op::Put,
            &format!("{ROLES_PREFIX}{role}"),
            Some(&value),
            false,
        )
        .await
    }

    /// Seed 001: IP substitution applied to `service/` entries as this node reads them (the
    /// stored, replicated data stays identical on every node, so digests still compare).
    pub fn substitute(&self, key: &str, value: String) -> String {
        if !key.starts_with("service/") || self.config.ip_substitution.is_empty() {
            return value;
        }
        self.config
            .ip_substitution
            .iter()
            .fold(value, |v, (from, to)| v.replace(from.as_str(), to))
    }
}

fn forwarded_error(primary: &str, e: crate::api::ClientError) -> ApiError {
    match e {
        crate::api::ClientError::Api { status, body, .. } => ApiError::Remote { status, body },
        other => ApiError::Upstream {
            url: primary.to_string(),
            detail: other.to_string(),
        },
    }
}
