//! Late recovery (the 3 a.m. case): the operator starts a procedure after the replicas gave up
//! syncing with the lost primary (seed 001's rule). Recovery must still work at any delay, and
//! status must not show numbers it cannot know. The replicas here give up after 3 failures (not
//! the default 30) so that "late" comes in a second; the bundled drills use the defaults.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// Restarts `nodes` with `sync.max_failures: 3`.
fn give_up_after_three(lab: &Lab, nodes: &[&str]) {
    for name in nodes {
        let path = lab.node_dir(name).join("drnode.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("max_failures: 30"), "{text}");
        std::fs::write(&path, text.replace("max_failures: 30", "max_failures: 3")).unwrap();
        lab.ok(&["lab", "restart", name]);
    }
    lab.wait_converged(DEADLINE);
}

/// Waits until `node` recorded seed 001's give-up event (automatic sync stopped by failures).
fn wait_gave_up(lab: &Lab, node: &str) {
    wait_for(&format!("{node} gives up syncing"), DEADLINE, || {
        lab.events(node)
            .iter()
            .any(|e| {
                e["kind"] == "sync"
                    && e["success"] == false
                    && e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("after 3 failed attempts"))
            })
            .then_some(())
    });
}

/// Waits until `replica` holds exactly what `primary` holds and pulls from it.
fn wait_replicates(lab: &Lab, replica: &str, primary: &str) -> Value {
    wait_for(&format!("{replica} replicates {primary}"), DEADLINE, || {
        let s = lab.status();
        let (r, p) = (node(&s, replica), node(&s, primary));
        (r["digest"] == p["digest"]
            && r["primary"] == primary
            && r["sync"]["phase"] == "partial"
            && r["sync"]["auto"] == true)
            .then_some(s)
    })
}

/// The cells of `node`'s row in the status table (piped, so tab-separated), by column header.
fn table_row(table: &str, node: &str) -> std::collections::BTreeMap<String, String> {
    let cells = |line: &str| -> Vec<String> { line.split('\t').map(str::to_string).collect() };
    let header = table
        .lines()
        .find(|l| l.starts_with("NODE\t"))
        .unwrap_or_else(|| panic!("no header in {table}"));
    let row = table
        .lines()
        .find(|l| cells(l).first().map(String::as_str) == Some(node))
        .unwrap_or_else(|| panic!("no row {node} in {table}"));
    cells(header).into_iter().zip(cells(row)).collect()
}

