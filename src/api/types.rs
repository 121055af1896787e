//! Request and response bodies of `/v1`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A node's replication role (seed 003's Standalone / Master / Slave, plus `fenced`: a primary
/// that has learned of a higher epoch and refuses writes until it is demoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Standalone,
    Primary,
    Replica,
    Fenced,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Standalone => "standalone",
            Role::Primary => "primary",
            Role::Replica => "replica",
            Role::Fenced => "fenced",
        })
    }
}

/// Seed 003's database status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbStatus {
    Down,
    Initializing,
    Up,
}

impl fmt::Display for DbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbStatus::Down => "down",
            DbStatus::Initializing => "initializing",
            DbStatus::Up => "up",
        })
    }
}

/// A position in the replication log. Ordered by `seq`; `epoch` tells histories apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Position {
    pub epoch: u64,
    pub seq: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "epoch {} seq {}", self.epoch, self.seq)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Put,
    Del,
}

/// One record of the replication log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    pub epoch: u64,
    pub seq: u64,
    pub op: Op,
    pub key: String,
    pub value: Option<String>,
}

/// The seq range an epoch covers in a node's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub epoch: u64,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// Another node, as one node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRef {
    pub name: Option<String>,
    pub host_id: Option<String>,
    pub url: String,
}

/// What the replication loop of a replica is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SyncState {
    /// The operator's setting: automatic (partial, record by record) replication on. Only a
    /// command changes it; a suspension after failures does not (see `suspended`).
    pub auto: bool,
    /// `idle`, `partial`, `full`, `diverged`, `failing`, `removed`, `off` (the operator's
    /// setting) or `suspended` (stopped by itself after failures).
    pub phase: String,
    /// Consecutive failed attempts.
    pub failures: u32,
    pub last_error: Option<String>,
    /// When the replica diverged: the last position both logs share.
    pub common: Option<Position>,
    /// When the replica diverged: how many of its records are past `common`.
    pub divergent_records: Option<u64>,
    /// Automatic sync stopped itself after repeated failures (seed 001); `auto` still says
    /// what the operator wants. Following a primary again, or `sync auto on`, lifts it.
    #[serde(default)]
    pub suspended: Option<SyncSuspension>,
}

impl SyncState {
    /// The node replicates now: sync on, not suspended, and its last pull succeeded.
    pub fn replicating(&self) -> bool {
        self.auto && self.suspended.is_none() && self.phase == "partial"
    }

    /// Automatic sync as `drctl status` shows it: `on`, `off` (the operator's command) or
    /// `suspended` (stopped by itself after failures).
    pub fn mode(&self) -> SyncMode {
        match (self.auto, &self.suspended) {
            (false, _) => SyncMode::Off,
            (true, Some(_)) => SyncMode::Suspended,
            (true, None) => SyncMode::On,
        }
    }
}

/// Whether a replica's automatic sync runs, and if not, who stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    On,
    /// Turned off by the operator (`drctl sync auto off`).
    Off,
    /// Stopped by itself after `sync.max_failures` failed attempts.
    Suspended,
}

/// Why and since when automatic sync stopped itself (seed 001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSuspension {
    /// Consecutive failed attempts when it stopped.
    pub failures: u32,
    /// The primary it could not sync from.
    pub primary_url: String,
    pub last_error: String,
    /// RFC 3339, UTC.
    pub since: String,
}

/// `GET /v1/node`: everything `drctl status` shows about one node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    pub name: String,
    pub host_id: String,
    pub cluster: String,
    pub url: String,
    pub version: String,
    pub role: Role,
    pub epoch: u64,
    pub db_status: DbStatus,
    /// Last record of this node's log.
    pub head_seq: u64,
    pub head_epoch: u64,
    /// Records applied to the data (equals `head_seq`: the log and the data commit together).
    pub applied_seq: u64,
    /// The primary this node follows (replicas only).
    pub following: Option<PeerRef>,
    /// The primary's head as last seen by this replica.
    pub primary_head_seq: Option<u64>,
    /// Share of the primary's history this node holds, 0–100.
    pub owns: f64,
    /// Records behind the primary, as last seen.
    pub lag: u64,
    pub entries: u64,
    pub digest: String,
    /// The replicated `primary` setting: the node clients should use (seed 000).
    pub primary_setting: Option<String>,
    pub roles_held: Vec<String>,
    /// Why this node is fenced, when it is.
    pub fenced_reason: Option<String>,
    pub sync: SyncState,
    /// Replicas that pulled from this node recently, by host id (primaries only).
    pub replicas: BTreeMap<String, ReplicaProgress>,
    /// Writes are refused while a switchover drains this primary, or until a restarted primary
    /// has checked its peers for a newer epoch.
    #[serde(default)]
    pub draining: bool,
    /// The cluster lock, as this node holds it.
    #[serde(default)]
    pub lock: Option<LockInfo>,
    /// How this node last became primary.
    #[serde(default)]
    pub promotion: Option<Promotion>,
    /// The operation-master role records as this node holds them (replicated data).
    #[serde(default)]
    pub roles: BTreeMap<String, RoleRecord>,
    /// Node-local services (seed 001): running or stopped.
    #[serde(default)]
    pub services: String,
    #[serde(default)]
    pub maintenance: Option<Maintenance>,
    #[serde(default)]
    pub data_dir: String,
    /// The head position when this node last became standalone, until a full sync replaced
    /// its data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standalone_at: Option<Position>,
    /// Records written on this node since it became standalone: writes no primary has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standalone_writes: Option<u64>,
    /// Where this node's kept log starts: its data up to here came by a full sync (or the log
    /// was truncated), so it is a snapshot, not records.
    #[serde(default)]
    pub log_base: Position,
}

