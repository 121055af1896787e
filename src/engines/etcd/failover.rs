//! Failover after a lost quorum (`procedure.failover`, the bundled `forced-failover`): save a
//! snapshot of the survivor with the highest raft index, fence every other voting member
//! (stopped, its data directory moved aside, so the old membership can never form a quorum
//! again: the split brain of `shared/engine-labs/etcd/README.md` §2.5), then start the survivor
//! once with ETCD_FORCE_NEW_CLUSTER=true: a cluster of itself alone, with its data, member id
//! and cluster id. The fenced members come back with `etcd-rejoin-member`.
//!
//! A fenced member's data directory is replaced by a marker file, which etcd cannot start on:
//! moved aside alone, it left an empty place that a restart filled, and when the failover had
//! stopped before forcing the new cluster (its old membership still in force once the quorum
//! was back) the member joined again under its old id with no log and no vote, a voter that
//! can elect a leader missing acknowledged writes (found building `chaos --kind etcd`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::assess::{quorum, Assessment, EtcdView, Role};
use super::client::answered;
use super::rejoin::host;
use super::EtcdCluster;
use crate::engine::{Act, Check, Plan, ProcError, Step};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum Failover {
    /// A member leads already: nothing to fail over (a rerun).
    Led { node: String },
    /// Save the survivor's database (`snapshot save` works without quorum).
    Snapshot { node: String, path: PathBuf },
    /// Stop a member that must never serve the old membership again, move its data directory
    /// aside and put a marker file in its place (`force`: without a data directory or a
    /// working stop command, on the operator's word that it is destroyed).
    Fence {
        node: String,
        data_dir: Option<PathBuf>,
        to: Option<PathBuf>,
        force: bool,
    },
    /// Restart the survivor once with ETCD_FORCE_NEW_CLUSTER=true; done when it leads a
    /// membership of itself alone. `fenced`: the members the failover fenced before.
    ForceNewCluster { node: String, fenced: Vec<String> },
}

/// What a failover leaves beside its survivor's data directory while it restarts it to force a
/// new cluster (between the stop and the start, no member answers): the survivor and the
/// members fenced before. A failover stopped there is finished by a rerun or `run --resume`
/// (chaos `--kind etcd` seed 9104: the resume refused "no member answers" for good, and the
/// survivor, started again as it was, could not serve without the quorum it no longer had).
#[derive(Debug, Serialize, serde::Deserialize)]
struct Forcing {
    node: String,
    fenced: Vec<String>,
}

fn forcing_path(data_dir: &Path) -> PathBuf {
    let mut p = data_dir.as_os_str().to_owned();
    p.push(".forcing-new-cluster");
    PathBuf::from(p)
}

/// The survivor of a failover stopped while it forced a new cluster, if every member it fenced
/// is fenced still (a rejoin moves a fence marker aside: then the record is stale).
fn stopped_forcing(cl: &EtcdCluster) -> Option<Forcing> {
    cl.nodes.iter().find_map(|n| {
        let text = std::fs::read_to_string(forcing_path(n.data_dir.as_ref()?)).ok()?;
        let f: Forcing = serde_json::from_str(&text).ok()?;
        let fenced = |name: &String| {
            cl.nodes
                .iter()
                .find(|m| &m.name == name)
                .and_then(|m| m.data_dir.as_ref())
                .is_some_and(|d| d.is_file())
        };
        (f.node == n.name && !f.fenced.is_empty() && f.fenced.iter().all(fenced)).then_some(f)
    })
}

