//! One writer per epoch (issue 10, items 1, 3 and 5): a switchover never undoes past its point
//! of no return, a promotion takes an epoch no node has used, two primaries at one epoch stop,
//! and absurd epochs are refused.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// `drctl switchover --to node-2` running, its progress readable on stderr, and its pid.
fn spawn_switchover_to_node_2(lab: &Lab) -> (std::process::Child, nix::unistd::Pid) {
    let child = lab
        .drctl(&["switchover", "--to", "node-2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn drctl");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    (child, pid)
}

/// Hit: a switchover whose target stopped (SIGSTOP) on its promotion undid the drain, and the old
/// primary took writes again at the old epoch beside the target promoted at the new one:
/// 1,393–4,179 acknowledged writes were missing on the final primary in 6 of 6 runs.
#[test]
fn switchover_past_its_point_of_no_return_never_reopens_the_old_primary() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "50"]);
    lab.wait_converged(DEADLINE);
    let (mut child, drctl) = spawn_switchover_to_node_2(&lab);
    let stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        // Right before the promotion: hold drctl still, stop the target, let drctl go on. The
        // promotion then meets a target that answers nothing, whatever the machine's load.
        if line.contains("fence node-1") || line.contains("promote node-2") {
            nix::sys::signal::kill(drctl, nix::sys::signal::Signal::SIGSTOP).unwrap();
            lab.ok(&["lab", "pause", "node-2"]);
            nix::sys::signal::kill(drctl, nix::sys::signal::Signal::SIGCONT).unwrap();
        }
    }
    let status = child.wait().unwrap();
    let log = seen.join("\n");
    assert!(!status.success(), "the switchover cannot finish: {log}");
    assert!(log.contains("point of no return"), "{log}");
    // The old primary does not take writes at the old epoch, now or after its drain runs out.
    lab.run(&["entry", "put", "k", "v", "--node", "node-1"])
        .exit(1)
        .stderr_has("fenced");
    let s = lab.status();
    assert_eq!(node(&s, "node-1")["role"], "fenced", "{s}");
    assert_eq!(node(&s, "node-1")["epoch"], 2, "{s}");
    // Hit (chaos seed 300): with node-2 silent, a switchover to node-3 "finished forward" and
    // promoted it, while node-2 (paused, primary at epoch 2) had acknowledged writes node-3 lacks.
    lab.run(&["switchover", "--to", "node-3", "--yes"])
        .exit(3)
        .stderr_has("no primary answers");
    assert_eq!(node(&lab.status(), "node-3")["role"], "replica");
    lab.ok(&["lab", "resume", "node-2"]);
    let report = lab.ok(&["switchover", "--to", "node-2", "--json"]).json();
    assert_eq!(report["outcome"], "succeeded", "{report}");
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-2")["role"], "primary", "{s}");
    assert_eq!(node(&s, "node-1")["role"], "replica", "{s}");
    assert!(node(&s, "node-2")["entries"].as_u64().unwrap() >= 50);
    lab.ok(&["entry", "put", "after", "switchover"]);
}

/// A switchover killed between fencing the old primary and promoting the target: no primary
/// answers; the same command finishes it forward (it never reopens the old primary).
#[test]
fn switchover_stopped_after_its_fence_is_finished_by_a_rerun() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "40"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/drain",
        "--node",
        "node-1",
        r#"{"ttl_ms": 30000}"#,
    ]);
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/fence",
        "--node",
        "node-1",
        r#"{"epoch": 2, "reason": "fenced by a switchover (test)"}"#,
    ]);
    let dry = lab
        .ok(&["switchover", "--to", "node-2", "--dry-run", "--json"])
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    let report = lab.ok(&["switchover", "--to", "node-2", "--json"]).json();
    assert_eq!(report["outcome"], "succeeded", "{report}");
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-2")["role"], "primary", "{s}");
    // A new epoch above the one the fence recorded.
    assert_eq!(node(&s, "node-2")["epoch"], 3, "{s}");
    assert_eq!(node(&s, "node-1")["role"], "replica", "{s}");
}

