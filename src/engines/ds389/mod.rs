//! 389 Directory Server instances (`kind: 389ds`): ns-slapd read over LDAP (the replica entry
//! and its RUV, the mapping tree, the backend, the agreements) and changed through `cn=config`
//! in the order measured in `shared/engine-labs/389ds/README.md`, with a restart by the host
//! commands of the cluster file where the server needs one (a promotion opens its changelog only
//! after a restart).
//!
//! Safety: every supplier replicates as an identity of its own, `cn=repl-RID,cn=config`, and a
//! consumer accepts updates only from the identity of the current supplier
//! (`nsDS5ReplicaBindDN`). A failover moves every consumer to the new supplier's identity before
//! it promotes, so an old supplier that comes back is refused ("permission denied") instead of
//! pushing the writes it alone holds into the new topology.

mod assess;
pub(crate) mod bench;
mod demote;
pub(crate) mod drill;
mod engine;
mod export;
pub(crate) mod lab;
mod procedures;
mod reinit;
mod replayed;
mod runbook;
mod state;
mod steps;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub(crate) use assess::DsView;
pub(crate) use engine::Ds389;
pub use engine::KIND;

use crate::engine::{Global, ProcError, Registration, RunContext};
use crate::engines::openldap::{LdapNode, Session};
use crate::inventory::{Inventory, NodeEntry};
use crate::util::secret::Passphrase;

/// One ns-slapd instance as the cluster file describes it.
#[derive(Clone)]
pub(crate) struct DsNode {
    /// The LDAP session's settings (name, url, Directory Manager bind, suffix).
    pub(crate) ldap: LdapNode,
    /// The password of the replication identities (`cn=repl-RID,cn=config`), the same on every
    /// instance: an agreement binds with it.
    pub(crate) repl_password: Passphrase,
    /// Shell command that starts the instance (and succeeds when it runs already).
    pub(crate) start_command: Option<String>,
    /// Shell command that stops the instance cleanly (and succeeds when it is stopped).
    pub(crate) stop_command: Option<String>,
    /// The instance's plain LDAP port (`nsslapd-port`), which 389-ds writes into the RUV, when
    /// the url is `ldaps://` (the secure port).
    pub(crate) ldap_port: Option<u16>,
}

impl DsNode {
    pub(crate) fn name(&self) -> &str {
        &self.ldap.name
    }
}

impl std::fmt::Debug for DsNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DsNode({} {})", self.ldap.name, self.ldap.url)
    }
}

/// The node fields of a 389ds entry (beyond name, url, kind, promotable).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    /// The DN drctl binds as (`cn=Directory Manager`: it manages cn=config).
    bind_dn: Option<String>,
    /// File holding the bind password (mode 600), relative to the cluster file.
    password_file: Option<PathBuf>,
    /// Environment variable holding the bind password.
    password_env: Option<String>,
    /// The replicated suffix, e.g. `dc=example,dc=com`.
    suffix: Option<String>,
    /// File holding the replication identities' password.
    replication_password_file: Option<PathBuf>,
    /// Environment variable holding the replication identities' password.
    replication_password_env: Option<String>,
    /// Shell command that starts the instance.
    start_command: Option<String>,
    /// Shell command that stops the instance cleanly.
    stop_command: Option<String>,
    /// The CA (PEM) that signed the instance's certificate: required for `ldaps://`.
    ca_file: Option<PathBuf>,
    /// The instance's plain LDAP port (`nsslapd-port`), for an `ldaps://` url: the RUV names
    /// an instance by it, which finds a dead instance's replica ids.
    ldap_port: Option<u16>,
}

const FIELDS: &[&str] = &[
    "bind_dn",
    "password_file",
    "password_env",
    "suffix",
    "replication_password_file",
    "replication_password_env",
    "start_command",
    "stop_command",
    "ca_file",
    "ldap_port",
];

pub const ENGINE: Registration = Registration {
    kind: KIND,
    summary:
        "389 Directory Server instances, read through their replica entries, RUVs and agreements",
    fields: FIELDS,
    verbs: engine::VERBS,
    own_runbooks: engine::OWN_RUNBOOKS,
    validate: validate_entry,
    open: |global: Global, inv: Option<Inventory>| {
        Box::pin(async move {
            let inv = inv.ok_or_else(|| {
                ProcError::usage(
                    "389ds instances are listed in a cluster file: give --cluster FILE",
                )
            })?;
            Ok(Box::new(Ds389::open(&global, &inv)?) as Box<dyn crate::engine::Engine>)
        })
    },
    lab: Some(&lab::LAB),
};