// Hit by `kill -9` of the primary, a 40 s wait, then `drctl failover --yes`: exit 5, the
// replicas had turned sync off and the failover never turned it back on.
#[test]
fn failover_started_after_replicas_suspended_sync_succeeds() {
    let lab = Lab::up(3);
    give_up_after_three(&lab, &["node-2", "node-3"]);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "kill", "node-1"]);
    wait_gave_up(&lab, "node-2");
    wait_gave_up(&lab, "node-3");
    let r = lab
        .ok(&["failover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    lab.ok(&["lab", "write", "--count", "10"]);
    wait_replicates(&lab, "node-3", "node-2");
}

// Hit by `run --resume` of a failover: "node-3 is a caught-up replica of node-2: already done"
// although node-3's sync was off; the Follow check looked at `following`, not at the sync.
#[test]
fn follow_check_does_not_call_a_suspended_replica_caught_up() {
    let lab = Lab::up(3);
    lab.ok(&["switchover", "--to", "node-2", "--yes"]);
    give_up_after_three(&lab, &["node-3"]);
    // node-2 goes away long enough for node-3 to give up, then comes back unchanged.
    lab.ok(&["lab", "kill", "node-2"]);
    wait_gave_up(&lab, "node-3");
    lab.ok(&["lab", "restart", "node-2"]);
    let s = lab.status();
    assert_eq!(node(&s, "node-3")["primary"], "node-2", "{s}");
    assert_eq!(node(&s, "node-3")["digest"], node(&s, "node-2")["digest"]);
    let r = lab.ok(&["repoint", "--primary", "node-2", "--json"]).json();
    let follow = procedure_actions(&r)
        .into_iter()
        .find(|a| a["args"]["action"] == "follow" && a["args"]["node"] == "node-3")
        .unwrap_or_else(|| panic!("no follow step for node-3 in {r}"));
    assert_ne!(follow["outcome"], "already done", "{r}");
    lab.ok(&["lab", "write", "--count", "10"]);
    wait_replicates(&lab, "node-3", "node-2");
}

// Hit by failover, demote of the restored old primary, then `switchover --to node-1` after the
// replicas gave up: node-1 promoted, node-2 left `replica (sync off)`, exit 5.
#[test]
fn switchover_back_after_suspension_completes() {
    let lab = Lab::up(3);
    give_up_after_three(&lab, &["node-1", "node-2", "node-3"]);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "kill", "node-1"]);
    wait_gave_up(&lab, "node-2");
    wait_gave_up(&lab, "node-3");
    lab.ok(&["failover", "--to", "node-2", "--yes"]);
    lab.ok(&["lab", "write", "--count", "10"]);
    lab.ok(&["lab", "restart", "node-1"]);
    wait_for("node-1 fenced", DEADLINE, || {
        (node(&lab.status(), "node-1")["role"] == "fenced").then_some(())
    });
    lab.ok(&["demote", "node-1", "--yes"]);
    wait_replicates(&lab, "node-1", "node-2");
    // node-2 is killed for a moment: node-1 and node-3 give up on it again, then it returns.
    lab.ok(&["lab", "kill", "node-2"]);
    wait_gave_up(&lab, "node-1");
    lab.ok(&["lab", "restart", "node-2"]);
    let r = lab
        .ok(&["switchover", "--to", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    lab.ok(&["lab", "write", "--count", "10"]);
    wait_replicates(&lab, "node-2", "node-1");
    wait_replicates(&lab, "node-3", "node-1");
    lab.wait_converged(DEADLINE);
}

// Hit by `drctl status` with the primary killed: replicas showed OWNS 100% and LAG 0 although
// one of them had missed acknowledged writes.
#[test]
fn status_shows_unknown_owns_and_lag_when_primary_unreachable() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "pause", "node-2"]);
    lab.ok(&["lab", "write", "--count", "10"]);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "resume", "node-2"]);
    let s = lab.status();
    for name in ["node-2", "node-3"] {
        let n = node(&s, name);
        assert_eq!(n["reachable"], true, "{s}");
        assert!(n["owns"].is_null(), "{name} owns: {s}");
        assert!(n["lag"].is_null(), "{name} lag: {s}");
    }
    let table = lab.run(&["status", "-o", "wide"]).stdout();
    for name in ["node-2", "node-3"] {
        let row = table_row(&table, name);
        assert_eq!(row["OWNS"], "?", "{table}");
        assert_eq!(row["LAG"], "?", "{table}");
    }
}

// Hit by a replica that gave up syncing: status said "automatic sync is off" exactly as if the
// operator had turned it off, and nothing named the way back.
#[test]
fn operator_sync_off_and_suspended_are_distinct_in_status() {
    let lab = Lab::up(3);
    give_up_after_three(&lab, &["node-2", "node-3"]);
    lab.ok(&["sync", "auto", "off", "node-3"]);
    lab.ok(&["lab", "kill", "node-1"]);
    wait_gave_up(&lab, "node-2");
    let s = lab.status();
    let (n2, n3) = (node(&s, "node-2"), node(&s, "node-3"));
    assert_eq!(n2["sync"]["auto"], true, "{s}");
    assert_eq!(n2["sync"]["phase"], "suspended", "{s}");
    assert_eq!(n2["sync"]["suspended"]["failures"], 3, "{s}");
    assert_eq!(n2["sync_mode"], "suspended", "{s}");
    assert_eq!(n3["sync"]["auto"], false, "{s}");
    assert!(n3["sync"]["suspended"].is_null(), "{s}");
    assert_eq!(n3["sync_mode"], "off", "{s}");
    let table = lab.run(&["status"]).stdout();
    assert_eq!(
        table_row(&table, "node-2")["SYNC"],
        "suspended (3 failures)"
    );
    assert_eq!(table_row(&table, "node-3")["SYNC"], "off");
    let check = lab.run(&["check"]).exit(1).stdout();
    assert!(
        check.contains("node-2: automatic sync suspended after 3 failed attempts")
            && check.contains("drctl sync auto on node-2"),
        "{check}"
    );
    assert!(check.contains("node-3: automatic sync is off"), "{check}");
    // A failover makes both follow the new primary, and both replicate: the operator's "off"
    // is turned on, and the plan says so before anything changes, the step after.
    let dry = lab.ok(&["failover", "--to", "node-2", "--dry-run"]);
    let plan = format!("{}{}", dry.stdout(), dry.stderr());
    assert!(
        plan.contains(
            "node-3's automatic sync is off by operator command: following node-2 turns it on"
        ),
        "{plan}"
    );
    let r = lab
        .ok(&["failover", "--to", "node-2", "--yes", "--json"])
        .json();
    let follow = procedure_actions(&r)
        .into_iter()
        .find(|a| a["args"]["action"] == "follow" && a["args"]["node"] == "node-3")
        .unwrap_or_else(|| panic!("no follow step for node-3 in {r}"));
    assert!(
        follow["note"]
            .as_str()
            .is_some_and(|n| n.contains("automatic sync") && n.contains("turned on")),
        "{r}"
    );
    lab.ok(&["lab", "write", "--count", "10"]);
    wait_replicates(&lab, "node-3", "node-2");
}

