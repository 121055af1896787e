//! drnode behind the engine contract: status and candidates from one probe, and every
//! procedure as its bundled runbook.

use futures_util::future::BoxFuture;
use serde_json::{json, Value};

use super::cluster::{sync_cell, Assessment, ClusterView};
use super::{check_expectations, rank, Cluster, Context};
use crate::api::Role;
use crate::engine::{
    object, serde_name, Candidate, Candidates, Engine, Front, Global, ProcError, ProcOptions,
    Registration, RunOutcome, StatusReport, StatusRow, StatusTable, Verb, VerbArgs,
};
use crate::inventory::{Inventory, NodeEntry};

pub const KIND: &str = "drnode";

/// A drnode cluster, opened.
pub struct Drnode {
    pub ctx: Context,
}

const VERBS: &[Verb] = &[
    Verb::Status,
    Verb::Check,
    Verb::Candidates,
    Verb::Switchover,
    Verb::Failover,
    Verb::Repoint,
    Verb::Demote,
    Verb::SeizeRoles,
    Verb::RemoveInstance,
    Verb::Removenode,
    Verb::Standalone,
    Verb::Join,
    Verb::Sync,
    Verb::Services,
    Verb::Packages,
    Verb::Upgrade,
    Verb::Hosts,
    Verb::Entry,
    Verb::Events,
    Verb::Api,
];

pub const ENGINE: Registration = Registration {
    kind: KIND,
    summary: "the bundled node daemon (the drill target and reference node)",
    fields: &[],
    verbs: VERBS,
    own_runbooks: &[],
    validate,
    open: |global: Global, inv: Option<Inventory>| {
        Box::pin(async move {
            let ctx = Context::open(&global, inv).await?;
            Ok(Box::new(Drnode { ctx }) as Box<dyn Engine>)
        })
    },
    lab: Some(&super::lab::LAB),
};

/// The node fields of a drnode entry (none beyond the common ones): unknown ones are errors.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {}

fn validate(n: &NodeEntry) -> Result<(), String> {
    crate::api::client::parse_node_url(&n.url).map_err(|e| format!("url: {e}"))?;
    n.settings::<Fields>()?;
    Ok(())
}

impl Engine for Drnode {
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
            let view = self.ctx.probe().await;
            let a = view.assess();
            Ok(status_report(&view, &a))
        })
    }

    fn candidates(&self) -> BoxFuture<'_, Result<Candidates, ProcError>> {
        Box::pin(async move {
            let view = self.ctx.probe().await;
            Ok(candidates(&view))
        })
    }

    fn repoint_list(&self) -> BoxFuture<'_, Result<(Value, StatusTable), ProcError>> {
        Box::pin(async move {
            let view = self.ctx.probe().await;
            let rows = super::repoint_list(&view);
            let table = StatusTable {
                headline: String::new(),
                columns: vec!["NODE", "CAN SERVE", "WHY"],
                rows: rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.name.clone(),
                            if r.eligible { "yes" } else { "no" }.to_string(),
                            r.reason.clone(),
                        ]
                    })
                    .collect(),
                ..Default::default()
            };
            let json = serde_json::to_value(&rows).map_err(|e| ProcError::failed(e.to_string()))?;
            Ok((json, table))
        })
    }

    fn front(&self, verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
        front(verb, args)
    }

    fn run<'a>(
        &'a self,
        front: Front,
        opts: &'a ProcOptions,
    ) -> BoxFuture<'a, Result<RunOutcome, ProcError>> {
        Box::pin(async move {
            let operator = self
                .ctx
                .options
                .operator
                .clone()
                .unwrap_or_else(|| "unknown".into());
            let cl = Cluster::new(&self.ctx.cluster, &self.ctx.targets, &operator, opts.wait);
            if opts.expect_primary.is_some() || opts.expect_epoch.is_some() {
                let view = cl.probe().await;
                check_expectations(&view, opts.expect_primary.as_deref(), opts.expect_epoch)?;
            }
            let settings = crate::runbook::front::settings(
                opts,
                front.export_dir.clone(),
                self.ctx.http.clone(),
                None,
            );
            crate::runbook::front::run(&front, cl, &settings, opts.json).await
        })
    }
}