/// Hit: `POST /v1/admin/promote {"epoch": <current>}` on a replica made a second writable primary
/// at the same epoch.
#[test]
fn promotion_at_an_epoch_already_in_use_is_refused() {
    let lab = Lab::up(2);
    lab.ok(&["lab", "write", "--count", "10"]);
    lab.wait_converged(DEADLINE);
    lab.run(&[
        "api",
        "POST",
        "/v1/admin/promote",
        "--node",
        "node-2",
        r#"{"epoch": 1}"#,
    ])
    .exit(1)
    .stdout_has("no node has used");
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["role"], "replica", "{s}");
    assert_eq!(node(&s, "node-1")["role"], "primary", "{s}");
    lab.ok(&["check"]);
}

/// Hit: a promote at `u64::MAX` wrapped `epoch + 1` to 0 and every later promotion failed.
#[test]
fn promotion_at_an_absurd_epoch_is_refused() {
    let lab = Lab::up(2);
    for epoch in ["18446744073709551615", "9007199254740992", "0"] {
        let r = lab.run(&[
            "api",
            "POST",
            "/v1/admin/promote",
            "--node",
            "node-2",
            &format!(r#"{{"epoch": {epoch}}}"#),
        ]);
        assert_ne!(r.code(), 0, "{}", r.dump());
        assert!(r.stdout().contains("out of range"), "{}", r.dump());
    }
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["role"], "replica", "{s}");
    assert_eq!(node(&s, "node-2")["epoch"], 1, "{s}");
    lab.ok(&["switchover", "--to", "node-2"]);
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-2")["epoch"], 2, "{s}");
}

/// Hit: primaries at equal epochs never fenced each other, and log matching assumes one writer
/// per epoch, so their divergence was never seen. A node whose state was wiped has seen no
/// epoch, so it can still be promoted at one in use: both primaries must stop.
#[test]
fn two_primaries_at_one_epoch_fence_each_other() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "kill", "node-3"]);
    for f in std::fs::read_dir(lab.node_dir("node-3")).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with("store.db") || name == "state.json" {
            std::fs::remove_file(p).unwrap();
        }
    }
    lab.ok(&["lab", "restart", "node-3"]);
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/promote",
        "--node",
        "node-3",
        r#"{"epoch": 1}"#,
    ]);
    let s = wait_for("both primaries at epoch 1 fenced", DEADLINE, || {
        let s = lab.status();
        let fenced = ["node-1", "node-3"]
            .iter()
            .all(|n| node(&s, n)["role"] == "fenced");
        fenced.then_some(s)
    });
    assert!(
        node(&s, "node-1")["fenced_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("two writers at one epoch"),
        "{s}"
    );
    for n in ["node-1", "node-3"] {
        lab.run(&["entry", "put", "k", "v", "--node", n])
            .exit(1)
            .stderr_has("fenced");
    }
    assert_ne!(lab.run(&["check"]).code(), 0);
    // Recovery promotes a replica at a new epoch above both.
    let report = lab
        .ok(&["failover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(report["outcome"], "succeeded", "{report}");
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["role"], "primary", "{s}");
    assert_eq!(node(&s, "node-2")["epoch"], 2, "{s}");
    lab.ok(&["entry", "put", "after", "failover", "--node", "node-2"]);
}

/// Hit (chaos seed 2010): two switchovers planned from the same view both promoted their target
/// at the same new epoch; the second target's promotion made two primaries at one epoch, and
/// writes the first acknowledged were lost. A promotion is refused when its epoch is in use.
#[test]
fn a_stale_plan_never_promotes_at_an_epoch_another_run_took() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "30"]);
    lab.wait_converged(DEADLINE);
    let (mut child, pid) = spawn_switchover_to_node_2(&lab);
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("drain writes on node-1") {
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
            break;
        }
    }
    // Meanwhile another run promotes node-3 at the epoch this plan chose.
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/promote",
        "--node",
        "node-3",
        r#"{"epoch": 2, "procedure": "switchover"}"#,
    ]);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    seen.extend(lines.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    let log = seen.join("\n");
    assert!(!status.success(), "{log}");
    assert!(log.contains("epoch 2 is in use already"), "{log}");
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["role"], "replica", "{s}");
    assert_eq!(node(&s, "node-3")["role"], "primary", "{s}");
}

