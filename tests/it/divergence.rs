//! Issue 10, items 4 and 6 and chaos seed 1012: divergence is counted from one consistent
//! reading, `check` flags a replica holding other records at the primary's position, and the
//! writes a standalone node took are exported before a join replaces them.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// Actions of a plan that export records or replace a node's data.
fn exports_or_full_syncs(report: &Value) -> Vec<Value> {
    procedure_actions(report)
        .into_iter()
        .filter(|a| {
            a["args"]["full_sync"] == true
                || a["args"]["action"]
                    .as_str()
                    .is_some_and(|x| x.contains("export"))
                || a["kind"].as_str().is_some_and(|x| x.contains("export"))
        })
        .collect()
}

/// Writes `n` entries straight to `node` (a standalone node takes writes alone).
fn put_on(lab: &Lab, node: &str, prefix: &str, n: u32) {
    for i in 0..n {
        lab.ok(&[
            "entry",
            "put",
            &format!("{prefix}/{i}"),
            &format!("v{i}"),
            "--node",
            node,
        ]);
    }
}

/// Kills `node`, deletes its store (its replication settings in state.json kept) and starts it.
fn wipe(lab: &Lab, node: &str) {
    lab.ok(&["lab", "kill", node]);
    for f in ["store.db", "store.db-wal", "store.db-shm"] {
        let _ = std::fs::remove_file(lab.node_dir(node).join(f));
    }
    lab.ok(&["lab", "restart", node]);
}

/// Wipes `node` and waits until a full sync from `primary` rebuilt it: a snapshot, no log.
fn rebuild(lab: &Lab, name: &str, primary: &str) {
    wipe(lab, name);
    let head = node(&lab.status(), primary)["head_seq"].clone();
    wait_for(&format!("{name} rebuilt from {primary}"), DEADLINE, || {
        let r = lab.run(&["api", "GET", "/v1/node", "--node", name]);
        (r.code() == 0 && r.json()["head_seq"] == head).then_some(())
    });
    let terms = lab
        .ok(&["api", "GET", "/v1/repl/terms", "--node", name])
        .json();
    assert_eq!(
        terms,
        Value::Array(vec![]),
        "{name} holds a snapshot, no log"
    );
}

