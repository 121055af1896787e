//! `drctl chaos --kind etcd` on real etcd members: a fixed-seed campaign keeps every etcd
//! invariant, the same seed draws the same schedule, and a test-only fault that deletes an
//! acknowledged put behind the tool's back is caught with that key named. Skipped, saying why,
//! where etcd is not installed.

use std::path::Path;

use crate::support::*;

fn chaos(dir: &Path, args: &[&str]) -> Run {
    chaos_run(Some("etcd"), dir, &[], args)
}

/// Seeds 9104-9105 draw kill -9 of followers, member removal of a dead member and of a live
/// one (refused by the quorum guard), a failover after a lost quorum SIGKILLed part-way and
/// resumed, racing operators, and the policy's rejoin of the removed and fenced members.
/// Seed 9104's failover is killed while it restarts its survivor to force a new cluster: its
/// resume refused "no member answers" and the group never had a leader again (3 of 4 replays)
/// until a failover recorded what it was forcing, so that a resume finishes it.
#[test]
fn chaos_etcd_fixed_seed_campaign_keeps_every_invariant() {
    if etcd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("chaos.xml");
    let r = chaos(
        tmp.path(),
        &[
            "--seed",
            "9104",
            "--runs",
            "2",
            "--json",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let s = campaign_passed(
        &r,
        2,
        &[
            "acked-writes-kept",
            "one-cluster-one-leader",
            "old-membership-never-serves",
            "converges",
            "no-lock-outlives-its-run",
            "no-panic",
            "exit-codes-match-outcomes",
        ],
        &junit,
    );
    let inv = s["invariants"].as_object().unwrap();
    // Epochs do not exist on etcd: not judged, not reported as broken.
    assert!(inv.get("epochs-never-decrease").is_none(), "{s}");
    // The campaign ran the etcd procedures through drctl: a failover and the rejoin runbook.
    let said: Vec<String> = s["reports"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["timeline"].as_array().unwrap())
        .map(|e| format!("{} -> {}", e["what"], e["result"]))
        .collect();
    for what in [
        "drctl failover",
        "drctl run etcd-rejoin-member",
        "SIGKILLed",
    ] {
        assert!(
            said.iter().any(|l| l.contains(what)),
            "no {what}: {said:#?}"
        );
    }
}

#[test]
fn chaos_etcd_same_seed_draws_the_same_schedule() {
    if etcd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let args = ["--seed", "9100", "--runs", "3", "--schedule-only", "--json"];
    let a = chaos(tmp.path(), &args).success().json();
    let b = chaos(tmp.path(), &args).success().json();
    assert_eq!(a, b, "the same seed drew two schedules");
    // Run i of seed S is run 0 of seed S+i, and only etcd's faults and procedures are drawn.
    let one = chaos(
        tmp.path(),
        &["--seed", "9102", "--runs", "1", "--schedule-only", "--json"],
    )
    .success()
    .json();
    assert_eq!(one[0], a[2]);
    let text = a.to_string();
    for foreign in ["wipe", "demote", "repoint", "sync-on", "standalone"] {
        assert!(!text.contains(foreign), "{foreign} drawn for etcd: {text}");
    }
    chaos(tmp.path(), &["--procedures", "demote"])
        .exit(2)
        .stderr_has("--procedures demote: unknown");
}

#[test]
fn chaos_etcd_catches_a_deleted_acknowledged_put() {
    if etcd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (s, dropped) = chaos_catches_dropped(Some("etcd"), tmp.path(), "switchover");
    for key in &dropped {
        assert!(key.starts_with("chaos/"), "{key}");
    }
    let rep = &s["reports"][0];
    assert!(
        rep["replay"].as_str().unwrap().contains("--kind etcd"),
        "{rep:#}"
    );
    let dir = tmp.path().join("kept").join("seed-5");
    assert!(dir.join("report.json").is_file());
    assert!(dir.join("node-1").join("etcd.log").is_file());
    // The kept lab's members were stopped.
    let pid = std::fs::read_to_string(dir.join("node-1").join("etcd.pid")).unwrap_or_default();
    assert!(
        std::fs::read_to_string(format!("/proc/{}/cmdline", pid.trim()))
            .map_or(true, |c| !c.contains("etcd")),
        "etcd of the kept lab still runs"
    );
}
