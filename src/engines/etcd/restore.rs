//! Snapshots and the restore of a whole cluster from one (`procedure.snapshot`,
//! `procedure.restore`; the bundled `etcd-snapshot` and `etcd-restore-snapshot`): every member
//! stopped, its data directory moved aside, the snapshot restored into a new one with
//! `etcdctl snapshot restore` (a new cluster id: the token is derived from the snapshot's
//! SHA-256, so a rerun restores the same cluster and finds it done), then every member started
//! at once (a restored member answers only once a quorum of them runs). Writes acknowledged
//! after the snapshot was taken are lost, by design: the plan says so first.

use std::path::{Path, PathBuf};

use futures_util::future::join_all;
use serde::Serialize;
use sha2::Digest;

use super::assess::{Assessment, EtcdView};
use super::client::answered;
use super::rejoin::host;
use super::EtcdCluster;
use crate::engine::{Act, Check, Plan, ProcError, Step};

/// The marker a restored data directory carries: the token it was restored with.
const MARKER: &str = "drctl-restored-token";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum Restore {
    /// Save a snapshot of `node` to `path`; done when the file exists.
    Snapshot { node: String, path: PathBuf },
    /// Stop a member; done when it does not answer (or already holds the restore).
    Stop {
        node: String,
        data_dir: PathBuf,
        token: String,
    },
    /// Move the data directory aside, restore the snapshot into a new one.
    Replace {
        node: String,
        snapshot: PathBuf,
        data_dir: PathBuf,
        aside: PathBuf,
        initial_cluster: String,
        peer_url: String,
        token: String,
    },
    /// Start every member at once; done when every data directory holds the restore and every
    /// member answers in one healthy cluster with a leader.
    StartAll {
        nodes: Vec<String>,
        data_dirs: Vec<PathBuf>,
        token: String,
    },
}

fn restored(data_dir: &Path, token: &str) -> bool {
    std::fs::read_to_string(data_dir.join(MARKER)).is_ok_and(|t| t.trim() == token)
}

/// A relative path is in the export directory.
pub(super) fn resolve(p: &str, export_dir: &Path) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        export_dir.join(p)
    }
}

/// `procedure.snapshot`: from the leader, else the member with the highest raft index.
pub(super) fn snapshot_plan(
    view: &EtcdView,
    a: &Assessment,
    path: PathBuf,
) -> Result<Plan<Restore>, ProcError> {
    let node = a.leader.clone().or_else(|| {
        view.nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| (n, s.status.raft_index)))
            .max_by_key(|x| x.1)
            .map(|x| x.0.name.clone())
    });
    let node = node
        .ok_or_else(|| ProcError::refused("no member answers: nothing to snapshot").unchanged())?;
    let mut plan = Plan::new("etcd snapshot");
    plan.step(Step::new(Restore::Snapshot { node, path }));
    Ok(plan)
}

