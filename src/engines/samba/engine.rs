//! Samba AD behind the engine contract: status, check and candidates from one probe of every
//! DC; `seize-roles` (`seize.rs`) and `remove-instance` (`remove.rs`) as their bundled runbooks.
//! `repoint` (`clients.rs`) points the cluster file's client at the DCs that answer; `join`
//! (`rejoin.rs`); `sync full` pulls every naming context from one DC to another now. The other
//! procedures are not claimed, so they are refused naming the engine before anything runs.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::json;

use super::assess::{assess, probe_all, Assessment, Probed};
use super::ctx::ClientFiles;
use super::ctx::SambaCtx;
use super::{nodes_of, DcNode};
use crate::engine::{
    object, unsupported, Args, Bound, Candidate, Candidates, Engine, EnginePlan, Front, Global,
    Health, Primary, PrimaryWords, ProcError, StatusReport, StatusRow, StatusTable, StepEnv, Verb,
    VerbArgs,
};
use crate::inventory::Inventory;
use crate::runbook::front;

pub const KIND: &str = "samba-ad";

/// A domain has no epoch: `--expect-primary` names the PDC emulator's holder.
const PRIMARY: PrimaryWords = PrimaryWords {
    title: "PDC emulator",
    none: "none (no DC answers)",
    no_epoch: "--expect-epoch: Samba AD domains have no epoch; use --expect-primary DC (the PDC \
               emulator's holder)",
};

pub(super) const VERBS: &[Verb] = &[
    Verb::Status,
    Verb::Check,
    Verb::Candidates,
    Verb::Repoint,
    Verb::Join,
    Verb::SeizeRoles,
    Verb::RemoveInstance,
    Verb::Sync,
];

/// The verbs whose runbook is Samba's own: clients repointed (not replicas), a DC joined again.
pub(super) const OWN_RUNBOOKS: &[(Verb, &str)] = &[
    (Verb::Repoint, "repoint-clients"),
    (Verb::Join, "samba-rejoin-dc"),
    (Verb::Sync, "samba-replicate"),
];

/// The DCs of a cluster file, opened.
#[derive(Clone)]
pub(crate) struct Samba {
    name: String,
    nodes: Vec<DcNode>,
    clients: Option<ClientFiles>,
    timeout: Duration,
    operator: String,
}

impl Samba {
    pub(crate) fn open(global: &Global, inv: &Inventory) -> Result<Samba, ProcError> {
        let nodes = nodes_of(inv)
            .map_err(|e| ProcError::usage(format!("cluster file {}: {e}", inv.path.display())))?;
        if nodes.is_empty() {
            return Err(ProcError::usage(format!(
                "cluster file {} lists no samba-ad DC",
                inv.path.display()
            )));
        }
        Ok(Samba {
            name: inv.file.cluster.clone(),
            nodes,
            clients: ClientFiles::of(inv),
            timeout: global.timeout,
            operator: global.operator.clone(),
        })
    }

    /// The engine of a lab's DCs (a drill's), for runs bound to it.
    pub(crate) fn of(
        name: &str,
        nodes: Vec<DcNode>,
        clients: Option<ClientFiles>,
        operator: &str,
    ) -> Samba {
        Samba {
            name: name.to_string(),
            nodes,
            clients,
            timeout: Duration::from_secs(2),
            operator: operator.to_string(),
        }
    }

    fn ctx(&self, env: &StepEnv) -> SambaCtx {
        SambaCtx {
            nodes: self.nodes.clone(),
            cluster: self.name.clone(),
            realm: self
                .nodes
                .first()
                .map(|n| n.realm.clone())
                .unwrap_or_default(),
            clients: self.clients.clone(),
            run_id: env.run_id.clone(),
            timeout: self.timeout,
            step_timeout: env.step_timeout,
            export_dir: env.export_dir.clone(),
            silent: Default::default(),
        }
    }
}

