//! `drctl status`, `check` and `candidates`: the engine's report, printed one way for every
//! engine.

use serde_json::json;

use super::args::StatusArgs;
use super::error::CliError;
use super::output::{health_cell, print_json, table};
use crate::engine::{Candidates, Engine, StatusReport, StatusTable};

pub(super) async fn cmd_status(engine: &dyn Engine, args: &StatusArgs) -> Result<(), CliError> {
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
        let report = engine.status().await?;
        if args.json {
            print_json(&report);
        } else {
            if args.watch && super::output::color_enabled() {
                print!("\x1b[2J\x1b[H");
            }
            print_table(&report);
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

pub(super) async fn cmd_check(engine: &dyn Engine, json: bool) -> Result<(), CliError> {
    let r = engine.status().await?;
    report_check(&r.cluster, r.healthy, &r.problems, json)
}

pub(super) async fn cmd_candidates(engine: &dyn Engine, json: bool) -> Result<(), CliError> {
    let c: Candidates = engine.candidates().await?;
    if json {
        print_json(&c);
    } else {
        println!("{}", plain(&c.table));
    }
    Ok(())
}

/// A listing's table without health (candidates, repoint targets).
pub(super) fn plain(t: &StatusTable) -> comfy_table::Table {
    let mut out = table(&t.columns);
    for r in &t.rows {
        out.add_row(r.clone());
    }
    out
}

/// Prints a health verdict (any kind of cluster): exit 0 when healthy, 1 listing each problem.
pub(super) fn report_check(
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

fn print_table(r: &StatusReport) {
    let mut columns = r.table.columns.clone();
    columns.push("HEALTH");
    let mut t = table(&columns);
    for (cells, node) in r.table.rows.iter().zip(&r.nodes) {
        let mut row: Vec<comfy_table::Cell> = cells.iter().map(comfy_table::Cell::new).collect();
        row.push(health_cell(node.health));
        t.add_row(row);
    }
    println!("{}", r.table.headline);
    println!("{t}");
    if r.healthy {
        println!("healthy");
    } else {
        println!("problems:");
        for p in &r.problems {
            println!("  - {p}");
        }
    }
    for n in &r.table.notes {
        println!("note: {n}");
    }
}
