//! Role changes behind the role gate: promote, follow, standalone, fence; sync, services and
//! maintenance switches. Each is recorded in the event log with who asked.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::error::ApiError;
use super::nodedb::NewEvent;
use super::*;
use crate::api::{Member, Op, Role};

/// How long a follow waits for its replication's first answer before it answers itself.
const FIRST_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

impl Node {
    /// Becomes primary at `epoch`, which must be above every epoch this node has seen: log
    /// matching assumes one writer per epoch, so an epoch already in use is refused. Promoting
    /// again at the epoch it is primary at is a no-op (a rerun).
    pub async fn promote(
        self: &Arc<Self>,
        epoch: u64,
        procedure: Option<String>,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        if epoch == 0 || epoch > crate::api::MAX_EPOCH {
            return Err(ApiError::BadRequest(format!(
                "epoch {epoch} is out of range: an epoch is between 1 and {}",
                crate::api::MAX_EPOCH
            )));
        }
        {
            let _gate = self.role_gate.write().await;
            let st = self.state();
            if st.role == Role::Primary && st.epoch == epoch {
                return Ok(());
            }
            if epoch <= st.epoch {
                return Err(ApiError::StaleEpoch(format!(
                    "cannot become primary at epoch {epoch}: this node has seen epoch {} ({}), \
                     and a promotion needs an epoch no node has used; promote at epoch {} or above",
                    st.epoch,
                    st.role,
                    st.epoch.saturating_add(1)
                )));
            }
            let before = st.role;
            // A drain left from an earlier switchover must not hold the new primary's writes.
            *self.drain_until.lock().expect("drain lock") = None;
            self.update_state(|s| {
                s.role = Role::Primary;
                s.epoch = epoch;
                s.following = None;
                s.fenced_reason = None;
                // A promoted node starts its services (seed 001's failover server taking over).
                s.services = true;
                s.promotion = Some(crate::api::Promotion {
                    epoch,
                    procedure: procedure.clone(),
                    run_id: caller.run_id.clone(),
                    at: crate::util::clock::now_rfc3339(),
                });
            })?;
            self.event(
                NewEvent::new(
                    "role_change",
                    format!("{before} -> primary at epoch {epoch}"),
                )
                .details(serde_json::json!({"from": before, "to": "primary", "epoch": epoch}))
                .by(caller.operator.clone(), caller.run_id.clone()),
            );
        }
        self.reconcile();
        self.ensure_first_node_records().await
    }

    /// The first primary of a cluster records itself as member, holder of both operation-master
    /// roles, and the `primary` setting, unless those records already exist.
    pub(crate) async fn ensure_first_node_records(self: &Arc<Self>) -> Result<(), ApiError> {
        let key = format!("{MEMBERS_PREFIX}{}", self.host_id);
        let known = self
            .store
            .get(&key)?
            .and_then(|e| serde_json::from_str::<Member>(&e.value).ok())
            .is_some_and(|m| m.url == self.config.advertise && m.name == self.config.name);
        if !known {
            self.upsert_member(Member::new(
                &self.host_id,
                &self.config.name,
                &self.config.advertise,
            ))
            .await?;
        }
        for role in OPERATION_ROLES {
            let key = format!("{ROLES_PREFIX}{role}");
            if self.store.get(&key)?.is_none() {
                let value = serde_json::to_string(&crate::api::RoleRecord {
                    holder: self.host_id.clone(),
                    epoch: 1,
                })
                .expect("role record serializes");
                self.write(Op::Put, &key, Some(&value), false).await?;
            }
        }
        let key = format!("{SETTINGS_PREFIX}primary");
        if self.store.get(&key)?.is_none() {
            let name = self.config.name.clone();
            self.write(Op::Put, &key, Some(&name), false).await?;
        }
        Ok(())
    }

    /// Becomes a replica of `primary_url`.
    pub async fn follow(
        self: &Arc<Self>,
        primary_url: &str,
        full_sync: bool,
        sync_on: bool,
        if_head: Option<u64>,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let url = crate::api::client::parse_node_url(primary_url)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?
            .as_str()
            .trim_end_matches('/')
            .to_string();
        if url == self.config.advertise {
            return Err(ApiError::BadRequest(
                "a node cannot follow itself".to_string(),
            ));
        }
        {
            let _gate = self.role_gate.write().await;
            // Under the gate: no write can land between this check and the role change.
            self.refuse_follow_over_standalone_writes(full_sync)?;
            let head = self.store.head().seq;
            if let Some(expected) = if_head.filter(|h| *h != head) {
                return Err(ApiError::Conflict(format!(
                    "{}'s head is {head}, not {expected}: it took writes since they were \
                     exported; export them again",
                    self.config.name
                )));
            }
            let st = self.state();
            let same = st.role == Role::Replica && st.following.as_deref() == Some(url.as_str());
            if same && !full_sync && !Node::sync_stopped(&st, sync_on) {
                return Ok(());
            }
            let before = st.role;
            let mut lifted = None;
            self.update_state(|s| {
                s.role = Role::Replica;
                s.following = Some(url.clone());
                s.fenced_reason = None;
                // Following a primary means replicating from it: a suspension is lifted.
                lifted = self.lift_sync_stop(s, sync_on);
            })?;
            self.force_full_sync.store(full_sync, Ordering::SeqCst);
            if !same || full_sync {
                self.event(
                    NewEvent::new("role_change", format!("{before} -> replica of {url}"))
                        .details(serde_json::json!({"from": before, "to": "replica", "primary": url, "full_sync": full_sync}))
                        .by(caller.operator.clone(), caller.run_id.clone()),
                );
            }
            if let Some(what) = lifted {
                self.event(
                    NewEvent::new("sync", format!("following {url}: {what}"))
                        .details(serde_json::json!({"auto": true, "suspended": false}))
                        .by(caller.operator.clone(), caller.run_id.clone()),
                );
            }
        }
        self.reconcile();
        self.first_answer(FIRST_ANSWER_WAIT).await;
        Ok(())
    }