/// `procedure.restore`: the whole cluster from `snapshot`.
pub(super) fn restore_plan(
    cl: &EtcdCluster,
    a: &Assessment,
    snapshot: PathBuf,
) -> Result<Plan<Restore>, ProcError> {
    let bytes = std::fs::read(&snapshot)
        .map_err(|e| ProcError::usage(format!("snapshot {}: {e}", snapshot.display())))?;
    if !super::bench::which("etcdctl") {
        return Err(ProcError::refused(
            "etcdctl not installed (apt-get install etcd-client): it restores the snapshot",
        )
        .unchanged());
    }
    for n in &cl.nodes {
        let missing: Vec<&str> = [
            ("peer_url", n.peer_url.is_none()),
            ("data_dir", n.data_dir.is_none()),
            ("start_command", n.start_command.is_none()),
            ("stop_command", n.stop_command.is_none()),
        ]
        .into_iter()
        .filter_map(|(f, m)| m.then_some(f))
        .collect();
        if !missing.is_empty() {
            return Err(ProcError::usage(format!(
                "{}: a restore needs {} in the cluster file",
                n.name,
                missing.join(", ")
            )));
        }
    }
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let token = format!("drctl-restore-{}", &sha[..16]);
    let initial = cl
        .nodes
        .iter()
        .map(|n| format!("{}={}", n.name, n.peer_url.as_deref().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",");
    let mut plan = Plan::new("etcd restore");
    plan.note(format!(
        "{} ({} bytes, sha256 {}) replaces the data of every member: writes acknowledged after it was taken are lost; the cluster gets a new id (now {})",
        snapshot.display(),
        bytes.len(),
        &sha[..16],
        a.cluster_id.map_or("unknown: no member answers".into(), |c| format!("{c:x}"))
    ));
    plan.confirm = Some(format!(
        "Stop every member and replace its data with {}?",
        snapshot.display()
    ));
    for n in &cl.nodes {
        plan.step(Step::new(Restore::Stop {
            node: n.name.clone(),
            data_dir: n.data_dir.clone().expect("checked"),
            token: token.clone(),
        }));
    }
    for (i, n) in cl.nodes.iter().enumerate() {
        let data_dir = n.data_dir.clone().expect("checked");
        let mut aside = data_dir.clone().into_os_string();
        aside.push(format!(".before-restore-{}", cl.run_id));
        let mut step = Step::new(Restore::Replace {
            node: n.name.clone(),
            snapshot: snapshot.clone(),
            data_dir,
            aside: aside.into(),
            initial_cluster: initial.clone(),
            peer_url: n.peer_url.clone().expect("checked"),
            token: token.clone(),
        });
        if i == 0 {
            step = step.point_of_no_return();
        }
        plan.step(step);
    }
    plan.step(Step::new(Restore::StartAll {
        nodes: cl.nodes.iter().map(|n| n.name.clone()).collect(),
        data_dirs: cl.nodes.iter().filter_map(|n| n.data_dir.clone()).collect(),
        token,
    }));
    Ok(plan)
}

impl Restore {
    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, cl: &EtcdCluster) -> Result<Result<String, String>, ProcError> {
        match self {
            Restore::Snapshot { path, .. } => Ok(match std::fs::metadata(path) {
                Ok(m) => Ok(format!("{} holds {} bytes", path.display(), m.len())),
                Err(_) => Err(format!("no {}", path.display())),
            }),
            Restore::Stop {
                node,
                data_dir,
                token,
            } => {
                if restored(data_dir, token) {
                    return Ok(Ok(format!("{node} holds the restore")));
                }
                let url = &cl.node(node)?.url;
                Ok(if answered(&cl.client.status(url).await) {
                    Err(format!("{node} answers"))
                } else {
                    Ok(format!("{node} does not answer"))
                })
            }
            Restore::Replace {
                node,
                data_dir,
                token,
                ..
            } => Ok(if restored(data_dir, token) {
                Ok(format!("{node}'s data directory holds the restore"))
            } else {
                Err(format!("{node}'s data directory is not the restore"))
            }),
            Restore::StartAll {
                nodes,
                data_dirs,
                token,
            } => {
                if let Some(d) = data_dirs.iter().find(|d| !restored(d, token)) {
                    return Ok(Err(format!("{} does not hold the restore", d.display())));
                }
                let view = cl.probe().await;
                let a = view.assess();
                let down: Vec<&str> = view
                    .nodes
                    .iter()
                    .filter(|n| n.state.is_err())
                    .map(|n| n.name.as_str())
                    .collect();
                Ok(if !down.is_empty() {
                    Err(format!("{} do(es) not answer", down.join(", ")))
                } else if a.leader.is_none() || a.members.len() != nodes.len() || !a.healthy {
                    Err(format!(
                        "leader {:?}, {} member(s): {}",
                        a.leader,
                        a.members.len(),
                        a.problems.join("; ")
                    ))
                } else {
                    Ok(format!(
                        "{} members in cluster {:x}, {} leads",
                        nodes.len(),
                        a.cluster_id.unwrap_or_default(),
                        a.leader.unwrap_or_default()
                    ))
                })
            }
        }
    }

    async fn run(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        let timeout = cl.step_timeout;
        match self {
            Restore::Snapshot { node, path } => {
                let n = cl.node(node)?;
                let db = cl
                    .client
                    .snapshot(&n.url)
                    .await
                    .map_err(|e| ProcError::failed(format!("snapshot of {node}: {e}")))?;
                crate::export_file::write_new(path, &db)?;
                Ok(Some(format!(
                    "{} bytes of {node} in {}",
                    db.len(),
                    path.display()
                )))
            }
            Restore::Stop { node, .. } => {
                let n = cl.node(node)?;
                let c = n.stop_command.as_deref().unwrap_or_default();
                host(&format!("{node}'s stop_command"), c, &[], timeout).await?;
                Ok(Some(format!("ran: {c}")))
            }
            Restore::Replace {
                node,
                snapshot,
                data_dir,
                aside,
                initial_cluster,
                peer_url,
                token,
            } => {
                if answered(&cl.client.status(&cl.node(node)?.url).await) {
                    return Err(ProcError::refused(format!(
                        "{node} answers: its data directory is not replaced while it runs"
                    )));
                }
                if data_dir.exists() {
                    std::fs::rename(data_dir, aside).map_err(|e| {
                        ProcError::failed(format!("move {} aside: {e}", data_dir.display()))
                    })?;
                }
                let out = tokio::process::Command::new("etcdctl")
                    .arg("snapshot")
                    .arg("restore")
                    .arg(snapshot)
                    .args(["--name", node])
                    .arg("--data-dir")
                    .arg(data_dir)
                    .args(["--initial-cluster", initial_cluster])
                    .args(["--initial-cluster-token", token])
                    .args(["--initial-advertise-peer-urls", peer_url])
                    .output()
                    .await
                    .map_err(|e| ProcError::failed(format!("etcdctl: {e}")))?;
                if !out.status.success() {
                    return Err(ProcError::failed(format!(
                        "etcdctl snapshot restore for {node}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
                let marker = data_dir.join(MARKER);
                std::fs::write(&marker, token)
                    .map_err(|e| ProcError::failed(format!("write {}: {e}", marker.display())))?;
                Ok(Some(format!(
                    "{} restored into {} (the old one is {})",
                    snapshot.display(),
                    data_dir.display(),
                    aside.display()
                )))
            }
            Restore::StartAll { nodes, .. } => {
                let starts = nodes.iter().map(|name| async move {
                    let n = cl.node(name)?;
                    let c = n.start_command.as_deref().unwrap_or_default();
                    host(&format!("{name}'s start_command"), c, &[], timeout).await
                });
                for r in join_all(starts).await {
                    r?;
                }
                Ok(Some(format!("started {}", nodes.join(", "))))
            }
        }
    }
}

impl Act for Restore {
    type Ctx = EtcdCluster;
    fn describe(&self) -> String {
        match self {
            Restore::Snapshot { node, path } => {
                format!("save a snapshot of {node} to {}", path.display())
            }
            Restore::Stop { node, .. } => format!("stop {node} (its stop_command)"),
            Restore::Replace { node, snapshot, .. } => format!(
                "restore {} into a new data directory for {node} (the old one moved aside)",
                snapshot.display()
            ),
            Restore::StartAll { nodes, .. } => {
                format!(
                    "start {} at once and verify they form one new cluster",
                    nodes.join(", ")
                )
            }
        }
    }
    async fn check(&self, cl: &EtcdCluster) -> Result<Check, ProcError> {
        super::steps::check_holds(self.holds(cl).await)
    }
    async fn apply(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        self.run(cl).await
    }
    async fn verify(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        super::steps::verify_holds(cl, self.describe(), || self.holds(cl)).await
    }
}
