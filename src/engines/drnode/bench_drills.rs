//! `lab bench`'s drills figure: the drnode and slapd drills of `drill --all`, run as it runs
//! them (the ones that wait on purpose beside the others), timed from the first lab to the
//! last teardown, and each drill's own time with what it waits for on purpose.

use serde::Serialize;

use crate::runbook::drill::DrillReport;

/// Every drill of the light kinds (drnode, slapd), as `drill --all` runs them.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Drills {
    /// First lab to last teardown, all drills.
    pub(crate) wall_ms: u64,
    pub(crate) drills: Vec<DrillTime>,
}

/// One drill: its lab, faults, run, checks and teardown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DrillTime {
    pub(crate) drill: String,
    pub(crate) passed: bool,
    pub(crate) total_ms: u64,
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
            drills: reports
                .iter()
                .map(|r| DrillTime {
                    drill: r.label.clone(),
                    passed: r.passed,
                    total_ms: r.total_ms,
                    skipped: r.skipped.clone(),
                    waits: r.waits.clone(),
                })
                .collect(),
        }
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
        self.drills.iter().filter(|d| !d.passed).collect()
    }
}
