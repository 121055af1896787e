//! Bringing an openldap lab up (for `drctl lab up --kind openldap` and the drills): start every
//! slapd, seed the suffix on the provider as its rootDN, wait until every consumer holds it; and
//! the lab as the `Lab` trait offers it to `drctl lab`.

use std::collections::HashSet;
use std::ops::ControlFlow::{Break, Continue};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::lab::{self as ll, LdapLab};
use crate::engines::openldap::{nodes_of, LdapCluster, LdapNode};
use crate::lab::{Lab, LabError, LabKind, LabRow, ProcState, Sig};
use crate::util::poll;

fn failed(e: impl std::fmt::Display) -> LabError {
    LabError::Failed(e.to_string())
}

/// The lab's openldap nodes as its cluster file lists them.
pub fn nodes(lab: &LdapLab) -> Result<Vec<LdapNode>, LabError> {
    let inv = crate::engines::load_inventory(&lab.cluster_file()).map_err(failed)?;
    let mut n = nodes_of(&inv).map_err(failed)?;
    n.truncate(lab.nodes.len());
    Ok(n)
}

/// A node as the suffix's rootDN (for writing data; the cluster file binds as cn=config's).
pub fn as_admin(node: &LdapNode) -> LdapNode {
    let mut admin = node.clone();
    admin.bind_dn = ll::ADMIN_DN.into();
    admin
}

/// Starts the provider and seeds its suffix, then starts the consumers and waits (up to
/// `deadline`) until the lab converged. Seeded first, the consumers' first refresh finds the
/// suffix: started before, it found none and retried a second later (`retry="1 +"`), and the
/// lab took 0.3–1.2 s to come up as that retry fell.
pub async fn up(lab: &LdapLab, deadline: Duration) -> Result<LdapCluster, LabError> {
    let (provider, consumers) = lab
        .nodes
        .split_first()
        .ok_or_else(|| failed("the lab has no node"))?;
    lab.start(&provider.name)?;
    let nodes = nodes(lab)?;
    seed(lab, &nodes[0]).await?;
    consumers.iter().try_for_each(|n| lab.start(&n.name))?;
    converge(nodes, deadline).await
}

/// Adds the suffix, the people OU and the replicator's entry on the provider.
async fn seed(lab: &LdapLab, provider: &LdapNode) -> Result<(), LabError> {
    let pw = lab.password()?;
    let mut s = as_admin(provider)
        .connect(Duration::from_secs(2))
        .await
        .map_err(failed)?;
    let set = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<HashSet<String>>();
    let base = [
        (
            ll::SUFFIX.to_string(),
            vec![
                ("objectClass", set(&["dcObject", "organization"])),
                ("dc", set(&["example"])),
                ("o", set(&["Example"])),
            ],
        ),
        (
            format!("ou=people,{}", ll::SUFFIX),
            vec![
                ("objectClass", set(&["organizationalUnit"])),
                ("ou", set(&["people"])),
            ],
        ),
        (
            ll::REPL_DN.to_string(),
            vec![
                (
                    "objectClass",
                    set(&["organizationalRole", "simpleSecurityObject"]),
                ),
                ("cn", set(&["replicator"])),
                ("userPassword", set(&[&pw])),
            ],
        ),
    ];
    for (dn, attrs) in base {
        s.add(
            &dn,
            attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        )
        .await
        .map_err(failed)?;
    }
    s.close().await;
    Ok(())
}

/// Waits until every node holds the provider's data.
async fn converge(nodes: Vec<LdapNode>, deadline: Duration) -> Result<LdapCluster, LabError> {
    let cl = LdapCluster::new(
        "ldap-lab",
        nodes,
        Duration::from_secs(1),
        Duration::from_secs(30),
    );
    poll::within(deadline, Duration::from_millis(20), || async {
        let view = cl.probe().await;
        let a = view.assess();
        let fps: HashSet<String> = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| s.fingerprint.clone()))
            .collect();
        if a.healthy && fps.len() == 1 {
            Break(())
        } else {
            Continue(a.problems)
        }
    })
    .await
    .map_err(|problems| {
        failed(format!(
            "the openldap lab did not converge within {} s: {}",
            deadline.as_secs(),
            problems.join("; ")
        ))
    })?;
    Ok(cl)
}

/// The OpenLDAP lab as the registry knows it.
pub const LAB: LabKind = LabKind {
    state_file: ll::STATE_FILE,
    unavailable: ll::missing_tools,
    create: |dir, o| Ok(Box::new(LdapLab::create(dir, o.nodes)?)),
    open: |dir| Ok(Box::new(LdapLab::open(dir)?)),
    tls: None,
    beside: true,
};

impl Lab for LdapLab {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn cluster_file(&self) -> PathBuf {
        LdapLab::cluster_file(self)
    }

    fn rows(&self) -> Vec<LabRow> {
        self.nodes
            .iter()
            .map(|n| {
                let pid = self.pid(&n.name);
                let state = match pid {
                    Some(pid) => {
                        crate::lab::process::state(pid, &self.dir.join(&n.name).join("slapd.d"))
                    }
                    None => ProcState::Stopped,
                };
                LabRow {
                    name: n.name.clone(),
                    pid,
                    state,
                    url: format!("ldap://{}:{}", self.host(&n.name), n.port),
                }
            })
            .collect()
    }

    fn start(&mut self, node: &str) -> Result<u32, LabError> {
        LdapLab::start(self, node)?;
        self.pid(node).ok_or_else(|| {
            LabError::Failed(format!("slapd for {node} exited right after it started"))
        })
    }

    fn signal(&mut self, node: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        LdapLab::signal(self, node, sig)
    }

    fn up(&mut self, deadline: Duration) -> BoxFuture<'_, Result<(), LabError>> {
        Box::pin(async move { up(self, deadline).await.map(|_| ()) })
    }

    fn wait_up<'a>(
        &'a self,
        node: &'a str,
        deadline: Duration,
    ) -> BoxFuture<'a, Result<(), LabError>> {
        Box::pin(async move {
            let (host, port) = (self.host(node), self.node(node)?.port);
            poll::within(deadline, Duration::from_millis(10), || async {
                let connect = tokio::net::TcpStream::connect((host, port));
                poll::holds(matches!(
                    tokio::time::timeout(Duration::from_millis(500), connect).await,
                    Ok(Ok(_))
                ))
            })
            .await
            .map_err(|()| {
                LabError::Failed(format!(
                    "slapd for {node} does not answer on port {port} after {} s",
                    deadline.as_secs()
                ))
            })
        })
    }

    fn log_file(&self, node: &str) -> Option<PathBuf> {
        Some(self.dir.join(node).join("slapd.log"))
    }

    fn try_next(&self) -> &'static str {
        "  drctl candidates\n  drctl lab kill node-1        # SIGKILL the provider\n  \
         drctl failover --to node-2 --dry-run\n"
    }

    fn down(self: Box<Self>, keep: bool) -> Result<Vec<String>, LabError> {
        LdapLab::down(*self, keep)
    }
}
