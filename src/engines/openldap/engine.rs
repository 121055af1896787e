//! OpenLDAP behind the engine contract: status and candidates from one probe of every slapd,
//! and failover, switchover, repoint and demote as their bundled runbooks.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::json;

use super::assess::{stalled, STALL_WINDOW};
use super::csn::Position;
use super::{csn, lost_sid, nodes_of, rank, Assessment, LdapCluster, LdapNode, LdapView};
use crate::engine::{
    object, serde_name, Args, Bound, Candidate, Candidates, Engine, EnginePlan, Front, Global,
    Primary, PrimaryWords, ProcError, StatusReport, StatusRow, StatusTable, StepEnv, Verb,
    VerbArgs,
};
use crate::inventory::Inventory;
use crate::runbook::front;

pub const KIND: &str = "openldap";

/// OpenLDAP has no lock of ours (`--break-lock` has nothing to break) and no epoch to expect:
/// `--expect-primary` names the provider.
const PRIMARY: PrimaryWords = PrimaryWords {
    title: "provider",
    none: "unknown (none answers)",
    no_epoch: "--expect-epoch: OpenLDAP groups have no epoch; use --expect-primary NODE",
};

pub(super) const VERBS: &[Verb] = &[
    Verb::Status,
    Verb::Check,
    Verb::Candidates,
    Verb::Switchover,
    Verb::Failover,
    Verb::Repoint,
    Verb::Demote,
    Verb::WaitConverged,
];

/// The nodes as one command sees them: a node that let a connect time out is not asked again
/// for three timeouts (like drnode's clients), so a silent slapd costs a command one timeout.
pub(crate) fn quiet(nodes: &[LdapNode], timeout: Duration) -> Vec<LdapNode> {
    let window = super::client::Quiet::window(timeout);
    nodes.iter().map(|n| n.quiet_for(window)).collect()
}

/// The openldap nodes of a cluster file, opened.
#[derive(Clone)]
pub struct Openldap {
    name: String,
    nodes: Vec<LdapNode>,
    timeout: Duration,
    operator: String,
}

impl Openldap {
    pub fn open(global: &Global, inv: &Inventory) -> Result<Openldap, ProcError> {
        let nodes = nodes_of(inv)
            .map_err(|e| ProcError::usage(format!("cluster file {}: {e}", inv.path.display())))?;
        if nodes.is_empty() {
            return Err(ProcError::usage(format!(
                "cluster file {} lists no openldap node",
                inv.path.display()
            )));
        }
        Ok(Openldap {
            name: inv.file.cluster.clone(),
            nodes: quiet(&nodes, global.timeout),
            timeout: global.timeout,
            operator: global.operator.clone(),
        })
    }

    /// The engine of a cluster already built (a drill's lab), for runs bound to it.
    pub fn of(cl: &LdapCluster, operator: &str) -> Openldap {
        Openldap {
            name: cl.name.clone(),
            nodes: quiet(&cl.nodes, cl.timeout),
            timeout: cl.timeout,
            operator: operator.to_string(),
        }
    }

    fn cluster(&self, wait: Duration) -> LdapCluster {
        LdapCluster::new(&self.name, self.nodes.clone(), self.timeout, wait)
    }
}

impl Engine for Openldap {
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
            let mut a = view.assess();
            if let Some(p) = a.provider.clone() {
                let stalled = stalled(&view, &self.nodes, &p, self.timeout, STALL_WINDOW).await;
                a.flag_stalled(&view, &stalled, STALL_WINDOW);
            }
            Ok(status_report(&view, &a))
        })
    }

    fn candidates(&self) -> BoxFuture<'_, Result<Candidates, ProcError>> {
        Box::pin(async move {
            let view = self.cluster(Duration::from_secs(30)).probe().await;
            Ok(candidates(&view))
        })
    }

    /// The shared runbooks; OpenLDAP's failover takes no `export_dir`.
    fn front(&self, verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
        match Front::shared(verb, args) {
            Some(mut f) if VERBS.contains(&verb) => {
                f.vars.remove("export_dir");
                Ok(f)
            }
            _ => Err(crate::engine::unsupported(KIND, verb)),
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
        Some(PRIMARY.probe(async move { self.cluster(wait).probe().await.provider() }))
    }

    fn forget_silence(&self, node: &str) {
        self.nodes
            .iter()
            .filter(|n| n.name == node)
            .for_each(|n| n.quiet.forget());
    }

    /// OpenLDAP has no lock on the nodes: runs take the host lock, one run per cluster on this
    /// host, taken before any step is planned (a plan made while another run changes the group
    /// would be stale) and held until the run ends.
    fn bound(&self) -> Option<Bound> {
        let urls = self.nodes.iter().map(|n| &n.url);
        Some(front::bind(self.clone(), &self.name, &self.operator, urls))
    }
}

