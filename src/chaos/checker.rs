//! The invariants a run must keep, each judged by name with its evidence: no acknowledged write
//! lost silently, one writer per epoch, no acks at a superseded epoch, convergence after healing,
//! epochs never decreasing, no lock outliving its run, no panic, exit codes matching outcomes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::ctx::Observed;
use super::writer::PREFIX;
use crate::api::Role;

/// The invariants, in the order they are judged and reported.
pub(crate) const INVARIANTS: &[&str] = &[
    "acked-writes-kept",
    "one-writer-per-epoch",
    "no-acks-at-superseded-epoch",
    "converges",
    "epochs-never-decrease",
    "no-lock-outlives-its-run",
    "no-panic",
    "exit-codes-match-outcomes",
    "exports-name-only-dropped-writes",
    "refusals-change-nothing",
];

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Verdict {
    pub name: &'static str,
    pub ok: bool,
    /// What shows it: the first few offending items, or what was checked.
    pub evidence: String,
}

pub(crate) fn verdict(name: &'static str, bad: &[String], good: String) -> Verdict {
    Verdict {
        name,
        ok: bad.is_empty(),
        evidence: if bad.is_empty() {
            good
        } else {
            let more = bad.len().saturating_sub(5);
            let mut e = bad.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
            if more > 0 {
                e.push_str(&format!("; and {more} more"));
            }
            e
        },
    }
}

/// Keys named in the export files procedures wrote (JSON lines with a `key`).
pub(crate) fn exported_keys(dir: &Path) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            keys.extend(exported_keys(&p));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(k) = v.get("key").and_then(|k| k.as_str()) {
                    keys.insert(k.to_string());
                }
            }
        }
    }
    keys
}

/// The records of the export files procedures wrote: (file, key, epoch, seq).
fn exported_records(dir: &Path) -> Vec<(String, String, u64, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(exported_records(&p));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let file = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for v in text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        {
            let num = |k: &str| v.get(k).and_then(|x| x.as_u64());
            if let (Some(k), Some(e), Some(s)) = (
                v.get("key").and_then(|k| k.as_str()),
                num("epoch"),
                num("seq"),
            ) {
                out.push((file.clone(), k.to_string(), e, s));
            }
        }
    }
    out
}

