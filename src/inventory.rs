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
    /// The client files `drctl repoint` points at the DCs that answer (samba-ad), each
    /// relative to the cluster file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<ClientFiles>,
    pub nodes: Vec<NodeEntry>,
}

/// A client's resolver and Kerberos configuration, kept as managed blocks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFiles {
    /// Its resolver (`/etc/resolv.conf`): its `nameserver` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolv_conf: Option<PathBuf>,
    /// Its Kerberos configuration (`/etc/krb5.conf`): the realm's `kdc` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub krb5_conf: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsTrust {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_dir: Option<PathBuf>,
}

/// One node: the fields every engine has. The rest belongs to the node's engine, which reads
/// them into a strict struct of its own (an unknown field is an error naming it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Required; defaulted here so that a misspelt field is named before a missing one.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    /// The engine (`engines::registry`); absent means the default, drnode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// May this node be promoted (seed 002: shadows outside the failover group may not)?
    #[serde(default = "yes")]
    pub promotable: bool,
    /// The engine's own fields.
    #[serde(flatten)]
    pub settings: serde_yaml::Mapping,
}

fn yes() -> bool {
    true
}

impl Default for NodeEntry {
    fn default() -> Self {
        NodeEntry {
            name: String::new(),
            url: String::new(),
            kind: None,
            promotable: true,
            settings: serde_yaml::Mapping::new(),
        }
    }
}

impl NodeEntry {
    /// The engine's own fields as its strict struct (`deny_unknown_fields`); the error starts
    /// with the field it is about when serde names one.
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_yaml::from_value(serde_yaml::Value::Mapping(self.settings.clone())).map_err(|e| {
            let m = e.to_string();
            match m.strip_prefix("unknown field `") {
                Some(rest) => {
                    let field = rest.split('`').next().unwrap_or_default();
                    format!("{field}: unknown field ({m})")
                }
                None => m,
            }
        })
    }

    /// The names of the engine's own fields given, in file order.
    pub fn setting_names(&self) -> Vec<String> {
        self.settings
            .keys()
            .map(|k| match k {
                serde_yaml::Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            })
            .collect()
    }
}

/// Checks one node entry for its engine; the error starts with the field it is about.
pub(crate) type Validate = fn(&NodeEntry) -> Result<(), String>;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read cluster file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `FILE:LINE:COLUMN: path: message` where the place is known (the shape of the runbook
    /// compiler's errors), else `cluster file FILE: message`.
    #[error("{}", located(path, *at, message))]
    Invalid {
        path: PathBuf,
        message: String,
        /// Line and column (from 1) of what the message is about.
        at: Option<(usize, usize)>,
    },
}

fn located(path: &Path, at: Option<(usize, usize)>, message: &str) -> String {
    match at {
        Some((line, col)) => format!("{}:{line}:{col}: {message}", path.display()),
        None => format!("cluster file {}: {message}", path.display()),
    }
}

/// Where `nodes[3].url` (a message's leading path) is in the file: the key's line and column,
/// or the nearest enclosing node's.
fn place(text: &str, message: &str) -> Option<(usize, usize)> {
    let root = crate::util::yaml::parse(text).ok()?;
    let path = message.split([':', ' ']).next()?;
    let mut node = &root;
    let mut at = None;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let crate::util::yaml::Kind::Map(entries) = &node.kind else {
            break;
        };
        let Some((k, v)) = entries.iter().find(|(k, _)| k.text == key) else {
            break;
        };
        at = Some((k.mark.line, k.mark.col));
        node = v;
        if let Some(i) = index {
            let crate::util::yaml::Kind::Seq(items) = &node.kind else {
                break;
            };
            let Some(item) = items.get(i) else { break };
            at = Some((item.mark.line, item.mark.col));
            node = item;
        }
    }
    at
}

/// A loaded cluster file, with paths resolved against its directory.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub path: PathBuf,
    pub file: ClusterFile,
}

impl Inventory {
    /// Reads and checks a cluster file, each node by `validate` (its engine's check:
    /// `engines::load_inventory` passes the registry's).
    pub fn load(path: &Path, validate: Validate) -> Result<Inventory, InventoryError> {
        use crate::util::file::{read_bounded, ReadError};
        let text = read_bounded(path).map_err(|e| match e {
            ReadError::Io(source) => InventoryError::Read {
                path: path.to_path_buf(),
                source,
            },
            too_large => InventoryError::Invalid {
                path: path.to_path_buf(),
                message: format!("{too_large}; a cluster file is a few KB"),
                at: None,
            },
        })?;
        Self::parse(path, &text, validate)
    }

    pub fn parse(path: &Path, text: &str, validate: Validate) -> Result<Inventory, InventoryError> {
        let invalid = |message: String| InventoryError::Invalid {
            path: path.to_path_buf(),
            at: place(text, &message),
            message,
        };
        // Bounded first: serde_yaml's time grows with the square of the nesting.
        crate::util::yaml::check_bounds(text).map_err(|e| InventoryError::Invalid {
            path: path.to_path_buf(),
            message: e.message.clone(),
            at: Some((e.mark.line, e.mark.col)),
        })?;
        let file: ClusterFile = serde_yaml::from_str(text).map_err(|e| {
            // serde_yaml ends its message with "at line L column C": the place goes in front.
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) if e.location().is_some() => message[..i].to_string(),
                _ => message,
            };
            InventoryError::Invalid {
                path: path.to_path_buf(),
                at: e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .or_else(|| place(text, &message)),
                message,
            }
        })?;
        validate_label(&file.cluster).map_err(|e| invalid(format!("cluster: {e}")))?;
        if let Some(alias) = &file.alias {
            validate_hostname(alias).map_err(|e| invalid(format!("alias: {e}")))?;
        }
        if file.nodes.is_empty() {
            return Err(invalid("nodes: the list is empty".into()));
        }
        if let Some(c) = &file.clients {
            if c.resolv_conf.is_none() && c.krb5_conf.is_none() {
                return Err(invalid(
                    "clients: names no file: give resolv_conf, krb5_conf or both".into(),
                ));
            }
            if !file
                .nodes
                .iter()
                .any(|n| n.kind.as_deref() == Some("samba-ad"))
            {
                return Err(invalid(
                    "clients: only a samba-ad cluster has client files drctl points at its DCs"
                        .into(),
                ));
            }
        }
        // Name / URL → the first node that has it: one pass, however many nodes.
        let mut names = std::collections::HashMap::new();
        let mut urls = std::collections::HashMap::new();
        for (i, n) in file.nodes.iter().enumerate() {
            validate_label(&n.name).map_err(|e| invalid(format!("nodes[{i}].name: {e}")))?;
            validate(n).map_err(|e| invalid(format!("nodes[{i}].{e}")))?;
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

    pub fn trust(&self) -> crate::util::tls::Trust {
        crate::util::tls::Trust {
            ca: self.file.tls.ca.as_deref().map(|p| self.resolve(p)),
            trust_dir: self.file.tls.trust_dir.as_deref().map(|p| self.resolve(p)),
        }
    }
}