/// A lease on a node taken by a procedure: who, why, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub holder: String,
    pub reason: String,
    pub run_id: String,
    /// Milliseconds until the lease expires.
    pub expires_in_ms: u64,
    /// The drctl process that holds it (empty/0 from an older drctl).
    #[serde(default)]
    pub owner: LockOwner,
}

/// The drctl process a lock belongs to: host name, pid and the process start time
/// (`/proc/PID/stat` field 22, so a reused pid is not mistaken for the owner).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockOwner {
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub pid: u32,
    #[serde(default)]
    pub start: u64,
}

impl LockOwner {
    /// An older drctl did not say who it was.
    pub fn is_known(&self) -> bool {
        !self.host.is_empty() && self.pid != 0
    }
}

impl std::fmt::Display for LockOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_known() {
            write!(f, "drctl pid {} on {}", self.pid, self.host)
        } else {
            write!(f, "an unknown drctl process")
        }
    }
}

/// `POST /v1/events`: an event recorded on behalf of drctl (a procedure's start and end).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NewEventRequest {
    pub kind: String,
    pub message: String,
    pub success: Option<bool>,
}

/// `POST /v1/admin/lock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockRequest {
    pub holder: String,
    pub reason: String,
    pub run_id: String,
    pub ttl_ms: u64,
    /// Take the lock even if someone else holds it (logged).
    #[serde(default)]
    pub break_lock: bool,
    /// The drctl process asking (a lock belongs to one run in one process).
    #[serde(default)]
    pub owner: LockOwner,
    /// Take over the lock of this run id, whose owner process is gone (checked by drctl on
    /// the owner's host; the node accepts it only while that run still holds the lock).
    #[serde(default)]
    pub take_over: Option<String>,
    /// An event (kind `procedure`) the node records once it grants the lock: the run's start,
    /// in the request that locks rather than one more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
}

/// `POST /v1/admin/unlock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UnlockRequest {
    pub run_id: String,
}

/// `POST /v1/admin/sync-auto`: automatic (partial) replication on or off (seed 001).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SyncAutoRequest {
    pub on: bool,
}

/// `POST /v1/admin/drain`: refuse new writes for `ttl_ms` (in-flight ones finish first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DrainRequest {
    pub ttl_ms: u64,
}

/// The answer to a drain: the last record written before writes stopped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrainResponse {
    pub head: Position,
}

/// `POST /v1/admin/fence`: the cluster has moved to `epoch`; a primary below it fences itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FenceRequest {
    /// The epoch the cluster moved to: a primary below it fences itself, and the node records
    /// it, so that it is never promoted at an epoch already in use.
    pub epoch: u64,
    pub reason: String,
    /// Another primary holds the same epoch (two writers at one epoch): fence even at an equal
    /// epoch.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_epoch: bool,
}

/// A replica's progress as its primary last saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplicaProgress {
    pub name: String,
    pub url: String,
    pub acked_seq: u64,
    pub epoch: u64,
    pub last_seen_ms_ago: u64,
    /// A log request of the replica is open here (a long-poll waiting for records): what this
    /// primary writes now still reaches it, even if the replica is paused meanwhile.
    #[serde(default)]
    pub polling: bool,
}

/// `GET /v1/health` (no passphrase needed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub name: String,
    pub cluster: String,
}

/// A replicated entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub epoch: u64,
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PutEntryRequest {
    pub value: String,
}

/// The acknowledgement of a write: it is durable on the node that assigned `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteAck {
    pub key: String,
    pub epoch: u64,
    pub seq: u64,
    /// The node that committed the write (the primary, also when a replica forwarded it).
    pub node: String,
    /// Committed by a standalone node, outside the cluster's log: it is exported (`drctl join`)
    /// before the node's data is replaced, never merged into a primary's history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub standalone: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberState {
    Joining,
    Normal,
    Leaving,
    Removed,
}

