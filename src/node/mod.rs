//! drnode, the node daemon: a durable store with a replication log, pull replication with log
//! matching on `(epoch, seq)`, roles and fencing, membership, events, and the HTTPS admin API.
//! [`run`] is a library function so that tests can start many nodes on port 0.

pub mod config;
pub mod error;
mod http;
pub mod init;
pub mod nodedb;
mod packages;
mod replication;
pub mod state;
pub mod store;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, RwLock};
use tokio::task::JoinHandle;

use crate::api::{
    ClientOptions, DbStatus, Member, MemberState, NodeClient, NodeStatus, Op, ReplicaProgress,
    Role, SyncState, WriteAck,
};
use config::NodeConfig;
use error::ApiError;
use nodedb::{NewEvent, NodeDb};
use state::NodeState;
use store::Store;

/// Reserved key space for replicated system records (members, settings, roles).
pub const SYS_PREFIX: &str = "_sys/";
pub const MEMBERS_PREFIX: &str = "_sys/members/";
pub const SETTINGS_PREFIX: &str = "_sys/settings/";
pub const ROLES_PREFIX: &str = "_sys/roles/";
/// The operation-master roles (seed 000's Schema Master and Naming Master).
pub const OPERATION_ROLES: [&str; 2] = ["schema-master", "naming-master"];

pub const HOST_ID_FILE: &str = "host_id";

/// The cluster lock as held on this node.
#[derive(Debug, Clone)]
struct HeldLock {
    holder: String,
    reason: String,
    run_id: String,
    expires: Instant,
}

impl HeldLock {
    fn info(&self) -> crate::api::LockInfo {
        crate::api::LockInfo {
            holder: self.holder.clone(),
            reason: self.reason.clone(),
            run_id: self.run_id.clone(),
            expires_in_ms: self
                .expires
                .saturating_duration_since(Instant::now())
                .as_millis() as u64,
        }
    }
}

/// Who asked for a change, for the event log.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub operator: Option<String>,
    pub run_id: Option<String>,
}

