//! The node's durable replication settings (role, epoch, the primary it follows), kept beside
//! the store in `state.json`: like MSS's replication settings, they survive a wiped database,
//! so a replica whose store is lost rebuilds itself from its primary.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::Role;

pub const STATE_FILE: &str = "state.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    pub role: Role,
    /// The highest cluster epoch this node has seen.
    pub epoch: u64,
    /// The primary a replica follows.
    pub following: Option<String>,
    pub fenced_reason: Option<String>,
    /// Automatic (partial) sync on: the operator's setting, changed only by command.
    #[serde(default = "yes")]
    pub sync_auto: bool,
    /// Automatic sync stopped itself after repeated failures (seed 001). Kept apart from
    /// `sync_auto` so that following a primary again (any recovery procedure) lifts it while an
    /// operator's "off" stays off; kept across restarts like the operator's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_suspended: Option<crate::api::SyncSuspension>,
    /// How this node last became primary.
    #[serde(default)]
    pub promotion: Option<crate::api::Promotion>,
    /// Node-local services running (seed 001: not started on a failover server by default).
    #[serde(default)]
    pub services: bool,
    /// Writes refused while an upgrade runs.
    #[serde(default)]
    pub maintenance: Option<crate::api::Maintenance>,
    /// The head position when this node last became standalone; kept until a full sync replaces
    /// its data (or it becomes primary), so the writes it took alone are never overwritten
    /// unseen: `join` exports them first, and a follow without full sync is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standalone_at: Option<crate::api::Position>,
}

fn yes() -> bool {
    true
}

impl Default for NodeState {
    fn default() -> Self {
        NodeState {
            role: Role::Standalone,
            epoch: 0,
            following: None,
            fenced_reason: None,
            sync_auto: true,
            sync_suspended: None,
            promotion: None,
            services: false,
            maintenance: None,
            standalone_at: None,
        }
    }
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_FILE)
}

pub fn load(data_dir: &Path) -> std::io::Result<NodeState> {
    match std::fs::read(path(data_dir)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NodeState::default()),
        Err(e) => Err(e),
    }
}

/// Writes the state atomically and durably (temp file, fsync, rename, fsync the directory).
pub fn save(data_dir: &Path, state: &NodeState) -> std::io::Result<()> {
    let target = path(data_dir);
    let tmp = data_dir.join(format!("{STATE_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec_pretty(state).expect("state serializes"))?;
    f.sync_all()?;
    std::fs::rename(&tmp, &target)?;
    std::fs::File::open(data_dir)?.sync_all()
}