/// The plan from one probe; `to`: the survivor to keep (default: the highest raft index).
pub(super) fn plan(
    cl: &EtcdCluster,
    view: &EtcdView,
    a: &Assessment,
    to: Option<&str>,
    force: bool,
    export_dir: &Path,
) -> Result<Plan<Failover>, ProcError> {
    if let Some(t) = to {
        cl.node(t)?;
    }
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let mut plan = Plan::new("etcd failover");
    let (voters, live) = a.voters(view);
    if let Some(l) = a.leader.as_ref().filter(|_| live < quorum(voters)) {
        return refuse(format!(
            "{l} still calls itself leader while {live} of {voters} voting members answer: a leader without quorum steps down within an election timeout (about 1 s); look again"
        ));
    }
    if let Some(l) = &a.leader {
        if to.is_some_and(|t| t != l) {
            return refuse(format!(
                "{l} leads: nothing to fail over; use `drctl switchover --to {}`",
                to.unwrap_or_default()
            ));
        }
        plan.step(Step::new(Failover::Led { node: l.clone() }));
        return Ok(plan);
    }
    // A member that answers but cannot be read may lead a quorum drctl cannot see: forcing a
    // new cluster beside it would make two.
    let answering: Vec<String> = view
        .nodes
        .iter()
        .filter_map(|n| match &n.state {
            Err(e) if e.is_unreadable() => Some(format!("{} ({})", n.name, e.brief())),
            _ => None,
        })
        .collect();
    if !answering.is_empty() {
        return refuse(format!(
            "{} answer(s) but cannot be read: a member that answers is not lost, and may lead a quorum drctl cannot read; a new cluster forced beside it would make two (a split brain). Fix the cluster file so that drctl reads it (`drctl status` says what to fix), then look again",
            answering.join(", ")
        ));
    }
    if a.members.is_empty() {
        let Some(f) = stopped_forcing(cl) else {
            return refuse("no member answers: there is no survivor to fail over to".into());
        };
        if to.is_some_and(|t| t != f.node) {
            return refuse(format!(
                "a failover fenced {} and stopped while it forced a new cluster from {}: finish it with `drctl failover --to {}`",
                f.fenced.join(", "),
                f.node,
                f.node
            ));
        }
        plan.note(format!(
            "a failover fenced {} and stopped while it forced a new cluster from {}: finishing it",
            f.fenced.join(", "),
            f.node
        ));
        plan.step(Step::new(Failover::ForceNewCluster {
            node: f.node,
            fenced: f.fenced,
        }));
        return Ok(plan);
    }
    if live >= quorum(voters) {
        return Err(super::procedures::no_leader(view, a, "be failed over"));
    }
    let survivors: Vec<(&str, u64)> = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .filter(|(_, na)| na.role == Some(Role::Follower))
        .filter_map(|(n, _)| Some((n.name.as_str(), n.state.as_ref().ok()?.status.raft_index)))
        .collect();
    let target = match to {
        Some(t) => survivors
            .iter()
            .find(|s| s.0 == t)
            .copied()
            .ok_or_else(|| {
                ProcError::refused(format!("{t} is not a voting member that answers")).unchanged()
            })?,
        None => survivors
            .iter()
            .filter(|s| cl.node(s.0).is_ok_and(|n| n.promotable))
            .max_by_key(|s| s.1)
            .copied()
            .ok_or_else(|| ProcError::refused("no promotable voting member answers").unchanged())?,
    };
    let t = cl.node(target.0)?;
    if t.start_command.is_none() || t.stop_command.is_none() {
        return Err(ProcError::usage(format!(
            "{}: a failover restarts it: it needs start_command and stop_command in the cluster file",
            t.name
        )));
    }
    plan.note(format!(
        "quorum lost: {live} of {voters} voting members answer; {} keeps its data at raft index {}",
        target.0, target.1
    ));
    for (name, index) in survivors.iter().filter(|s| s.0 != target.0) {
        plan.note(format!(
            "{name} answers at raft index {index}: it is fenced and rejoins later"
        ));
    }
    plan.note(format!(
        "at risk: entries the lost members committed after raft index {}",
        target.1
    ));
    let path = crate::util::words::absolute(
        &export_dir.join(format!("etcd-{}-{}.db", target.0, cl.run_id)),
    );
    plan.step(Step::new(Failover::Snapshot {
        node: target.0.to_string(),
        path,
    }));
    // Every other voting member: the old membership must never form a quorum again.
    let mut fenced = Vec::new();
    for m in a.members.iter().filter(|m| !m.is_learner) {
        let node = cl
            .nodes
            .iter()
            .find(|n| a.member_of(view, &n.name).is_some_and(|x| x.id == m.id));
        let Some(n) = node else {
            if !force {
                return refuse(format!(
                    "member {:x} ({}) is not in the cluster file, so drctl cannot fence it: destroy it, then give --force",
                    m.id,
                    m.peer_urls.join(",")
                ));
            }
            plan.note(format!("--force: member {:x} is not fenced by drctl", m.id));
            continue;
        };
        if n.name == target.0 {
            continue;
        }
        if (n.data_dir.is_none() || n.stop_command.is_none()) && !force {
            return refuse(format!(
                "{} has no data_dir or stop_command in the cluster file, so drctl cannot fence it: make sure it is destroyed, then give --force",
                n.name
            ));
        }
        let to = n.data_dir.as_ref().map(|d| {
            let mut p = d.clone().into_os_string();
            p.push(format!(".fenced-{}", cl.run_id));
            PathBuf::from(p)
        });
        fenced.push(n.name.clone());
        plan.step(Step::new(Failover::Fence {
            node: n.name.clone(),
            data_dir: n.data_dir.clone(),
            to,
            force,
        }));
    }
    if let Some(first) = plan
        .steps
        .iter_mut()
        .find(|s| matches!(s.action, Failover::Fence { .. }))
    {
        first.point_of_no_return = true;
    }
    plan.confirm = Some(format!(
        "Force a new cluster from {} alone, fencing {} (data directories moved aside)?",
        target.0,
        if fenced.is_empty() {
            "nobody".to_string()
        } else {
            fenced.join(", ")
        }
    ));
    plan.step(Step::new(Failover::ForceNewCluster {
        node: target.0.to_string(),
        fenced,
    }));
    Ok(plan)
}

