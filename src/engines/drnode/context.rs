//! A drnode cluster as a command reaches it: the inventory (or the member list of `--node URL`
//! alone), the passphrase, TLS trust, and one client per node.

use crate::api::client::{http_client, parse_node_url};
use crate::api::{ClientError, ClientOptions, NodeClient};
use crate::engine::{Global, ProcError};
use crate::inventory::Inventory;
use crate::util::secret::Passphrase;
use crate::util::tls::Trust;

use super::cluster::{probe, ClusterView, Target};

/// A client error as the operator should read it: a wrong passphrase and an untrusted
/// certificate are the operator's configuration (exit 2, with a hint).
pub fn client_error(e: ClientError) -> ProcError {
    match &e {
        ClientError::Api { status: 401, .. } => ProcError::usage(format!(
            "{e}\nhint: check --passphrase-file, DRCTL_PASSPHRASE or the cluster file's passphrase_file"
        )),
        ClientError::Tls { .. } => ProcError::usage(format!(
            "{e}\nhint: check the cluster file's tls.ca / tls.trust_dir (or --ca)"
        )),
        ClientError::BadUrl { .. } | ClientError::TlsConfig(_) => ProcError::usage(e.to_string()),
        ClientError::Api { status: 400, .. } => ProcError::usage(e.to_string()),
        _ => ProcError::failed(e.to_string()),
    }
}

pub struct Context {
    pub cluster: String,
    /// Where the node list came from, for messages.
    pub source: String,
    pub targets: Vec<Target>,
    /// The node `--node` selected.
    pub selected: Option<Target>,
    pub options: ClientOptions,
    pub http: reqwest::Client,
    pub passphrase: Passphrase,
    pub inventory: Option<Inventory>,
}

fn passphrase(global: &Global, inv: Option<&Inventory>) -> Result<Passphrase, ProcError> {
    if let Some(p) = &global.passphrase_file {
        return Passphrase::from_file(p).map_err(|e| ProcError::usage(e.to_string()));
    }
    if let Ok(v) = std::env::var("DRCTL_PASSPHRASE") {
        return Passphrase::new(v, "DRCTL_PASSPHRASE").map_err(|e| ProcError::usage(e.to_string()));
    }
    if let Some(p) = inv.and_then(Inventory::passphrase_file) {
        return Passphrase::from_file(&p).map_err(|e| ProcError::usage(e.to_string()));
    }
    Err(ProcError::usage(
        "no passphrase: give --passphrase-file, set DRCTL_PASSPHRASE, or set passphrase_file in the cluster file",
    ))
}

