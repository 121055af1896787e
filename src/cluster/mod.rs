//! A view of the whole cluster: every node probed concurrently, then judged (seed 002's
//! red / orange / green). `status`, `check`, and every procedure's preconditions read this.

mod assess;

use std::time::Duration;

use futures_util::future::join_all;

use crate::api::{ClientError, NodeClient, NodeStatus, Role};

pub use assess::{Assessment, Health, NodeAssessment};

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

/// Asks every node for its status at once; an unreachable node costs one timeout, in parallel.
pub async fn probe(cluster: &str, targets: &[Target]) -> ClusterView {
    let nodes = join_all(targets.iter().map(|t| async move {
        let started = std::time::Instant::now();
        let status = t.client.status().await;
        NodeView {
            name: t.name.clone(),
            url: t.url.clone(),
            promotable: t.promotable,
            status,
            elapsed: started.elapsed(),
        }
    }))
    .await;
    ClusterView {
        cluster: cluster.to_string(),
        nodes,
    }
}

impl ClusterView {
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

    /// The name of the node at `url`, if it is in the inventory.
    pub fn name_of(&self, url: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.url == url || n.ok().is_some_and(|s| s.url == url))
            .map(|n| n.name.as_str())
    }

    pub fn assess(&self) -> Assessment {
        assess::assess(self)
    }
}