/// One member of the replicated instance set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub host_id: String,
    pub name: String,
    pub url: String,
    pub state: MemberState,
    #[serde(default = "yes")]
    pub promotable: bool,
    /// While `leaving`: the members that acknowledged dropping this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acks: Vec<String>,
    /// When it was removed (the tombstone's date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<String>,
}

impl Member {
    pub fn new(host_id: &str, name: &str, url: &str) -> Member {
        Member {
            host_id: host_id.to_string(),
            name: name.to_string(),
            url: url.to_string(),
            state: MemberState::Normal,
            promotable: true,
            acks: Vec::new(),
            removed_at: None,
        }
    }
}

/// An operation-master role record (seed 000's FSMO roles): who holds it, at which role epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    pub holder: String,
    pub epoch: u64,
}

/// `POST /v1/roles/{role}`: a new holder at a higher role epoch (through the primary).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SetRoleRequest {
    pub holder: String,
    pub epoch: u64,
}

/// `POST /v1/admin/drop-member`: a live member acknowledges dropping a leaving one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DropMemberRequest {
    pub host_id: String,
}

/// `POST /v1/admin/services`: start or stop this node's services (node-local).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServicesRequest {
    pub running: bool,
}

/// `POST /v1/admin/maintenance`: refuse writes while an upgrade runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    /// Identifies the upgrade, so a rerun recognises its own maintenance.
    pub id: String,
    pub reason: String,
    /// The primary the cluster is re-formed around.
    pub primary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MaintenanceRequest {
    /// None ends maintenance.
    pub maintenance: Option<Maintenance>,
}

/// One node-local package file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageInfo {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

fn yes() -> bool {
    true
}

/// A durable event of a node's event log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub ts: String,
    pub kind: String,
    pub message: String,
    pub success: Option<bool>,
    pub operator: Option<String>,
    pub run_id: Option<String>,
    #[serde(default)]
    pub details: serde_json::Value,
}

/// `GET /v1/repl/log` query: "send me what follows `after`".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogQuery {
    pub after_epoch: u64,
    pub after_seq: u64,
    /// Long-poll: wait this long for a new record before answering with none.
    #[serde(default)]
    pub wait_ms: u64,
    #[serde(default)]
    pub limit: Option<u64>,
    /// Who asks, so the primary can show its replicas' progress.
    pub host_id: String,
    pub name: String,
    pub url: String,
    pub epoch: u64,
}

/// The primary's answer to a log request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LogResponse {
    /// The logs match at `after`; here is what follows.
    Records {
        primary_epoch: u64,
        head_seq: u64,
        records: Vec<LogRecord>,
    },
    /// The primary no longer keeps the records after `after` (or the replica is empty).
    SnapshotRequired {
        primary_epoch: u64,
        head_seq: u64,
        reason: String,
    },
    /// The replica's record at `after` is not the primary's: the histories split.
    Diverged {
        primary_epoch: u64,
        head_seq: u64,
        terms: Vec<Term>,
    },
}

/// One line of the NDJSON snapshot stream of `GET /v1/repl/snapshot`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum SnapshotLine {
    Header {
        epoch: u64,
        position: Position,
        count: u64,
    },
    Entry {
        key: String,
        value: String,
        epoch: u64,
        seq: u64,
    },
    End {
        count: u64,
        digest: String,
    },
}

/// `POST /v1/admin/promote`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PromoteRequest {
    /// The epoch to be primary at: strictly above every epoch the node has seen (an epoch no
    /// node has used), unless the node is already primary at it.
    pub epoch: u64,
    /// The procedure that promotes (`failover`, `switchover`, …), remembered by the node so
    /// that a rerun of that procedure knows its own work.
    #[serde(default)]
    pub procedure: Option<String>,
}

/// How a node became primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub epoch: u64,
    pub procedure: Option<String>,
    pub run_id: Option<String>,
    pub at: String,
}

/// `POST /v1/admin/follow`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FollowRequest {
    pub primary_url: String,
    /// Replace this node's replicated data with a snapshot of the primary's (join).
    #[serde(default)]
    pub full_sync: bool,
    /// Also turn automatic sync on if the operator had turned it off: the caller needs this
    /// node to replicate (failover, switchover, repoint, demote, join). Without it, an
    /// on-demand full sync leaves automatic sync as it was (seed 001).
    #[serde(default)]
    pub sync_on: bool,
    /// Only if this node's head is still this seq: a standalone node whose writes were exported
    /// up to it, and which must not lose one it took since (409 if it did: export again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_head: Option<u64>,
}

/// `PUT /v1/settings/{name}` and `PUT /v1/local/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingValue {
    pub value: String,
}

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code (`unauthorized`, `not_found`, `fenced`, …).
    pub code: String,
    pub message: String,
    pub request_id: String,
}
