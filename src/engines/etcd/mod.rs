//! etcd members (`kind: etcd`), reached over etcd's v3 JSON gateway (`POST /v3/...` with
//! reqwest, so no protobuf toolchain is needed to build drctl): status and candidates from one
//! probe of every member (status, member list, alarms), and move-leader and member removal as
//! plans of [`EtcdAction`] run by the generic runner. Measured facts and pitfalls:
//! `shared/engine-labs/etcd/README.md`.

mod access;
mod assess;
pub(crate) mod bench;
mod client;
pub(crate) mod drill;
mod engine;
mod error;
mod failover;
pub(crate) mod lab;
mod procedures;
pub(crate) mod rejoin;
mod restore;
mod runbook;
mod steps;
mod writes;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub(crate) use assess::{quorum, Assessment, EtcdView, Role};
pub(crate) use client::Client;
pub(crate) use engine::Etcd;
pub use engine::KIND;
pub(crate) use steps::EtcdAction;

use crate::engine::{Global, ProcError, Registration, RunContext};
use crate::inventory::{Inventory, NodeEntry};

/// One etcd member as the cluster file describes it.
#[derive(Debug, Clone)]
pub(crate) struct EtcdNode {
    pub(crate) name: String,
    /// The client URL drctl talks to.
    pub(crate) url: String,
    pub(crate) promotable: bool,
    /// The member's peer URL, to find it in the membership when it never started (no name).
    pub(crate) peer_url: Option<String>,
    /// Its data directory (on this host), for the procedures that move it aside.
    pub(crate) data_dir: Option<PathBuf>,
    /// Shell command that starts the member; drctl sets ETCD_INITIAL_CLUSTER and
    /// ETCD_INITIAL_CLUSTER_STATE for a member that joins a running cluster.
    pub(crate) start_command: Option<String>,
    /// Shell command that stops the member (and succeeds when it is stopped already).
    pub(crate) stop_command: Option<String>,
    /// TLS files and credentials.
    pub(crate) access: access::Access,
}

/// The node fields of an etcd entry (beyond name, url, kind, promotable).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    /// The member's peer URL (`--initial-advertise-peer-urls`).
    peer_url: Option<String>,
    /// The member's `--data-dir`, relative to the cluster file.
    data_dir: Option<PathBuf>,
    /// Shell command that starts the member (with ETCD_INITIAL_CLUSTER* from drctl).
    start_command: Option<String>,
    /// Shell command that stops the member.
    stop_command: Option<String>,
    /// The CA (PEM) that signed the member's certificate: required for `https://`.
    ca_file: Option<PathBuf>,
    /// A client certificate (PEM) for `--client-cert-auth`, with `key_file`.
    cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    key_file: Option<PathBuf>,
    /// The etcd user drctl authenticates as (with the root role).
    username: Option<String>,
    /// File holding the user's password (mode 600).
    password_file: Option<PathBuf>,
    /// Environment variable holding the user's password.
    password_env: Option<String>,
}

impl Fields {
    fn access(&self) -> access::AccessFields {
        access::AccessFields {
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            username: self.username.clone(),
            password_file: self.password_file.clone(),
            password_env: self.password_env.clone(),
        }
    }
}

const FIELDS: &[&str] = &[
    "peer_url",
    "data_dir",
    "start_command",
    "stop_command",
    "ca_file",
    "cert_file",
    "key_file",
    "username",
    "password_file",
    "password_env",
];

pub const ENGINE: Registration = Registration {
    kind: KIND,
    summary: "etcd 3.4+ members, reached over the v3 JSON gateway of their client URLs",
    fields: FIELDS,
    verbs: engine::VERBS,
    own_runbooks: &[],
    validate: validate_entry,
    open: |global: Global, inv: Option<Inventory>| {
        Box::pin(async move {
            let inv = inv.ok_or_else(|| {
                ProcError::usage("etcd members are listed in a cluster file: give --cluster FILE")
            })?;
            Ok(Box::new(Etcd::open(&global, &inv)?) as Box<dyn crate::engine::Engine>)
        })
    },
    lab: Some(&lab::LAB),
};