/// The running node: shared by the HTTP handlers and the replication task.
pub struct Node {
    pub config: NodeConfig,
    pub host_id: String,
    pub store: Arc<Store>,
    pub db: NodeDb,
    state: Mutex<NodeState>,
    /// Writes hold it shared; role changes hold it exclusively, so no write can slip past a
    /// demotion or use a stale epoch.
    role_gate: RwLock<()>,
    /// The head seq, for long-polling replicas.
    head_tx: watch::Sender<u64>,
    db_status: Mutex<DbStatus>,
    sync: Mutex<SyncState>,
    primary_head: AtomicU64,
    full_sync_progress: AtomicU64,
    full_sync_total: AtomicU64,
    force_full_sync: AtomicBool,
    replicas: Mutex<BTreeMap<String, (ReplicaProgress, Instant)>>,
    repl_task: Mutex<Option<JoinHandle<()>>>,
    /// Writes are refused until this instant (a switchover's drain).
    drain_until: Mutex<Option<Instant>>,
    /// A primary refuses writes until it has asked its peers whether a newer epoch exists.
    peers_checked: AtomicBool,
    lock: Mutex<Option<HeldLock>>,
    peers: reqwest::Client,
    peer_options: ClientOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{path} is not an initialised data directory (no {HOST_ID_FILE}): run `drnode init`")]
    NotInitialised { path: std::path::PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    NodeDb(#[from] nodedb::NodeDbError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Client(#[from] crate::api::ClientError),
    #[error("HTTPS server failed: {0}")]
    Serve(std::io::Error),
}

/// Runs a node on `listener` until `shutdown` completes.
pub async fn run(
    config: NodeConfig,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let node = Node::open(config)?;
    http::serve(node, listener, shutdown).await
}

fn read_host_id(dir: &Path) -> Result<String, NodeError> {
    let path = dir.join(HOST_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(NodeError::NotInitialised {
            path: dir.to_path_buf(),
        }),
        Err(source) => Err(NodeError::Io { path, source }),
    }
}

impl Node {
    pub fn open(config: NodeConfig) -> Result<Arc<Node>, NodeError> {
        let host_id = read_host_id(&config.data_dir)?;
        let store = Arc::new(Store::open(&config.data_dir)?);
        let db = NodeDb::open(&config.data_dir)?;
        let state = state::load(&config.data_dir).map_err(|source| NodeError::Io {
            path: state::path(&config.data_dir),
            source,
        })?;
        let peer_options = ClientOptions {
            trust: config.trust.clone(),
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            operator: Some(format!("drnode:{}", config.name)),
            run_id: None,
        };
        let peers = crate::api::client::http_client(&peer_options)?;
        let (head_tx, _) = watch::channel(store.head().seq);
        let node = Arc::new(Node {
            host_id,
            store,
            db,
            state: Mutex::new(state),
            role_gate: RwLock::new(()),
            head_tx,
            db_status: Mutex::new(DbStatus::Up),
            sync: Mutex::new(SyncState::default()),
            primary_head: AtomicU64::new(0),
            full_sync_progress: AtomicU64::new(0),
            full_sync_total: AtomicU64::new(0),
            force_full_sync: AtomicBool::new(false),
            replicas: Mutex::new(BTreeMap::new()),
            repl_task: Mutex::new(None),
            drain_until: Mutex::new(None),
            peers_checked: AtomicBool::new(false),
            lock: Mutex::new(None),
            peers,
            peer_options,
            config,
        });
        let st = node.state();
        node.event(NewEvent::new(
            "start",
            format!("node started as {} at epoch {}", st.role, st.epoch),
        ));
        Ok(node)
    }

    pub fn state(&self) -> NodeState {
        self.state.lock().expect("state lock").clone()
    }

    /// Changes the durable state; returns the new state. A role change ends any drain.
    fn update_state(&self, f: impl FnOnce(&mut NodeState)) -> Result<NodeState, ApiError> {
        let mut guard = self.state.lock().expect("state lock");
        let mut next = guard.clone();
        f(&mut next);
        if next.role != guard.role {
            *self.drain_until.lock().expect("drain lock") = None;
        }
        if next != *guard {
            state::save(&self.config.data_dir, &next)
                .map_err(|e| ApiError::Internal(format!("cannot save node state: {e}")))?;
            *guard = next.clone();
        }
        Ok(next)
    }

    /// Records an event; a failure to record is logged, never fatal.
    pub fn event(&self, e: NewEvent) {
        if let Err(err) = self.db.record(e) {
            tracing::error!(%err, "cannot record an event");
        }
    }

    pub fn peer(&self, url: &str) -> Result<NodeClient, ApiError> {
        NodeClient::new(
            self.peers.clone(),
            url,
            self.config.passphrase.clone(),
            &self.peer_options,
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))
    }

    fn set_db_status(&self, s: DbStatus) {
        *self.db_status.lock().expect("db status lock") = s;
    }

    fn update_sync(&self, f: impl FnOnce(&mut SyncState)) {
        f(&mut self.sync.lock().expect("sync lock"));
    }

    /// Starts or stops the replication task to match the role.
    fn reconcile(self: &Arc<Self>) {
        let st = self.state();
        let mut task = self.repl_task.lock().expect("task lock");
        if let Some(t) = task.take() {
            t.abort();
        }
        self.update_sync(|s| {
            s.auto = st.sync_auto && st.role == Role::Replica;
            s.phase = if st.role == Role::Replica && !st.sync_auto {
                "off".into()
            } else {
                "idle".into()
            };
            s.failures = 0;
            s.last_error = None;
            s.common = None;
            s.divergent_records = None;
        });
        if st.role == Role::Replica && (st.sync_auto || self.force_full_sync.load(Ordering::SeqCst))
        {
            if let Some(url) = st.following.clone() {
                *task = Some(tokio::spawn(replication::replica_loop(self.clone(), url)));
            }
        } else {
            self.set_db_status(DbStatus::Up);
        }
    }

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
                let store = self.store.clone();
                let (k, v) = (key.to_string(), value.map(str::to_string));
                let record = tokio::task::spawn_blocking(move || {
                    store.write(st.epoch, op, &k, v.as_deref())
                })
                .await??;
                drop(gate);
                self.head_tx.send_replace(record.seq);
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
    async fn write_unchecked(
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
        let store = self.store.clone();
        let (k, v) = (key.to_string(), value.map(str::to_string));
        let record =
            tokio::task::spawn_blocking(move || store.write(st.epoch, op, &k, v.as_deref()))
                .await??;
        self.head_tx.send_replace(record.seq);
        Ok(WriteAck {
            key: record.key,
            epoch: record.epoch,
            seq: record.seq,
            node: self.config.name.clone(),
        })
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

    /// Becomes primary at `epoch` (not lower than the node's own).
    pub async fn promote(
        self: &Arc<Self>,
        epoch: u64,
        procedure: Option<String>,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        {
            let _gate = self.role_gate.write().await;
            let st = self.state();
            if epoch < st.epoch {
                return Err(ApiError::StaleEpoch(format!(
                    "cannot become primary at epoch {epoch}: this node has seen epoch {}",
                    st.epoch
                )));
            }
            if st.role == Role::Primary && st.epoch == epoch {
                return Ok(());
            }
            let before = st.role;
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
                    at: crate::clock::now_rfc3339(),
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
    async fn ensure_first_node_records(self: &Arc<Self>) -> Result<(), ApiError> {
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

    /// Adds or updates a member record, writing only when something changed.
    pub async fn upsert_member(self: &Arc<Self>, member: Member) -> Result<Member, ApiError> {
        let key = format!("{MEMBERS_PREFIX}{}", member.host_id);
        if let Some(existing) = self.store.get(&key)? {
            if serde_json::from_str::<Member>(&existing.value)
                .ok()
                .as_ref()
                == Some(&member)
            {
                return Ok(member);
            }
        }
        let value = serde_json::to_string(&member).expect("member serializes");
        self.write(Op::Put, &key, Some(&value), false).await?;
        Ok(member)
    }

    pub fn members(&self) -> Result<Vec<Member>, ApiError> {
        Ok(self
            .store
            .list(MEMBERS_PREFIX)?
            .into_iter()
            .filter_map(|e| serde_json::from_str(&e.value).ok())
            .collect())
    }

    /// Becomes a replica of `primary_url`.
    pub async fn follow(
        self: &Arc<Self>,
        primary_url: &str,
        full_sync: bool,
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
            let st = self.state();
            if st.role == Role::Replica
                && st.following.as_deref() == Some(url.as_str())
                && !full_sync
            {
                return Ok(());
            }
            let before = st.role;
            self.update_state(|s| {
                s.role = Role::Replica;
                s.following = Some(url.clone());
                s.fenced_reason = None;
            })?;
            self.force_full_sync.store(full_sync, Ordering::SeqCst);
            self.event(
                NewEvent::new("role_change", format!("{before} -> replica of {url}"))
                    .details(serde_json::json!({"from": before, "to": "replica", "primary": url, "full_sync": full_sync}))
                    .by(caller.operator.clone(), caller.run_id.clone()),
            );
        }
        self.reconcile();
        Ok(())
    }

    /// Stops replicating and takes writes alone (seed 003's Standalone role).
    pub async fn standalone(self: &Arc<Self>, caller: &Caller) -> Result<(), ApiError> {
        {
            let _gate = self.role_gate.write().await;
            let st = self.state();
            if st.role == Role::Standalone {
                return Ok(());
            }
            self.update_state(|s| {
                s.role = Role::Standalone;
                s.following = None;
                s.fenced_reason = None;
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
        if self.state().sync_auto == on {
            return Ok(());
        }
        self.update_state(|s| s.sync_auto = on)?;
        self.event(
            NewEvent::new(
                "sync",
                format!("automatic sync turned {}", if on { "on" } else { "off" }),
            )
            .details(serde_json::json!({"auto": on}))
            .by(caller.operator.clone(), caller.run_id.clone()),
        );
        self.reconcile();
        Ok(())
    }

    /// A primary that meets a higher epoch fences itself: it refuses writes until demoted.
    pub async fn fence(&self, reason: String) -> Result<(), ApiError> {
        let _gate = self.role_gate.write().await;
        let st = self.state();
        if st.role != Role::Primary {
            return Ok(());
        }
        self.update_state(|s| {
            s.role = Role::Fenced;
            s.fenced_reason = Some(reason.clone());
        })?;
        tracing::warn!(%reason, "fenced");
        self.event(NewEvent::new("fenced", reason).success(false));
        Ok(())
    }

    fn draining(&self) -> bool {
        let mut d = self.drain_until.lock().expect("drain lock");
        match *d {
            Some(until) if until > Instant::now() => true,
            Some(_) => {
                *d = None;
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

    /// Takes the cluster lock for `holder`, refusing if someone else holds it (unless broken).
    pub fn take_lock(
        &self,
        req: &crate::api::LockRequest,
    ) -> Result<crate::api::LockInfo, ApiError> {
        let mut held = self.lock.lock().expect("lock lock");
        if let Some(current) = held.as_ref().filter(|l| l.expires > Instant::now()) {
            if current.holder != req.holder && current.run_id != req.run_id {
                if !req.break_lock {
                    let info = current.info();
                    return Err(ApiError::Locked {
                        holder: info.holder,
                        reason: info.reason,
                        run_id: info.run_id,
                        expires_in_ms: info.expires_in_ms,
                    });
                }
                self.event(
                    NewEvent::new(
                        "lock_broken",
                        format!(
                            "{} broke the lock of {} ({}, run {})",
                            req.holder, current.holder, current.reason, current.run_id
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

    /// Asks the other members for their epoch; a newer one fences this primary.
    async fn check_peers(self: &Arc<Self>) {
        let st = self.state();
        if st.role != Role::Primary {
            self.peers_checked.store(true, Ordering::SeqCst);
            return;
        }
        let members = self.members().unwrap_or_default();
        let others: Vec<Member> = members
            .into_iter()
            .filter(|m| m.host_id != self.host_id && m.state != MemberState::Removed)
            .collect();
        let probes = others.iter().map(|m| async move {
            let client = self.peer(&m.url).ok()?;
            let status = tokio::time::timeout(Duration::from_secs(2), client.status())
                .await
                .ok()?
                .ok()?;
            Some((m.name.clone(), status))
        });
        let answers = futures_util::future::join_all(probes).await;
        let newer = answers
            .into_iter()
            .flatten()
            .filter(|(_, s)| s.epoch > st.epoch && matches!(s.role, Role::Primary | Role::Replica))
            // Name the new primary if it answered, else whoever saw the newest epoch.
            .max_by_key(|(_, s)| (s.epoch, s.role == Role::Primary));
        if let Some((name, s)) = newer {
            let what = if s.role == Role::Primary {
                format!("{name} is primary at epoch {}", s.epoch)
            } else {
                format!("{name} is at epoch {}", s.epoch)
            };
            let reason = format!("believed it was primary at epoch {}; {what}", st.epoch);
            if let Err(e) = self.fence(reason).await {
                tracing::error!(error = %e, "cannot fence");
            }
        }
        self.peers_checked.store(true, Ordering::SeqCst);
    }

    /// Periodically checks peers while primary (a restored old primary fences itself).
    pub(crate) async fn peer_watch(self: Arc<Self>) {
        loop {
            self.check_peers().await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    pub fn status(&self) -> Result<NodeStatus, ApiError> {
        let st = self.state();
        let head = self.store.head();
        let (entries, digest) = self.store.stats()?;
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
        let following = st.following.as_ref().map(|url| {
            let member = self
                .members()
                .ok()
                .and_then(|ms| ms.into_iter().find(|m| &m.url == url));
            crate::api::PeerRef {
                name: member.as_ref().map(|m| m.name.clone()),
                host_id: member.map(|m| m.host_id),
                url: url.clone(),
            }
        });
        let mut roles_held = Vec::new();
        for role in OPERATION_ROLES {
            if self
                .role_record(role)?
                .is_some_and(|r| r.holder == self.host_id)
            {
                roles_held.push(role.to_string());
            }
        }
        let replicas = self
            .replicas
            .lock()
            .expect("replicas lock")
            .iter()
            .map(|(k, (p, seen))| {
                let mut p = p.clone();
                p.last_seen_ms_ago = seen.elapsed().as_millis() as u64;
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
            primary_setting: self
                .store
                .get(&format!("{SETTINGS_PREFIX}primary"))?
                .map(|e| e.value),
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
            roles: OPERATION_ROLES
                .iter()
                .filter_map(|r| {
                    self.role_record(r)
                        .ok()
                        .flatten()
                        .map(|rec| (r.to_string(), rec))
                })
                .collect(),
            services: if st.services { "running" } else { "stopped" }.into(),
            maintenance: st.maintenance.clone(),
            data_dir: self.config.data_dir.display().to_string(),
        })
    }

    fn note_replica(&self, host_id: &str, progress: ReplicaProgress) {
        self.replicas
            .lock()
            .expect("replicas lock")
            .insert(host_id.to_string(), (progress, Instant::now()));
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
