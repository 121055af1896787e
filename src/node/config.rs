//! drnode's configuration file (`drnode.yaml` in the data directory): versioned, unknown fields
//! refused, validated into a typed [`NodeConfig`] before anything starts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::util::names::validate_label;
use crate::util::secret::Passphrase;
use crate::util::tls::Trust;

pub const CONFIG_FILE: &str = "drnode.yaml";
pub const CONFIG_VERSION: u32 = 1;

/// The file as written on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub version: u32,
    pub name: String,
    pub cluster: String,
    /// Where the store, `host_id` and state live; relative paths are relative to this file.
    pub data_dir: PathBuf,
    pub listen: String,
    /// The URL other nodes and drctl use; defaults to `https://<listen>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
    pub tls: TlsFiles,
    pub passphrase_file: PathBuf,
    /// A read-only token (mode 0600) a Prometheus scraper presents for `GET /metrics`, so it
    /// needs no cluster passphrase. Without it, `/metrics` takes the passphrase only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_token_file: Option<PathBuf>,
    /// Log records kept for partial sync; a replica further behind gets a full sync.
    #[serde(default = "default_log_keep")]
    pub log_keep: u64,
    #[serde(default)]
    pub sync: SyncSettings,
    /// Seed 001: IP substitution applied to `service/` entries as this node applies them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ip_substitution: BTreeMap<String, String>,
    /// Seed 001: start services after a sync (off by default, by design).
    #[serde(default)]
    pub start_services_after_sync: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Consecutive failed sync attempts after which automatic sync turns itself off (seed 001).
    #[serde(default = "default_max_failures")]
    pub max_failures: u32,
    /// Long-poll wait of a replica's log request, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            max_failures: default_max_failures(),
            poll_ms: default_poll_ms(),
        }
    }
}

fn default_log_keep() -> u64 {
    100_000
}
fn default_max_failures() -> u32 {
    30
}
fn default_poll_ms() -> u64 {
    2_000
}

/// A validated configuration, with paths resolved.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: String,
    pub cluster: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub advertise: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub trust: Trust,
    pub passphrase: Passphrase,
    /// What `GET /metrics` takes besides the passphrase.
    pub metrics_token: Option<Passphrase>,
    pub log_keep: u64,
    pub sync: SyncSettings,
    pub ip_substitution: BTreeMap<String, String>,
    pub start_services_after_sync: bool,
}

/// Everything wrong with a config file, each problem on its own line.
#[derive(Debug, thiserror::Error)]
#[error("{path}: invalid configuration:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

impl NodeConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let fail = |problems: Vec<String>| ConfigError {
            path: path.to_path_buf(),
            problems,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| fail(vec![format!("cannot read: {e}")]))?;
        let file: ConfigFile =
            serde_yaml::from_str(&text).map_err(|e| fail(vec![e.to_string()]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.validate(base).map_err(fail)
    }

    /// The data directory's config file.
    pub fn load_data_dir(dir: &Path) -> Result<NodeConfig, ConfigError> {
        NodeConfig::load(&dir.join(CONFIG_FILE))
    }
}

impl ConfigFile {
    /// Resolves paths against `base` and checks every field, collecting all problems.
    pub fn validate(&self, base: &Path) -> Result<NodeConfig, Vec<String>> {
        let mut problems = Vec::new();
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        if self.version != CONFIG_VERSION {
            problems.push(format!(
                "version: {} is not supported (this drnode reads version {CONFIG_VERSION})",
                self.version
            ));
        }
        if let Err(e) = validate_label(&self.name) {
            problems.push(format!("name: {e}"));
        }
        if let Err(e) = validate_label(&self.cluster) {
            problems.push(format!("cluster: {e}"));
        }
        let listen = match self.listen.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push(format!(
                    "listen: '{}' is not an address like 127.0.0.1:7001",
                    self.listen
                ));
                None
            }
        };
        let advertise = match (&self.advertise, listen) {
            (Some(a), _) => match crate::api::client::parse_node_url(a) {
                Ok(u) => Some(u.as_str().trim_end_matches('/').to_string()),
                Err(e) => {
                    problems.push(format!("advertise: {e}"));
                    None
                }
            },
            (None, Some(l)) => Some(format!("https://{l}")),
            (None, None) => None,
        };
        let data_dir = resolve(&self.data_dir);
        if !data_dir.is_dir() {
            problems.push(format!(
                "data_dir: {} is not a directory (run `drnode init` first)",
                data_dir.display()
            ));
        }
        let cert = resolve(&self.tls.cert);
        let key = resolve(&self.tls.key);
        let trust = Trust {
            ca: self.tls.ca.as_deref().map(resolve),
            trust_dir: self.tls.trust_dir.as_deref().map(resolve),
        };
        if trust.ca.is_none() && trust.trust_dir.is_none() {
            problems
                .push("tls: give `ca` (the cluster CA) or `trust_dir` (peer certificates)".into());
        }
        if let Err(e) = crate::util::tls::server_config(&cert, &key) {
            problems.push(format!("tls: {e}"));
        }
        if trust.ca.is_some() || trust.trust_dir.is_some() {
            if let Err(e) = crate::util::tls::root_store(&trust) {
                problems.push(format!("tls: {e}"));
            }
        }
        let passphrase = match Passphrase::from_file(&resolve(&self.passphrase_file)) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(format!("passphrase_file: {e}"));
                None
            }
        };
        let metrics_token = match self.metrics_token_file.as_deref().map(resolve) {
            None => None,
            Some(path) => match Passphrase::from_file(&path) {
                Ok(t) if passphrase.as_ref().is_some_and(|p| p.matches(t.expose())) => {
                    problems.push(
                        "metrics_token_file: the metrics token is the cluster passphrase; give \
                         the scraper a token of its own"
                            .into(),
                    );
                    None
                }
                Ok(t) => Some(t),
                Err(e) => {
                    problems.push(format!("metrics_token_file: {e}"));
                    None
                }
            },
        };
        if self.log_keep < 10 {
            problems.push(format!(
                "log_keep: {} is too small (at least 10)",
                self.log_keep
            ));
        }
        if self.sync.max_failures == 0 {
            problems.push("sync.max_failures: must be at least 1".into());
        }
        for (from, to) in &self.ip_substitution {
            for ip in [from, to] {
                if ip.parse::<std::net::IpAddr>().is_err() {
                    problems.push(format!("ip_substitution: '{ip}' is not an IP address"));
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(NodeConfig {
            name: self.name.clone(),
            cluster: self.cluster.clone(),
            data_dir,
            listen: listen.expect("checked"),
            advertise: advertise.expect("checked"),
            cert,
            key,
            trust,
            passphrase: passphrase.expect("checked"),
            metrics_token,
            log_keep: self.log_keep,
            sync: self.sync.clone(),
            ip_substitution: self.ip_substitution.clone(),
            start_services_after_sync: self.start_services_after_sync,
        })
    }
}
