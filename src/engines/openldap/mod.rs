//! OpenLDAP nodes (`kind: openldap`): real slapd servers read through `cn=config`, `cn=Monitor`
//! and their CSNs, and changed through `cn=config` modifications in the order measured in
//! `shared/OPENLDAP.md`. Procedures are plans of [`LdapAction`] run by the generic runner.

mod assess;
pub(crate) mod bench;
mod client;
mod converge;
pub mod csn;
mod demote;
pub mod drill;
mod drill_check;
pub(crate) mod engine;
mod export;
pub mod lab;
pub mod lab_up;
mod procedures;
mod report;
pub mod runbook;
mod state;
mod steps;
pub mod writes;

use std::path::PathBuf;
use std::time::Duration;

pub(crate) use assess::{stalled, STALL_WINDOW};
pub use assess::{Assessment, LdapView, NodeAssessment};
pub use client::{LdapError, Quiet, Session};
pub use demote::demote;
pub use engine::{Openldap, KIND};
pub use procedures::{failover, lost_sid, repoint, switchover};
pub use report::{rank, LdapCandidate};
pub use state::{LdapRole, NodeState};
pub use steps::LdapAction;

use crate::engine::{ProcError, RunContext};
use serde::Deserialize;

use crate::engine::{Global, Registration};
use crate::inventory::{Inventory, NodeEntry};
use crate::util::secret::Passphrase;

/// One slapd as the cluster file describes it.
#[derive(Clone)]
pub struct LdapNode {
    pub name: String,
    pub url: String,
    pub promotable: bool,
    pub bind_dn: String,
    pub password: Passphrase,
    pub suffix: String,
    pub ldapi: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub reseed_command: Option<String>,
    /// The CA that signed the server's certificate, for an `ldaps://` url (389ds only).
    pub ca_file: Option<PathBuf>,
    /// Whether it let a connect or bind time out a moment ago (shared by clones; off unless
    /// [`LdapNode::quiet_for`] turned it on).
    pub quiet: client::Quiet,
}

impl std::fmt::Debug for LdapNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LdapNode({} {})", self.name, self.url)
    }
}

/// The node fields of an openldap entry (beyond name, url, kind, promotable).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    /// The DN drctl binds as (it manages cn=config and reads the whole suffix).
    bind_dn: Option<String>,
    /// File holding the bind password (mode 600), relative to the cluster file.
    password_file: Option<PathBuf>,
    /// Environment variable holding the bind password.
    password_env: Option<String>,
    /// The replicated suffix, e.g. `dc=example,dc=com`.
    suffix: Option<String>,
    /// ldapi socket path; when set, drctl binds with SASL EXTERNAL through it.
    ldapi: Option<PathBuf>,
    /// The mdb directory, so `demote` can reseed a diverged server (local host only).
    data_dir: Option<PathBuf>,
    /// Shell command that stops slapd, wipes its database and starts it again.
    reseed_command: Option<String>,
}

const FIELDS: &[&str] = &[
    "bind_dn",
    "password_file",
    "password_env",
    "suffix",
    "ldapi",
    "data_dir",
    "reseed_command",
];

pub const ENGINE: Registration = Registration {
    kind: KIND,
    summary: "OpenLDAP slapd servers, read through cn=config, cn=Monitor and their CSNs",
    fields: FIELDS,
    verbs: engine::VERBS,
    own_runbooks: &[],
    validate: validate_entry,
    open: |global: Global, inv: Option<Inventory>| {
        Box::pin(async move {
            let inv = inv.ok_or_else(|| {
                ProcError::usage("openldap nodes are listed in a cluster file: give --cluster FILE")
            })?;
            Ok(Box::new(Openldap::open(&global, &inv)?) as Box<dyn crate::engine::Engine>)
        })
    },
    lab: Some(&lab_up::LAB),
};

/// Checks an openldap entry; the error starts with the field it is about.
pub fn validate_entry(n: &NodeEntry) -> Result<(), String> {
    let f: Fields = n.settings()?;
    let url = url::Url::parse(&n.url).map_err(|e| format!("url: '{}': {e}", n.url))?;
    if !matches!(url.scheme(), "ldap" | "ldaps") || url.host().is_none() {
        return Err(format!(
            "url: '{}': an openldap node needs ldap://HOST:PORT or ldaps://HOST:PORT",
            n.url
        ));
    }
    let dn = |field: &str, v: &Option<String>| -> Result<(), String> {
        match v {
            None => Err(format!("{field}: required for `kind: openldap`")),
            Some(v) if !v.contains('=') => Err(format!("{field}: '{v}' is not a DN")),
            Some(_) => Ok(()),
        }
    };
    if f.ldapi.is_none() {
        dn("bind_dn", &f.bind_dn)?;
    }
    dn("suffix", &f.suffix)?;
    let pw: Result<(), String> = match (&f.password_file, &f.password_env, &f.ldapi) {
        (Some(_), Some(_), _) => {
            Err("password_file: give password_file or password_env, not both".into())
        }
        (None, None, None) => Err(
            "password_file: required for `kind: openldap` (or password_env, or ldapi for SASL EXTERNAL)"
                .into(),
        ),
        _ => Ok(()),
    };
    pw?;
    if let Some(c) = &f.reseed_command {
        if c.trim().is_empty() {
            return Err("reseed_command: empty".into());
        }
    }
    Ok(())
}