fn arg(args: &VerbArgs, name: &str) -> String {
    args.get(name).cloned().unwrap_or_default()
}

/// The bundled runbook behind each procedure verb, with its parameters.
fn front(verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
    let a = |name: &str| arg(args, name);
    if let Some(mut f) = Front::shared(verb, args) {
        if verb == Verb::Failover {
            f.export_dir = a("export_dir").into();
        }
        return Ok(f);
    }
    let f = |runbook, vars: &[(&str, String)]| Ok(Front::new(verb, runbook, vars));
    match verb {
        Verb::Standalone => f("standalone", &[("node", a("node"))]),
        Verb::Join => f(
            "join",
            &[
                ("node", a("node")),
                ("primary", a("primary")),
                ("export", a("export")),
            ],
        ),
        Verb::Sync if a("mode") == "full" => {
            f("sync-full", &[("from", a("from")), ("to", a("to"))])
        }
        Verb::Sync => f("sync-auto", &[("node", a("node")), ("state", a("state"))]),
        Verb::SeizeRoles => f("seize-roles", &[("to", a("to")), ("roles", a("roles"))]),
        Verb::Removenode if a("force") == "true" => {
            f("removenode-force", &[("host_id", a("host_id"))])
        }
        Verb::Removenode => f("removenode", &[("host_id", a("host_id"))]),
        Verb::Services => f("services", &[("node", a("node")), ("state", a("state"))]),
        Verb::Packages => f("packages-sync", &[]),
        Verb::Upgrade => f(
            "upgrade-standalone",
            &[("command", a("command")), ("id", a("id"))],
        ),
        other => Err(crate::engine::unsupported(KIND, other)),
    }
}

/// The cluster as `drctl status` shows it.
pub(super) fn status_report(view: &ClusterView, a: &Assessment) -> StatusReport {
    let nodes = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .map(|(n, na)| match &n.status {
            Ok(s) => StatusRow {
                name: n.name.clone(),
                kind: KIND,
                url: n.url.clone(),
                reachable: true,
                host_id: Some(s.host_id.clone()),
                role: serde_name(&s.role),
                epoch: Some(s.epoch),
                db_status: serde_name(&s.db_status),
                head_seq: Some(s.head_seq),
                applied_seq: Some(s.applied_seq),
                owns: na.owns,
                lag: na.lag,
                primary: na.primary.clone(),
                roles_held: view.roles_held(&s.host_id),
                entries: Some(s.entries),
                digest: Some(s.digest.clone()),
                health: na.health,
                reasons: na.reasons.clone(),
                error: None,
                detail: object(json!({
                    "services": s.services,
                    "member_state": view.member(n).map(|m| m.state),
                    "diverged": na.diverged,
                    "standalone_writes": s.standalone_writes,
                    "primary_setting": s.primary_setting,
                    "sync": s.sync,
                    // Replicas only: `on`, `off` (operator) or `suspended` (after failures).
                    "sync_mode": (s.role == Role::Replica).then(|| s.sync.mode()),
                    "fenced_reason": s.fenced_reason,
                })),
            },
            Err(e) => {
                let member = view.member(n);
                StatusRow {
                    // Known from the replicated member list even when the node is down.
                    host_id: member.map(|m| m.host_id.clone()),
                    roles_held: member
                        .map(|m| view.roles_held(&m.host_id))
                        .unwrap_or_default(),
                    ..StatusRow::unreachable(
                        &n.name,
                        KIND,
                        &n.url,
                        na.health,
                        na.reasons.clone(),
                        e.to_string(),
                        DETAIL_KEYS,
                    )
                }
                .with_detail("member_state", json!(member.map(|m| m.state)))
            }
        })
        .collect();
    StatusReport {
        cluster: view.cluster.clone(),
        kind: KIND,
        healthy: a.healthy,
        problems: a.problems.clone(),
        nodes,
        detail: object(json!({ "warnings": url_mismatches(view) })),
        table: status_table(view, a),
    }
}