/// The verdicts, in [`INVARIANTS`] order, and how many acknowledged writes were lost.
pub(crate) async fn check(o: &Observed) -> (Vec<Verdict>, u64) {
    let exported = exported_keys(&o.exports);
    let mut out = Vec::new();

    // 1. Every acknowledged write is on the final primary or in an export file.
    let primary = o
        .final_view
        .nodes
        .iter()
        .filter(|n| n.ok().is_some_and(|s| s.role == Role::Primary))
        .max_by_key(|n| n.ok().map(|s| s.epoch));
    let mut lost = Vec::new();
    let mut present: BTreeMap<String, String> = BTreeMap::new();
    // The final primary's (epoch, seq) of each key: the write that set it.
    let mut written_at: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    match primary.and_then(|p| o.targets.iter().find(|t| t.name == p.name)) {
        Some(t) => match t.client.list_entries(Some(PREFIX)).await {
            Ok(entries) => {
                for e in entries {
                    written_at.insert(e.key.clone(), (e.epoch, e.seq));
                    present.insert(e.key, e.value);
                }
            }
            Err(e) => lost.push(format!("cannot list the final primary {}: {e}", t.name)),
        },
        None => lost.push("no primary at the end to hold the acknowledged writes".into()),
    }
    for a in &o.acks {
        let kept = present.get(&a.key) == Some(&a.value);
        if !kept && !exported.contains(&a.key) {
            lost.push(format!(
                "{} (acked by {} at epoch {} seq {} at {} ms) is not on the final primary {} \
                 and in no export file",
                a.key,
                a.node,
                a.epoch,
                a.seq,
                a.acked_ms,
                primary.map(|p| p.name.as_str()).unwrap_or("-")
            ));
        }
    }
    let n_lost = lost.len() as u64;
    let n_exported = o.acks.iter().filter(|a| exported.contains(&a.key)).count();
    out.push(verdict(
        INVARIANTS[0],
        &lost,
        format!("{} acked, {n_exported} of them exported", o.acks.len()),
    ));

    // 2. No two nodes acknowledged writes at one epoch (nor were primary at one epoch at once).
    let mut by_epoch: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    // A standalone node writes outside the cluster's log (at the epoch it last saw); once its
    // writes are exported before a join replaces them, they never enter a primary's history.
    for a in o
        .acks
        .iter()
        .filter(|a| !(a.standalone && exported.contains(&a.key)))
    {
        by_epoch.entry(a.epoch).or_default().insert(&a.node);
    }
    let mut twins: Vec<String> = by_epoch
        .iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(e, n)| format!("epoch {e}: writes acked by {n:?}"))
        .collect();
    twins.extend(
        o.samples
            .twins
            .iter()
            .map(|(e, n, at)| format!("epoch {e}: {n:?} both primary at {at} ms")),
    );
    out.push(verdict(
        INVARIANTS[1],
        &twins,
        format!("{} epoch(s) with acked writes", by_epoch.len()),
    ));

    // 3. No write sent after a higher epoch was promoted and acked at a lower one, unless exported.
    let stale: Vec<String> = o
        .acks
        .iter()
        .filter(|a| !exported.contains(&a.key))
        .filter_map(|a| {
            let (e, (node, at)) = o
                .samples
                .promotions
                .range(a.epoch + 1..)
                .find(|(_, (_, at))| *at < a.sent_ms)?;
            Some(format!(
                "{} acked by {} at epoch {} (sent at {} ms), but {node} was primary at epoch {e} \
                 since {at} ms; not exported",
                a.key, a.node, a.epoch, a.sent_ms
            ))
        })
        .collect();
    out.push(verdict(
        INVARIANTS[2],
        &stale,
        format!("{} promotion(s) observed", o.samples.promotions.len()),
    ));

    // 4. Convergence after healing.
    let conv: Vec<String> = o.converged.clone().err().into_iter().collect();
    out.push(verdict(
        INVARIANTS[3],
        &conv,
        "check exit 0, equal digests".into(),
    ));

    // 5. Epochs never decrease.
    let dec: Vec<String> = o
        .samples
        .decreases
        .iter()
        .map(|(n, from, to, at)| format!("{n}: epoch {from} then {to} at {at} ms"))
        .collect();
    out.push(verdict(
        INVARIANTS[4],
        &dec,
        format!("{} status samples", o.samples.count),
    ));

    // 6. No lock outlives its run: checked after each finished procedure, and at the end.
    let mut locks = o.leaked_locks.clone();
    // A run chaos killed (and never finished) still owns its lock: only finished runs leak.
    let unfinished = |id: &str| {
        let j = o.dir.join("state/drctl/runs").join(format!("{id}.jsonl"));
        std::fs::read_to_string(j).is_ok_and(|t| !t.contains("\"event\":\"end\""))
    };
    for n in &o.final_view.nodes {
        if let Some(l) = n
            .ok()
            .and_then(|s| s.lock.as_ref())
            .filter(|l| !unfinished(&l.run_id))
        {
            locks.push(format!(
                "{} holds the lock of finished run {} ({}, {}) after the run ended",
                n.name, l.run_id, l.holder, l.reason
            ));
        }
    }
    out.push(verdict(INVARIANTS[5], &locks, "no lock held".into()));

    // 7. No panic in any node's log.
    let panics: Vec<String> = o
        .nodes
        .iter()
        .filter_map(|(name, dir)| {
            let log = std::fs::read_to_string(dir.join("drnode.log")).ok()?;
            let line = log.lines().find(|l| l.contains("panicked at"))?;
            Some(format!("{name}: {line}"))
        })
        .collect();
    out.push(verdict(
        INVARIANTS[6],
        &panics,
        format!("{} logs read", o.nodes.len()),
    ));

    // 8. Exit codes match outcomes.
    out.push(exit_codes(&o.calls));

    // 9. An export names only writes the primary never had: a record the final primary holds
    // as the very same write (key, epoch, seq) was not dropped, and exporting it (with the full
    // sync that follows) means the divergence was misread (e.g. under writes).
    let records = exported_records(&o.exports);
    let wrong: Vec<String> = records
        .iter()
        .filter(|(_, k, e, s)| written_at.get(k) == Some(&(*e, *s)))
        .map(|(f, k, e, s)| {
            format!("{f}: {k} at epoch {e} seq {s} is on the final primary as the same write")
        })
        .collect();
    out.push(verdict(
        INVARIANTS[8],
        &wrong,
        format!("{} exported record(s) checked", records.len()),
    ));

    // 10. A refused procedure (exit 3) changed nothing: roles, who follows whom, the
    // operator's sync setting, maintenance and promotions are as they were before it.
    let refused = o.calls.iter().filter(|c| c.exit == Some(3)).count();
    out.push(verdict(
        INVARIANTS[9],
        &o.refusals_changed,
        format!("{refused} refusal(s) compared before and after"),
    ));
    (out, n_lost)
}

/// The panics of a run: in drctl's stderr, and the first line of each (node, log) that holds
/// one of `markers`.
pub(crate) fn panics(
    calls: &[super::drctl::Call],
    logs: &[(String, std::path::PathBuf)],
    markers: &[&str],
) -> Vec<String> {
    let mut out: Vec<String> = calls
        .iter()
        .filter(|c| c.stderr.contains("panicked at"))
        .map(|c| format!("drctl {}: {}", c.args.join(" "), c.stderr))
        .collect();
    for (name, log) in logs {
        let Ok(text) = std::fs::read_to_string(log) else {
            continue;
        };
        if let Some(l) = text.lines().find(|l| markers.iter().any(|m| l.contains(m))) {
            out.push(format!("{name}: {l}"));
        }
    }
    out
}

/// `exit-codes-match-outcomes`: 0 done, 1 failed (part-way only with a resume), 3 refused,
/// 4 aborted, 5 only with a printed resume; calls chaos killed are not judged.
pub(crate) fn exit_codes(calls: &[super::drctl::Call]) -> Verdict {
    let mut bad = Vec::new();
    let mut judged = 0;
    for c in calls.iter().filter(|c| !c.killed) {
        let Some(code) = c.exit else { continue };
        judged += 1;
        use crate::engine::RunOutcomeKind as O;
        let outcome = c.outcome;
        let fits = match code {
            0 => matches!(outcome, Some(O::Succeeded | O::AlreadyDone)),
            1 => match outcome {
                Some(O::FailedPartWay) => c.resume.is_some(),
                Some(o) => o.failed(),
                None => false,
            },
            3 => outcome == Some(O::Refused),
            4 => outcome == Some(O::Aborted),
            5 => c.resume.is_some(),
            _ => false,
        };
        if !fits {
            bad.push(format!(
                "drctl {}: exit {code} with outcome {:?}, resume {:?}: {}",
                c.args.join(" "),
                c.outcome.map(|o| o.to_string()),
                c.resume,
                c.stderr.replace('\n', " | ")
            ));
        }
    }
    verdict(
        INVARIANTS[7],
        &bad,
        format!("{judged} procedure exit(s) judged"),
    )
}