impl Context {
    /// Opens the drnode cluster: its nodes from the cluster file, or from the member list of
    /// `--node URL` alone.
    pub async fn open(global: &Global, inventory: Option<Inventory>) -> Result<Context, ProcError> {
        let node_url = global.node.as_deref().filter(|n| n.contains("://"));
        if inventory.is_none() && node_url.is_none() {
            return Err(ProcError::usage(
                "no cluster: give --cluster FILE (or DRCTL_CLUSTER), create ./drctl.yaml, \
                 start a lab with `drctl lab up`, or give --node URL",
            ));
        }
        let trust = match &inventory {
            Some(inv) if inv.file.tls.ca.is_some() || inv.file.tls.trust_dir.is_some() => {
                inv.trust()
            }
            _ => Trust {
                ca: global.ca.clone(),
                trust_dir: None,
            },
        };
        if trust.ca.is_none() && trust.trust_dir.is_none() {
            return Err(ProcError::usage(
                "no TLS trust: set tls.ca in the cluster file, or give --ca FILE (DRCTL_CA)",
            ));
        }
        let options = ClientOptions {
            trust,
            connect_timeout: global.timeout,
            request_timeout: global.timeout.max(std::time::Duration::from_millis(200)) * 3,
            // A status answers in milliseconds: a node that does not costs the connect timeout
            // (or a hair more, over a connection made before it stopped).
            probe_timeout: crate::api::client::probe_timeout(global.timeout),
            operator: Some(global.operator.clone()),
            run_id: None,
            quiet_after_timeout: global.timeout.max(std::time::Duration::from_millis(200)) * 3,
        };
        let pass = passphrase(global, inventory.as_ref())?;
        // Whatever the command prints, the passphrase shows as `***`.
        crate::util::redact::register(pass.expose());
        let http = http_client(&options).map_err(client_error)?;
        let make = |name: &str, url: &str, promotable: bool| -> Result<Target, ProcError> {
            Ok(Target {
                name: name.to_string(),
                url: url.trim_end_matches('/').to_string(),
                promotable,
                client: NodeClient::new(http.clone(), url, pass.clone(), &options)
                    .map_err(client_error)?,
            })
        };
        let (cluster, source, targets) = match &inventory {
            Some(inv) => (
                inv.file.cluster.clone(),
                inv.path.display().to_string(),
                inv.file
                    .nodes
                    .iter()
                    // Mixed files: openldap nodes are reached by `cli::openldap`, not here.
                    .filter(|n| n.kind.as_deref().is_none_or(|k| k == super::KIND))
                    .map(|n| make(&n.name, &n.url, n.promotable))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => {
                let url = node_url.expect("checked above");
                parse_node_url(url).map_err(client_error)?;
                let seed = make(url, url, true)?;
                let status = seed.client.status().await.map_err(client_error)?;
                let members = seed.client.members().await.map_err(client_error)?;
                let mut targets = members
                    .iter()
                    .filter(|m| m.state != crate::api::MemberState::Removed)
                    .map(|m| make(&m.name, &m.url, m.promotable))
                    .collect::<Result<Vec<_>, _>>()?;
                if targets.is_empty() {
                    targets.push(make(&status.name, url, true)?);
                }
                (
                    status.cluster,
                    format!("the members list of {url}"),
                    targets,
                )
            }
        };
        let alias = inventory
            .as_ref()
            .and_then(|i| i.file.alias.clone().map(|a| (a, i.file.alias_port)));
        let selected = match &global.node {
            None => None,
            // The alias: the client resolves every address of it and tries them in order.
            Some(n) if alias.as_ref().is_some_and(|(a, _)| a == n) => {
                let (a, port) = alias.clone().expect("checked");
                let port = port.ok_or_else(|| {
                    ProcError::usage(format!(
                        "--node {a}: set alias_port in the cluster file to reach the cluster by its alias"
                    ))
                })?;
                Some(make(&a, &format!("https://{a}:{port}"), false)?)
            }
            Some(n) if n.contains("://") => {
                let url = parse_node_url(n).map_err(client_error)?;
                let url = url.as_str().trim_end_matches('/');
                Some(match targets.iter().find(|t| t.url == url) {
                    Some(t) => t.clone(),
                    None => make(url, url, true)?,
                })
            }
            Some(name) => Some(find(&targets, name, &source)?.clone()),
        };
        let ctx = Context {
            cluster,
            source,
            targets,
            selected,
            options,
            http,
            passphrase: pass,
            inventory,
        };
        ctx.refuse_misconfigured().await?;
        Ok(ctx)
    }

    /// A wrong passphrase or an untrusted certificate on any node is the operator's
    /// configuration, whatever the command: exit 2 saying so, before anything is read or
    /// changed (it was "unreachable" with exit 0, 1 or 3). Asked with the command's own clients
    /// (the probe timeout): a node that does not answer here is remembered, so the command's
    /// probe that follows does not wait for it a second time.
    async fn refuse_misconfigured(&self) -> Result<(), ProcError> {
        let answers = futures_util::future::join_all(
            self.targets
                .iter()
                .map(|t| async move { t.client.status().await.map(|_| ()) }),
        )
        .await;
        let problems: Vec<String> = self
            .targets
            .iter()
            .zip(answers)
            .filter_map(|(t, r)| misconfigured(&t.name, &r.err()?))
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(ProcError::usage(format!(
            "cluster {} is misconfigured on this side:\n  - {}",
            self.cluster,
            problems.join("\n  - ")
        )))
    }

    pub fn target(&self, name: &str) -> Result<&Target, ProcError> {
        find(&self.targets, name, &self.source)
    }

    pub async fn probe(&self) -> ClusterView {
        probe(&self.cluster, &self.targets).await
    }

    /// The node to send a request to: `--node`, else the primary, else any node that answers
    /// (a replica forwards writes to its primary).
    pub async fn default_target(&self) -> Result<Target, ProcError> {
        if let Some(t) = &self.selected {
            return Ok(t.clone());
        }
        let view = self.probe().await;
        let chosen = view
            .primary()
            .or_else(|| view.nodes.iter().find(|n| n.ok().is_some()))
            .map(|n| n.name.clone());
        if let Some(name) = chosen {
            return Ok(self.target(&name)?.clone());
        }
        // Every node refused or failed. A refusal (wrong passphrase, untrusted certificate)
        // is the operator's to fix, so it decides the message and exit code.
        let mut errors = view.nodes.into_iter().filter_map(|n| n.status.err());
        let first = errors.next();
        let refusal = first.as_ref().is_some_and(|e| !e.is_unreachable());
        match first {
            Some(e) if refusal => {
                let mut err = client_error(e);
                err.message = format!(
                    "every node of cluster {} refused: {}",
                    self.cluster, err.message
                );
                Err(err)
            }
            _ => Err(ProcError::failed(format!(
                "no node of cluster {} answered ({} nodes tried)",
                self.cluster,
                self.targets.len()
            ))),
        }
    }
}

/// What is wrong with the operator's configuration for `node`, if `e` says so.
fn misconfigured(node: &str, e: &crate::api::ClientError) -> Option<String> {
    use crate::api::ClientError;
    match e {
        ClientError::Api {
            status: 401, body, ..
        } => Some(format!(
            "wrong passphrase for {node} (401: {}, request id {}): check --passphrase-file, \
             DRCTL_PASSPHRASE or the cluster file's passphrase_file",
            body.message, body.request_id
        )),
        ClientError::Tls { url, detail } => Some(format!(
            "{node}'s certificate is not trusted by the cluster CA ({url}: {detail}): check the \
             cluster file's tls.ca / tls.trust_dir (or --ca)"
        )),
        _ => None,
    }
}

fn find<'a>(targets: &'a [Target], name: &str, source: &str) -> Result<&'a Target, ProcError> {
    crate::util::names::validate_label(name)
        .map_err(|e| ProcError::usage(format!("--node: {e}")))?;
    crate::util::names::lookup(targets, name, |t| &t.name)
        .map_err(|known| ProcError::usage(format!("unknown node '{name}': {source} lists {known}")))
}