// Hit by chaos seed 42020: the old primary restarted while the new one was down, and took writes
// at its old epoch for good once the new one came back standalone: only a primary or a replica
// at a newer epoch fenced it. A standalone node at a newer epoch proves that promotion too.
#[test]
fn a_restored_old_primary_fences_itself_on_a_standalone_node_at_a_newer_epoch() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "5"]);
    lab.wait_converged(Duration::from_secs(30));
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["failover", "--to", "node-2", "--yes"]);
    lab.ok(&["standalone", "node-3", "--yes"]);
    lab.ok(&["lab", "kill", "node-2"]);
    lab.ok(&["lab", "restart", "node-1"]);
    wait_for("node-1 fences itself", Duration::from_secs(15), || {
        let r = lab.run(&["api", "GET", "/v1/node", "--node", "node-1"]);
        (r.code() == 0 && r.json()["role"] == "fenced").then_some(())
    });
    let r = lab.run(&["entry", "put", "late", "v", "--node", "node-1"]);
    assert_ne!(r.code(), 0, "the old primary took a write at its old epoch");
}

// Chaos seed 42020: the old primary came back fenced holding the cluster's newest writes, and
// every other node was standalone. No replica could be promoted, so `failover --force` refused
// for good and no procedure could make a primary again. Now the fenced node is the last resort:
// refused without `--force` (naming it), promoted at a new epoch with it, its writes kept.
#[test]
fn a_forced_failover_promotes_the_fenced_old_primary_when_no_replica_can_be() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "5"]);
    lab.wait_converged(DEADLINE);
    // A write only node-1 holds: the replicas are paused when it is acknowledged.
    lab.ok(&["lab", "pause", "node-2"]);
    lab.ok(&["lab", "pause", "node-3"]);
    lab.ok(&["entry", "put", "only-on-1", "v", "--node", "node-1"]);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "resume", "node-2"]);
    lab.ok(&["lab", "resume", "node-3"]);
    lab.ok(&["failover", "--to", "node-2", "--yes"]);
    lab.ok(&["lab", "restart", "node-1"]);
    let role = |n: &str| {
        let r = lab.run(&["api", "GET", "/v1/node", "--node", n]);
        (r.code() == 0).then(|| r.json())
    };
    wait_for("node-1 fences itself", DEADLINE, || {
        role("node-1").filter(|s| s["role"] == "fenced").map(|_| ())
    });
    lab.ok(&["standalone", "node-2", "--yes"]);
    lab.ok(&["standalone", "node-3", "--yes"]);

    let r = lab.run(&["candidates", "--json"]).success();
    let rows = r.json();
    let n1 = rows["candidates"]
        .as_array()
        .or_else(|| rows.as_array())
        .and_then(|a| a.iter().find(|c| c["name"] == "node-1"))
        .cloned()
        .unwrap_or_else(|| panic!("node-1 in candidates: {}", r.dump()));
    assert_eq!(n1["last_resort"], true, "{}", r.dump());

    // Unforced: refused, naming the way out, nothing changed.
    lab.run(&["failover", "--yes"])
        .exit(3)
        .stderr_has("--force");
    assert_eq!(role("node-1").expect("node-1 answers")["role"], "fenced");
    // A dry run runs nothing.
    lab.run(&["failover", "--force", "--dry-run"])
        .success()
        .stdout_has("node-1");
    assert_eq!(role("node-1").expect("node-1 answers")["role"], "fenced");

    lab.ok(&["failover", "--force", "--yes"]);
    let s = role("node-1").expect("node-1 answers");
    assert_eq!(s["role"], "primary", "{s}");
    assert_eq!(s["epoch"], 3, "a new epoch above node-2's 2: {s}");
    lab.ok(&["entry", "get", "only-on-1", "--node", "node-1"]);
    // A rerun finds it done.
    lab.ok(&["failover", "--force", "--yes"]);
    // The standalone nodes join it; the cluster is whole again.
    lab.ok(&["join", "node-2", "--primary", "node-1", "--yes"]);
    lab.ok(&["join", "node-3", "--primary", "node-1", "--yes"]);
    lab.ok(&["check"]);
}

