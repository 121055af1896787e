//! Leases a procedure takes on a node (the drain of a switchover, the cluster lock) and the
//! peer watch that fences a primary which meets a newer epoch.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::ApiError;
use super::nodedb::NewEvent;
use super::*;
use crate::api::{Member, MemberState, NodeStatus, Role};

/// How long a primary waits for a peer's status in its peer check.
const PEER_ANSWER: Duration = Duration::from_millis(500);
/// How often a primary asks every peer for its epoch.
const PEER_ROUND: Duration = Duration::from_secs(1);
/// How often it asks again a peer that did not answer.
const SILENT_PEER_ROUND: Duration = Duration::from_millis(200);

/// The cluster lock as held on this node.
#[derive(Debug, Clone)]
pub(crate) struct HeldLock {
    holder: String,
    reason: String,
    run_id: String,
    owner: crate::api::LockOwner,
    pub(crate) expires: Instant,
}

impl HeldLock {
    pub(crate) fn info(&self) -> crate::api::LockInfo {
        crate::api::LockInfo {
            holder: self.holder.clone(),
            reason: self.reason.clone(),
            run_id: self.run_id.clone(),
            expires_in_ms: self
                .expires
                .saturating_duration_since(Instant::now())
                .as_millis() as u64,
            owner: self.owner.clone(),
        }
    }
}

impl Node {
    pub(crate) fn draining(&self) -> bool {
        let mut d = self.drain_until.lock().expect("drain lock");
        match *d {
            Some(until) if until > Instant::now() => true,
            Some(_) => {
                // The drain ran out: the switchover that asked for it stalled or died. Before
                // taking writes again, look for a newer epoch (a target promoted meanwhile).
                *d = None;
                if self.state().role == Role::Primary {
                    self.peers_checked.store(false, Ordering::SeqCst);
                    return true;
                }
                false
            }
            None => false,
        }
    }

    /// Stops new writes for `ttl` (in-flight writes finish first) and returns the last record.
    pub async fn drain(
        &self,
        ttl: Duration,
        caller: &Caller,
    ) -> Result<crate::api::Position, ApiError> {
        let _gate = self.role_gate.write().await;
        let st = self.state();
        if !matches!(st.role, Role::Primary | Role::Standalone) {
            return Err(ApiError::NotPrimary {
                role: st.role.to_string(),
                primary: st.following,
            });
        }
        *self.drain_until.lock().expect("drain lock") = Some(Instant::now() + ttl);
        let head = self.store.head();
        self.event(
            NewEvent::new(
                "drain",
                format!("writes drained for up to {} ms at {head}", ttl.as_millis()),
            )
            .by(caller.operator.clone(), caller.run_id.clone()),
        );
        Ok(head)
    }

    pub fn undrain(&self, caller: &Caller) {
        if self
            .drain_until
            .lock()
            .expect("drain lock")
            .take()
            .is_some()
        {
            self.event(
                NewEvent::new("drain", "writes resumed")
                    .by(caller.operator.clone(), caller.run_id.clone()),
            );
        }
    }

    /// Takes (or renews) the cluster lock for one run: the lock belongs to a run id and the
    /// drctl process running it. Another run is refused whoever starts it; the same run id
    /// from another process is refused too (two live processes never share a run) unless it
    /// takes over a run whose owner drctl found dead (`take_over`), or breaks the lock.
    pub fn take_lock(
        &self,
        req: &crate::api::LockRequest,
    ) -> Result<crate::api::LockInfo, ApiError> {
        let mut held = self.lock.lock().expect("lock lock");
        if let Some(current) = held.as_ref().filter(|l| l.expires > Instant::now()) {
            let same_run = current.run_id == req.run_id;
            // An older drctl names no process: its run id alone identifies the run.
            let same_process =
                !current.owner.is_known() || !req.owner.is_known() || current.owner == req.owner;
            if !(same_run && same_process) {
                let (kind, verb) = if req.break_lock {
                    ("lock_broken", "broke")
                } else if req.take_over.as_deref() == Some(current.run_id.as_str()) {
                    ("lock_taken_over", "took over")
                } else {
                    let info = current.info();
                    return Err(ApiError::Locked {
                        holder: info.holder,
                        reason: info.reason,
                        run_id: info.run_id,
                        owner: info.owner.to_string(),
                        expires_in_s: info.expires_in_ms.div_ceil(1000),
                    });
                };
                self.event(
                    NewEvent::new(
                        kind,
                        format!(
                            "{} (run {}, {}) {verb} the lock of {} ({}, run {}, {})",
                            req.holder,
                            req.run_id,
                            req.owner,
                            current.holder,
                            current.reason,
                            current.run_id,
                            current.owner
                        ),
                    )
                    .success(false)
                    .by(Some(req.holder.clone()), Some(req.run_id.clone())),
                );
            }
        }
        let lock = HeldLock {
            holder: req.holder.clone(),
            reason: req.reason.clone(),
            run_id: req.run_id.clone(),
            owner: req.owner.clone(),
            expires: Instant::now() + Duration::from_millis(req.ttl_ms.clamp(1_000, 3_600_000)),
        };
        let info = lock.info();
        *held = Some(lock);
        Ok(info)
    }

    pub fn release_lock(&self, run_id: &str) {
        let mut held = self.lock.lock().expect("lock lock");
        if held.as_ref().is_some_and(|l| l.run_id == run_id) {
            *held = None;
        }
    }

