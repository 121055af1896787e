//! `drctl run --list` and `drctl run --show ID`: the journals of past runs, read back. A run
//! that stopped part-way (killed, failed part-way, timed out) says how to resume it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::args::RunArgs;
use super::error::CliError;
use super::output::{print_json, render, table};
use crate::engine::RunOutcomeKind;
use crate::runbook::journal::{self, Entry};

/// One run as `--list` shows it.
#[derive(Debug, Serialize)]
struct RunSummary {
    run_id: String,
    runbook: String,
    cluster: String,
    /// When it started, RFC 3339 UTC.
    started: String,
    /// How it ended; null while it runs or when it was killed before it could say.
    outcome: Option<RunOutcomeKind>,
    steps: usize,
    resumes: usize,
    /// The command that continues it, for a run that stopped part-way.
    resume: Option<String>,
}

fn summary(run_id: &str, entries: &[Entry]) -> Option<RunSummary> {
    let Some(Entry::Start {
        runbook,
        cluster,
        at_ms,
        ..
    }) = entries.first()
    else {
        return None;
    };
    // The last end counts: a resumed run ends again.
    let outcome = entries.iter().rev().find_map(|e| match e {
        Entry::End { outcome, .. } => Some(*outcome),
        _ => None,
    });
    let ended_after_last_resume = entries
        .iter()
        .rposition(|e| matches!(e, Entry::End { .. }))
        .is_some_and(|end| {
            entries
                .iter()
                .rposition(|e| matches!(e, Entry::Resume { .. }))
                .is_none_or(|resume| end > resume)
        });
    let resumable = !ended_after_last_resume
        || matches!(
            outcome,
            Some(RunOutcomeKind::FailedPartWay | RunOutcomeKind::TimedOut)
        );
    Some(RunSummary {
        run_id: run_id.to_string(),
        runbook: runbook.clone(),
        cluster: cluster.clone(),
        started: rfc3339(*at_ms),
        outcome: outcome.filter(|_| ended_after_last_resume),
        steps: entries
            .iter()
            .filter(|e| matches!(e, Entry::Step { .. }))
            .count(),
        resumes: entries
            .iter()
            .filter(|e| matches!(e, Entry::Resume { .. }))
            .count(),
        resume: resumable.then(|| format!("drctl run --resume {run_id}")),
    })
}

fn rfc3339(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

pub(super) fn cmd_list(a: &RunArgs) -> Result<(), CliError> {
    let dir = journal::runs_dir();
    let mut runs: Vec<RunSummary> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let id = name.strip_suffix(".jsonl")?.to_string();
                // A journal that cannot be read is skipped, never a reason to list nothing.
                summary(&id, &journal::read(&dir, &id).ok()?)
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(CliError::failed(format!(
                "cannot read {}: {e}",
                dir.display()
            )))
        }
    };
    runs.sort_by(|x, y| y.started.cmp(&x.started).then(y.run_id.cmp(&x.run_id)));
    runs.truncate(a.last);
    if a.json {
        print_json(&super::output::Versioned::each(&runs));
        return Ok(());
    }
    if runs.is_empty() {
        eprintln!("no runs in {}", dir.display());
        return Ok(());
    }
    let mut t = table(&["RUN", "RUNBOOK", "STARTED", "OUTCOME", "RESUME"]);
    for r in &runs {
        t.add_row(vec![
            r.run_id.clone(),
            r.runbook.clone(),
            r.started.clone(),
            r.outcome
                .map(|o| o.as_str().to_string())
                .unwrap_or_else(|| "unfinished".into()),
            r.resume.clone().unwrap_or_default(),
        ]);
    }
    println!("{}", render(&t));
    Ok(())
}

pub(super) fn cmd_show(a: &RunArgs) -> Result<(), CliError> {
    let id = a.show.as_deref().expect("dispatched on --show");
    let entries = journal::read(&journal::runs_dir(), id)?;
    if a.json {
        print_json(&entries);
        return Ok(());
    }
    let s = summary(id, &entries)
        .ok_or_else(|| CliError::failed(format!("run {id}: its journal has no start")))?;
    let vars = entries.iter().find_map(|e| match e {
        Entry::Start { vars, .. } => Some(vars.clone()),
        _ => None,
    });
    println!("run {} of {} on cluster {}", s.run_id, s.runbook, s.cluster);
    println!("started {}", s.started);
    let vars: BTreeMap<String, String> = vars.unwrap_or_default();
    for (k, v) in &vars {
        println!("  --var {k}={v}");
    }
    let mut t = table(&["#", "STEP", "OUTCOME", "MS", "NOTE"]);
    for e in &entries {
        match e {
            Entry::Step {
                index,
                name,
                outcome,
                ms,
                note,
                ..
            } => t.add_row(vec![
                (index + 1).to_string(),
                name.clone(),
                outcome.to_string(),
                ms.to_string(),
                note.clone().unwrap_or_default(),
            ]),
            Entry::Resume { at_ms } => t.add_row(vec![
                String::new(),
                format!("(resumed {})", rfc3339(*at_ms)),
                String::new(),
                String::new(),
                String::new(),
            ]),
            _ => continue,
        };
    }
    println!("{}", render(&t));
    match entries.iter().rev().find_map(|e| match e {
        Entry::End {
            outcome, ms, error, ..
        } => Some((outcome, ms, error)),
        _ => None,
    }) {
        Some((o, ms, error)) if s.outcome.is_some() => {
            println!("{}: {o} in {ms} ms", s.runbook);
            if let Some(e) = error {
                println!("error: {}", e.lines().next().unwrap_or_default());
            }
        }
        _ => println!("{}: unfinished (killed, or still running)", s.runbook),
    }
    if let Some(r) = &s.resume {
        println!("resume with: {r}");
    }
    Ok(())
}