/// Nodes the cluster file lists at another URL than the replicated member list does: drctl
/// and the other nodes reach them at different places, so one of the two is stale.
fn url_mismatches(view: &ClusterView) -> Vec<String> {
    view.nodes
        .iter()
        .filter_map(|n| {
            let m = view.member(n)?;
            (m.url.trim_end_matches('/') != n.url.trim_end_matches('/')).then(|| {
                format!(
                    "{}: the cluster file says {}, the member list says {}: the other nodes reach it \
                     at the member list's URL; correct the cluster file if that one is right",
                    n.name, n.url, m.url
                )
            })
        })
        .collect()
}

/// The keys of a node's `detail` in `status --json`, null when it does not answer.
const DETAIL_KEYS: &[&str] = &[
    "services",
    "member_state",
    "diverged",
    "standalone_writes",
    "primary_setting",
    "sync",
    "sync_mode",
    "fenced_reason",
];

fn status_table(view: &ClusterView, a: &Assessment) -> StatusTable {
    let dash = || "-".to_string();
    // Unknown (the primary does not answer), never a stale number.
    let unknown = || "?".to_string();
    let rows = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .map(|(n, na)| (n, na, view.member(n)))
        .map(|(n, na, member)| match &n.status {
            Ok(s) => vec![
                n.name.clone(),
                s.host_id.clone(),
                member
                    .map(|m| serde_name(&m.state).unwrap_or_default())
                    .unwrap_or_else(dash),
                "yes".into(),
                s.role.to_string(),
                s.epoch.to_string(),
                s.db_status.to_string(),
                na.owns.map(|o| format!("{o}%")).unwrap_or_else(unknown),
                na.lag.map(|l| l.to_string()).unwrap_or_else(unknown),
                if s.role == Role::Replica {
                    sync_cell(&s.sync)
                } else {
                    dash()
                },
                na.primary.clone().unwrap_or_else(dash),
                {
                    let held = view.roles_held(&s.host_id);
                    if held.is_empty() {
                        dash()
                    } else {
                        held.join(",")
                    }
                },
                s.entries.to_string(),
                s.digest.chars().take(12).collect(),
            ],
            Err(_) => [
                n.name.clone(),
                member.map(|m| m.host_id.clone()).unwrap_or_else(unknown),
                member
                    .map(|m| serde_name(&m.state).unwrap_or_default())
                    .unwrap_or_else(dash),
                "no".into(),
            ]
            .into_iter()
            .chain(std::iter::repeat_n(dash(), 10))
            .collect(),
        })
        .collect();
    // Removed members do not count against health, but are never hidden.
    let notes = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .filter(|(n, _)| view.is_removed(n))
        .flat_map(|(n, na)| na.reasons.iter().map(move |r| format!("{}: {r}", n.name)))
        .chain(url_mismatches(view))
        .collect();
    StatusTable {
        headline: format!("cluster {} (epoch {})", view.cluster, view.epoch()),
        columns: vec![
            "NODE",
            "HOST ID",
            "MEMBER",
            "REACHABLE",
            "ROLE",
            "EPOCH",
            "DB",
            "OWNS",
            "LAG",
            "SYNC",
            "PRIMARY",
            "ROLES",
            "ENTRIES",
            "DIGEST",
        ],
        narrow: vec![
            "NODE",
            "REACHABLE",
            "ROLE",
            "EPOCH",
            "LAG",
            "SYNC",
            "PRIMARY",
        ],
        rows,
        notes,
    }
}

/// Every node ranked for promotion, as `drctl candidates` shows it.
pub(super) fn candidates(view: &ClusterView) -> Candidates {
    let ranked = rank(view);
    let rows = ranked
        .iter()
        .map(|c| {
            vec![
                c.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                c.name.clone(),
                c.role.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                c.epoch.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
                match (c.head_epoch, c.head_seq) {
                    (Some(e), Some(s)) => format!("epoch {e} seq {s}"),
                    _ => "-".into(),
                },
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
                detail: object(json!({
                    "promotable": c.promotable,
                    "epoch": c.epoch,
                    "head_epoch": c.head_epoch,
                    "head_seq": c.head_seq,
                    "behind": c.behind,
                    "last_resort": c.last_resort,
                })),
            })
            .collect(),
        table: StatusTable {
            headline: String::new(),
            columns: vec!["RANK", "NODE", "ROLE", "EPOCH", "POSITION", "REASON"],
            rows,
            ..Default::default()
        },
    }
}
