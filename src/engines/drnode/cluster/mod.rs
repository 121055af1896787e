//! A view of the whole cluster: every node probed concurrently, then judged (seed 002's
//! red / orange / green). `status`, `check`, and every procedure's preconditions read this.

mod assess;

use std::time::Duration;

use futures_util::future::join_all;

use std::collections::BTreeMap;

use crate::api::{ClientError, Member, MemberState, NodeClient, NodeStatus, Role, RoleRecord};

pub(crate) use assess::{sync_cell, Assessment, Health};

/// One node as listed in the inventory.
#[derive(Clone)]
pub struct Target {
    pub name: String,
    pub url: String,
    pub promotable: bool,
    pub client: NodeClient,
}

/// One node's answer (or why it gave none).
#[derive(Debug)]
pub struct NodeView {
    pub name: String,
    pub url: String,
    pub promotable: bool,
    pub status: Result<NodeStatus, ClientError>,
    pub elapsed: Duration,
}

impl NodeView {
    pub fn ok(&self) -> Option<&NodeStatus> {
        self.status.as_ref().ok()
    }
}

#[derive(Debug)]
pub struct ClusterView {
    pub cluster: String,
    pub nodes: Vec<NodeView>,
    /// The replicated member list, as the primary (else any answering node) holds it.
    pub members: Vec<Member>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({} {})", self.name, self.url)
    }
}

impl std::fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeClient({})", self.url())
    }
}

/// Asks every node for its status at once; an unreachable node costs one probe timeout, in
/// parallel, and is not waited for again by the command for a while (its client remembers).
pub async fn probe(cluster: &str, targets: &[Target]) -> ClusterView {
    probe_with(cluster, targets, false).await
}

/// [`probe`], but a node that timed out after connecting (it runs: it may only be slow) is
/// asked again with the whole request timeout, on a connection of its own. For decisions that
/// a primary is gone (failover): a node that was only slow once must count as live, fenced or
/// refused for exactly as before the short probe timeout. A stopped or cut-off one cannot
/// finish a handshake, so it costs at most the connect timeout more.
pub async fn probe_patiently(cluster: &str, targets: &[Target]) -> ClusterView {
    probe_with(cluster, targets, true).await
}

/// Every node's status and nothing more: no member list (a second round trip, to the node the
/// members are read from). For a decision that reads only the nodes' own statuses.
pub async fn probe_statuses(cluster: &str, targets: &[Target]) -> ClusterView {
    statuses(cluster, targets, false).await
}

async fn statuses(cluster: &str, targets: &[Target], patient: bool) -> ClusterView {
    let nodes = join_all(targets.iter().map(|t| probe_one(cluster, t, patient))).await;
    ClusterView {
        cluster: cluster.to_string(),
        nodes,
        members: Vec::new(),
    }
}

async fn probe_with(cluster: &str, targets: &[Target], patient: bool) -> ClusterView {
    let mut view = statuses(cluster, targets, patient).await;
    let source = view.members_source().map(|n| n.name.clone());
    if let Some(t) = source.and_then(|name| targets.iter().find(|t| t.name == name)) {
        view.members = t.client.members().await.unwrap_or_default();
    }
    view
}

/// One node's answer to a probe.
async fn probe_one(cluster: &str, t: &Target, patient: bool) -> NodeView {
    let started = std::time::Instant::now();
    let mut answer = t.client.status_with_certificate().await;
    if patient && answer.as_ref().is_err_and(ClientError::maybe_slow) {
        tracing::debug!(node = %t.name, "timed out after connecting: asked again patiently");
        answer = t.client.status_patiently().await;
    }
    // A node of another cluster (same CA and passphrase) answers, but is no member here;
    // so is one presenting a certificate `drctl certs` made for another cluster.
    let status = answer.and_then(|(s, cert)| {
        let certified = cert
            .as_deref()
            .and_then(crate::api::client::certificate_cluster);
        if s.cluster != cluster {
            Err(ClientError::WrongCluster {
                url: t.url.clone(),
                node: t.name.clone(),
                cluster: s.cluster,
                expected: cluster.to_string(),
            })
        } else if let Some(names) = certified.filter(|c| c != cluster) {
            Err(ClientError::CertificateCluster {
                url: t.url.clone(),
                node: t.name.clone(),
                names,
                expected: cluster.to_string(),
            })
        } else {
            Ok(s)
        }
    });
    NodeView {
        name: t.name.clone(),
        url: t.url.clone(),
        promotable: t.promotable,
        status,
        elapsed: started.elapsed(),
    }
}

