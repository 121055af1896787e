//! `drnode init`: create a data directory with its config, `host_id`, store and node state.

use std::path::{Path, PathBuf};

use super::config::{ConfigFile, SyncSettings, TlsFiles, CONFIG_FILE, CONFIG_VERSION};
use super::state::{self, NodeState};
use super::store::Store;
use super::{nodedb::NodeDb, HOST_ID_FILE};
use crate::api::Role;

/// What `drnode init` was asked for.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub name: String,
    pub cluster: String,
    pub data_dir: PathBuf,
    pub listen: String,
    pub advertise: Option<String>,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: Option<PathBuf>,
    pub trust_dir: Option<PathBuf>,
    pub passphrase_file: PathBuf,
    /// Join an existing cluster by naming its primary (seed 004).
    pub join: Option<String>,
    pub log_keep: Option<u64>,
    /// `sync.max_failures` (a drill that waits for replicas to give up sets it low).
    pub sync_max_failures: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} is already initialised (it has {CONFIG_FILE}); use another --data-dir")]
    Exists(PathBuf),
    #[error("cannot {verb} {path}: {source}")]
    Io {
        verb: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] super::config::ConfigError),
    #[error("{0}")]
    Other(String),
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

pub fn init(opts: &InitOptions) -> Result<PathBuf, InitError> {
    let dir = absolute(&opts.data_dir);
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        return Err(InitError::Exists(dir));
    }
    let io = |verb, path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Io { verb, path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    let file = ConfigFile {
        version: CONFIG_VERSION,
        name: opts.name.clone(),
        cluster: opts.cluster.clone(),
        data_dir: PathBuf::from("."),
        listen: opts.listen.clone(),
        advertise: opts.advertise.clone(),
        tls: TlsFiles {
            cert: absolute(&opts.cert),
            key: absolute(&opts.key),
            ca: opts.ca.as_deref().map(absolute),
            trust_dir: opts.trust_dir.as_deref().map(absolute),
        },
        passphrase_file: absolute(&opts.passphrase_file),
        metrics_token_file: None,
        log_keep: opts.log_keep.unwrap_or(100_000),
        sync: SyncSettings {
            max_failures: opts
                .sync_max_failures
                .unwrap_or(SyncSettings::default().max_failures),
            ..SyncSettings::default()
        },
        ip_substitution: Default::default(),
        start_services_after_sync: false,
    };
    // Validate before writing anything that makes the directory look initialised.
    file.validate(&dir)
        .map_err(|problems| super::config::ConfigError {
            path: config_path.clone(),
            problems,
        })?;
    if let Some(url) = &opts.join {
        crate::api::client::parse_node_url(url)
            .map_err(|e| InitError::Other(format!("--join: {e}")))?;
    }
    let host_id = uuid::Uuid::new_v4().to_string();
    std::fs::write(dir.join(HOST_ID_FILE), format!("{host_id}\n"))
        .map_err(io("write", &dir.join(HOST_ID_FILE)))?;
    Store::open(&dir).map_err(|e| InitError::Other(e.to_string()))?;
    NodeDb::open(&dir).map_err(|e| InitError::Other(e.to_string()))?;
    let st = match &opts.join {
        Some(url) => NodeState {
            role: Role::Replica,
            following: Some(url.trim_end_matches('/').to_string()),
            ..NodeState::default()
        },
        None => NodeState::default(),
    };
    state::save(&dir, &st).map_err(io("write", &state::path(&dir)))?;
    let yaml = serde_yaml::to_string(&file).expect("config serializes");
    std::fs::write(&config_path, yaml).map_err(io("write", &config_path))?;
    Ok(config_path)
}
