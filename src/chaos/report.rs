//! Reports: one per run (seed, timeline, verdicts, counters) and the campaign summary (runs,
//! faults, procedures, writes acknowledged, lost and exported, per-invariant pass counts, runs
//! per minute), as a table, JSON and JUnit.

use std::collections::BTreeMap;

use serde::Serialize;

use super::checker::{Verdict, INVARIANTS};
use super::ctx::Observed;
use super::operate::Event;
use super::schedule::Schedule;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunReport {
    pub seed: u64,
    pub nodes: u16,
    pub passed: bool,
    pub ms: u64,
    /// The drawn schedule, step by step (what `--seed S --runs 1` replays).
    pub schedule: Vec<String>,
    /// What happened, with the nodes each step resolved to.
    pub timeline: Vec<Event>,
    pub invariants: Vec<Verdict>,
    pub first_broken: Option<String>,
    pub faults: u64,
    pub procedures: u64,
    pub writes_acknowledged: u64,
    pub writes_lost: u64,
    pub writes_exported: u64,
    pub error: Option<String>,
    /// Where the failed run's lab, logs and journals were kept.
    pub kept: Option<String>,
    /// The command that replays this run (the schedule depends on the seed and the mix).
    pub replay: String,
}

impl RunReport {
    pub(crate) fn new(s: &Schedule) -> RunReport {
        RunReport {
            seed: s.seed,
            nodes: s.nodes,
            passed: false,
            ms: 0,
            schedule: s.steps.iter().map(|x| x.to_string()).collect(),
            timeline: Vec::new(),
            invariants: Vec::new(),
            first_broken: None,
            faults: 0,
            procedures: 0,
            writes_acknowledged: 0,
            writes_lost: 0,
            writes_exported: 0,
            error: None,
            kept: None,
            replay: String::new(),
        }
    }

    /// The checker's verdicts and what the run counted: (faults, procedures, writes
    /// acknowledged), (writes lost, exported or named at risk), and its timeline.
    pub(crate) fn judged(
        &mut self,
        verdicts: Vec<Verdict>,
        (faults, procedures, acked): (u64, usize, usize),
        (lost, exported): (u64, u64),
        timeline: Vec<Event>,
    ) {
        self.invariants = verdicts;
        self.faults = faults;
        self.procedures = procedures as u64;
        self.writes_acknowledged = acked as u64;
        self.writes_lost = lost;
        self.writes_exported = exported;
        self.first_broken = self
            .invariants
            .iter()
            .find(|v| !v.ok)
            .map(|v| format!("{}: {}", v.name, v.evidence));
        self.timeline = timeline;
    }

    pub(crate) fn fill(&mut self, o: &Observed, faults: u64, lost: u64) {
        let exported = super::checker::exported_keys(&o.exports);
        self.faults = faults;
        self.procedures = o.calls.len() as u64;
        self.writes_acknowledged = o.acks.len() as u64;
        self.writes_exported = o.acks.iter().filter(|a| exported.contains(&a.key)).count() as u64;
        self.writes_lost = lost;
        self.first_broken = self
            .invariants
            .iter()
            .find(|v| !v.ok)
            .map(|v| format!("{}: {}", v.name, v.evidence));
    }

    /// The failed run as a person reads it: seed, timeline, first invariant broken, replay.
    pub(crate) fn explain(&self) -> String {
        let mut s = format!("run seed {} FAILED\ntimeline:\n", self.seed);
        for e in &self.timeline {
            s.push_str(&format!(
                "  +{:>6} ms  {}  -> {}\n",
                e.at_ms, e.what, e.result
            ));
        }
        if let Some(b) = &self.first_broken {
            s.push_str(&format!("first invariant broken: {b}\n"));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("error: {e}\n"));
        }
        if let Some(k) = &self.kept {
            s.push_str(&format!("lab, logs and journals kept in {k}\n"));
        }
        s.push_str(&format!("replay: {}\n", self.replay));
        s
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    pub seed: u64,
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
    pub failed_seeds: Vec<u64>,
    pub faults: u64,
    pub procedures: u64,
    pub writes_acknowledged: u64,
    pub writes_lost: u64,
    pub writes_exported: u64,
    /// Invariant name -> runs that kept it.
    pub invariants: BTreeMap<String, u64>,
    pub ms: u64,
    pub runs_per_minute: f64,
    pub reports: Vec<RunReport>,
}

pub(crate) fn summarize(seed: u64, reports: Vec<RunReport>, ms: u64) -> Summary {
    let sum = |f: fn(&RunReport) -> u64| reports.iter().map(f).sum();
    // The invariants the runs were judged by (a slapd run has no epochs or locks to judge).
    let judged: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.invariants.iter().map(|v| v.name))
        .collect();
    let names = if judged.is_empty() {
        INVARIANTS.to_vec()
    } else {
        judged
    };
    let mut invariants: BTreeMap<String, u64> = names.iter().map(|n| (n.to_string(), 0)).collect();
    for r in &reports {
        for v in r.invariants.iter().filter(|v| v.ok) {
            *invariants.entry(v.name.to_string()).or_default() += 1;
        }
    }
    Summary {
        seed,
        runs: reports.len() as u64,
        passed: reports.iter().filter(|r| r.passed).count() as u64,
        failed: reports.iter().filter(|r| !r.passed).count() as u64,
        failed_seeds: reports
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.seed)
            .collect(),
        faults: sum(|r| r.faults),
        procedures: sum(|r| r.procedures),
        writes_acknowledged: sum(|r| r.writes_acknowledged),
        writes_lost: sum(|r| r.writes_lost),
        writes_exported: sum(|r| r.writes_exported),
        invariants,
        ms,
        runs_per_minute: if ms == 0 {
            0.0
        } else {
            (reports.len() as f64 * 60_000.0 / ms as f64 * 100.0).round() / 100.0
        },
        reports,
    }
}

/// JUnit XML: one test case per run (named by its seed), failing with the first broken invariant.
pub(crate) fn junit(s: &Summary) -> String {
    let cases = s
        .reports
        .iter()
        .map(|r| {
            let lines: Vec<String> = r
                .timeline
                .iter()
                .map(|e| format!("+{} ms {} -> {}", e.at_ms, e.what, e.result))
                .collect();
            crate::util::junit::Case {
                classname: "chaos",
                name: format!("seed {}", r.seed),
                ms: r.ms,
                failure: (!r.passed).then(|| {
                    r.first_broken
                        .clone()
                        .or_else(|| r.error.clone())
                        .unwrap_or_default()
                }),
                skipped: None,
                out: lines.join("\n"),
            }
        })
        .collect();
    crate::util::junit::xml("drctl chaos", cases)
}
