//! drnode, the node daemon: a durable store with a replication log, pull replication with log
//! matching on `(epoch, seq)`, roles and fencing, membership, events, and the HTTPS admin API.
//! [`run`] is a library function so that tests can start many nodes on port 0.

pub mod config;
mod dirlock;
pub mod error;
mod http;
pub mod init;
mod lease;
mod metrics;
pub mod nodedb;
mod packages;
mod replication;
mod roles;
mod sqlite;
pub mod state;
mod status;
pub mod store;
mod write;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, RwLock};
use tokio::task::JoinHandle;

use crate::api::{
    ClientOptions, DbStatus, Member, NodeClient, Op, ReplicaProgress, Role, SyncState,
};
use config::NodeConfig;
use error::ApiError;
use lease::HeldLock;
use nodedb::{NewEvent, NodeDb};
use state::NodeState;
use store::Store;

pub use crate::api::SYS_PREFIX;
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
    /// Set when the node shuts down: long polls answer at once, so the graceful shutdown does
    /// not wait out every replica's poll.
    stopping: watch::Sender<bool>,
    db_status: Mutex<DbStatus>,
    sync: Mutex<SyncState>,
    /// Woken on every change of `sync`: a follow waits on it for the first answer.
    sync_changed: tokio::sync::Notify,
    primary_head: AtomicU64,
    full_sync_progress: AtomicU64,
    full_sync_total: AtomicU64,
    force_full_sync: AtomicBool,
    replicas: Mutex<BTreeMap<String, (ReplicaProgress, Instant)>>,
    /// The log requests each replica (by host id) has open.
    polls: Mutex<BTreeMap<String, u32>>,
    repl_task: Mutex<Option<JoinHandle<()>>>,
    /// Bumped whenever a command lifts a sync suspension: a replication loop that started
    /// before may no longer suspend sync (see `replication::suspend_sync`).
    sync_gen: AtomicU64,
    /// Writes are refused until this instant (a switchover's drain).
    drain_until: Mutex<Option<Instant>>,
    /// A primary refuses writes until it has asked its peers whether a newer epoch exists.
    peers_checked: AtomicBool,
    lock: Mutex<Option<HeldLock>>,
    peers: reqwest::Client,
    peer_options: ClientOptions,
    /// Refused calls, aggregated per source (`http::auth`).
    auth_failures: http::auth::AuthFailures,
    /// What `GET /metrics` reports.
    metrics: metrics::Metrics,
    /// Held for the node's life: no second drnode serves this data directory.
    _dir_lock: dirlock::DirLock,
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
    Tls(#[from] crate::util::tls::TlsError),
    #[error(transparent)]
    Client(#[from] crate::api::ClientError),
    #[error("HTTPS server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    DirLock(#[from] dirlock::DirLockError),
}

impl NodeError {
    /// True when the node cannot start because of how it was set up (exit 2), not a failure.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            NodeError::NotInitialised { .. }
                | NodeError::DirLock(dirlock::DirLockError::Busy { .. })
        )
    }
}

/// Runs a node on `listener` until `shutdown` completes.
pub async fn run(
    config: NodeConfig,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let node = Node::open(config)?;
    serve(node, listener, shutdown).await
}

