//! 389 Directory Server behind the engine contract: status and candidates from one probe of
//! every instance, and the forced failover as the bundled `forced-failover` runbook.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::json;

use super::assess::{Assessment, DsView};
use super::procedures::rank;
use super::{nodes_of, DsCluster, DsNode};
use crate::engine::{
    object, Args, Bound, Candidate, Candidates, Engine, EnginePlan, Global, Health, Primary,
    PrimaryWords, ProcError, StatusReport, StatusRow, StatusTable, StepEnv, Verb,
};
use crate::engine::{Front, VerbArgs};
use crate::inventory::Inventory;
use crate::runbook::front;

pub const KIND: &str = "389ds";

/// 389ds has no epoch: `--expect-primary` names the supplier.
const PRIMARY: PrimaryWords = PrimaryWords {
    title: "supplier",
    none: "none (none answers)",
    no_epoch:
        "--expect-epoch: 389ds groups have no epoch; use --expect-primary NODE (the supplier)",
};

pub(super) const VERBS: &[Verb] = &[
    Verb::Status,
    Verb::Check,
    Verb::Candidates,
    Verb::Switchover,
    Verb::Failover,
    Verb::Repoint,
    Verb::Demote,
    Verb::RemoveInstance,
    Verb::WaitConverged,
    Verb::Sync,
];

/// The verbs whose runbook is 389ds's own: a consumer re-initialized from the supplier.
pub(super) const OWN_RUNBOOKS: &[(Verb, &str)] = &[(Verb::Sync, "ds389-reinit")];

/// The 389ds instances of a cluster file, opened.
#[derive(Clone)]
pub(crate) struct Ds389 {
    name: String,
    nodes: Vec<DsNode>,
    timeout: Duration,
    operator: String,
}

impl Ds389 {
    pub(crate) fn open(global: &Global, inv: &Inventory) -> Result<Ds389, ProcError> {
        let nodes = nodes_of(inv)
            .map_err(|e| ProcError::usage(format!("cluster file {}: {e}", inv.path.display())))?;
        if nodes.is_empty() {
            return Err(ProcError::usage(format!(
                "cluster file {} lists no 389ds instance",
                inv.path.display()
            )));
        }
        Ok(Ds389 {
            name: inv.file.cluster.clone(),
            nodes: quiet(&nodes, global.timeout),
            timeout: global.timeout,
            operator: global.operator.clone(),
        })
    }

    /// The engine of a cluster already built (a drill's lab), for runs bound to it.
    pub(crate) fn of(cl: &DsCluster, operator: &str) -> Ds389 {
        Ds389 {
            name: cl.name.clone(),
            nodes: quiet(&cl.nodes, Duration::from_secs(2)),
            timeout: Duration::from_secs(2),
            operator: operator.to_string(),
        }
    }

    fn cluster(&self, wait: Duration) -> DsCluster {
        DsCluster::new(&self.name, self.nodes.clone(), self.timeout, wait)
    }
}

/// The instances as one command sees them: one silent for a timeout is not asked again for
/// three (`openldap::engine::quiet`).
fn quiet(nodes: &[DsNode], timeout: Duration) -> Vec<DsNode> {
    let window = crate::engines::openldap::Quiet::window(timeout);
    nodes
        .iter()
        .map(|n| DsNode {
            ldap: n.ldap.quiet_for(window),
            ..n.clone()
        })
        .collect()
}

impl Engine for Ds389 {
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
            let view = self.cluster(self.timeout).probe().await;
            let a = view.assess();
            Ok(status_report(&view, &a))
        })
    }

    fn candidates(&self) -> BoxFuture<'_, Result<Candidates, ProcError>> {
        Box::pin(async move {
            let view = self.cluster(self.timeout).probe().await;
            let a = view.assess();
            Ok(candidates(&view, &a))
        })
    }

    /// `sync full` is a total update from the supplier (`ds389-reinit`); replication itself is
    /// the agreements', never turned off by `sync auto`.
    fn front(&self, verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
        let a = |name: &str| args.get(name).cloned().unwrap_or_default();
        match verb {
            Verb::Sync if a("mode") == "full" => Ok(Front::new(
                verb,
                OWN_RUNBOOKS[0].1,
                &[("from", a("from")), ("to", a("to"))],
            )),
            Verb::Sync => Err(ProcError::usage(
                "sync auto: a 389ds consumer is fed by the supplier's agreements, which drctl \
                 does not turn off; `drctl sync full --from SUPPLIER --to CONSUMER` \
                 re-initializes one now",
            )),
            _ => Front::shared(verb, args)
                .filter(|_| VERBS.contains(&verb))
                .ok_or_else(|| crate::engine::unsupported(KIND, verb)),
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
        Some(PRIMARY.probe(async move { self.cluster(wait).probe().await.assess().supplier }))
    }

    fn forget_silence(&self, node: &str) {
        self.nodes
            .iter()
            .filter(|n| n.ldap.name == node)
            .for_each(|n| n.ldap.quiet.forget());
    }

    /// Runs take the host lock (389ds has no lease of ours): one run per group on this host,
    /// from before the first plan to the run's end; two failovers in two shells would promote
    /// two suppliers.
    fn bound(&self) -> Option<Bound> {
        let urls = self.nodes.iter().map(|n| &n.ldap.url);
        Some(front::bind(self.clone(), &self.name, &self.operator, urls))
    }
}