impl Engine for Samba {
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
            let dcs = probe_all(&self.nodes, self.timeout).await;
            let mut a = assess(&dcs);
            if let Some(c) = &self.clients {
                super::clients::problems(c, &self.nodes, &dcs, &mut a);
            }
            Ok(status_report(&self.name, &self.nodes, &dcs, &a))
        })
    }

    fn candidates(&self) -> BoxFuture<'_, Result<Candidates, ProcError>> {
        Box::pin(async move {
            let dcs = probe_all(&self.nodes, self.timeout).await;
            Ok(candidates(&dcs, &assess(&dcs)))
        })
    }

    /// The DCs clients could be pointed at: those that answer and are DCs of the domain.
    fn repoint_list(&self) -> BoxFuture<'_, Result<(serde_json::Value, StatusTable), ProcError>> {
        Box::pin(async move {
            let dcs = probe_all(&self.nodes, self.timeout).await;
            let a = assess(&dcs);
            let mut t = StatusTable {
                columns: vec!["DC", "USABLE", "REASON"],
                ..Default::default()
            };
            let mut rows = Vec::new();
            for d in &dcs {
                let removed = a.removed(&d.name).is_some();
                let (usable, reason) = match &d.view {
                    Err(e) => (false, format!("no view: {e}")),
                    Ok(_) if removed => (false, "removed from the domain (a zombie)".into()),
                    Ok(_) => (true, "answers".to_string()),
                };
                t.rows.push(vec![
                    d.name.clone(),
                    if usable { "yes" } else { "no" }.into(),
                    reason.clone(),
                ]);
                rows.push(json!({"name": d.name, "usable": usable, "reason": reason}));
            }
            Ok((serde_json::Value::Array(rows), t))
        })
    }

    fn front(&self, verb: Verb, args: &VerbArgs) -> Result<Front, ProcError> {
        let a = |name: &str| args.get(name).cloned().unwrap_or_default();
        match verb {
            Verb::SeizeRoles => Ok(Front::new(
                verb,
                "seize-roles",
                &[("to", a("to")), ("roles", a("roles"))],
            )),
            // The DC the clients use first; it need not hold a role (seed 000: repoint the
            // clients first, then seize).
            Verb::Repoint => Ok(Front::new(
                verb,
                OWN_RUNBOOKS[0].1,
                &[("primary", a("primary"))],
            )),
            Verb::Join => Ok(Front::new(
                verb,
                OWN_RUNBOOKS[1].1,
                &[
                    ("node", a("node")),
                    ("primary", a("primary")),
                    ("export", a("export")),
                ],
            )),
            Verb::RemoveInstance => {
                Front::shared(verb, args).ok_or_else(|| unsupported(KIND, verb))
            }
            // A pull now; a DC's replication cannot be turned off (`sync auto`).
            Verb::Sync if a("mode") == "full" => Ok(Front::new(
                verb,
                OWN_RUNBOOKS[2].1,
                &[("from", a("from")), ("to", a("to"))],
            )),
            Verb::Sync => Err(ProcError::usage(
                "sync auto: a samba-ad DC's replication cannot be turned off or on; `drctl sync \
                 full --from SRC --to DST` pulls every naming context now",
            )),
            _ => Err(unsupported(KIND, verb)),
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
        Box::pin(async move { super::runbook::plan(args, Arc::new(self.ctx(env))).await })
    }

    fn primary(&self, _wait: Duration) -> Option<Primary<'_>> {
        Some(PRIMARY.probe(async move {
            let dcs = probe_all(&self.nodes, self.timeout).await;
            assess(&dcs).roles.get("pdc").cloned().flatten()
        }))
    }

    /// Runs take the host lock (Samba has no lease of ours): two seizes in two shells would
    /// race for the roles.
    fn bound(&self) -> Option<Bound> {
        let urls = self.nodes.iter().map(|n| &n.url);
        Some(front::bind(self.clone(), &self.name, &self.operator, urls))
    }
}

/// The keys of a DC's `detail` in `status --json`, null when it does not answer.
const DETAIL_KEYS: &[&str] = &["dsa", "roles_seen", "domain_dcs", "replication"];

fn reasons_of(a: &Assessment, name: &str) -> Vec<String> {
    a.problems
        .iter()
        .filter(|p| p.starts_with(&format!("{name}:")))
        .cloned()
        .collect()
}

