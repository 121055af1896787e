//! What `GET /v1/node` reports: role, epoch, positions, owns and lag, data digest, roles.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::error::ApiError;
use super::*;
use crate::api::{NodeStatus, Role};

impl Node {
    pub fn status(&self) -> Result<NodeStatus, ApiError> {
        let st = self.state();
        // One reading: the head reported is the one the digest was computed at.
        let (head, entries, digest) = self.store.stats()?;
        let sync = self.sync.lock().expect("sync lock").clone();
        let db_status = *self.db_status.lock().expect("db status lock");
        let primary_head = self.primary_head.load(Ordering::Relaxed);
        let (owns, lag, primary_head_seq) = match st.role {
            Role::Replica => {
                if sync.phase == "full" {
                    let total = self.full_sync_total.load(Ordering::Relaxed).max(1);
                    let got = self.full_sync_progress.load(Ordering::Relaxed);
                    let pct = (got as f64 * 100.0 / total as f64).min(99.9);
                    (
                        crate::api::logic::floor1(pct),
                        primary_head.saturating_sub(head.seq),
                        Some(primary_head),
                    )
                } else {
                    (
                        crate::api::logic::owns_pct(head.seq, primary_head),
                        primary_head.saturating_sub(head.seq),
                        Some(primary_head),
                    )
                }
            }
            _ => (100.0, 0, None),
        };
        // The role records, the `primary` setting and the members, of one moment.
        let role_keys: Vec<String> = OPERATION_ROLES
            .iter()
            .map(|r| format!("{ROLES_PREFIX}{r}"))
            .collect();
        let setting_key = format!("{SETTINGS_PREFIX}primary");
        let mut keys: Vec<&str> = role_keys.iter().map(String::as_str).collect();
        keys.push(&setting_key);
        let (mut got, member_entries) = self.store.get_and_list(&keys, MEMBERS_PREFIX)?;
        let primary_setting = got.pop().flatten().map(|e| e.value);
        let role_records: Vec<(&str, crate::api::RoleRecord)> = OPERATION_ROLES
            .iter()
            .zip(got)
            .filter_map(|(r, e)| Some((*r, serde_json::from_str(&e?.value).ok()?)))
            .collect();
        let following = st.following.as_ref().map(|url| {
            let member = members_of(&member_entries)
                .into_iter()
                .find(|m| &m.url == url);
            crate::api::PeerRef {
                name: member.as_ref().map(|m| m.name.clone()),
                host_id: member.map(|m| m.host_id),
                url: url.clone(),
            }
        });
        let roles_held = role_records
            .iter()
            .filter(|(_, rec)| rec.holder == self.host_id)
            .map(|(r, _)| r.to_string())
            .collect();
        let replicas = self
            .replicas
            .lock()
            .expect("replicas lock")
            .iter()
            .map(|(k, (p, seen))| {
                let mut p = p.clone();
                p.last_seen_ms_ago = seen.elapsed().as_millis() as u64;
                p.polling = self.polling(k);
                (k.clone(), p)
            })
            .collect();
        Ok(NodeStatus {
            name: self.config.name.clone(),
            host_id: self.host_id.clone(),
            cluster: self.config.cluster.clone(),
            url: self.config.advertise.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            role: st.role,
            epoch: st.epoch,
            db_status,
            head_seq: head.seq,
            head_epoch: head.epoch,
            applied_seq: head.seq,
            following,
            primary_head_seq,
            owns,
            lag,
            entries,
            digest,
            primary_setting,
            roles_held,
            fenced_reason: st.fenced_reason,
            sync,
            replicas,
            draining: self.draining()
                || (st.role == Role::Primary && !self.peers_checked.load(Ordering::SeqCst)),
            lock: self
                .lock
                .lock()
                .expect("lock lock")
                .as_ref()
                .filter(|l| l.expires > Instant::now())
                .map(HeldLock::info),
            promotion: st.promotion.clone(),
            roles: role_records
                .into_iter()
                .map(|(r, rec)| (r.to_string(), rec))
                .collect(),
            services: if st.services { "running" } else { "stopped" }.into(),
            maintenance: st.maintenance.clone(),
            data_dir: self.config.data_dir.display().to_string(),
            standalone_writes: st.standalone_at.map(|at| head.seq.saturating_sub(at.seq)),
            standalone_at: st.standalone_at,
            log_base: self.store.base(),
        })
    }

    /// A follow without full sync would keep (or silently overwrite) the writes this node took
    /// while standalone: refused; `drctl join` exports them, then fully syncs.
    pub fn refuse_follow_over_standalone_writes(&self, full_sync: bool) -> Result<(), ApiError> {
        let Some(at) = self.state().standalone_at else {
            return Ok(());
        };
        let took = self.store.head().seq.saturating_sub(at.seq);
        if full_sync || took == 0 {
            return Ok(());
        }
        Err(ApiError::Conflict(format!(
            "{} took {} while standalone (after {at}) that no primary has: it cannot \
             follow without a full sync; join it: its writes are exported first (`drctl join {} \
             --primary P`)",
            self.config.name,
            crate::util::words::count(took, "write"),
            self.config.name
        )))
    }
}