/// The openldap nodes of a cluster file, with their passwords read.
pub fn nodes_of(inv: &Inventory) -> Result<Vec<LdapNode>, String> {
    inv.file
        .nodes
        .iter()
        .filter(|n| n.kind.as_deref() == Some(KIND))
        .map(|n| {
            let f: Fields = n.settings().map_err(|e| format!("{}: {e}", n.name))?;
            let password = match (&f.password_file, &f.password_env) {
                (Some(p), _) => Passphrase::from_file(&inv.resolve_path(p))
                    .map_err(|e| format!("{}: password_file: {e}", n.name))?,
                (None, Some(var)) => {
                    let v = std::env::var(var)
                        .map_err(|_| format!("{}: password_env: ${var} is not set", n.name))?;
                    Passphrase::new(v, var).map_err(|e| format!("{}: {e}", n.name))?
                }
                // SASL EXTERNAL binds with no password: nothing to hide (and "-" is no secret).
                (None, None) => Passphrase::new("-", "ldapi").expect("not empty"),
            };
            if f.password_file.is_some() || f.password_env.is_some() {
                // An LDAP error text or a step's output that shows it prints `***`.
                crate::util::redact::register(password.expose());
            }
            Ok(LdapNode {
                name: n.name.clone(),
                url: n.url.trim_end_matches('/').to_string(),
                promotable: n.promotable,
                bind_dn: f.bind_dn.clone().unwrap_or_default(),
                password,
                suffix: f.suffix.clone().unwrap_or_default(),
                ldapi: f.ldapi.as_deref().map(|p| inv.resolve_path(p)),
                data_dir: f.data_dir.as_deref().map(|p| inv.resolve_path(p)),
                reseed_command: f.reseed_command.clone(),
                ca_file: None,
                quiet: client::Quiet::default(),
            })
        })
        .collect()
}

/// What an OpenLDAP procedure acts on.
pub struct LdapCluster {
    pub name: String,
    pub nodes: Vec<LdapNode>,
    pub run_id: String,
    /// Connect timeout per node.
    pub timeout: Duration,
    /// How long a step's verification may wait.
    pub step_timeout: Duration,
    /// An olcSyncrepl value seen at plan time (it holds credentials: never serialized), so a
    /// node can follow a new provider after every consumer's own value is gone.
    template: std::sync::Mutex<Option<String>>,
}

impl LdapCluster {
    pub fn new(name: &str, nodes: Vec<LdapNode>, timeout: Duration, step: Duration) -> Self {
        LdapCluster {
            name: name.to_string(),
            nodes,
            run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
            timeout,
            step_timeout: step,
            template: std::sync::Mutex::new(None),
        }
    }

    /// Remembers an olcSyncrepl value from the probe the plan is built from.
    pub fn remember_template(&self, view: &LdapView) {
        let found = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok())
            .find_map(|s| s.syncrepl.first().cloned());
        if let Some(v) = found {
            *self.template.lock().expect("not poisoned") = Some(v);
        }
    }

    pub fn template(&self) -> Option<String> {
        self.template.lock().expect("not poisoned").clone()
    }

    pub fn node(&self, name: &str) -> Result<&LdapNode, ProcError> {
        crate::util::names::lookup(&self.nodes, name, |n| &n.name).map_err(|known| {
            ProcError::usage(format!(
                "unknown node '{name}': the cluster's openldap nodes are {known}"
            ))
        })
    }

    /// Connects to `name` (an error if it does not answer).
    pub async fn session(&self, name: &str) -> Result<Session, ProcError> {
        self.node(name)?
            .connect(self.timeout)
            .await
            .map_err(|e| ProcError::failed(e.to_string()))
    }

    /// One node's state now, every entry read (CSNs, fingerprint).
    pub async fn state(&self, name: &str) -> Result<NodeState, ProcError> {
        self.read(name, true).await
    }

    /// One node's configuration and contextCSN only: cheap, for steps that change cn=config.
    pub async fn config(&self, name: &str) -> Result<NodeState, ProcError> {
        self.read(name, false).await
    }

    async fn read(&self, name: &str, scan: bool) -> Result<NodeState, ProcError> {
        let n = self.node(name)?;
        let mut s = self.session(name).await?;
        let st = state::read_state(&mut s, &n.suffix, scan)
            .await
            .map_err(|e| ProcError::failed(format!("{name}: {e}")));
        s.close().await;
        st
    }

    pub async fn probe(&self) -> LdapView {
        assess::probe(&self.name, &self.nodes, self.timeout).await
    }
}

/// OpenLDAP has no lease of ours to hold: the run takes no lock (say so in the report).
impl RunContext for LdapCluster {
    fn run_id(&self) -> &str {
        &self.run_id
    }
}