/// Checks a 389ds entry; the error starts with the field it is about.
pub(crate) fn validate_entry(n: &NodeEntry) -> Result<(), String> {
    let f: Fields = n.settings()?;
    let url = url::Url::parse(&n.url).map_err(|e| format!("url: '{}': {e}", n.url))?;
    if !matches!(url.scheme(), "ldap" | "ldaps") || url.host().is_none() {
        return Err(format!(
            "url: '{}': a 389ds instance needs ldap://HOST:PORT or ldaps://HOST:PORT",
            n.url
        ));
    }
    match (url.scheme(), &f.ca_file, f.ldap_port) {
        ("ldaps", None, _) => {
            return Err(
                "ca_file: required for ldaps:// (the CA that signed the instance's certificate, PEM)"
                    .into(),
            )
        }
        ("ldaps", _, None) => {
            return Err("ldap_port: required for ldaps:// (the instance's nsslapd-port: 389-ds \
                 names an instance by it in every RUV, which finds its replica ids once it is gone)"
                .into())
        }
        ("ldap", Some(_), _) => return Err("ca_file: only for an ldaps:// url".into()),
        ("ldap", _, Some(_)) => {
            return Err("ldap_port: only for an ldaps:// url (an ldap:// url gives it)".into())
        }
        (_, _, Some(0)) => return Err("ldap_port: 0 is not a port".into()),
        _ => {}
    }
    for (field, v) in [("bind_dn", &f.bind_dn), ("suffix", &f.suffix)] {
        match v {
            None => return Err(format!("{field}: required for `kind: 389ds`")),
            Some(v) if !v.contains('=') => return Err(format!("{field}: '{v}' is not a DN")),
            Some(_) => {}
        }
    }
    one_of(
        "password_file",
        "password_env",
        &f.password_file,
        &f.password_env,
    )?;
    one_of(
        "replication_password_file",
        "replication_password_env",
        &f.replication_password_file,
        &f.replication_password_env,
    )?;
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

fn one_of<T, U>(a: &str, b: &str, x: &Option<T>, y: &Option<U>) -> Result<(), String> {
    match (x, y) {
        (Some(_), Some(_)) => Err(format!("{a}: give {a} or {b}, not both")),
        (None, None) => Err(format!("{a}: required for `kind: 389ds` (or {b})")),
        _ => Ok(()),
    }
}

fn secret(
    inv: &Inventory,
    node: &str,
    (fname, file): (&str, &Option<PathBuf>),
    (ename, env): (&str, &Option<String>),
) -> Result<Passphrase, String> {
    let p = match (file, env) {
        (Some(p), _) => Passphrase::from_file(&inv.resolve_path(p))
            .map_err(|e| format!("{node}: {fname}: {e}"))?,
        (None, Some(var)) => {
            let v =
                std::env::var(var).map_err(|_| format!("{node}: {ename}: ${var} is not set"))?;
            Passphrase::new(v, var).map_err(|e| format!("{node}: {e}"))?
        }
        (None, None) => return Err(format!("{node}: {fname}: missing")),
    };
    // An LDAP error text or a step's output that shows it prints `***`.
    crate::util::redact::register(p.expose());
    Ok(p)
}

/// The 389ds instances of a cluster file, with their passwords read.
pub(crate) fn nodes_of(inv: &Inventory) -> Result<Vec<DsNode>, String> {
    inv.file
        .nodes
        .iter()
        .filter(|n| n.kind.as_deref() == Some(KIND))
        .map(|n| {
            let f: Fields = n.settings().map_err(|e| format!("{}: {e}", n.name))?;
            let password = secret(
                inv,
                &n.name,
                ("password_file", &f.password_file),
                ("password_env", &f.password_env),
            )?;
            let repl_password = secret(
                inv,
                &n.name,
                ("replication_password_file", &f.replication_password_file),
                ("replication_password_env", &f.replication_password_env),
            )?;
            Ok(DsNode {
                ldap: LdapNode {
                    name: n.name.clone(),
                    url: n.url.trim_end_matches('/').to_string(),
                    promotable: n.promotable,
                    bind_dn: f.bind_dn.clone().unwrap_or_default(),
                    password,
                    suffix: f.suffix.clone().unwrap_or_default(),
                    ldapi: None,
                    data_dir: None,
                    reseed_command: None,
                    ca_file: f.ca_file.as_deref().map(|p| inv.resolve_path(p)),
                    quiet: Default::default(),
                },
                ldap_port: f.ldap_port,
                repl_password,
                start_command: f.start_command,
                stop_command: f.stop_command,
            })
        })
        .collect()
}

/// What a 389ds procedure acts on.
pub(crate) struct DsCluster {
    pub(crate) name: String,
    pub(crate) nodes: Vec<DsNode>,
    pub(crate) run_id: String,
    /// Connect timeout per node.
    pub(crate) timeout: Duration,
    /// How long a step's verification may wait.
    pub(crate) step_timeout: Duration,
}

impl DsCluster {
    pub(crate) fn new(name: &str, nodes: Vec<DsNode>, timeout: Duration, step: Duration) -> Self {
        DsCluster {
            name: name.to_string(),
            nodes,
            run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
            timeout,
            step_timeout: step,
        }
    }

    pub(crate) fn node(&self, name: &str) -> Result<&DsNode, ProcError> {
        crate::util::names::lookup(&self.nodes, name, |n| &n.ldap.name).map_err(|known| {
            ProcError::usage(format!(
                "unknown node '{name}': the cluster's 389ds instances are {known}"
            ))
        })
    }

    /// Connects to `name` (an error if it does not answer).
    pub(crate) async fn session(&self, name: &str) -> Result<Session, ProcError> {
        self.node(name)?
            .ldap
            .connect(self.timeout)
            .await
            .map_err(|e| ProcError::failed(e.to_string()))
    }

    /// Every instance probed at once.
    pub(crate) async fn probe(&self) -> DsView {
        assess::probe(&self.name, &self.nodes, self.timeout).await
    }
}

/// 389ds has no lease of ours: runs take the host lock (`Engine::run_lock`) instead.
impl RunContext for DsCluster {
    fn run_id(&self) -> &str {
        &self.run_id
    }
}