    /// Asks the other members (`only` those named, if given) for their epoch; a newer one
    /// fences this primary. Returns the members that did not answer.
    pub(crate) async fn check_peers(self: &Arc<Self>, only: Option<&[String]>) -> Vec<String> {
        let st = self.state();
        if st.role != Role::Primary {
            self.peers_checked.store(true, Ordering::SeqCst);
            return Vec::new();
        }
        let members = self.members().unwrap_or_default();
        let others: Vec<Member> = members
            .into_iter()
            .filter(|m| m.host_id != self.host_id && m.state != MemberState::Removed)
            .filter(|m| only.is_none_or(|o| o.contains(&m.name)))
            .collect();
        let probes = others.iter().map(|m| async move {
            let answer = async {
                let client = self.peer(&m.url).ok()?;
                tokio::time::timeout(PEER_ANSWER, client.status())
                    .await
                    .ok()?
                    .ok()
            };
            (m.name.clone(), answer.await)
        });
        let (answers, silent): (Vec<_>, Vec<_>) = futures_util::future::join_all(probes)
            .await
            .into_iter()
            .partition(|(_, s)| s.is_some());
        let silent: Vec<String> = silent.into_iter().map(|(name, _)| name).collect();
        let answers: Vec<(String, NodeStatus)> = answers
            .into_iter()
            .filter_map(|(name, s)| Some((name, s?)))
            .collect();
        // Two primaries at one epoch: log matching cannot tell their records apart, so neither
        // may write. Both stop; the operator fails over to a new epoch.
        let twin = answers.iter().find(|(_, s)| {
            s.epoch == st.epoch && s.role == Role::Primary && s.host_id != self.host_id
        });
        if let Some((name, s)) = twin {
            let why = |other: &str| {
                format!(
                    "{other} is also primary at epoch {}: two writers at one epoch; run `drctl failover` to promote one at a new epoch",
                    s.epoch
                )
            };
            let reason = why(name);
            if let Ok(client) = self.peer(&s.url) {
                let told = tokio::time::timeout(
                    Duration::from_secs(2),
                    client.fence_same_epoch(s.epoch, &why(&self.config.name)),
                )
                .await;
                if !matches!(told, Ok(Ok(_))) {
                    tracing::warn!(peer = %name, "cannot tell the other primary at this epoch to fence");
                }
            }
            if let Err(e) = self.fence(reason, None).await {
                tracing::error!(error = %e, "cannot fence");
            }
            self.peers_checked.store(true, Ordering::SeqCst);
            return silent;
        }
        // A primary at an older epoch was superseded by this one's promotion: it is told to fence
        // before this one takes its first write. Left to its own check it took writes until its
        // next look at this node, a silent peer while this one restarted (chaos seed 42020: an
        // old and a new primary restarted together, and the old one acknowledged writes at its
        // old epoch for up to 200 ms beside the new one).
        self.fence_older_primaries(&answers, st.epoch).await;
        // Any node at a newer epoch proves a promotion there: a standalone one too (chaos seed
        // 42020: restarted while the new primary was down, this old primary took writes at its
        // old epoch for good once the new one came back standalone).
        let newer = answers
            .into_iter()
            .filter(|(_, s)| s.epoch > st.epoch)
            // Name the new primary if it answered, else whoever saw the newest epoch.
            .max_by_key(|(_, s)| (s.epoch, s.role == Role::Primary));
        if let Some((name, s)) = newer {
            let what = if s.role == Role::Primary {
                format!("{name} is primary at epoch {}", s.epoch)
            } else {
                format!("{name} is at epoch {}", s.epoch)
            };
            let reason = format!("believed it was primary at epoch {}; {what}", st.epoch);
            if let Err(e) = self.fence(reason, Some(s.epoch)).await {
                tracing::error!(error = %e, "cannot fence");
            }
        }
        self.peers_checked.store(true, Ordering::SeqCst);
        silent
    }

    /// Tells every peer that answered as primary at an epoch below `epoch` to fence, and waits
    /// (2 s at most each) until it has.
    async fn fence_older_primaries(&self, answers: &[(String, NodeStatus)], epoch: u64) {
        let older = answers
            .iter()
            .filter(|(_, s)| s.role == Role::Primary && s.epoch < epoch);
        let told = older.map(|(name, s)| async move {
            let reason = format!(
                "believed it was primary at epoch {}; {} is primary at epoch {epoch}",
                s.epoch, self.config.name
            );
            let told = match self.peer(&s.url) {
                Ok(client) => {
                    tokio::time::timeout(Duration::from_secs(2), client.fence(epoch, &reason))
                        .await
                        .ok()
                        .and_then(Result::ok)
                }
                Err(_) => None,
            };
            match told {
                Some(now) if now.role != Role::Primary => {
                    tracing::warn!(peer = %name, old_epoch = s.epoch, "told an old primary to fence");
                }
                _ => {
                    tracing::warn!(peer = %name, old_epoch = s.epoch, "cannot tell an old primary to fence");
                }
            }
        });
        futures_util::future::join_all(told).await;
    }

    /// Checks the peers while primary, so that a restored old primary, or one cut off while
    /// another was promoted, fences itself. Every member each second; one that did not answer
    /// (a partition may be what hides the newer epoch) every 200 ms until it does: measured in
    /// the partitioned-primary drill, the old primary fenced itself 2.95 s after the links
    /// came back, and that long it still took writes at its old epoch.
    pub(crate) async fn peer_watch(self: Arc<Self>) {
        let mut silent: Vec<String> = Vec::new();
        let mut all_at: Option<Instant> = None;
        loop {
            let all = silent.is_empty() || all_at.is_none_or(|t| t.elapsed() >= PEER_ROUND);
            if all {
                all_at = Some(Instant::now());
            }
            silent = self.check_peers((!all).then_some(&silent[..])).await;
            let pause = if silent.is_empty() {
                PEER_ROUND
            } else {
                SILENT_PEER_ROUND
            };
            tokio::time::sleep(pause).await;
        }
    }
}
