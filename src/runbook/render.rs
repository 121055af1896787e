//! A run's report for people: one row per step (and per action of a step that expanded to
//! several, or of a dry run), the outcome, notes and how to resume. Secrets are hidden.

use std::fmt::Write;

use super::engine::RunbookReport;
use super::run::RbStepOutcome;
use crate::engine::RunOutcome;
use crate::util::redact::redact;
use crate::util::table::table;

/// The report as text, ending in a newline.
pub fn render(r: &RunbookReport) -> String {
    let mut t = table(&["#", "STEP", "OUTCOME", "MS", "NOTE"]);
    // A step whose `when:` was false is the runbook's own routing, not news to the operator
    // (it stays in --json).
    let routed = |s: &&super::run::RbStep| s.outcome == RbStepOutcome::Skipped;
    let skipped = r.steps.iter().filter(routed).count();
    for s in r.steps.iter().filter(|s| !routed(s)) {
        let shown_in_rows = s.actions.len() > 1 || s.outcome.would();
        // A note an action row below already carries is not repeated on the step's row.
        let note = s.note.as_deref().unwrap_or_default();
        let repeated = shown_in_rows && s.actions.iter().any(|x| x.note.as_deref() == Some(note));
        t.add_row(vec![
            (s.index + 1).to_string(),
            format!("{} ({})", s.name, s.uses),
            s.outcome.to_string(),
            s.ms.to_string(),
            if repeated {
                String::new()
            } else {
                redact(note)
            },
        ]);
        if shown_in_rows {
            for x in &s.actions {
                t.add_row(vec![
                    String::new(),
                    format!("  - {}", redact(&x.step)),
                    x.outcome.to_string(),
                    x.ms.to_string(),
                    redact(x.note.as_deref().unwrap_or_default()),
                ]);
            }
        }
    }
    let mut out = format!("{}\n", crate::util::table::render(&t));
    let _ = writeln!(
        out,
        "{}: {} in {} ms (run {})",
        r.runbook, r.outcome, r.ms, r.run_id
    );
    if skipped > 0 {
        let _ = writeln!(
            out,
            "({skipped} {} not needed here: {} `when:` was false; --json lists {})",
            if skipped == 1 { "step" } else { "steps" },
            if skipped == 1 { "its" } else { "their" },
            if skipped == 1 { "it" } else { "them" }
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(cmd) = &r.resume {
        let _ = writeln!(out, "resume with: {cmd}");
    }
    out
}

/// The report as an engine hands it to the CLI: JSON, text and the exit code.
pub fn outcome(r: &RunbookReport) -> RunOutcome {
    RunOutcome {
        json: serde_json::to_string_pretty(r).expect("a report serializes"),
        text: render(r),
        exit: r.exit,
        error: r.error.clone().unwrap_or_else(|| r.outcome.to_string()),
    }
}
