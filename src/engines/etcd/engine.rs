//! etcd behind the engine contract: status and candidates from one probe of every member.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::json;

use super::assess::{Assessment, EtcdView, Role};
use super::{nodes_of, Client, EtcdCluster, EtcdNode};
use crate::engine::{
    object, serde_name, Args, Bound, Candidate, Candidates, Engine, EnginePlan, Front, Global,
    Primary, PrimaryWords, ProcError, StatusReport, StatusRow, StatusTable, StepEnv, Verb,
    VerbArgs,
};
use crate::inventory::Inventory;
use crate::runbook::front;

pub const KIND: &str = "etcd";

/// etcd has no epoch: `--expect-primary` names the leader.
const PRIMARY: PrimaryWords = PrimaryWords {
    title: "leader",
    none: "none (no quorum)",
    no_epoch: "--expect-epoch: etcd clusters have no epoch of drctl's; use --expect-primary NODE (the leader)",
};

pub(super) const VERBS: &[Verb] = &[
    Verb::Status,
    Verb::Check,
    Verb::Candidates,
    Verb::Switchover,
    Verb::Failover,
    Verb::Removenode,
    Verb::WaitConverged,
];

/// The etcd members of a cluster file, opened.
#[derive(Clone)]
pub(crate) struct Etcd {
    name: String,
    nodes: Vec<EtcdNode>,
    /// Built once: the members' TLS files are read when the engine opens.
    client: Client,
    operator: String,
}

impl Etcd {
    pub(crate) fn open(global: &Global, inv: &Inventory) -> Result<Etcd, ProcError> {
        let nodes = nodes_of(inv)
            .map_err(|e| ProcError::usage(format!("cluster file {}: {e}", inv.path.display())))?;
        if nodes.is_empty() {
            return Err(ProcError::usage(format!(
                "cluster file {} lists no etcd member",
                inv.path.display()
            )));
        }
        let client = Client::for_nodes(&nodes, global.timeout)
            .map_err(|e| ProcError::usage(format!("cluster file {}: {e}", inv.path.display())))?;
        Ok(Etcd {
            name: inv.file.cluster.clone(),
            nodes,
            client,
            operator: global.operator.clone(),
        })
    }

    /// The engine of a cluster already built (a drill's lab), for runs bound to it.
    pub(crate) fn of(cl: &EtcdCluster, operator: &str) -> Etcd {
        Etcd {
            name: cl.name.clone(),
            nodes: cl.nodes.clone(),
            client: cl.client.clone(),
            operator: operator.to_string(),
        }
    }

    fn cluster(&self, wait: Duration) -> EtcdCluster {
        EtcdCluster::new(&self.name, self.nodes.clone(), self.client.clone(), wait)
    }
}

impl Engine for Etcd {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn verbs(&self) -> &'static [Verb] {
        VERBS
    }

    fn status(&self) -> BoxFuture<'_, Result<StatusReport, ProcError>> {
        Box::pin(async move {
            let view = self.cluster(Duration::from_secs(30)).probe().await;
            let a = view.assess();
            Ok(status_report(&view, &a))
        })
    }

    fn candidates(&self) -> BoxFuture<'_, Result<Candidates, ProcError>> {
        Box::pin(async move {
            let view = self.cluster(Duration::from_secs(30)).probe().await;
            Ok(candidates(&view, &view.assess()))
        })
    }

    /// `drctl removenode NAME`: the CLI's target is a host id for drnode, a name here.
    fn front(&self, verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
        let a = |name: &str| args.get(name).cloned().unwrap_or_default();
        match verb {
            Verb::Removenode if a("force") == "true" => Ok(Front::new(
                verb,
                "removenode-force",
                &[("node", a("host_id"))],
            )),
            Verb::Removenode => Ok(Front::new(verb, "removenode", &[("node", a("host_id"))])),
            _ => Front::shared(verb, args).ok_or_else(|| crate::engine::unsupported(KIND, verb)),
        }
    }

    fn plans(&self, uses: &str) -> bool {
        super::runbook::STEPS.contains(&uses)
    }

    fn plan<'a>(
        &'a self,
        args: &'a Args<'a>,
        env: &'a StepEnv,
    ) -> BoxFuture<'a, Result<EnginePlan, ProcError>> {
        Box::pin(async move {
            let mut cl = self.cluster(env.step_timeout);
            cl.run_id = env.run_id.clone();
            super::runbook::plan(args, Arc::new(cl), &env.export_dir).await
        })
    }

    fn primary(&self, wait: Duration) -> Option<Primary<'_>> {
        Some(PRIMARY.probe(async move { self.cluster(wait).probe().await.assess().leader }))
    }

    /// Runs take the host lock: one run per cluster on this host, taken before any step is
    /// planned and held until the run ends. A lock kept in etcd itself would be gone exactly
    /// when it matters (quorum lost), and two failovers in two shells could each force a new
    /// cluster from a different survivor.
    fn bound(&self) -> Option<Bound> {
        let urls = self.nodes.iter().map(|n| &n.url);
        Some(front::bind(self.clone(), &self.name, &self.operator, urls))
    }
}

