//! A paused (SIGSTOP) node, whose kernel still accepts connections and whose process answers
//! nothing: a command waits for it once, for the connect timeout, not once per probe or step
//! for the request timeout (speed issue: `status` took 2 s, removenode-force 3 s).

use std::time::Duration;

use crate::support::*;

/// Hit by `drctl status` with node-3 paused: the misconfiguration check and the probe each
/// waited for it (2 s).
#[test]
fn a_paused_node_is_waited_for_once_per_status() {
    let lab = Lab::up(3);
    let url = node(&lab.status(), "node-3")["url"]
        .as_str()
        .unwrap()
        .to_string();
    lab.ok(&["lab", "pause", "node-3"]);
    let (r, waits, took) = waits_for(&lab, &url, &["status", "--json"]);
    let st = r.success().json();
    assert_eq!(node(&st, "node-3")["reachable"], false, "{st}");
    assert_eq!(node(&st, "node-2")["reachable"], true, "{st}");
    // The connect timeout (1 s) once, and milliseconds for the rest (it was 2 s).
    assert!(took < Duration::from_millis(1800), "status took {took:?}");
    assert_eq!(waits, 1, "node-3 waited for {waits} times");
    lab.ok(&["lab", "resume", "node-3"]);
}

/// Hit by the removenode-force drill: a member killed, another paused; the forced removal
/// waited for the paused one at every step that asked it (3 s).
#[test]
fn removenode_force_waits_once_for_a_paused_node() {
    let lab = Lab::up(3);
    let url = node(&lab.status(), "node-2")["url"]
        .as_str()
        .unwrap()
        .to_string();
    lab.ok(&["lab", "kill", "node-3"]);
    lab.ok(&["lab", "pause", "node-2"]);
    let (r, waits, took) = waits_for(
        &lab,
        &url,
        &["removenode", "node-3", "--force", "--yes", "--json"],
    );
    let report = r.success().json();
    assert_eq!(report["outcome"], "succeeded", "{report}");
    assert_eq!(waits, 1, "node-2 waited for {waits} times");
    assert!(
        took < Duration::from_millis(1800),
        "removenode took {took:?}"
    );
    lab.ok(&["lab", "resume", "node-2"]);
}
