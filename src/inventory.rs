//! The cluster file (`drctl.yaml`): the cluster's name, its nodes, TLS trust, an optional DNS
//! alias, and where the passphrase is (a file, never inline). Unknown fields are errors.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::util::names::{validate_hostname, validate_label};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    pub cluster: String,
    /// Relative to the cluster file. Never the passphrase itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_file: Option<PathBuf>,
    #[serde(default)]
    pub tls: TlsTrust,
    /// DNS alias covering every node (seed 004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The port the nodes listen on behind the alias (`--node ALIAS` connects there, trying
    /// every address of the alias in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_port: Option<u16>,
    pub nodes: Vec<NodeEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsTrust {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub kind: NodeKind,
    /// May this node be promoted (seed 002: shadows outside the failover group may not)?
    #[serde(default = "yes")]
    pub promotable: bool,
    /// openldap: the DN drctl binds as (it manages cn=config and reads the whole suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    /// openldap: file holding the bind password (mode 600), relative to the cluster file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// openldap: environment variable holding the bind password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// openldap: the replicated suffix, e.g. `dc=example,dc=com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// openldap: ldapi socket path; when set, drctl binds with SASL EXTERNAL through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldapi: Option<PathBuf>,
    /// openldap: the mdb directory, so `demote` can reseed a diverged server (local host only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// openldap: shell command that stops slapd, wipes its database and starts it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseed_command: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for NodeEntry {
    fn default() -> Self {
        NodeEntry {
            name: String::new(),
            url: String::new(),
            kind: NodeKind::Drnode,
            promotable: true,
            bind_dn: None,
            password_file: None,
            password_env: None,
            suffix: None,
            ldapi: None,
            data_dir: None,
            reseed_command: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    #[default]
    Drnode,
    Openldap,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read cluster file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cluster file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A loaded cluster file, with paths resolved against its directory.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub path: PathBuf,
    pub file: ClusterFile,
}

impl Inventory {
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        use crate::runbook::yaml::{read_bounded, ReadError};
        let text = read_bounded(path).map_err(|e| match e {
            ReadError::Io(source) => InventoryError::Read {
                path: path.to_path_buf(),
                source,
            },
            too_large => InventoryError::Invalid {
                path: path.to_path_buf(),
                message: format!("{too_large}; a cluster file is a few KB"),
            },
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
        let invalid = |message: String| InventoryError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        // Bounded first: serde_yaml's time grows with the square of the nesting.
        crate::runbook::yaml::check_bounds(text).map_err(|e| {
            invalid(format!(
                "line {} column {}: {}",
                e.mark.line, e.mark.col, e.message
            ))
        })?;
        let file: ClusterFile = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        validate_label(&file.cluster).map_err(|e| invalid(format!("cluster: {e}")))?;
        if let Some(alias) = &file.alias {
            validate_hostname(alias).map_err(|e| invalid(format!("alias: {e}")))?;
        }
        if file.nodes.is_empty() {
            return Err(invalid("nodes: the list is empty".into()));
        }
        // Name / URL → the first node that has it: one pass, however many nodes.
        let mut names = std::collections::HashMap::new();
        let mut urls = std::collections::HashMap::new();
        for (i, n) in file.nodes.iter().enumerate() {
            validate_label(&n.name).map_err(|e| invalid(format!("nodes[{i}].name: {e}")))?;
            match n.kind {
                NodeKind::Drnode => {
                    crate::api::client::parse_node_url(&n.url)
                        .map_err(|e| invalid(format!("nodes[{i}].url: {e}")))?;
                    crate::engines::openldap::reject_ldap_fields(n)
                        .map_err(|e| invalid(format!("nodes[{i}].{e}")))?;
                }
                NodeKind::Openldap => crate::engines::openldap::validate_entry(n)
                    .map_err(|e| invalid(format!("nodes[{i}].{e}")))?,
            }
            if let Some(j) = names.insert(n.name.as_str(), i) {
                return Err(invalid(format!(
                    "nodes[{i}].name: '{}' is already used by nodes[{j}]",
                    n.name
                )));
            }
            if let Some(j) = urls.insert(n.url.as_str(), i) {
                return Err(invalid(format!(
                    "nodes[{i}].url: '{}' is already used by nodes[{j}]",
                    n.url
                )));
            }
        }
        Ok(Inventory {
            path: path.to_path_buf(),
            file,
        })
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    pub fn passphrase_file(&self) -> Option<PathBuf> {
        self.file
            .passphrase_file
            .as_deref()
            .map(|p| self.resolve(p))
    }

    /// Resolves a path of the cluster file against its directory.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        self.resolve(p)
    }

    /// The kinds of node the file lists.
    pub fn kinds(&self) -> Vec<NodeKind> {
        let mut kinds: Vec<NodeKind> = self.file.nodes.iter().map(|n| n.kind).collect();
        kinds.sort_by_key(|k| *k as u8);
        kinds.dedup();
        kinds
    }

    pub fn trust(&self) -> crate::util::tls::Trust {
        crate::util::tls::Trust {
            ca: self.file.tls.ca.as_deref().map(|p| self.resolve(p)),
            trust_dir: self.file.tls.trust_dir.as_deref().map(|p| self.resolve(p)),
        }
    }
}