/// The domain as `drctl status` shows it.
pub(crate) fn status_report(
    cluster: &str,
    nodes: &[DcNode],
    dcs: &[Probed],
    a: &Assessment,
) -> StatusReport {
    let pdc = a.roles.get("pdc").cloned().flatten();
    let rows = dcs
        .iter()
        .map(|d| {
            let reasons = reasons_of(a, &d.name);
            let held = a.held_by(&d.name);
            let health = if d.view.is_err() {
                Health::Red
            } else if reasons.is_empty() {
                Health::Green
            } else {
                Health::Orange
            };
            let role = Some(if held.is_empty() { "dc" } else { "fsmo" }.to_string());
            match &d.view {
                Ok(v) => StatusRow {
                    name: d.name.clone(),
                    kind: KIND,
                    url: d.url.clone(),
                    reachable: true,
                    host_id: None,
                    role,
                    epoch: None,
                    db_status: Some("up".into()),
                    head_seq: None,
                    applied_seq: None,
                    owns: None,
                    lag: None,
                    primary: pdc.clone(),
                    roles_held: held,
                    entries: None,
                    digest: None,
                    health,
                    reasons,
                    error: None,
                    detail: object(json!({
                        "dsa": v.dsa,
                        "roles_seen": v.roles,
                        "domain_dcs": v.dcs,
                        "replication": v.reps,
                    })),
                },
                Err(e) => {
                    let mut row = StatusRow::unreachable(
                        &d.name,
                        KIND,
                        &d.url,
                        health,
                        reasons,
                        e.to_string(),
                        DETAIL_KEYS,
                    );
                    row.reachable = d.answers();
                    row.role = role;
                    row.roles_held = held;
                    row.primary = pdc.clone();
                    row
                }
            }
        })
        .collect();
    let realm = nodes.first().map(|n| n.realm.as_str()).unwrap_or("-");
    StatusReport {
        cluster: cluster.to_string(),
        kind: KIND,
        healthy: a.healthy,
        problems: a.problems.clone(),
        nodes: rows,
        detail: object(json!({ "realm": realm, "roles": a.roles })),
        table: status_table(cluster, realm, dcs, a),
    }
}

fn status_table(cluster: &str, realm: &str, dcs: &[Probed], a: &Assessment) -> StatusTable {
    let rows = dcs
        .iter()
        .map(|d| {
            let held = a.held_by(&d.name);
            vec![
                d.name.clone(),
                if d.view.is_ok() { "yes" } else { "no" }.into(),
                if held.is_empty() {
                    "-".into()
                } else {
                    held.join(",")
                },
                match &d.view {
                    Ok(v) => v.dcs.len().to_string(),
                    Err(_) => "-".into(),
                },
                match &d.view {
                    Ok(v) => {
                        let failing = v.reps.iter().filter(|r| r.failures > 0).count();
                        if failing == 0 {
                            format!("{} ok", v.reps.len())
                        } else {
                            format!("{failing}/{} failing", v.reps.len())
                        }
                    }
                    Err(_) => "-".into(),
                },
            ]
        })
        .collect();
    StatusTable {
        headline: format!(
            "cluster {cluster} (samba-ad, realm {realm}, PDC {})",
            a.roles
                .get("pdc")
                .cloned()
                .flatten()
                .unwrap_or_else(|| "unknown".into())
        ),
        columns: vec!["DC", "REACHABLE", "ROLES", "DOMAIN DCS", "PULLS"],
        narrow: Vec::new(),
        rows,
        notes: Vec::new(),
    }
}

/// Every DC ranked as the target of a seize: those that answer, the one holding most roles
/// first; a DC that does not answer cannot take roles.
pub(crate) fn candidates(dcs: &[Probed], a: &Assessment) -> Candidates {
    let mut ranked: Vec<(&Probed, Vec<String>)> =
        dcs.iter().map(|d| (d, a.held_by(&d.name))).collect();
    ranked.sort_by(|(x, hx), (y, hy)| {
        y.view
            .is_ok()
            .cmp(&x.view.is_ok())
            .then(hy.len().cmp(&hx.len()))
            .then(x.name.cmp(&y.name))
    });
    let mut t = StatusTable {
        columns: vec!["RANK", "DC", "ROLES", "REASON"],
        ..Default::default()
    };
    let mut rank = 0;
    let rows = ranked
        .into_iter()
        .map(|(d, held)| {
            let (r, reason) = match &d.view {
                Ok(_) => {
                    rank += 1;
                    let why = if held.is_empty() {
                        "answers; holds no role".to_string()
                    } else {
                        format!("answers; holds {}", held.join(", "))
                    };
                    (Some(rank), why)
                }
                Err(e) => (None, format!("cannot take roles: {e}")),
            };
            t.rows.push(vec![
                r.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                d.name.clone(),
                if held.is_empty() {
                    "-".into()
                } else {
                    held.join(",")
                },
                reason.clone(),
            ]);
            Candidate {
                name: d.name.clone(),
                rank: r,
                role: Some(if held.is_empty() { "dc" } else { "fsmo" }.to_string()),
                reason,
                detail: object(json!({ "roles_held": held })),
            }
        })
        .collect();
    Candidates { rows, table: t }
}