impl Failover {
    fn node(&self) -> &str {
        match self {
            Failover::Led { node }
            | Failover::Snapshot { node, .. }
            | Failover::Fence { node, .. }
            | Failover::ForceNewCluster { node, .. } => node,
        }
    }

    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, cl: &EtcdCluster) -> Result<Result<String, String>, ProcError> {
        let node = self.node();
        if let Failover::Snapshot { path, .. } = self {
            return Ok(match std::fs::metadata(path) {
                Ok(m) => Ok(format!("{} holds {} bytes", path.display(), m.len())),
                Err(_) => Err(format!("no {}", path.display())),
            });
        }
        let view = cl.probe().await;
        let a = view.assess();
        let answers = view.node(node).is_some_and(|n| answered(&n.state));
        Ok(match self {
            Failover::Led { .. } => match &a.leader {
                Some(l) => Ok(format!("{l} leads")),
                None => Err("no leader".into()),
            },
            Failover::Fence { data_dir, .. } => {
                if answers {
                    Err(format!("{node} answers"))
                } else if let Some(d) = data_dir.as_ref().filter(|d| d.is_dir()) {
                    Err(format!("{} exists", d.display()))
                } else if let Some(d) = data_dir.as_ref().filter(|d| !d.is_file()) {
                    Err(format!("no fence marker at {}", d.display()))
                } else {
                    Ok(format!(
                        "{node} does not answer and its data directory is a fence marker"
                    ))
                }
            }
            Failover::ForceNewCluster { .. } => {
                let id = view
                    .state(node)
                    .map(|s| s.status.header.member_id)
                    .unwrap_or_default();
                if a.leader.as_deref() == Some(node)
                    && a.members.len() == 1
                    && a.members[0].id == id
                {
                    Ok(format!("{node} leads a membership of itself alone"))
                } else {
                    Err(format!(
                        "leader {}, {} member(s)",
                        a.leader.as_deref().unwrap_or("none"),
                        a.members.len()
                    ))
                }
            }
            Failover::Snapshot { .. } => unreachable!("answered above"),
        })
    }

    async fn run(&self, cl: &EtcdCluster) -> Result<Option<String>, ProcError> {
        let n = cl.node(self.node())?;
        let timeout = cl.step_timeout;
        let stop = || async {
            let c = n.stop_command.as_deref().unwrap_or_default();
            host(&format!("{}'s stop_command", n.name), c, &[], timeout).await
        };
        match self {
            Failover::Led { .. } => Ok(None),
            Failover::Snapshot { path, .. } => {
                let (db, how) = match cl.client.snapshot(&n.url).await {
                    Ok(db) => (db, String::new()),
                    // With auth on and no quorum the API gives no snapshot: the member's own
                    // database file, which nothing changes while no quorum applies entries.
                    Err(e @ super::client::EtcdError::NoToken(_)) => {
                        let file = n.data_dir.as_ref().map(|d| d.join("member/snap/db"));
                        let Some(db) = file.as_ref().and_then(|f| std::fs::read(f).ok()) else {
                            return Err(ProcError::failed(format!(
                                "snapshot of {}: {e}; and no data_dir in the cluster file to copy \
                                 its member/snap/db from",
                                n.name
                            )));
                        };
                        let file = file.expect("read above");
                        let how = format!(
                            ", a copy of {} (the API needs a token, which etcd cannot give \
                             without a quorum; restore it with `etcdctl snapshot restore \
                             --skip-hash-check`)",
                            file.display()
                        );
                        (db, how)
                    }
                    Err(e) => {
                        return Err(ProcError::failed(format!("snapshot of {}: {e}", n.name)))
                    }
                };
                crate::export_file::write_new(path, &db)?;
                Ok(Some(format!(
                    "{} bytes in {}{how}",
                    db.len(),
                    path.display()
                )))
            }
            Failover::Fence {
                data_dir,
                to,
                force,
                ..
            } => {
                let mut notes = Vec::new();
                if n.stop_command.is_some() {
                    match stop().await {
                        Ok(_) => notes.push(format!("{} stopped", n.name)),
                        Err(e) if *force => notes.push(format!("--force: {e}")),
                        Err(e) => return Err(e),
                    }
                }
                if answered(&cl.client.status(&n.url).await) {
                    return Err(ProcError::failed(format!(
                        "{} still answers after its stop_command: it is not fenced",
                        n.name
                    )));
                }
                if let (Some(from), Some(to)) = (data_dir.as_ref().filter(|d| d.is_dir()), to) {
                    std::fs::rename(from, to).map_err(|e| {
                        ProcError::failed(format!(
                            "move {} to {}: {e}",
                            from.display(),
                            to.display()
                        ))
                    })?;
                    notes.push(format!("{} is now {}", from.display(), to.display()));
                }
                if let Some(d) = data_dir.as_ref().filter(|d| !d.is_file()) {
                    let why = format!(
                        "fenced by drctl failover: {}'s data was moved to {}; it must never start again under its old member id. Bring it back with `drctl run etcd-rejoin-member --var node={}`, which moves this file aside.\n",
                        n.name,
                        to.as_ref().map_or("-".into(), |t| t.display().to_string()),
                        n.name
                    );
                    std::fs::write(d, why).map_err(|e| {
                        ProcError::failed(format!("write the fence marker {}: {e}", d.display()))
                    })?;
                    notes.push(format!("{} is a fence marker", d.display()));
                }
                Ok(Some(notes.join("; ")))
            }
            Failover::ForceNewCluster { fenced, .. } => {
                // Written before the stop, removed after the start: see `Forcing`.
                let record = n.data_dir.as_deref().map(forcing_path);
                if let Some(r) = &record {
                    let f = Forcing {
                        node: n.name.clone(),
                        fenced: fenced.clone(),
                    };
                    let json = serde_json::to_vec(&f).expect("plain data");
                    std::fs::write(r, json)
                        .map_err(|e| ProcError::failed(format!("write {}: {e}", r.display())))?;
                }
                stop().await?;
                let c = n.start_command.as_deref().unwrap_or_default();
                let env = [("ETCD_FORCE_NEW_CLUSTER", "true".to_string())];
                host(&format!("{}'s start_command", n.name), c, &env, timeout).await?;
                if let Some(r) = &record {
                    let _ = std::fs::remove_file(r);
                }
                Ok(Some(format!(
                    "{} started once with ETCD_FORCE_NEW_CLUSTER=true",
                    n.name
                )))
            }
        }
    }
}

impl Act for Failover {
    type Ctx = EtcdCluster;
    fn describe(&self) -> String {
        match self {
            Failover::Led { node } => format!("verify {node} leads"),
            Failover::Snapshot { node, path } => {
                format!("save a snapshot of {node} to {}", path.display())
            }
            Failover::Fence { node, data_dir, .. } => match data_dir {
                Some(d) => format!(
                    "fence {node}: stop it, move {} aside and leave a marker file in its place",
                    d.display()
                ),
                None => format!("fence {node}: stop it"),
            },
            Failover::ForceNewCluster { node, .. } => {
                format!("force a new cluster from {node} alone (one start with ETCD_FORCE_NEW_CLUSTER=true)")
            }
        }
    }
    fn changes(&self) -> bool {
        !matches!(self, Failover::Led { .. })
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