/// The cluster as `drctl status` shows it.
pub(crate) fn status_report(view: &LdapView, a: &Assessment) -> StatusReport {
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
                host_id: None,
                role: serde_name(&s.role),
                epoch: None,
                db_status: Some("up".into()),
                head_seq: None,
                applied_seq: None,
                owns: match na.position {
                    Some(Position::InSync) => Some(100.0),
                    _ => None,
                },
                lag: na.lag,
                primary: na.primary.clone(),
                roles_held: Vec::new(),
                entries: Some(s.entries as u64),
                digest: Some(s.fingerprint.clone()),
                health: na.health,
                reasons: na.reasons.clone(),
                error: None,
                detail: object(json!({
                    "server_id": s.server_id,
                    "csn": s.csn,
                    "context_csn": s.context_csn,
                    "link": s.link_up.map(|u| if u { "up" } else { "down" }),
                    "position": na.position,
                    "read_only": s.read_only,
                    "syncprov": s.syncprov.is_some(),
                    "update_ref": s.update_ref,
                })),
            },
            Err(e) => StatusRow::unreachable(
                &n.name,
                KIND,
                &n.url,
                na.health,
                na.reasons.clone(),
                e.to_string(),
                DETAIL_KEYS,
            ),
        })
        .collect();
    StatusReport {
        cluster: view.cluster.clone(),
        kind: KIND,
        healthy: a.healthy,
        problems: a.problems.clone(),
        nodes,
        detail: object(json!({ "provider": a.provider })),
        table: status_table(view, a),
    }
}

/// The keys of a node's `detail` in `status --json`, null when it does not answer.
const DETAIL_KEYS: &[&str] = &[
    "server_id",
    "csn",
    "context_csn",
    "link",
    "position",
    "read_only",
    "syncprov",
    "update_ref",
];

fn status_table(view: &LdapView, a: &Assessment) -> StatusTable {
    let dash = || "-".to_string();
    let rows = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .map(|(n, na)| match &n.state {
            Ok(s) => vec![
                n.name.clone(),
                "yes".into(),
                s.role.to_string(),
                s.server_id.to_string(),
                s.csn
                    .iter()
                    .map(|(sid, c)| format!("{sid}:{}", c.split('#').next().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(" "),
                s.link_up
                    .map(|u| if u { "up" } else { "down" }.to_string())
                    .unwrap_or_else(dash),
                na.lag.map(|l| l.to_string()).unwrap_or_else(dash),
                na.primary.clone().unwrap_or_else(dash),
                s.entries.to_string(),
                s.fingerprint.clone(),
            ],
            Err(_) => [n.name.clone(), "no".into()]
                .into_iter()
                .chain(std::iter::repeat_n(dash(), 8))
                .collect(),
        })
        .collect();
    StatusTable {
        headline: format!(
            "cluster {} (openldap, provider {})",
            view.cluster,
            a.provider.clone().unwrap_or_else(|| "none".into())
        ),
        columns: vec![
            "NODE",
            "REACHABLE",
            "ROLE",
            "SERVERID",
            "CSN (SID:TIME)",
            "LINK",
            "LAG MS",
            "PRIMARY",
            "ENTRIES",
            "DIGEST",
        ],
        narrow: vec!["NODE", "REACHABLE", "ROLE", "LINK", "LAG MS", "PRIMARY"],
        rows,
        notes: Vec::new(),
    }
}

/// Ranked by the newest CSN for the provider's serverID (the lost one's, if lost).
pub(crate) fn candidates(view: &LdapView) -> Candidates {
    let provider = view.provider();
    let sid = match provider.as_deref().and_then(|p| view.state(p)) {
        Some(s) => Some(csn::sid_hex(s.server_id)),
        None => lost_sid(view),
    };
    let ranked = rank(
        view,
        provider.or(view.lost_provider()).as_deref(),
        sid.as_deref(),
    );
    let rows = ranked
        .iter()
        .map(|c| {
            vec![
                c.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                c.name.clone(),
                c.role.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                c.csn.clone().unwrap_or_else(|| "-".into()),
                c.reason.clone(),
            ]
        })
        .collect();
    Candidates {
        rows: ranked
            .iter()
            .map(|c| Candidate {
                name: c.name.clone(),
                rank: c.rank,
                role: c.role.as_ref().and_then(serde_name),
                reason: c.reason.clone(),
                detail: if c.lacks.is_empty() {
                    object(json!({ "csn": c.csn }))
                } else {
                    object(json!({ "csn": c.csn, "lacks": c.lacks }))
                },
            })
            .collect(),
        table: StatusTable {
            headline: String::new(),
            columns: vec!["RANK", "NODE", "ROLE", "CSN", "REASON"],
            rows,
            ..Default::default()
        },
    }
}
