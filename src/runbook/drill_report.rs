//! What a drill reports: its steps, its expectations and their verdicts, the redaction of every
//! text before it is shown, and the JUnit XML report for CI. The drill runners (drnode's in
//! `drill.rs`, each engine's in its folder) fill it; nothing here runs anything.

use std::collections::BTreeSet;

use serde::Serialize;

use super::drill_model::Expect;
use crate::lab::LabError;

#[derive(Debug, Clone, Serialize)]
pub struct DrillStep {
    pub name: String,
    pub outcome: String,
    pub ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub runbook: String,
    /// The kind of lab the drill ran on (`drnode`, `openldap`, …).
    pub kind: String,
    /// How the drill is named in lists: the runbook, and the kind unless it is the default.
    #[serde(skip)]
    pub label: String,
    pub passed: bool,
    /// Lab start, faults, run, checks and teardown.
    pub total_ms: u64,
    /// The runbook's run: the recovery time.
    pub recovery_ms: u64,
    pub outcome: String,
    pub steps: Vec<DrillStep>,
    pub expectations: Vec<Expectation>,
    pub writes_acknowledged: u64,
    pub writes_lost: u64,
    pub error: Option<String>,
    /// Why the drill did not run (what it needs is not installed); a skipped drill passes.
    pub skipped: Option<String>,
    /// What the drill waits for on purpose, when most of its time is a wait it must let run out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits: Option<String>,
}

/// The expectations of one look at a lab, in the order they are checked; the ones every kind
/// of drill has (`primary`, `primary_not`, `roles`, `healthy`) worded the same for each.
#[derive(Debug, Default)]
pub(crate) struct Checks(pub(crate) Vec<Expectation>);

impl Checks {
    pub(crate) fn check(&mut self, what: String, ok: bool, detail: String) {
        self.0.push(Expectation { what, ok, detail });
    }

    /// `primary` and `primary_not`, where the engine calls its primary `title` (leader,
    /// provider, supplier) and `now` is the one it has.
    pub(crate) fn primary(&mut self, e: &Expect, title: &str, now: Option<&str>) {
        if let Some(p) = &e.primary {
            let ok = now == Some(p.as_str());
            self.check(format!("{title} is {p}"), ok, format!("{title}: {now:?}"));
        }
        if let Some(p) = &e.primary_not {
            let ok = now.is_some() && now != Some(p.as_str());
            self.check(
                format!("{title} is not {p}"),
                ok,
                format!("{title}: {now:?}"),
            );
        }
    }

    /// `roles`: each node's role, as `have` names it.
    pub(crate) fn roles(&mut self, e: &Expect, have: impl Fn(&str) -> String) {
        for (node, role) in &e.roles {
            let have = have(node);
            let ok = have == *role;
            self.check(format!("{node} is {role}"), ok, format!("{node} is {have}"));
        }
    }

    /// `healthy`, against the engine's verdict and the problems it found.
    pub(crate) fn healthy(&mut self, e: &Expect, healthy: bool, problems: &[String]) {
        if let Some(want) = e.healthy {
            let ok = healthy == want;
            self.check(format!("healthy is {want}"), ok, problems.join("; "));
        }
    }

    /// `no_write_lost`: every acknowledged write is among those `present` where the primary
    /// holds them (said `on` there: "present", "on the provider"), or why they could not be
    /// read. How many are lost.
    pub(crate) fn no_write_lost(
        &mut self,
        acked: &BTreeSet<String>,
        present: Result<BTreeSet<String>, String>,
        on: &str,
    ) -> u64 {
        let what = "no acknowledged write lost".to_string();
        let present = match present {
            Ok(p) => p,
            Err(e) => {
                self.check(what, false, e);
                return 0;
            }
        };
        let missing: Vec<&String> = acked.difference(&present).collect();
        let e_g = missing.first().map(|m| format!(" (e.g. {m})"));
        let detail = format!(
            "{} acknowledged, {} {on}, {} lost{}",
            acked.len(),
            present.len(),
            missing.len(),
            e_g.unwrap_or_default()
        );
        self.check(what, missing.is_empty() && !acked.is_empty(), detail);
        missing.len() as u64
    }

    pub(crate) fn all_ok(&self) -> bool {
        self.0.iter().all(|x| x.ok)
    }
}

pub(crate) fn fail(e: impl std::fmt::Display) -> LabError {
    LabError::Failed(e.to_string())
}

impl DrillReport {
    /// The runbook's run, as the drill reports it: its time (the recovery), outcome and steps.
    pub(crate) fn take_run(&mut self, run: &super::engine::RunbookReport) {
        self.recovery_ms = run.ms;
        self.outcome = run.outcome.to_string();
        self.steps.extend(run.steps.iter().map(|s| DrillStep {
            name: s.name.clone(),
            outcome: s.outcome.to_string(),
            ms: s.ms,
        }));
    }

    /// Every text of the report with the secrets the run saw (`{{ env.* }}` values, secret
    /// parameters, passphrases, bind passwords) hidden: what the table, `--json` and the JUnit
    /// file render.
    pub(super) fn redacted(mut self) -> DrillReport {
        use crate::util::redact::redact;
        let hide = |s: &mut String| *s = redact(s);
        hide(&mut self.runbook);
        hide(&mut self.outcome);
        for s in &mut self.steps {
            hide(&mut s.name);
            hide(&mut s.outcome);
        }
        for e in &mut self.expectations {
            hide(&mut e.what);
            hide(&mut e.detail);
        }
        self.error
            .iter_mut()
            .chain(self.skipped.iter_mut())
            .for_each(hide);
        self
    }
}

/// JUnit XML: one test suite, one test case per drill, failures with what did not hold.
pub fn junit(reports: &[DrillReport]) -> String {
    let cases = reports
        .iter()
        .map(|r| {
            let why: Vec<String> = r
                .error
                .iter()
                .cloned()
                .chain(
                    r.expectations
                        .iter()
                        .filter(|e| !e.ok)
                        .map(|e| format!("{}: {}", e.what, e.detail)),
                )
                .collect();
            let steps: Vec<String> = r
                .steps
                .iter()
                .map(|s| format!("{} ms  {}  {}", s.ms, s.outcome, s.name))
                .collect();
            crate::util::junit::Case {
                classname: "drill",
                name: r.label.clone(),
                ms: r.total_ms,
                failure: (!r.passed).then(|| why.join("; ")),
                skipped: r.skipped.clone().filter(|_| r.passed),
                out: format!("recovery {} ms\n{}", r.recovery_ms, steps.join("\n")),
            }
        })
        .collect();
    crate::util::junit::xml("drctl drills", cases)
}