/// Serves an opened node on `listener` until `shutdown` completes. drnode opens the node (and so
/// locks its data directory) before it binds: a second node on a directory says so, whatever
/// its listen address.
pub async fn serve(
    node: Arc<Node>,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
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
        // Before anything is opened: a second node must not touch the store at all.
        let dir_lock = dirlock::DirLock::acquire(&config.data_dir)?;
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
            // A node keeps its own patience with its peers: the short probe is drctl's.
            probe_timeout: Duration::from_secs(5),
            operator: Some(format!("drnode:{}", config.name)),
            run_id: None,
            quiet_after_timeout: Duration::ZERO,
        };
        let peers = crate::api::client::http_client(&peer_options)?;
        let (head_tx, _) = watch::channel(store.head().seq);
        let metrics = metrics::Metrics::new(&config.name, &config.cluster, &host_id);
        let node = Arc::new(Node {
            metrics,
            host_id,
            store,
            db,
            state: Mutex::new(state),
            role_gate: RwLock::new(()),
            head_tx,
            stopping: watch::channel(false).0,
            db_status: Mutex::new(DbStatus::Up),
            sync: Mutex::new(SyncState::default()),
            sync_changed: tokio::sync::Notify::new(),
            primary_head: AtomicU64::new(0),
            full_sync_progress: AtomicU64::new(0),
            full_sync_total: AtomicU64::new(0),
            force_full_sync: AtomicBool::new(false),
            replicas: Mutex::new(BTreeMap::new()),
            polls: Mutex::new(BTreeMap::new()),
            repl_task: Mutex::new(None),
            sync_gen: AtomicU64::new(0),
            drain_until: Mutex::new(None),
            peers_checked: AtomicBool::new(false),
            lock: Mutex::new(None),
            peers,
            peer_options,
            auth_failures: Default::default(),
            _dir_lock: dir_lock,
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
    pub(crate) fn update_state(
        &self,
        f: impl FnOnce(&mut NodeState),
    ) -> Result<NodeState, ApiError> {
        let mut guard = self.state.lock().expect("state lock");
        let mut next = guard.clone();
        f(&mut next);
        if next.role == Role::Primary {
            // A primary's history is the cluster's: nothing of it is "taken alone".
            next.standalone_at = None;
        }
        if next.role != guard.role {
            *self.drain_until.lock().expect("drain lock") = None;
        }
        if next != *guard {
            state::save(&self.config.data_dir, &next)
                .map_err(|e| error::io_error("cannot save node state", e))?;
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
        .map(|c| c.with_cluster(&self.config.cluster))
        .map_err(|e| ApiError::BadRequest(e.to_string()))
    }

    pub(crate) fn set_db_status(&self, s: DbStatus) {
        *self.db_status.lock().expect("db status lock") = s;
    }

    pub(crate) fn update_sync(&self, f: impl FnOnce(&mut SyncState)) {
        f(&mut self.sync.lock().expect("sync lock"));
        self.sync_changed.notify_waiters();
    }

    /// Starts or stops the replication task to match the role.
    pub(crate) fn reconcile(self: &Arc<Self>) {
        let st = self.state();
        let mut task = self.repl_task.lock().expect("task lock");
        if let Some(t) = task.take() {
            t.abort();
        }
        let replica = st.role == Role::Replica;
        let suspended = st.sync_suspended.clone().filter(|_| replica);
        self.update_sync(|s| {
            // The operator's setting, whatever the role: a procedure that makes this node
            // follow can tell whether it had been turned off.
            s.auto = st.sync_auto;
            s.phase = if replica && !st.sync_auto {
                "off".into()
            } else if suspended.is_some() {
                "suspended".into()
            } else {
                "idle".into()
            };
            s.failures = suspended.as_ref().map_or(0, |x| x.failures);
            s.last_error = suspended.as_ref().map(|x| x.last_error.clone());
            s.common = None;
            s.divergent_records = None;
            s.suspended = suspended.clone();
        });
        if replica
            && ((st.sync_auto && suspended.is_none())
                || self.force_full_sync.load(Ordering::SeqCst))
        {
            if let Some(url) = st.following.clone() {
                *task = Some(tokio::spawn(replication::replica_loop(self.clone(), url)));
            }
        } else {
            self.set_db_status(DbStatus::Up);
        }
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
        Ok(members_of(&self.store.list(MEMBERS_PREFIX)?))
    }

    /// Notes a log request of a replica; returns when its previous one came in.
    pub(crate) fn note_replica(&self, host_id: &str, progress: ReplicaProgress) -> Option<Instant> {
        self.replicas
            .lock()
            .expect("replicas lock")
            .insert(host_id.to_string(), (progress, Instant::now()))
            .map(|(_, at)| at)
    }

    /// Counts a log request of the replica `host_id` as open until the guard drops (answered,
    /// or abandoned by the replica).
    pub(crate) fn open_poll(self: &Arc<Self>, host_id: &str) -> OpenPoll {
        *self
            .polls
            .lock()
            .expect("polls lock")
            .entry(host_id.to_string())
            .or_default() += 1;
        OpenPoll {
            node: self.clone(),
            host_id: host_id.to_string(),
        }
    }

    fn polling(&self, host_id: &str) -> bool {
        self.polls
            .lock()
            .expect("polls lock")
            .get(host_id)
            .is_some_and(|n| *n > 0)
    }
}

/// An open log request of a replica (see [`Node::open_poll`]).
pub(crate) struct OpenPoll {
    node: Arc<Node>,
    host_id: String,
}

impl Drop for OpenPoll {
    fn drop(&mut self) {
        let mut polls = self.node.polls.lock().expect("polls lock");
        if let Some(n) = polls.get_mut(&self.host_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                polls.remove(&self.host_id);
            }
        }
    }
}

/// The members recorded under `MEMBERS_PREFIX` (records that do not read as one are skipped).
pub(crate) fn members_of(entries: &[crate::api::Entry]) -> Vec<Member> {
    entries
        .iter()
        .filter_map(|e| serde_json::from_str(&e.value).ok())
        .collect()
}
