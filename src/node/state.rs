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

/// Writes the state atomically and durably: a temporary file beside it (`tempfile`: a name of
/// its own, removed if anything fails), fsynced, renamed over the old one, then the directory
/// fsynced so the rename survives a crash.
pub fn save(data_dir: &Path, state: &NodeState) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{STATE_FILE}."))
        .tempfile_in(data_dir)?;
    // Through the File itself: its errors keep their OS code (a full disk is told apart).
    tmp.as_file_mut()
        .write_all(&serde_json::to_vec_pretty(state).expect("state serializes"))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path(data_dir)).map_err(|e| e.error)?;
    std::fs::File::open(data_dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_loads_back_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), NodeState::default());
        let st = NodeState {
            role: Role::Primary,
            epoch: 7,
            ..NodeState::default()
        };
        save(dir.path(), &st).unwrap();
        save(dir.path(), &st).unwrap();
        assert_eq!(load(dir.path()).unwrap(), st);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(STATE_FILE)]);
    }
}
