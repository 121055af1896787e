//! `drctl status`, `check` and `candidates`: the engine's report, printed one way for every
//! engine.

use serde_json::json;

use super::args::{Format, StatusArgs};
use super::error::CliError;
use super::output::{health_cell, print_json, print_yaml, render, table, Versioned, SCHEMA};
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
    let format = args.out.format();
    loop {
        let report = engine.status().await?;
        match format {
            Format::Json => print_json(&Versioned::new(&report)),
            Format::Yaml => print_yaml(&Versioned::new(&report)),
            Format::Table | Format::Wide => {
                if args.watch {
                    if super::output::color_enabled() {
                        print!("\x1b[2J\x1b[H");
                    }
                    println!("{}", watch_line(args.interval));
                }
                print_table(&report, format == Format::Wide);
            }
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

pub(super) async fn cmd_candidates(engine: &dyn Engine, format: Format) -> Result<(), CliError> {
    let c: Candidates = engine.candidates().await?;
    match format {
        Format::Json => print_json(&Versioned::each(&c.rows)),
        Format::Yaml => print_yaml(&Versioned::each(&c.rows)),
        Format::Table | Format::Wide => println!("{}", render(&plain(&c.table))),
    }
    Ok(())
}

/// The line above each redraw of `status --watch`: how often, and when this one was taken.
fn watch_line(interval: std::time::Duration) -> String {
    let now = time::OffsetDateTime::now_utc();
    let at = now
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default();
    format!(
        "every {}, last {at} (Ctrl-C to stop)",
        crate::util::duration::human(interval)
    )
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
        print_json(&json!({
            "schema": SCHEMA,
            "cluster": cluster,
            "healthy": healthy,
            "problems": problems,
        }));
    } else if healthy {
        println!("cluster {cluster} is healthy");
    } else {
        println!("cluster {cluster} is not healthy:");
        for p in problems {
            println!(
                "{}",
                crate::util::words::fold_for_stdout(&format!("  - {p}"))
            );
        }
    }
    if healthy {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} found",
            crate::util::words::count(problems.len() as u64, "problem")
        )))
    }
}

/// The status table: the engine's narrow columns (all of them when `wide`), then HEALTH.
fn print_table(r: &StatusReport, wide: bool) {
    let shown: Vec<usize> = (0..r.table.columns.len())
        .filter(|&i| {
            wide || r.table.narrow.is_empty() || r.table.narrow.contains(&r.table.columns[i])
        })
        .collect();
    let mut columns: Vec<&str> = shown.iter().map(|&i| r.table.columns[i]).collect();
    columns.push("HEALTH");
    let mut t = table(&columns);
    for (cells, node) in r.table.rows.iter().zip(&r.nodes) {
        let mut row: Vec<comfy_table::Cell> = shown
            .iter()
            .map(|&i| comfy_table::Cell::new(cells.get(i).map(String::as_str).unwrap_or("-")))
            .collect();
        row.push(health_cell(node.health));
        t.add_row(row);
    }
    println!("{}", r.table.headline);
    println!("{}", render(&t));
    if r.healthy {
        println!("healthy");
    } else {
        println!("problems:");
        for p in &r.problems {
            println!(
                "{}",
                crate::util::words::fold_for_stdout(&format!("  - {p}"))
            );
        }
    }
    for n in &r.table.notes {
        println!("note: {n}");
    }
}