/// What one probe read: the answering nodes' statuses and the member list. A procedure's
/// preflight checks read it instead of asking each node once per step.
#[derive(Debug)]
pub struct Reading {
    statuses: BTreeMap<String, NodeStatus>,
    members: Vec<Member>,
}

impl Reading {
    pub fn of(view: &ClusterView) -> Reading {
        Reading {
            statuses: view
                .nodes
                .iter()
                .filter_map(|n| Some((n.name.clone(), n.ok()?.clone())))
                .collect(),
            members: view.members.clone(),
        }
    }

    pub fn status(&self, name: &str) -> Option<&NodeStatus> {
        self.statuses.get(name)
    }

    /// The view as read; a node that did not answer then is asked again (it costs little: a
    /// stopped node refuses at once, and a silent one is remembered by its client).
    pub async fn view(&self, cluster: &str, targets: &[Target]) -> ClusterView {
        let nodes = join_all(targets.iter().map(|t| async move {
            match self.statuses.get(&t.name) {
                Some(s) => NodeView {
                    name: t.name.clone(),
                    url: t.url.clone(),
                    promotable: t.promotable,
                    status: Ok(s.clone()),
                    elapsed: Duration::ZERO,
                },
                None => probe_one(cluster, t, false).await,
            }
        }))
        .await;
        ClusterView {
            cluster: cluster.to_string(),
            nodes,
            members: self.members.clone(),
        }
    }
}

impl ClusterView {
    /// Some node timed out after connecting, before the request timeout ([`ClientError::maybe_slow`]): it runs, and may
    /// only be slow.
    pub fn maybe_slow(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.status.as_ref().is_err_and(ClientError::maybe_slow))
    }

    /// The highest epoch any reachable node reports.
    pub fn epoch(&self) -> u64 {
        self.nodes
            .iter()
            .filter_map(NodeView::ok)
            .map(|s| s.epoch)
            .max()
            .unwrap_or(0)
    }

    /// The reachable primary at the cluster epoch, if there is exactly one.
    pub fn primary(&self) -> Option<&NodeView> {
        let epoch = self.epoch();
        let mut primaries = self.nodes.iter().filter(|n| {
            n.ok()
                .is_some_and(|s| s.role == Role::Primary && s.epoch == epoch)
        });
        let first = primaries.next()?;
        primaries.next().is_none().then_some(first)
    }

    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The names of the nodes that did not answer.
    pub fn silent(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| n.ok().is_none())
            .map(|n| n.name.as_str())
            .collect()
    }

    /// The node the member list is read from: the primary, else the first that answers.
    pub fn members_source(&self) -> Option<&NodeView> {
        self.primary()
            .or_else(|| self.nodes.iter().find(|n| n.ok().is_some()))
    }

    /// The name of the node at `url`, if it is in the inventory.
    pub fn name_of(&self, url: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.url == url || n.ok().is_some_and(|s| s.url == url))
            .map(|n| n.name.as_str())
    }

    /// Each operation-master role's record with the highest role epoch any node holds: an old
    /// holder's stale record never counts.
    pub fn roles(&self) -> BTreeMap<String, RoleRecord> {
        let mut out: BTreeMap<String, RoleRecord> = BTreeMap::new();
        for s in self.nodes.iter().filter_map(NodeView::ok) {
            for (role, rec) in &s.roles {
                if out.get(role).is_none_or(|cur| rec.epoch > cur.epoch) {
                    out.insert(role.clone(), rec.clone());
                }
            }
        }
        out
    }

    /// The roles `host_id` holds by the authoritative records.
    pub fn roles_held(&self, host_id: &str) -> Vec<String> {
        self.roles()
            .into_iter()
            .filter(|(_, r)| r.holder == host_id)
            .map(|(role, _)| role)
            .collect()
    }

    /// The member record of an inventory node (by host id when it answers, else by name).
    pub fn member(&self, node: &NodeView) -> Option<&Member> {
        match node.ok() {
            Some(s) => self.members.iter().find(|m| m.host_id == s.host_id),
            None => self.members.iter().find(|m| m.name == node.name),
        }
    }

    /// The node (inventory name) a host id belongs to.
    pub fn name_of_host(&self, host_id: &str) -> Option<String> {
        self.nodes
            .iter()
            .find(|n| n.ok().is_some_and(|s| s.host_id == host_id))
            .map(|n| n.name.clone())
            .or_else(|| {
                self.members
                    .iter()
                    .find(|m| m.host_id == host_id)
                    .map(|m| m.name.clone())
            })
    }

    pub fn is_removed(&self, node: &NodeView) -> bool {
        self.member(node)
            .is_some_and(|m| m.state == MemberState::Removed)
    }

    pub fn assess(&self) -> Assessment {
        assess::assess(self)
    }
}
