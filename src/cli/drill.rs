//! `drctl drill [NAME|FILE|--all] [--junit FILE] [--json]`: each runbook's drill on its own fresh
//! lab in a temporary directory (never the user's lab); pass/fail with per-step timings.

use super::error::CliError;
use super::output::{print_json, table};
use super::runbook_args::DrillArgs;
use crate::runbook::{self, drill};

pub async fn cmd_drill(a: &DrillArgs) -> Result<(), CliError> {
    let books = match &a.runbook {
        Some(name) => vec![runbook::load(name)?],
        None => runbook::bundled::names()
            .map(runbook::load)
            .collect::<Result<Vec<_>, _>>()?,
    };
    if let Some(rb) = books.iter().find(|rb| rb.drill.is_none()) {
        return Err(CliError::usage(format!(
            "runbook {} has no drill section",
            rb.name
        )));
    }
    let base = std::env::temp_dir();
    let progress = |line: &str| {
        if !a.json {
            eprintln!("{line}");
        }
    };
    // What killed drills left behind: their labs, processes and network namespaces.
    for swept in crate::lab::sweep::stale(&base) {
        progress(&format!("swept {swept}"));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::failed(format!("cannot watch for SIGTERM: {e}")))?;
    let mut reports = Vec::new();
    for rb in &books {
        let d = rb.drill.as_ref().expect("checked above");
        let mut what = Vec::new();
        if d.nodes > 0 {
            what.push(format!("a {}-node lab", d.nodes));
        }
        if let Some(dir) = &d.directory {
            what.push(format!("an {dir} directory (slapd)"));
        }
        progress(&format!(
            "drill {}: starting {}",
            rb.name,
            what.join(" and ")
        ));
        // On SIGINT or SIGTERM the drill's future is dropped, which tears its lab down.
        let signal = tokio::select! {
            r = drill::drill(rb, &base, &progress) => Err(r),
            _ = tokio::signal::ctrl_c() => Ok("SIGINT"),
            _ = term.recv() => Ok("SIGTERM"),
        };
        let r = match signal {
            Err(r) => r,
            Ok(sig) => {
                return Err(CliError::new(
                    super::error::Exit::Aborted,
                    format!(
                        "drill {} interrupted by {sig}: its lab was torn down{}",
                        rb.name,
                        if reports.is_empty() {
                            String::new()
                        } else {
                            format!(" ({} drill(s) had finished)", reports.len())
                        }
                    ),
                ))
            }
        };
        progress(&format!(
            "drill {}: {} in {} ms (recovery {} ms){}",
            rb.name,
            match (r.passed, &r.skipped) {
                (_, Some(why)) => format!("skipped ({why})"),
                (true, None) => "passed".into(),
                (false, None) => "FAILED".into(),
            },
            r.total_ms,
            r.recovery_ms,
            r.error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
        reports.push(r);
    }
    if let Some(path) = &a.junit {
        std::fs::write(path, drill::junit(&reports))
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    if a.json {
        print_json(&reports);
    } else {
        let mut t = table(&[
            "DRILL",
            "RESULT",
            "RECOVERY MS",
            "TOTAL MS",
            "STEPS (ms)",
            "CHECKS",
        ]);
        for r in &reports {
            let steps: Vec<String> = r
                .steps
                .iter()
                .map(|s| format!("{} {} ({})", s.ms, s.name, s.outcome))
                .collect();
            let checks: Vec<String> = r
                .expectations
                .iter()
                .map(|e| format!("{} {}", if e.ok { "ok" } else { "FAIL" }, e.what))
                .chain(r.error.clone())
                .chain(r.skipped.clone())
                .collect();
            t.add_row(vec![
                r.runbook.clone(),
                match (r.passed, &r.skipped) {
                    (_, Some(_)) => "skip",
                    (true, None) => "pass",
                    (false, None) => "FAIL",
                }
                .into(),
                r.recovery_ms.to_string(),
                r.total_ms.to_string(),
                steps.join("\n"),
                checks.join("\n"),
            ]);
        }
        println!("{t}");
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.runbook.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "drill failed: {}",
            failed.join(", ")
        )))
    }
}