/// The keys of an instance's `detail` in `status --json`, null when it does not answer.
const DETAIL_KEYS: &[&str] = &[
    "replica_id",
    "replica_type",
    "accepts",
    "ruv",
    "newest_csn",
    "mapping_state",
    "read_only",
    "agreements",
];

/// The cluster as `drctl status` shows it.
pub(crate) fn status_report(view: &DsView, a: &Assessment) -> StatusReport {
    let nodes = view
        .nodes
        .iter()
        .map(|n| {
            let reasons: Vec<String> = a
                .problems
                .iter()
                .filter(|p| p.starts_with(&format!("{}:", n.name)))
                .cloned()
                .collect();
            let health = if n.state.is_err() || a.stale_suppliers.contains(&n.name) {
                Health::Red
            } else if reasons.is_empty() {
                Health::Green
            } else {
                Health::Orange
            };
            match &n.state {
                Ok(s) => {
                    let r = s.replica.as_ref();
                    let lag = a
                        .supplier
                        .as_deref()
                        .filter(|sup| *sup != n.name)
                        .and_then(|sup| view.lag_seconds(&n.name, sup));
                    StatusRow {
                        name: n.name.clone(),
                        kind: KIND,
                        url: n.url.clone(),
                        reachable: true,
                        host_id: None,
                        role: r.map(|r| format!("{:?}", r.kind).to_lowercase()),
                        epoch: None,
                        db_status: Some(if s.read_only { "read-only" } else { "up" }.into()),
                        head_seq: None,
                        applied_seq: None,
                        owns: None,
                        lag,
                        primary: a.supplier.clone(),
                        roles_held: Vec::new(),
                        entries: None,
                        digest: None,
                        health,
                        reasons,
                        error: None,
                        detail: object(json!({
                            "replica_id": r.map(|r| r.rid),
                            "replica_type": r.map(|r| format!("{:?}", r.kind).to_lowercase()),
                            "accepts": r.map(|r| r.bind_dns.clone()),
                            "ruv": r.map(|r| &r.ruv),
                            "newest_csn": r.and_then(|r| r.newest()),
                            "mapping_state": s.mapping_state,
                            "read_only": s.read_only,
                            "agreements": s.agreements,
                        })),
                    }
                }
                Err(e) => {
                    let mut row = StatusRow::unreachable(
                        &n.name,
                        KIND,
                        &n.url,
                        health,
                        reasons,
                        e.clone(),
                        DETAIL_KEYS,
                    );
                    row.primary = a.supplier.clone();
                    row
                }
            }
        })
        .collect();
    StatusReport {
        cluster: view.cluster.clone(),
        kind: KIND,
        healthy: a.healthy,
        problems: a.problems.clone(),
        nodes,
        detail: object(json!({
            "supplier": a.supplier,
            "replica_id": a.rid,
        })),
        table: status_table(view, a),
    }
}

fn status_table(view: &DsView, a: &Assessment) -> StatusTable {
    let dash = || "-".to_string();
    let rows = view
        .nodes
        .iter()
        .map(|n| match &n.state {
            Ok(s) => {
                let r = s.replica.as_ref();
                vec![
                    n.name.clone(),
                    "yes".into(),
                    r.map(|r| format!("{:?}", r.kind).to_lowercase())
                        .unwrap_or_else(dash),
                    r.map(|r| r.rid.to_string()).unwrap_or_else(dash),
                    a.supplier
                        .as_deref()
                        .filter(|sup| *sup != n.name)
                        .and_then(|sup| view.lag_seconds(&n.name, sup))
                        .map(|l| format!("{l}s"))
                        .unwrap_or_else(dash),
                    r.and_then(|r| r.newest())
                        .map(str::to_string)
                        .unwrap_or_else(dash),
                    if s.read_only { "yes" } else { "no" }.into(),
                    s.agreements.len().to_string(),
                ]
            }
            Err(_) => [n.name.clone(), "no".into()]
                .into_iter()
                .chain(std::iter::repeat_n(dash(), 6))
                .collect(),
        })
        .collect();
    StatusTable {
        headline: format!(
            "cluster {} (389ds, supplier {})",
            view.cluster,
            a.supplier.clone().unwrap_or_else(|| "none".into())
        ),
        columns: vec![
            "NODE",
            "REACHABLE",
            "ROLE",
            "RID",
            "LAG",
            "NEWEST CSN",
            "READ-ONLY",
            "AGREEMENTS",
        ],
        narrow: vec!["NODE", "REACHABLE", "ROLE", "RID", "LAG", "READ-ONLY"],
        rows,
        notes: Vec::new(),
    }
}

/// Every instance ranked for promotion (see `procedures::rank`).
pub(crate) fn candidates(view: &DsView, a: &Assessment) -> Candidates {
    let ranked = rank(view, a.supplier.as_deref());
    let mut t = StatusTable {
        columns: vec!["RANK", "NODE", "ROLE", "NEWEST CSN", "REASON"],
        ..Default::default()
    };
    let dash = || "-".to_string();
    let rows = ranked
        .into_iter()
        .map(|c| {
            t.rows.push(vec![
                c.rank.map(|r| r.to_string()).unwrap_or_else(dash),
                c.name.clone(),
                c.role.clone().unwrap_or_else(dash),
                c.newest_csn.clone().unwrap_or_else(dash),
                c.reason.clone(),
            ]);
            Candidate {
                name: c.name,
                rank: c.rank,
                role: c.role,
                reason: c.reason,
                detail: object(json!({ "newest_csn": c.newest_csn })),
            }
        })
        .collect();
    Candidates { rows, table: t }
}