    /// Waits, up to `wait`, until the replication task just started has its first answer from
    /// the primary (replicating, copying, failing, diverged: anything but idle), so that the
    /// caller's verification reads the outcome instead of polling for it. The first pull is
    /// answered at once (about 2 ms: a TLS handshake and a log read); a primary that does not
    /// answer leaves the follow done all the same, answered after `wait`.
    async fn first_answer(&self, wait: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = self.sync_changed.notified();
            tokio::pin!(changed);
            // Registered before the look: a change between the two is not missed.
            changed.as_mut().enable();
            if self.sync.lock().expect("sync lock").phase != "idle" {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return;
            }
        }
    }

    /// Stops replicating and takes writes alone (seed 003's Standalone role).
    pub async fn standalone(self: &Arc<Self>, caller: &Caller) -> Result<(), ApiError> {
        {
            let _gate = self.role_gate.write().await;
            let st = self.state();
            if st.role == Role::Standalone {
                return Ok(());
            }
            let head = self.store.head();
            self.update_state(|s| {
                s.role = Role::Standalone;
                s.following = None;
                s.fenced_reason = None;
                // Writes from here on are this node's alone (the earliest point is kept when an
                // earlier stint's writes were never replaced by a full sync).
                if s.standalone_at.is_none_or(|at| at.seq > head.seq) {
                    s.standalone_at = Some(head);
                }
            })?;
            self.event(
                NewEvent::new("role_change", format!("{} -> standalone", st.role))
                    .by(caller.operator.clone(), caller.run_id.clone()),
            );
        }
        self.reconcile();
        Ok(())
    }

    /// Turns automatic (partial) replication on or off (seed 001's "automatic failover server
    /// synchronization").
    pub async fn set_sync_auto(
        self: &Arc<Self>,
        on: bool,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let st = self.state();
        // A suspension the node could not save (its disk was full) stops the loop all the
        // same: "on" must lift it too, once the disk has room (chaos seed 303: it never
        // resumed, and `sync auto on` answered "already on").
        let unsaved = on && self.sync.lock().expect("sync lock").suspended.is_some();
        if st.sync_auto == on && st.sync_suspended.is_none() && !unsaved {
            return Ok(());
        }
        // The operator's command decides: "on" lifts a suspension, "off" replaces it.
        let mut lifted = None;
        self.update_state(|s| {
            lifted = self.lift_sync_stop(s, on);
            s.sync_auto = on;
        })?;
        self.event(
            NewEvent::new(
                "sync",
                format!(
                    "automatic sync turned {}{}",
                    if on { "on" } else { "off" },
                    lifted
                        .filter(|_| st.sync_suspended.is_some())
                        .map(|_| " (it had suspended itself after failures)")
                        .unwrap_or_default()
                ),
            )
            .details(serde_json::json!({"auto": on}))
            .by(caller.operator.clone(), caller.run_id.clone()),
        );
        self.reconcile();
        Ok(())
    }

    /// A primary that meets a higher epoch fences itself: it refuses writes until demoted. With
    /// `epoch`, the node also records that epoch as seen (a primary or a fenced node), so it can
    /// never be promoted at an epoch another node already holds, and the cluster's epoch stays
    /// visible on it if the new primary dies.
    pub async fn fence(&self, reason: String, epoch: Option<u64>) -> Result<(), ApiError> {
        let _gate = self.role_gate.write().await;
        let st = self.state();
        let seen = epoch
            .filter(|e| *e > st.epoch && *e <= crate::api::MAX_EPOCH)
            .filter(|_| matches!(st.role, Role::Primary | Role::Fenced));
        if st.role != Role::Primary {
            if let Some(e) = seen {
                self.update_state(|s| s.epoch = e)?;
            }
            return Ok(());
        }
        self.update_state(|s| {
            s.role = Role::Fenced;
            s.fenced_reason = Some(reason.clone());
            if let Some(e) = seen {
                s.epoch = e;
            }
        })?;
        tracing::warn!(%reason, "fenced");
        self.event(NewEvent::new("fenced", reason).success(false));
        Ok(())
    }

    /// Node-local switches: services, maintenance.
    pub fn set_services(&self, running: bool, caller: &Caller) -> Result<(), ApiError> {
        if self.state().services == running {
            return Ok(());
        }
        self.update_state(|s| s.services = running)?;
        self.event(
            NewEvent::new(
                "services",
                if running {
                    "services started"
                } else {
                    "services stopped"
                },
            )
            .by(caller.operator.clone(), caller.run_id.clone()),
        );
        Ok(())
    }

    pub async fn set_maintenance(
        &self,
        m: Option<crate::api::Maintenance>,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let _gate = self.role_gate.write().await;
        if self.state().maintenance == m {
            return Ok(());
        }
        let message = match &m {
            Some(m) => format!("maintenance started: {}", m.reason),
            None => "maintenance ended".to_string(),
        };
        self.update_state(|s| s.maintenance = m)?;
        self.event(
            NewEvent::new("maintenance", message)
                .by(caller.operator.clone(), caller.run_id.clone()),
        );
        Ok(())
    }
}