/// The url's scheme, `http` or `https`.
fn http_url(field: &str, v: &str) -> Result<String, String> {
    let u = url::Url::parse(v).map_err(|e| format!("{field}: '{v}': {e}"))?;
    if !matches!(u.scheme(), "http" | "https")
        || u.host().is_none()
        || u.port_or_known_default().is_none()
    {
        return Err(format!(
            "{field}: '{v}': an etcd member needs http://HOST:PORT or https://HOST:PORT"
        ));
    }
    Ok(u.scheme().to_string())
}

/// Checks an etcd entry; the error starts with the field it is about.
pub(crate) fn validate_entry(n: &NodeEntry) -> Result<(), String> {
    let f: Fields = n.settings()?;
    let scheme = http_url("url", &n.url)?;
    if let Some(p) = &f.peer_url {
        http_url("peer_url", p)?;
    }
    f.access().validate(&scheme)?;
    if f.data_dir
        .as_ref()
        .is_some_and(|d| d.as_os_str().is_empty())
    {
        return Err("data_dir: empty".into());
    }
    for (field, c) in [
        ("start_command", &f.start_command),
        ("stop_command", &f.stop_command),
    ] {
        if c.as_ref().is_some_and(|c| c.trim().is_empty()) {
            return Err(format!("{field}: empty"));
        }
    }
    Ok(())
}

/// The etcd members of a cluster file.
pub(crate) fn nodes_of(inv: &Inventory) -> Result<Vec<EtcdNode>, String> {
    inv.file
        .nodes
        .iter()
        .filter(|n| n.kind.as_deref() == Some(KIND))
        .map(|n| {
            let f: Fields = n.settings().map_err(|e| format!("{}: {e}", n.name))?;
            let access = f.access().load(inv, &n.name)?;
            Ok(EtcdNode {
                name: n.name.clone(),
                url: n.url.trim_end_matches('/').to_string(),
                promotable: n.promotable,
                peer_url: f.peer_url.map(|p| p.trim_end_matches('/').to_string()),
                data_dir: f.data_dir.as_deref().map(|p| inv.resolve_path(p)),
                start_command: f.start_command,
                stop_command: f.stop_command,
                access,
            })
        })
        .collect()
}

/// What an etcd procedure acts on: the members and how long a step may wait.
pub(crate) struct EtcdCluster {
    pub(crate) name: String,
    pub(crate) nodes: Vec<EtcdNode>,
    pub(crate) run_id: String,
    pub(crate) client: client::Client,
    /// How long a step's verification may wait.
    pub(crate) step_timeout: Duration,
}

impl EtcdCluster {
    /// `client`: built for these nodes ([`Client::for_nodes`]).
    pub(crate) fn new(
        name: &str,
        nodes: Vec<EtcdNode>,
        client: client::Client,
        step: Duration,
    ) -> Self {
        EtcdCluster {
            name: name.to_string(),
            nodes,
            run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
            client,
            step_timeout: step,
        }
    }

    pub(crate) fn node(&self, name: &str) -> Result<&EtcdNode, ProcError> {
        crate::util::names::lookup(&self.nodes, name, |n| &n.name).map_err(|known| {
            ProcError::usage(format!(
                "unknown node '{name}': the cluster's etcd members are {known}"
            ))
        })
    }

    /// Every member probed at once.
    pub(crate) async fn probe(&self) -> EtcdView {
        assess::probe(&self.name, &self.nodes, &self.client).await
    }
}

/// etcd has no lease of ours to hold: the run takes no lock on the members.
impl RunContext for EtcdCluster {
    fn run_id(&self) -> &str {
        &self.run_id
    }
}
