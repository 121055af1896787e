//! `lab bench`'s drills figure: the drnode and slapd drills of `drill --all`, run as it runs
//! them (the ones that wait on purpose beside the others), timed from the first lab to the
//! last teardown, and each drill's own time with what it waits for on purpose.

use serde::Serialize;

use crate::runbook::drill::DrillReport;
use crate::runbook::drill_runner::LAB_UP;

/// Every drill of the light kinds (drnode, slapd), as `drill --all` runs them; with
/// `--drills all`, then those of the heavier engines (389-ds, Samba AD, etcd).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Drills {
    /// First lab to last teardown, the light drills.
    pub(crate) wall_ms: u64,
    pub(crate) drills: Vec<DrillTime>,
    /// The heavier engines' drills, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) heavy: Vec<DrillTime>,
}

/// One drill: its lab, faults, run, checks and teardown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DrillTime {
    pub(crate) drill: String,
    pub(crate) passed: bool,
    pub(crate) total_ms: u64,
    /// Its lab's creation and start, where the drill times it apart (the engines' drills).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lab_ms: Option<u64>,
    /// Why it was skipped (what it needs is not installed): its time says nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) skipped: Option<String>,
    /// What it waits for on purpose, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) waits: Option<String>,
}

impl Drills {
    pub(crate) fn new(reports: &[DrillReport], wall_ms: u64) -> Drills {
        Drills {
            wall_ms,
            drills: times(reports),
            heavy: Vec::new(),
        }
    }

    /// The heavier engines' drills that ran, by how long each took beyond its lab's start,
    /// longest first.
    pub(crate) fn heavy_beyond_lab(&self) -> Vec<(&DrillTime, u64)> {
        let mut v: Vec<(&DrillTime, u64)> = self
            .heavy
            .iter()
            .filter(|d| d.skipped.is_none())
            .map(|d| (d, d.total_ms.saturating_sub(d.lab_ms.unwrap_or(0))))
            .collect();
        v.sort_by_key(|(_, ms)| std::cmp::Reverse(*ms));
        v
    }

    /// The drills that ran and wait for nothing on purpose, slowest first.
    pub(crate) fn unhurried(&self) -> Vec<&DrillTime> {
        let mut v: Vec<&DrillTime> = self
            .drills
            .iter()
            .filter(|d| d.skipped.is_none() && d.waits.is_none())
            .collect();
        v.sort_by_key(|d| std::cmp::Reverse(d.total_ms));
        v
    }

    /// The drills that failed, each with its time.
    pub(crate) fn failed(&self) -> Vec<&DrillTime> {
        self.drills
            .iter()
            .chain(&self.heavy)
            .filter(|d| !d.passed)
            .collect()
    }
}

/// Each report's times; its lab's start from its first step (`lab up: …`), where it has one.
pub(crate) fn times(reports: &[DrillReport]) -> Vec<DrillTime> {
    reports
        .iter()
        .map(|r| DrillTime {
            drill: r.label.clone(),
            passed: r.passed,
            total_ms: r.total_ms,
            lab_ms: r
                .steps
                .iter()
                .find(|s| s.name.starts_with(LAB_UP))
                .map(|s| s.ms),
            skipped: r.skipped.clone(),
            waits: r.waits.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::drill::DrillStep;

    fn report(label: &str, total_ms: u64, lab_ms: Option<u64>, skipped: bool) -> DrillReport {
        let step = |name: String, ms| DrillStep {
            name,
            outcome: "done".into(),
            ms,
        };
        DrillReport {
            runbook: label.into(),
            kind: "etcd".into(),
            label: label.into(),
            passed: true,
            total_ms,
            recovery_ms: 0,
            outcome: String::new(),
            steps: lab_ms
                .map(|ms| step(format!("{LAB_UP}: 3 etcd members"), ms))
                .into_iter()
                .chain([step("inject: kill -9 node-1".into(), 5)])
                .collect(),
            expectations: Vec::new(),
            writes_acknowledged: 0,
            writes_lost: 0,
            error: None,
            skipped: skipped.then(|| "etcd is not installed".into()),
            waits: None,
        }
    }

    /// A heavier engine's drill counts from its lab's start: the longest beyond it comes
    /// first, a skipped drill says nothing, a drill without a lab step counts whole.
    #[test]
    fn heavier_drills_are_timed_beyond_their_lab_start() {
        let mut d = Drills::new(&[], 0);
        d.heavy = times(&[
            report("a", 9_000, Some(4_000), false),
            report("b", 12_000, Some(9_500), false),
            report("c", 6_000, None, false),
            report("d", 0, None, true),
        ]);
        let got: Vec<(&str, u64)> = d
            .heavy_beyond_lab()
            .into_iter()
            .map(|(t, ms)| (t.drill.as_str(), ms))
            .collect();
        assert_eq!(got, [("c", 6_000), ("a", 5_000), ("b", 2_500)]);
    }
}
