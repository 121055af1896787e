//! The operator policy after healing: what the README tells a person to do, through the drctl
//! binary with `--json`: `check`; if unhealthy, `status`, then one remedy (resume a run whose
//! lock is still held, failover when no primary, finish a removal stuck leaving, rejoin a
//! removed member, demote a fenced or second primary, join a standalone, turn sync back on,
//! repoint), and `check` again, until healthy or the deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ctx::Ctx;
use super::drctl::{proc_args, Kill};
use crate::engine::RunOutcomeKind;
use crate::engines::drnode::cluster::probe;

const OP: &str = "chaos-policy";

fn rows(status: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(status)
        .ok()
        .and_then(|v| v.get("nodes").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

fn s<'a>(row: &'a Value, k: &str) -> &'a str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Recovers the cluster; `Ok` once `drctl check` exits 0 and every digest is equal.
pub(crate) async fn recover(ctx: &mut Ctx<'_>, deadline: Duration) -> Result<(), String> {
    let until = Instant::now() + deadline;
    let mut resumed = BTreeSet::new();
    let mut failures: std::collections::BTreeMap<String, u32> = Default::default();
    loop {
        let check = ctx
            .drctl
            .call(OP, &["check".into(), "--json".into()], None)
            .await;
        let view = probe(&ctx.cluster, &ctx.targets).await;
        let digests: BTreeSet<&str> = view
            .nodes
            .iter()
            .filter_map(|n| n.ok().map(|s| s.digest.as_str()))
            .collect();
        let all_up = view.nodes.iter().all(|n| n.ok().is_some());
        // A removed member is not recovered until it has rejoined.
        let removed = view.nodes.iter().any(|n| view.is_removed(n));
        if check.exit == Some(0) && digests.len() == 1 && all_up && !removed {
            ctx.note("policy: drctl check", "exit 0, digests equal");
            return Ok(());
        }
        let last = format!(
            "check exit {:?}: {}; {} distinct digest(s)",
            check.exit,
            check
                .stdout
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            digests.len()
        );
        if Instant::now() >= until {
            return Err(format!(
                "not converged after {} s: {last}",
                deadline.as_secs()
            ));
        }
        // A lock held by a run that chaos killed: continue that run, as the README says.
        let lock = view
            .nodes
            .iter()
            .filter_map(|n| n.ok().and_then(|s| s.lock.clone()))
            .find(|l| !resumed.contains(&l.run_id));
        // A resumed run releases its lock when it ends: no lock is broken for it here, so a
        // leak shows as a later procedure refused (and is reported by the checker).
        let mut break_lock = false;
        if let Some(l) = lock {
            resumed.insert(l.run_id.clone());
            if ctx.drctl.journal_ids().contains(&l.run_id) {
                ctx.drctl(OP, proc_args(&["run", "--resume", &l.run_id]), None)
                    .await;
                continue;
            }
            // Killed before it wrote a journal: nothing to resume, so the operator breaks it.
            break_lock = true;
        }
        let status = ctx
            .drctl
            .call(OP, &["status".into(), "--json".into()], None)
            .await;
        let rows = rows(&status.stdout);
        let up: Vec<&Value> = rows.iter().filter(|r| r["reachable"] == true).collect();
        let primaries: Vec<&Value> = up
            .iter()
            .copied()
            .filter(|r| s(r, "role") == "primary")
            .collect();
        let top = primaries
            .iter()
            .max_by_key(|r| r["epoch"].as_u64().unwrap_or(0))
            .copied();
        let args = if let Some(p) = top {
            let pname = s(p, "name").to_string();
            // Diverged replicas first: demoting a fenced primary waits for every node to follow.
            let mut bad: Vec<&&Value> = up
                .iter()
                .filter(|r| {
                    s(r, "role") == "fenced"
                        || (s(r, "role") == "primary" && s(r, "name") != pname)
                        || r["sync"]["phase"] == "diverged"
                })
                .collect();
            bad.sort_by_key(|r| r["sync"]["phase"] != "diverged");
            // A removed member is brought back the README's way: `rejoin-removed-node`.
            let removed = up.iter().find(|r| s(r, "member_state") == "removed");
            let standalone = up
                .iter()
                .find(|r| s(r, "role") == "standalone" && s(r, "member_state") != "removed");
            // Off by command or suspended after failures: `check` names `sync auto on` for both.
            let sync_off = up.iter().find(|r| {
                s(r, "role") == "replica"
                    && (r["sync"]["auto"] == false
                        || matches!(s(r, "sync_mode"), "off" | "suspended"))
                    && s(r, "primary") == pname
            });
            // A standalone node is a join's to fix: repoint leaves it alone ("already done").
            let astray = up.iter().find(|r| {
                s(r, "role") == "replica" && s(r, "primary") != pname
                    || s(r, "role") != "standalone" && s(r, "primary_setting") != pname
            });
            // Replicas first (a demote verifies that every reachable node follows the
            // primary); a remedy that failed twice gives way to the next one.
            let mut remedies = Vec::new();
            // A removal that stopped part-way: rerun it (every member answers now), else
            // complete it without the missing acknowledgements, as `removenode status` says.
            if let Some(n) = up.iter().find(|r| s(r, "member_state") == "leaving") {
                remedies.push(proc_args(&["removenode", s(n, "name")]));
                remedies.push(proc_args(&["removenode", s(n, "name"), "--force"]));
            }
            if let Some(n) = removed {
                remedies.push(proc_args(&[
                    "run",
                    "rejoin-removed-node",
                    "--var",
                    &format!("node={}", s(n, "name")),
                    "--var",
                    &format!("primary={pname}"),
                ]));
            }
            if let Some(n) = sync_off {
                remedies.push(proc_args(&["sync", "auto", "on", s(n, "name")]));
            }
            if astray.is_some() {
                remedies.push(proc_args(&["repoint", "--primary", &pname]));
            }
            for b in bad {
                remedies.push(proc_args(&["demote", s(b, "name"), "--to", &pname]));
            }
            // A replica that repoint leaves alone ("holds N records P never had: run `drctl
            // demote N`") is demoted, as that note says (chaos seed 41086).
            if let Some(n) =
                astray.filter(|r| s(r, "role") == "replica" && s(r, "primary") != pname)
            {
                remedies.push(proc_args(&["demote", s(n, "name"), "--to", &pname]));
            }
            if let Some(n) = standalone {
                remedies.push(proc_args(&["join", s(n, "name"), "--primary", &pname]));
            }
            remedies
                .into_iter()
                .find(|r| failures.get(&r.join(" ")).copied().unwrap_or(0) < 2)
        } else if !up.is_empty() {
            let c = ctx
                .drctl
                .call(OP, &["candidates".into(), "--json".into()], None)
                .await;
            ctx.note(
                "policy: drctl candidates --json",
                format!("exit {:?}", c.exit),
            );
            let mut a = proc_args(&["failover", "--force"]);
            a.push("--break-lock".into());
            Some(a)
        } else {
            None
        };
        match args {
            Some(mut a) => {
                if break_lock && !a.iter().any(|x| x == "--break-lock") {
                    a.push("--break-lock".into());
                }
                // No single call may outlive the deadline by much: it is killed, and judged so.
                let left = until.saturating_duration_since(Instant::now());
                let c = ctx
                    .drctl(
                        OP,
                        a.clone(),
                        Some(Kill::After(left + Duration::from_secs(5))),
                    )
                    .await;
                // A remedy that failed, or found nothing to do while the cluster is still
                // unhealthy, is no remedy: after two such answers the next one is tried.
                if c.exit != Some(0) || c.outcome == Some(RunOutcomeKind::AlreadyDone) {
                    *failures.entry(a.join(" ")).or_default() += 1;
                }
            }
            // Nothing to do but let replication catch up.
            None => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}