/// Hit: `demote NODE --dry-run` on a healthy replica under 300 w/s planned an export and a full
/// sync in 11 of 20 runs: the node's terms, the primary's terms and the node's status were read
/// concurrently, so the node could look ahead of a primary read a moment earlier.
#[test]
fn demote_dry_run_of_a_healthy_replica_under_writes_plans_no_export() {
    let lab = Lab::up(3);
    let acked = lab.cwd().join("acked.log");
    let mut writer = lab
        .drctl(&[
            "lab",
            "write",
            "--count",
            "1000000",
            "--rate",
            "300",
            "--acked-log",
            acked.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    wait_for("writes under way", DEADLINE, || {
        (count_lines(&acked) >= 100).then_some(())
    });
    let mut wrong = Vec::new();
    for run in 0..20 {
        let report = lab.ok(&["demote", "node-2", "--dry-run", "--json"]).json();
        let bad = exports_or_full_syncs(&report);
        if !bad.is_empty() {
            wrong.push(format!("run {run}: {bad:?}"));
        }
    }
    let before = count_lines(&acked);
    wait_for("writes still under way", DEADLINE, || {
        (count_lines(&acked) > before).then_some(())
    });
    writer.kill().unwrap();
    writer.wait().unwrap();
    assert!(
        wrong.is_empty(),
        "a healthy replica under writes was planned an export or a full sync in {} of 20 dry \
         runs:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Hit: after a split brain, a replica at the primary's position held different records and
/// `check` exited 0. The divergence is built without two primaries at one epoch: node-2 goes
/// standalone, both it and the primary take 5 different writes (same seq, same epoch), then its
/// standalone point is lost (a state written before this version) and it follows the primary
/// again without a full sync.
#[test]
fn check_flags_a_replica_diverged_at_the_primarys_position() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "10"]);
    let s = lab.wait_converged(DEADLINE);
    let primary_url = node(&s, "node-1")["url"].as_str().unwrap().to_string();
    lab.ok(&["standalone", "node-2", "--yes"]);
    put_on(&lab, "node-2", "alone", 5);
    put_on(&lab, "node-1", "cluster", 5);
    lab.ok(&["lab", "kill", "node-2"]);
    let state_file = lab.node_dir("node-2").join("state.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    state.as_object_mut().unwrap().remove("standalone_at");
    std::fs::write(&state_file, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    lab.ok(&["lab", "restart", "node-2"]);
    wait_for("node-2 answers", DEADLINE, || {
        lab.run(&["api", "GET", "/v1/node", "--node", "node-2"])
            .code()
            .eq(&0)
            .then_some(())
    });
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/follow",
        "--node",
        "node-2",
        &format!(r#"{{"primary_url": "{primary_url}", "full_sync": false}}"#),
    ]);
    // node-2 follows node-1 at node-1's very position, with other records.
    let s = wait_for(
        "node-2 following at the primary's position",
        DEADLINE,
        || {
            let s = lab.status();
            let (r, p) = (node(&s, "node-2"), node(&s, "node-1"));
            (r["role"] == "replica" && r["head_seq"] == p["head_seq"]).then_some(s)
        },
    );
    let (r, p) = (node(&s, "node-2"), node(&s, "node-1"));
    assert_ne!(r["digest"], p["digest"], "{s}");
    assert_eq!(s["healthy"], false, "{s}");
    assert_eq!(r["diverged"], true, "{s}");
    assert!(
        s["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with("node-2: diverged")),
        "{s}"
    );
    let check = lab.run(&["check"]);
    assert_ne!(check.code(), 0, "{}", check.dump());
    assert!(check.stdout().contains("diverged"), "{}", check.dump());
    let check = lab.run(&["check", "--json"]);
    assert_ne!(check.code(), 0, "{}", check.dump());
    assert!(
        check.stdout().contains("node-2: diverged"),
        "{}",
        check.dump()
    );
    // node-3, merely a replica at the same position with the same records, is not flagged.
    assert_eq!(node(&s, "node-3")["diverged"], false, "{s}");
}

/// Hit: chaos seed 1012. node-2, wiped while the primary was dead and made standalone,
/// acknowledged 10 writes at the cluster epoch (seq 1–10); `drctl join node-2 --primary node-3`
/// full-synced over them without exporting them and `check` said healthy.
#[test]
fn join_exports_the_writes_a_standalone_node_took() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    // The primary dies; node-2 is wiped meanwhile (its store gone, its replication settings in
    // state.json kept), so it cannot rebuild itself from the primary.
    lab.ok(&["lab", "kill", "node-1"]);
    wipe(&lab, "node-2");
    wait_for("node-2 answers, empty", DEADLINE, || {
        let r = lab.run(&["api", "GET", "/v1/node", "--node", "node-2"]);
        (r.code() == 0 && r.json()["head_seq"] == 0).then_some(())
    });
    // Made standalone, it acknowledges 10 writes at the cluster's epoch: seq 1-10, positions the
    // primary's log holds too (with other records).
    lab.ok(&["standalone", "node-2", "--yes"]);
    put_on(&lab, "node-2", "alone", 10);
    lab.ok(&["lab", "restart", "node-1"]);
    wait_for("node-1 primary again", DEADLINE, || {
        let s = lab.status();
        (node(&s, "node-1")["role"] == "primary" && node(&s, "node-3")["lag"] == 0).then_some(())
    });
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["standalone_writes"], 10, "{s}");
    assert!(
        node(&s, "node-2")["reasons"]
            .to_string()
            .contains("took 10 writes while standalone"),
        "{s}"
    );

    // A follow without full sync would overwrite (or keep, unseen) those writes: refused.
    let primary_url = node(&s, "node-1")["url"].as_str().unwrap().to_string();
    let r = lab.run(&[
        "api",
        "POST",
        "/v1/admin/follow",
        "--node",
        "node-2",
        &format!(r#"{{"primary_url": "{primary_url}", "full_sync": false}}"#),
    ]);
    assert_ne!(r.code(), 0, "{}", r.dump());
    assert!(
        r.dump().contains("took 10 writes") && r.dump().contains("join it"),
        "{}",
        r.dump()
    );

    // The join plans the export, names the count and path, and exports before the full sync.
    let plan = lab
        .ok(&[
            "join",
            "node-2",
            "--primary",
            "node-1",
            "--dry-run",
            "--json",
        ])
        .json();
    let actions: Vec<Value> = procedure_actions(&plan)
        .iter()
        .map(|a| a["args"]["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![Value::from("export-divergent"), Value::from("follow")],
        "the join plan exports nothing first: {plan}"
    );
    // Without --yes (and no terminal) the confirmation names the count and the path.
    let asked = lab.run(&["join", "node-2", "--primary", "node-1"]);
    assert_ne!(asked.code(), 0, "{}", asked.dump());
    assert!(
        asked.dump().contains(&format!(
            "Export 10 records of node-2 to {}/drctl-join-node-2-",
            lab.cwd().display()
        )),
        "{}",
        asked.dump()
    );
    let export = lab.cwd().join("node-2-alone.jsonl");
    lab.ok(&[
        "join",
        "node-2",
        "--primary",
        "node-1",
        "--yes",
        "--export",
        export.to_str().unwrap(),
    ]);
    let exported = std::fs::read_to_string(&export).unwrap_or_default();
    for i in 0..10 {
        assert!(
            exported.contains(&format!("\"alone/{i}\"")),
            "alone/{i} was not exported: {exported}"
        );
    }
    assert_eq!(count_lines(&export), 10, "{exported}");
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-2")["role"], "replica");
    assert!(node(&s, "node-2")["standalone_writes"].is_null(), "{s}");
}

/// Hit (chaos seed 46231, a 30-minute campaign): `join` planned no export for a standalone node
/// that held nothing the primary lacked, then fully synced it; a write its application got
/// acknowledged between the plan and the sync was in neither the export nor the primary. Here
/// the write lands while drctl waits at its confirmation prompt.
#[test]
fn join_exports_a_write_a_standalone_node_takes_after_the_plan() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "5"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["standalone", "node-2", "--yes"]);
    let export = lab.cwd().join("late.jsonl");
    let mut term = lab.on_terminal(&[
        "join",
        "node-2",
        "--primary",
        "node-1",
        "--export",
        export.to_str().unwrap(),
    ]);
    term.wait_for("Type 'yes' to continue", DEADLINE);
    put_on(&lab, "node-2", "late", 1);
    term.send(b"yes\n");
    let status = term.finish(DEADLINE);
    assert!(status.success(), "{}", term.seen);
    let exported = std::fs::read_to_string(&export).unwrap_or_default();
    assert!(
        exported.contains("\"late/0\""),
        "the acknowledged write late/0 is in no export ({exported:?}):\n{}",
        term.seen
    );
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-2")["role"], "replica", "{s}");
}

/// Hit (chaos seeds 6158, 6283, 6308): a wiped replica rebuilt by a full sync holds its data as a
/// snapshot, and its log starts after it. Promoted, it has no term for the writes below; a
/// standalone node joined to it exported, as "never had", writes the new primary held.
#[test]
fn join_to_a_primary_rebuilt_by_a_full_sync_exports_nothing_it_holds() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "12"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["standalone", "node-2", "--yes"]);
    rebuild(&lab, "node-3", "node-1");
    lab.ok(&["switchover", "--to", "node-3", "--yes"]);

    let report = lab
        .ok(&["join", "node-2", "--primary", "node-3", "--yes", "--json"])
        .json();
    assert_eq!(report["outcome"], "succeeded", "{report}");
    // node-2 is standalone: its export step runs (it may take a write until it follows), and
    // finds nothing to export.
    assert!(
        report
            .to_string()
            .contains("node-2 held nothing node-3 lacks: nothing exported"),
        "node-3 holds all node-2 has: {report}"
    );
    let exported: Vec<_> = std::fs::read_dir(lab.cwd())
        .unwrap()
        .filter_map(|f| f.ok())
        .filter(|f| f.file_name().to_string_lossy().starts_with("drctl-join"))
        .collect();
    assert!(exported.is_empty(), "{exported:?}");

    // Writes node-2 took alone after all are still exported, and only they.
    lab.ok(&["standalone", "node-2", "--yes"]);
    put_on(&lab, "node-2", "alone", 3);
    lab.ok(&[
        "join",
        "node-2",
        "--primary",
        "node-3",
        "--export",
        "alone.jsonl",
        "--yes",
    ]);
    let keys: Vec<String> = std::fs::read_to_string(lab.cwd().join("alone.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["key"].to_string())
        .collect();
    assert_eq!(keys, ["\"alone/0\"", "\"alone/1\"", "\"alone/2\""]);
}

/// Hit (chaos seed 40242): a replica rebuilt by a full sync from the old primary holds its data
/// as a snapshot at (1,14), with no log. The new primary, promoted at 10, lacks 11..14: `demote`
/// compared an empty log, took the whole snapshot as shared, planned a partial sync, and the
/// node stayed diverged ("0 records past the common point") with those writes in no export;
/// `repoint` pointed it at the new primary, failed there, and then waited 30 s for it.
#[test]
fn demote_exports_what_a_snapshot_holds_past_the_new_primary() {
    let lab = Lab::up(3);
    put_on(&lab, "node-1", "shared", 10);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "pause", "node-2"]);
    put_on(&lab, "node-1", "lost", 4);
    rebuild(&lab, "node-3", "node-1");
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "pause", "node-3"]);
    lab.ok(&["lab", "resume", "node-2"]);
    lab.ok(&["failover", "--to", "node-2", "--yes"]);
    put_on(&lab, "node-2", "after", 3);
    lab.ok(&["lab", "resume", "node-3"]);

    // Repointing leaves it to `demote`, changing nothing on it, and waits for it no more.
    let r = lab.ok(&["repoint", "--primary", "node-2", "--yes"]);
    assert!(
        r.stderr()
            .contains("node-3 holds 4 records node-2 never had: run `drctl demote node-3`"),
        "{}",
        r.stderr()
    );
    let plan = lab.ok(&["demote", "node-3", "--dry-run", "--json"]).json();
    assert!(
        exports_or_full_syncs(&plan)
            .iter()
            .any(|a| a["args"]["action"] == "export-divergent"),
        "node-3 holds 4 writes node-2 never had: {plan}"
    );
    lab.ok(&["demote", "node-3", "--export", "lost.jsonl", "--yes"]);
    let keys: Vec<String> = std::fs::read_to_string(lab.cwd().join("lost.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["key"].to_string())
        .collect();
    assert_eq!(
        keys,
        ["\"lost/0\"", "\"lost/1\"", "\"lost/2\"", "\"lost/3\""]
    );
    // The old primary, back, holds the same 4 writes in its log: exported too.
    lab.ok(&["lab", "restart", "node-1"]);
    lab.ok(&["demote", "node-1", "--export", "old.jsonl", "--yes"]);
    let old = std::fs::read_to_string(lab.cwd().join("old.jsonl")).unwrap();
    assert_eq!(old.lines().count(), 4, "{old}");
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(
        node(&s, "node-3")["head_seq"],
        node(&s, "node-2")["head_seq"]
    );
    // Done: a rerun finds nothing left to export.
    let again = lab.ok(&["demote", "node-3", "--dry-run", "--json"]).json();
    assert!(exports_or_full_syncs(&again).is_empty(), "{again}");
}