// Chaos seed 42020 in CI: the old primary and the new one restarted together. The old one's
// first peer check found the new one silent, so it took writes at its old epoch, and went on
// taking them beside the new primary until its next look at the silent peer (200 ms later).
// Now the new primary tells an older primary to fence before it takes its first write.
#[test]
fn a_restarted_new_primary_fences_the_old_one_before_it_takes_a_write() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "5"]);
    let status = lab.wait_converged(DEADLINE);
    let url = |n: &str| node(&status, n)["url"].as_str().unwrap().to_string();
    let (old, new) = (url("node-1"), url("node-2"));
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["failover", "--to", "node-2", "--yes"]);
    lab.ok(&["lab", "kill", "node-2"]);
    // node-3 follows node-2 at epoch 2: down too, nothing node-1 can reach knows of epoch 2.
    lab.ok(&["lab", "kill", "node-3"]);
    lab.ok(&["lab", "restart", "node-1"]);

    let (http, pass) = lab.http();
    let put = |url: &str, key: String| {
        let req = http
            .put(format!("{url}/v1/entries/{key}"))
            .bearer_auth(&pass)
            .json(&serde_json::json!({ "value": "v" }));
        async move {
            match req.send().await {
                Ok(r) if r.status().is_success() => r.json::<serde_json::Value>().await.ok(),
                _ => None,
            }
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The premise: the restored old primary takes writes at epoch 1.
    wait_for("node-1 takes a write at its old epoch", DEADLINE, || {
        let ack = rt.block_on(put(&old, "premise".into()))?;
        assert_eq!(ack["epoch"], 1, "{ack}");
        Some(())
    });

    // node-2 comes back while node-1 is written to without a pause; the first write node-2
    // takes is a line: no write sent to node-1 after it may be acknowledged.
    let mut restart = lab
        .drctl(&["lab", "restart", "node-2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("drctl lab restart");
    let (first_new, late_old) = rt.block_on(async {
        let start = std::time::Instant::now();
        let new_took = tokio::sync::watch::channel(false);
        let writer = async {
            let mut late = Vec::new();
            for i in 0.. {
                let after_new = *new_took.1.borrow();
                if let Some(ack) = put(&old, format!("old/{i}")).await {
                    if after_new {
                        late.push(ack);
                    }
                } else if after_new {
                    break;
                }
                if start.elapsed() > DEADLINE {
                    panic!("node-1 still takes writes after {DEADLINE:?}");
                }
            }
            late
        };
        let prober = async {
            loop {
                if let Some(ack) = put(&new, "new/first".into()).await {
                    new_took.0.send_replace(true);
                    return ack;
                }
                if start.elapsed() > DEADLINE {
                    panic!("node-2 took no write in {DEADLINE:?}");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::join!(prober, writer)
    });
    assert!(
        restart.wait().expect("wait").success(),
        "lab restart node-2 failed"
    );
    assert_eq!(first_new["epoch"], 2, "{first_new}");
    assert!(
        late_old.is_empty(),
        "node-1 acknowledged {} write(s) at its old epoch sent after node-2 took one: {late_old:?}",
        late_old.len()
    );
    let s = lab
        .ok(&["api", "GET", "/v1/node", "--node", "node-1"])
        .json();
    assert_eq!(s["role"], "fenced", "{s}");
}
