//! drnode, the node daemon: a durable store with a replication log, pull replication with log
//! matching on `(epoch, seq)`, roles and fencing, membership, events, and the HTTPS admin API.
//! [`run`] is a library function so that tests can start many nodes on port 0.

pub mod config;
pub mod error;
mod http;
pub mod init;
pub mod nodedb;
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

    /// Changes the durable state; returns the new state.
    fn update_state(&self, f: impl FnOnce(&mut NodeState)) -> Result<NodeState, ApiError> {
        let mut guard = self.state.lock().expect("state lock");
        let mut next = guard.clone();
        f(&mut next);
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
            s.phase = "idle".into();
            s.failures = 0;
            s.last_error = None;
            s.common = None;
            s.divergent_records = None;
        });
        if st.role == Role::Replica && st.sync_auto {
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

    /// Becomes primary at `epoch` (not lower than the node's own).
    pub async fn promote(self: &Arc<Self>, epoch: u64, caller: &Caller) -> Result<(), ApiError> {
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
        self.upsert_member(Member {
            host_id: self.host_id.clone(),
            name: self.config.name.clone(),
            url: self.config.advertise.clone(),
            state: MemberState::Normal,
            promotable: true,
        })
        .await?;
        for role in OPERATION_ROLES {
            let key = format!("{ROLES_PREFIX}{role}");
            if self.store.get(&key)?.is_none() {
                let value = serde_json::json!({"holder": self.host_id, "epoch": 1}).to_string();
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
                        floor1(pct),
                        primary_head.saturating_sub(head.seq),
                        Some(primary_head),
                    )
                } else {
                    (
                        owns_pct(head.seq, primary_head),
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
            if let Some(e) = self.store.get(&format!("{ROLES_PREFIX}{role}"))? {
                let v: serde_json::Value = serde_json::from_str(&e.value).unwrap_or_default();
                if v.get("holder").and_then(|h| h.as_str()) == Some(self.host_id.as_str()) {
                    roles_held.push(role.to_string());
                }
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
        })
    }

    fn note_replica(&self, host_id: &str, progress: ReplicaProgress) {
        self.replicas
            .lock()
            .expect("replicas lock")
            .insert(host_id.to_string(), (progress, Instant::now()));
    }
}

/// Share of the primary's history held, floored to one decimal so 100 means "all of it".
pub fn owns_pct(applied: u64, primary_head: u64) -> f64 {
    if primary_head == 0 || applied >= primary_head {
        return 100.0;
    }
    floor1((applied as f64 * 100.0 / primary_head as f64).min(99.9))
}

fn floor1(x: f64) -> f64 {
    (x * 10.0).floor() / 10.0
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
