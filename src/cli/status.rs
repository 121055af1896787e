//! `drctl status` and `drctl check`.

use serde_json::json;

use super::args::StatusArgs;
use super::context::Context;
use super::error::CliError;
use super::output::{health_cell, print_json, table};
use crate::api::Role;
use crate::engines::drnode::cluster::{sync_cell, Assessment, ClusterView};

pub async fn cmd_status(ctx: &Context, args: &StatusArgs) -> Result<(), CliError> {
    // One listener for the whole watch: it keeps a Ctrl-C that arrives while probing.
    let mut interrupt = if args.watch {
        Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| CliError::failed(format!("cannot listen for Ctrl-C: {e}")))?,
        )
    } else {
        None
    };
    loop {
        let view = ctx.probe().await;
        let assessment = view.assess();
        if args.json {
            print_json(&status_json(&view, &assessment));
        } else {
            if args.watch && super::output::color_enabled() {
                print!("\x1b[2J\x1b[H");
            }
            print_table(&view, &assessment);
        }
        let Some(interrupt) = interrupt.as_mut() else {
            return Ok(());
        };
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = interrupt.recv() => return Ok(()),
        }
    }
}

pub async fn cmd_check(ctx: &Context, json: bool) -> Result<(), CliError> {
    let view = ctx.probe().await;
    let assessment = view.assess();
    report_check(
        &view.cluster,
        assessment.healthy,
        &assessment.problems,
        json,
    )
}

/// Prints a health verdict (any kind of cluster): exit 0 when healthy, 1 listing each problem.
pub fn report_check(
    cluster: &str,
    healthy: bool,
    problems: &[String],
    json: bool,
) -> Result<(), CliError> {
    if json {
        print_json(&json!({"cluster": cluster, "healthy": healthy, "problems": problems}));
    } else if healthy {
        println!("cluster {cluster} is healthy");
    } else {
        println!("cluster {cluster} is not healthy:");
        for p in problems {
            println!("  - {p}");
        }
    }
    if healthy {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} problem(s) found",
            problems.len()
        )))
    }
}

pub fn status_json(view: &ClusterView, a: &Assessment) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = view
        .nodes
        .iter()
        .zip(&a.nodes)
        .map(|(n, na)| match &n.status {
            Ok(s) => json!({
                "name": n.name,
                "host_id": s.host_id,
                "url": n.url,
                "reachable": true,
                "role": s.role,
                "epoch": s.epoch,
                "db_status": s.db_status,
                "head_seq": s.head_seq,
                "applied_seq": s.applied_seq,
                "owns": na.owns,
                "lag": na.lag,
                "primary": na.primary,
                "roles_held": view.roles_held(&s.host_id),
                "services": s.services,
                "member_state": view.member(n).map(|m| m.state),
                "entries": s.entries,
                "digest": s.digest,
                "health": na.health,
                "reasons": na.reasons,
                "diverged": na.diverged,
                "standalone_writes": s.standalone_writes,
                "primary_setting": s.primary_setting,
                "sync": s.sync,
                // Replicas only: `on`, `off` (operator) or `suspended` (after failures).
                "sync_mode": (s.role == Role::Replica).then(|| s.sync.mode()),
                "fenced_reason": s.fenced_reason,
            }),
            Err(e) => json!({
                "name": n.name,
                "host_id": null,
                "url": n.url,
                "reachable": false,
                "role": null,
                "epoch": null,
                "db_status": null,
                "head_seq": null,
                "applied_seq": null,
                "owns": null,
                "lag": null,
                "primary": null,
                "roles_held": [],
                "entries": null,
                "digest": null,
                "health": na.health,
                "reasons": na.reasons,
                "error": e.to_string(),
            }),
        })
        .collect();
    json!({
        "cluster": view.cluster,
        "healthy": a.healthy,
        "problems": a.problems,
        "nodes": nodes,
    })
}

fn print_table(view: &ClusterView, a: &Assessment) {
    let mut t = table(&[
        "NODE",
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
        "HEALTH",
    ]);
    for (n, na) in view.nodes.iter().zip(&a.nodes) {
        let dash = || "-".to_string();
        let unknown = || "?".to_string();
        let row: Vec<comfy_table::Cell> = match &n.status {
            Ok(s) => vec![
                n.name.clone(),
                "yes".into(),
                s.role.to_string(),
                s.epoch.to_string(),
                s.db_status.to_string(),
                // Unknown (the primary does not answer), never a stale number.
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
            ]
            .into_iter()
            .map(comfy_table::Cell::new)
            .collect(),
            Err(_) => [n.name.clone(), "no".into()]
                .into_iter()
                .chain(std::iter::repeat_n(dash(), 10))
                .map(comfy_table::Cell::new)
                .collect(),
        };
        let mut row = row;
        row.push(health_cell(na.health));
        t.add_row(row);
    }
    println!("cluster {} (epoch {})", view.cluster, view.epoch());
    println!("{t}");
    if a.healthy {
        println!("healthy");
    } else {
        println!("problems:");
        for p in &a.problems {
            println!("  - {p}");
        }
    }
    // Removed members do not count against health, but are never hidden.
    for (n, na) in view.nodes.iter().zip(&a.nodes) {
        if view.is_removed(n) {
            for r in &na.reasons {
                println!("note: {}: {r}", n.name);
            }
        }
    }
}