// A drill that waits on a misspelt sync state would wait out its deadline and fail late:
// refused at validation instead, naming the place and the choices.
#[test]
fn wait_sync_inject_with_a_bad_state_is_refused_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.yaml");
    std::fs::write(
        &file,
        "name: bad\nsteps:\n  - name: look\n    uses: assert.healthy\ndrill:\n  nodes: 3\n  inject:\n    - kill: node-1\n    - wait_sync: {node: node-2, state: asleep}\n",
    )
    .unwrap();
    run(command(drctl_bin(), tmp.path())
        .args(["runbook", "validate"])
        .arg(&file))
    .exit(2)
    .stderr_has("drill.inject[1].wait_sync")
    .stderr_has("on, off, suspended");
}

// Hit by a primary that was away long enough for the target to give up syncing, then came back:
// `switchover --to` drained the primary and waited for a target that no longer pulled.
#[test]
fn switchover_to_a_replica_that_suspended_sync_resumes_it_first() {
    let lab = Lab::up(3);
    give_up_after_three(&lab, &["node-2"]);
    lab.ok(&["lab", "kill", "node-1"]);
    wait_gave_up(&lab, "node-2");
    lab.ok(&["lab", "restart", "node-1"]);
    lab.ok(&["lab", "write", "--count", "10"]);
    let r = lab
        .ok(&["switchover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    lab.ok(&["lab", "write", "--count", "10"]);
    wait_replicates(&lab, "node-1", "node-2");
    wait_replicates(&lab, "node-3", "node-2");
}

// Hit by `drctl join node-3 --primary node-1` once node-3 had given up on node-1 while it was
// away: node-3 already "followed" node-1, so no full sync was asked and nothing resumed it.
#[test]
fn join_of_a_replica_that_suspended_sync_replicates() {
    let lab = Lab::up(3);
    give_up_after_three(&lab, &["node-3"]);
    lab.ok(&["lab", "kill", "node-1"]);
    wait_gave_up(&lab, "node-3");
    lab.ok(&["lab", "restart", "node-1"]);
    lab.ok(&["lab", "write", "--count", "10"]);
    let r = lab
        .ok(&["join", "node-3", "--primary", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    lab.ok(&["lab", "write", "--count", "10"]);
    wait_replicates(&lab, "node-3", "node-1");
}

// Guards the operator's "off" where a procedure does not make the node follow: `join node-2`
// waited (then timed out) for node-3, which the operator had deliberately stopped.
#[test]
fn a_replica_the_operator_turned_off_is_named_not_waited_for() {
    let lab = Lab::up(3);
    lab.ok(&["sync", "auto", "off", "node-3"]);
    lab.ok(&["lab", "write", "--count", "10"]);
    lab.ok(&["standalone", "node-2"]);
    let r = lab
        .ok(&["join", "node-2", "--primary", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(
        r.to_string()
            .contains("node-3's automatic sync is off by operator command"),
        "{r}"
    );
    let s = lab.status();
    assert_eq!(node(&s, "node-3")["sync_mode"], "off", "{s}");
    wait_replicates(&lab, "node-2", "node-1");
}

// Hit (chaos seeds 46284, 46295): a replica of another node (paused through a failover, it
// still followed the old primary) held a later procedure's last wait until it timed out; only
// a procedure repoints it, so it is named with the command that does.
#[test]
fn a_replica_of_another_node_is_named_not_waited_for() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "5"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "pause", "node-3"]);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["failover", "--to", "node-2", "--yes"]);
    lab.ok(&["lab", "resume", "node-3"]);
    lab.ok(&["lab", "restart", "node-1"]);
    let r = lab
        .ok(&["demote", "node-1", "--yes", "--wait", "5s", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(
        r.to_string().contains(
            "node-3 replicates from node-1, not node-2: run `drctl repoint --primary node-2`"
        ),
        "{r}"
    );
    lab.ok(&["repoint", "--primary", "node-2", "--yes"]);
    lab.ok(&["lab", "write", "--count", "5"]);
    wait_replicates(&lab, "node-3", "node-2");
}
