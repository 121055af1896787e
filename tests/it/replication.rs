//! Replication on real processes: partial and full sync, durability after kill -9, forwarding.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn three_nodes_replicate_1000_writes() {
    let lab = Lab::up(3);
    let acked = lab.cwd().join("acked.log");
    lab.ok(&[
        "lab",
        "write",
        "--count",
        "1000",
        "--acked-log",
        acked.to_str().unwrap(),
    ]);
    assert_eq!(count_lines(&acked), 1000);
    let s = lab.wait_converged(DEADLINE);
    for name in ["node-1", "node-2", "node-3"] {
        let n = node(&s, name);
        assert_eq!(n["owns"], 100.0, "{name}: {n}");
        assert!(n["entries"].as_u64().unwrap() >= 1000);
        lab.ok(&[
            "lab",
            "verify",
            "--acked-log",
            acked.to_str().unwrap(),
            "--node",
            name,
        ]);
    }
    assert_eq!(node(&s, "node-1")["role"], "primary");
    assert_eq!(node(&s, "node-2")["primary"], "node-1");
}

#[test]
fn killed_replica_catches_up_by_partial_sync() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "100"]);
    lab.wait_converged(DEADLINE);
    let before_restart = lab.events("node-3").last().unwrap()["id"].as_u64().unwrap();
    lab.ok(&["lab", "kill", "node-3"]);
    lab.ok(&["lab", "write", "--count", "200"]);
    lab.ok(&["lab", "restart", "node-3"]);
    lab.wait_converged(DEADLINE);
    let after: Vec<Value> = lab
        .events("node-3")
        .into_iter()
        .filter(|e| e["id"].as_u64().unwrap() > before_restart && e["kind"] == "sync")
        .collect();
    let partial = after
        .iter()
        .find(|e| e["details"]["mode"] == "partial")
        .unwrap_or_else(|| panic!("no partial sync after restart: {after:?}"));
    // It resumed from where it stopped, not from zero, and never needed a full copy.
    assert!(
        partial["details"]["from_seq"].as_u64().unwrap() >= 100,
        "{partial}"
    );
    assert!(
        after.iter().all(|e| e["details"]["mode"] != "full"),
        "a full sync happened: {after:?}"
    );
}

#[test]
fn wiped_replica_is_rebuilt_by_full_sync() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "150"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "kill", "node-2"]);
    for f in std::fs::read_dir(lab.node_dir("node-2")).unwrap() {
        let p = f.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("store.db")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    lab.ok(&["lab", "restart", "node-2"]);
    let s = lab.wait_converged(DEADLINE);
    assert!(node(&s, "node-2")["entries"].as_u64().unwrap() >= 150);
    let events = lab.events("node-2");
    let full: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "sync" && e["details"]["mode"] == "full")
        .collect();
    assert!(
        full.iter()
            .any(|e| e["details"]["reason"] == "the replica is empty"),
        "no full sync of the empty replica: {full:?}"
    );
    assert!(full.iter().any(|e| e["success"] == true), "{full:?}");
}

#[test]
fn replica_too_far_behind_gets_a_full_sync() {
    let lab = Lab::up_with(3, &["--log-keep", "20"]);
    lab.ok(&["lab", "kill", "node-3"]);
    lab.ok(&["lab", "write", "--count", "600"]);
    lab.ok(&["lab", "restart", "node-3"]);
    lab.wait_converged(DEADLINE);
    let events = lab.events("node-3");
    let full = events
        .iter()
        .filter(|e| e["kind"] == "sync" && e["details"]["mode"] == "full")
        .find(|e| {
            e["details"]["reason"]
                .as_str()
                .unwrap_or("")
                .contains("no longer kept")
        });
    assert!(
        full.is_some(),
        "no full sync for a truncated log: {events:?}"
    );
}

#[test]
fn primary_killed_right_after_acknowledging_keeps_every_write() {
    let lab = Lab::up(3);
    let acked = lab.cwd().join("acked.log");
    lab.ok(&[
        "lab",
        "write",
        "--count",
        "300",
        "--acked-log",
        acked.to_str().unwrap(),
    ]);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "restart", "node-1"]);
    lab.ok(&[
        "lab",
        "verify",
        "--acked-log",
        acked.to_str().unwrap(),
        "--node",
        "node-1",
    ]);
    assert_eq!(count_lines(&acked), 300);
    lab.wait_converged(DEADLINE);
}

#[test]
fn primary_killed_mid_write_stream_loses_no_acknowledged_write() {
    let lab = Lab::up(3);
    let acked = lab.cwd().join("acked.log");
    let mut writer = lab
        .drctl(&[
            "lab",
            "write",
            "--count",
            "1000000",
            "--write-timeout",
            "1s",
            "--acked-log",
            acked.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("200 acknowledged writes", DEADLINE, || {
        (count_lines(&acked) >= 200).then_some(())
    });
    lab.ok(&["lab", "kill", "node-1"]);
    // Without a primary no write can be acknowledged: the writer gives up.
    let status = writer.wait().unwrap();
    assert!(!status.success());
    let acknowledged = count_lines(&acked);
    lab.ok(&["lab", "restart", "node-1"]);
    lab.ok(&[
        "lab",
        "verify",
        "--acked-log",
        acked.to_str().unwrap(),
        "--node",
        "node-1",
    ]);
    let s = lab.wait_converged(DEADLINE);
    assert!(node(&s, "node-1")["entries"].as_u64().unwrap() >= acknowledged as u64);
}

#[test]
fn writes_sent_to_a_replica_are_forwarded_to_the_primary() {
    let lab = Lab::up(3);
    let put = lab
        .ok(&[
            "entry",
            "put",
            "cfg/colour",
            "blue",
            "--node",
            "node-2",
            "--json",
        ])
        .json();
    assert_eq!(put["node"], "node-1", "{put}");
    wait_for("the entry on node-3", DEADLINE, || {
        let r = lab.run(&["entry", "get", "cfg/colour", "--node", "node-3"]);
        (r.code() == 0 && r.stdout().trim() == "blue").then_some(())
    });
    lab.ok(&["entry", "rm", "cfg/colour", "--node", "node-3"]);
    wait_for("the delete on node-2", DEADLINE, || {
        (lab.run(&["entry", "get", "cfg/colour", "--node", "node-2"])
            .code()
            == 1)
            .then_some(())
    });
    let listed = lab.ok(&["entry", "list", "--json"]).json();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["key"] != "cfg/colour"));
}

#[test]
fn paused_node_is_reported_unreachable_and_recovers() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "pause", "node-2"]);
    let s = run(lab.drctl(&["--timeout", "300ms", "status", "--json"]))
        .success()
        .json();
    let n2 = node(&s, "node-2");
    assert_eq!(n2["reachable"], false);
    assert_eq!(n2["health"], "red");
    assert_eq!(s["healthy"], false);
    lab.run(&["check"])
        .exit(1)
        .stdout_has("node-2: unreachable");
    lab.ok(&["lab", "resume", "node-2"]);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["check"]);
}