fn hex(id: Option<u64>) -> Option<String> {
    id.map(|i| format!("{i:x}"))
}

/// The cluster as `drctl status` shows it.
pub(crate) fn status_report(view: &EtcdView, a: &Assessment) -> StatusReport {
    let nodes = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .map(|(n, na)| match &n.state {
            Ok(s) => StatusRow {
                name: n.name.clone(),
                kind: KIND,
                url: n.url.clone(),
                reachable: true,
                host_id: hex(na.member_id),
                role: na.role.as_ref().and_then(serde_name),
                epoch: None,
                db_status: Some(if s.status.leader == 0 { "no-leader" } else { "up" }.into()),
                head_seq: Some(s.status.raft_index),
                applied_seq: Some(s.status.raft_applied_index),
                owns: None,
                lag: na.lag,
                primary: a.leader.clone(),
                roles_held: Vec::new(),
                entries: None,
                digest: None,
                health: na.health,
                reasons: na.reasons.clone(),
                error: None,
                detail: object(json!({
                    "member_id": hex(na.member_id),
                    "cluster_id": format!("{:x}", s.status.header.cluster_id),
                    "leader_id": (s.status.leader != 0).then(|| format!("{:x}", s.status.leader)),
                    "raft_term": s.status.raft_term,
                    "raft_index": s.status.raft_index,
                    "raft_applied_index": s.status.raft_applied_index,
                    "db_size": s.status.db_size,
                    "db_size_in_use": s.status.db_size_in_use,
                    "version": s.status.version,
                    "learner": na.role == Some(Role::Learner),
                    "alarms": s.alarms.as_ref().map(|v| v.iter().map(|a| a.alarm.clone()).collect::<Vec<_>>()),
                    "errors": s.status.errors,
                    "data_dir": n.data_dir,
                })),
            },
            Err(e) => {
                let mut row = StatusRow::unreachable(
                    &n.name,
                    KIND,
                    &n.url,
                    na.health,
                    na.reasons.clone(),
                    e.to_string(),
                    DETAIL_KEYS,
                );
                row.role = na.role.as_ref().and_then(serde_name);
                // It answers: never shown as a dead member.
                row.reachable = e.is_unreadable();
                row.host_id = hex(na.member_id);
                row.primary = a.leader.clone();
                row.with_detail("member_id", json!(hex(na.member_id)))
                    .with_detail("data_dir", json!(n.data_dir))
            }
        })
        .collect();
    let members: Vec<serde_json::Value> = a
        .members
        .iter()
        .map(|m| {
            json!({
                "id": format!("{:x}", m.id),
                "name": m.name,
                "peer_urls": m.peer_urls,
                "client_urls": m.client_urls,
                "learner": m.is_learner,
            })
        })
        .collect();
    StatusReport {
        cluster: view.cluster.clone(),
        kind: KIND,
        healthy: a.healthy,
        problems: a.problems.clone(),
        nodes,
        detail: object(json!({
            "leader": a.leader,
            "cluster_id": hex(a.cluster_id),
            "members": members,
        })),
        table: status_table(view, a),
    }
}

/// The keys of a member's `detail` in `status --json`, null when it does not answer.
const DETAIL_KEYS: &[&str] = &[
    "member_id",
    "cluster_id",
    "leader_id",
    "raft_term",
    "raft_index",
    "raft_applied_index",
    "db_size",
    "db_size_in_use",
    "version",
    "learner",
    "alarms",
    "errors",
    "data_dir",
];

