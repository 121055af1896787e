//! `drctl drill [NAME|FILE|--all] [--junit FILE] [--json]`: each runbook's drill on its own fresh
//! lab in a temporary directory (never the user's lab); pass/fail with per-step timings.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::args::DrillArgs;
use super::error::CliError;
use super::output::{print_json, table};
use crate::runbook::{self, drill};

pub(super) async fn cmd_drill(g: &super::args::GlobalArgs, a: &DrillArgs) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let books = selected(g, a)?;
    let json = a.json;
    let reports = run_all(&books, &|line: &str| {
        if !json {
            eprintln!("{line}");
        }
    })
    .await?;
    if let Some(path) = &a.junit {
        std::fs::write(path, drill::junit(&reports))
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    if a.json {
        print_json(&reports);
    } else {
        print_table(&reports, a.verbose, started);
    }
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| !r.passed)
        .map(why_failed)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "drill failed: {}",
            failed.join("; ")
        )))
    }
}

/// A failed drill on one line: the runbook, its kind of lab, and why (its error, else the
/// expectations that did not hold), so a log cut short still says what broke.
fn why_failed(r: &drill::DrillReport) -> String {
    let why = match &r.error {
        Some(e) => e.clone(),
        None => r
            .expectations
            .iter()
            .filter(|e| !e.ok)
            .map(|e| match e.detail.as_str() {
                "" => e.what.clone(),
                d => format!("{} ({d})", e.what),
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!("{} on {}: {why}", r.runbook, r.kind)
}

/// The drill runs asked for: one per drill of each runbook (a runbook proven on several kinds
/// of lab has one drill for each; `--kind` keeps that kind's).
fn selected(g: &super::args::GlobalArgs, a: &DrillArgs) -> Result<Vec<runbook::Runbook>, CliError> {
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
    let books: Vec<runbook::Runbook> = books
        .iter()
        .flat_map(|rb| rb.drill_runs())
        .filter(|rb| g.kind.as_deref().is_none_or(|k| rb.drill_kind() == k))
        .collect();
    if books.is_empty() {
        return Err(CliError::usage(format!(
            "--kind {}: no drill runs on that kind of lab",
            g.kind.as_deref().unwrap_or_default()
        )));
    }
    Ok(books)
}

/// Drill runs on the light kinds of lab, then on the others.
pub(super) type LightAndHeavy = (Vec<runbook::Runbook>, Vec<runbook::Runbook>);

/// The drill runs of `drill --all`, as `lab bench` times them: on the light kinds of lab, drnode
/// (with slapd where a drill has a directory) and OpenLDAP; then the others (389-ds, Samba
/// AD, etcd).
pub(super) fn light_and_heavy_drills() -> Result<LightAndHeavy, CliError> {
    use crate::engines::{openldap, registry};
    let kinds = [registry::ENGINES[0].kind, openldap::KIND];
    Ok(runbook::bundled::names()
        .map(runbook::load)
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .flat_map(|rb| rb.drill_runs())
        .partition(|rb| kinds.contains(&rb.drill_kind())))
}

/// Drills that take their time on purpose run this many at once, beside the others.
const BESIDE_LANES: usize = 3;

/// Whether a drill runs beside the others: it takes its time on purpose (a wait, a timeout on a
/// silent node, a write load at a set rate), so the time costs nothing when it overlaps other
/// drills, and its lab is light enough to share the machine.
fn beside(rb: &runbook::Runbook) -> bool {
    let light = crate::engines::registry::find(rb.drill_kind())
        .ok()
        .and_then(|r| r.lab)
        .is_some_and(|l| l.beside);
    light
        && rb
            .drill
            .as_ref()
            .is_some_and(|d| d.takes_its_time().is_some())
}

/// Runs every drill, in the order given: the ones that take their time on purpose (on light
/// labs) in a few lanes beside the others, the others one at a time; a signal tears the running
/// drills' labs down and says which.
pub(super) async fn run_all(
    books: &[runbook::Runbook],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<drill::DrillReport>, CliError> {
    let base = std::env::temp_dir();
    // What killed drills left behind: their labs, processes and network namespaces.
    for swept in crate::lab::sweep::stale(&base, &crate::engines::registry::lab_kinds()) {
        progress(&format!("swept {swept}"));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::failed(format!("cannot watch for SIGTERM: {e}")))?;
    // Drills that take their time on purpose run beside the others, which run one at a time:
    // the time they take costs nothing while other drills run.
    // Drills of a heavy engine's lab of one size start from a copy of the first one's lab.
    let pool = drill::LabPool::new(books.iter().filter_map(|rb| {
        let nodes = rb.drill.as_ref()?.nodes;
        Some((rb.drill_kind(), nodes))
    }));
    let (books, base, pool) = (&books, &base, &pool);
    let one = |i: usize| {
        let rb = &books[i];
        async move {
            let d = rb.drill.as_ref().expect("checked above");
            let mut what = Vec::new();
            if d.nodes > 0 {
                what.push(format!("a {}-node lab", d.nodes));
            }
            if let Some(dir) = &d.directory {
                what.push(format!("an {dir} directory (slapd)"));
            }
            if let (Some(w), true) = (d.takes_its_time(), beside(rb)) {
                what.push(format!("beside the others: it {w}"));
            }
            progress(&format!(
                "drill {}: starting {}",
                rb.drill_label(),
                what.join(" and ")
            ));
            let r = drill::drill(rb, base, pool, progress).await;
            progress(&format!(
                "drill {}: {} in {} ms (recovery {} ms){}",
                rb.drill_label(),
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
            r
        }
    };
    let (waiting, others): (VecDeque<usize>, VecDeque<usize>) =
        (0..books.len()).partition(|&i| beside(&books[i]));
    let (waiting, others) = (Mutex::new(waiting), Mutex::new(others));
    let finished = Mutex::new(0usize);
    // The drills running now, to name them if a signal tears their labs down.
    let running = Mutex::new(std::collections::BTreeSet::new());
    // A lane runs the drills of its queue (0: beside, 1: the others) one after another.
    let queues = [&waiting, &others];
    let lane = |q: usize| {
        let (one, finished, running, queue) = (&one, &finished, &running, queues[q]);
        async move {
            let mut out = Vec::new();
            while let Some(i) = {
                let next = queue.lock().expect("queue").pop_front();
                next
            } {
                running
                    .lock()
                    .expect("running")
                    .insert(books[i].drill_label());
                out.push((i, one(i).await));
                running
                    .lock()
                    .expect("running")
                    .remove(&books[i].drill_label());
                *finished.lock().expect("count") += 1;
            }
            out
        }
    };
    let waiting_lanes = futures_util::future::join_all((0..BESIDE_LANES).map(|_| lane(0)));
    // On SIGINT or SIGTERM the drills' futures are dropped, which tears their labs down.
    let signal = tokio::select! {
        r = futures_util::future::join(lane(1), waiting_lanes) => Err(r),
        _ = tokio::signal::ctrl_c() => Ok("SIGINT"),
        _ = term.recv() => Ok("SIGTERM"),
    };
    let mut reports: Vec<(usize, drill::DrillReport)> = match signal {
        Err((a, b)) => a.into_iter().chain(b.into_iter().flatten()).collect(),
        Ok(sig) => {
            let done = *finished.lock().expect("count");
            let names: Vec<String> = running.lock().expect("running").iter().cloned().collect();
            let what = match names.as_slice() {
                [one] => format!("drill {one} interrupted by {sig}: its lab was torn down"),
                _ => format!(
                    "drills {} interrupted by {sig}: their labs were torn down",
                    names.join(", ")
                ),
            };
            return Err(CliError::new(
                super::error::Exit::Aborted,
                format!(
                    "{what}{}",
                    if done == 0 {
                        String::new()
                    } else {
                        format!(" ({done} drill(s) had finished)")
                    }
                ),
            ));
        }
    };
    reports.sort_by_key(|(i, _)| *i);
    Ok(reports.into_iter().map(|(_, r)| r).collect())
}

/// The drills as a table, and the plain closing line CI logs are read by.
fn print_table(reports: &[drill::DrillReport], verbose: bool, started: std::time::Instant) {
    let mut headers = vec!["DRILL", "RESULT", "RECOVERY MS", "TOTAL MS"];
    headers.extend(if verbose {
        ["STEPS (ms)", "CHECKS"].as_slice()
    } else {
        ["NOTE"].as_slice()
    });
    let mut t = table(&headers);
    for r in reports {
        let mut row = vec![
            r.runbook.clone(),
            match (r.passed, &r.skipped) {
                (_, Some(_)) => "skip",
                (true, None) => "pass",
                (false, None) => "FAIL",
            }
            .into(),
            r.recovery_ms.to_string(),
            r.total_ms.to_string(),
        ];
        let failed_checks = r.expectations.iter().filter(|e| !e.ok);
        if verbose {
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
                .chain(r.waits.clone())
                .collect();
            row.extend([steps.join("\n"), checks.join("\n")]);
        } else {
            // Why it failed or was skipped, or why it took long on purpose.
            let note: Vec<String> = failed_checks
                .map(|e| format!("FAIL {}", e.what))
                .chain(r.error.clone())
                .chain(r.skipped.clone())
                .chain(r.waits.clone())
                .collect();
            row.push(note.join("\n"));
        }
        t.add_row(row);
    }
    println!("{}", super::output::render(&t));
    // The plain closing line CI logs are read by.
    let skipped = reports.iter().filter(|r| r.skipped.is_some()).count();
    let failed = reports.iter().filter(|r| !r.passed).count();
    println!(
        "{} passed, {failed} failed, {skipped} skipped in {} s",
        reports.len() - failed - skipped,
        started.elapsed().as_secs()
    );
}
