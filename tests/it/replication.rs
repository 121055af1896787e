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

/// Seen in a 30-minute chaos campaign (seed 45138): a standalone node joined with a full sync
/// stopped answering anything, for good. The copy held the store's lock while it waited for the
/// next part of the snapshot from the network; each status request waited for that lock on one
/// of the runtime's threads, and once every thread waited, nothing read the network: the copy
/// and the node stood still. Now a status request never waits for the copy.
#[test]
fn status_requests_during_a_full_sync_never_stop_the_node() {
    let lab = Lab::up(2);
    let status = lab.wait_converged(DEADLINE);
    let url = |n: &str| node(&status, n)["url"].as_str().unwrap().to_string();
    let (primary, replica) = (url("node-1"), url("node-2"));
    let (http, pass) = lab.http();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Enough data that the copy takes a while: 4,000 entries of 2 KB, 8 writers at once.
    let value = "x".repeat(2048);
    rt.block_on(async {
        let writers = (0..8).map(|w| {
            let (http, pass, primary, value) = (&http, &pass, &primary, &value);
            async move {
                for i in 0..500 {
                    let r = http
                        .put(format!("{primary}/v1/entries/fill/{w}/{i}"))
                        .bearer_auth(pass)
                        .json(&serde_json::json!({ "value": value }))
                        .send()
                        .await
                        .expect("the primary answers");
                    assert!(r.status().is_success(), "{:?}", r.text().await);
                }
            }
        });
        futures_util::future::join_all(writers).await;
    });
    lab.wait_converged(DEADLINE);

    let took = rt.block_on(async {
        let started = std::time::Instant::now();
        let r = http
            .post(format!("{replica}/v1/admin/follow"))
            .bearer_auth(&pass)
            .json(&serde_json::json!({ "primary_url": primary, "full_sync": true }))
            .send()
            .await
            .expect("node-2 answers the follow");
        assert!(r.status().is_success(), "{:?}", r.text().await);
        // Many status requests at once while it copies, as drctl's checks, a sampler and the
        // primary's peer checks send them; each must be answered.
        // A setting written again with the value it has is answered from the node's own head
        // (read on the request's thread); a status, from its whole store.
        let (http, pass, replica, started) = (&http, &pass, &replica, &started);
        let askers = (0..16).map(|i| async move {
            let mut during = 0;
            loop {
                let setting = http
                    .put(format!("{replica}/v1/settings/primary"))
                    .bearer_auth(pass)
                    .json(&serde_json::json!({ "value": "node-1" }))
                    .send();
                let status = http
                    .get(format!("{replica}/v1/node"))
                    .bearer_auth(pass)
                    .send();
                let r = if i % 2 == 0 {
                    setting.await
                } else {
                    status.await
                };
                let r = r.unwrap_or_else(|e| {
                    panic!("node-2 stopped answering during its full sync: {e}")
                });
                assert!(r.status().is_success(), "{:?}", r.text().await);
                let s = http
                    .get(format!("{replica}/v1/node"))
                    .bearer_auth(pass)
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("node-2 stopped answering during its full sync: {e}")
                    });
                let s: Value = s.json().await.expect("a status");
                if s["sync"]["phase"] == "full" {
                    during += 1;
                } else if during > 0 || started.elapsed() > Duration::from_secs(2) {
                    return during;
                }
                assert!(
                    started.elapsed() < DEADLINE,
                    "the full sync never ended: {s}"
                );
            }
        });
        let during: usize = futures_util::future::join_all(askers).await.iter().sum();
        (started.elapsed(), during)
    });
    assert!(
        took.1 > 0,
        "no status request was answered during the copy: nothing tested"
    );
    let s = lab.wait_converged(DEADLINE);
    let events = lab.events("node-2");
    assert!(
        events.iter().any(|e| e["kind"] == "sync"
            && e["details"]["mode"] == "full"
            && e["success"] == true
            && e["details"]["entries"].as_u64() >= Some(4000)),
        "no full sync of the 4,000 entries: {events:?}"
    );
    println!(
        "{} status requests answered during the full sync; {:?} from the follow; {s}",
        took.1, took.0
    );
}