fn status_table(view: &EtcdView, a: &Assessment) -> StatusTable {
    let dash = || "-".to_string();
    let rows = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .map(|(n, na)| {
            let role = na.role.map(|r| r.to_string()).unwrap_or_else(dash);
            match &n.state {
                Ok(s) => vec![
                    n.name.clone(),
                    "yes".into(),
                    role,
                    hex(na.member_id).unwrap_or_else(dash),
                    s.status.raft_term.to_string(),
                    s.status.raft_index.to_string(),
                    na.lag.map(|l| l.to_string()).unwrap_or_else(dash),
                    format!("{:.1}", s.status.db_size as f64 / 1_048_576.0),
                    s.alarms
                        .as_ref()
                        .map(|v| {
                            if v.is_empty() {
                                "none".into()
                            } else {
                                v.iter()
                                    .map(|a| a.alarm.clone())
                                    .collect::<Vec<_>>()
                                    .join(",")
                            }
                        })
                        .unwrap_or_else(dash),
                ],
                Err(e) => [
                    n.name.clone(),
                    if e.is_unreadable() {
                        "unreadable"
                    } else {
                        "no"
                    }
                    .into(),
                    role,
                ]
                .into_iter()
                .chain(std::iter::repeat_n(dash(), 6))
                .collect(),
            }
        })
        .collect();
    StatusTable {
        headline: format!(
            "cluster {} (etcd {}, leader {})",
            view.cluster,
            hex(a.cluster_id).unwrap_or_else(|| "unknown".into()),
            a.leader.clone().unwrap_or_else(|| "none".into())
        ),
        columns: vec![
            "NODE",
            "REACHABLE",
            "ROLE",
            "MEMBER",
            "TERM",
            "RAFT INDEX",
            "LAG",
            "DB MB",
            "ALARMS",
        ],
        narrow: vec![
            "NODE",
            "REACHABLE",
            "ROLE",
            "TERM",
            "RAFT INDEX",
            "LAG",
            "ALARMS",
        ],
        rows,
        notes: Vec::new(),
    }
}

/// Every member ranked to lead: voting members of the majority's cluster that answer, by raft
/// index (the most complete log first); the leader, learners and the others are not ranked.
pub(crate) fn candidates(view: &EtcdView, a: &Assessment) -> Candidates {
    let mut ranked: Vec<(usize, u64, String)> = Vec::new();
    let mut reasons = vec![String::new(); view.nodes.len()];
    for (i, (n, na)) in view.nodes.iter().zip(&a.nodes).enumerate() {
        reasons[i] = match (&n.state, na.role) {
            (Err(e), _) => e.to_string(),
            (Ok(_), Some(Role::Leader)) => "the leader".into(),
            (Ok(_), Some(Role::Learner)) => "a learner: promote it first".into(),
            (Ok(_), Some(Role::Removed)) => "not in the membership".into(),
            (Ok(_), Some(Role::OtherCluster)) => "serves another cluster id".into(),
            (Ok(_), _) if !n.promotable => "promotable: false in the cluster file".into(),
            (Ok(s), _) => {
                ranked.push((i, s.status.raft_index, String::new()));
                format!(
                    "voting follower, raft index {}{}",
                    s.status.raft_index,
                    na.lag
                        .map(|l| format!(", {l} behind the leader"))
                        .unwrap_or_default()
                )
            }
        };
    }
    ranked.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let rank_of = |i: usize| ranked.iter().position(|r| r.0 == i).map(|p| p + 1);
    let rows: Vec<Candidate> = view
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Candidate {
            name: n.name.clone(),
            rank: rank_of(i),
            role: a.nodes[i].role.as_ref().and_then(serde_name),
            reason: reasons[i].clone(),
            detail: object(json!({
                "raft_index": n.state.as_ref().ok().map(|s| s.status.raft_index),
                "member_id": hex(a.nodes[i].member_id),
            })),
        })
        .collect();
    let mut sorted = rows.clone();
    sorted.sort_by_key(|c| (c.rank.is_none(), c.rank));
    let table_rows = sorted
        .iter()
        .map(|c| {
            vec![
                c.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                c.name.clone(),
                c.role.clone().unwrap_or_else(|| "-".into()),
                c.detail
                    .get("raft_index")
                    .and_then(|v| v.as_u64())
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into()),
                c.reason.clone(),
            ]
        })
        .collect();
    Candidates {
        rows: sorted,
        table: StatusTable {
            headline: String::new(),
            columns: vec!["RANK", "NODE", "ROLE", "RAFT INDEX", "REASON"],
            rows: table_rows,
            ..Default::default()
        },
    }
}
