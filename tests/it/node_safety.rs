//! A node's own safety on real processes: one drnode per data directory, a full log or disk
//! that refuses writes instead of killing the node, bounded records of refused calls, and an
//! upgrade command that never runs twice at once.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// Waits for `child` to exit within `deadline`; kills it and panics naming `what` if it does not.
#[track_caller]
fn exit_within(what: &str, mut child: Child, deadline: Duration) -> std::process::Output {
    let until = Instant::now() + deadline;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{what} still runs after {deadline:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn lab_pid(lab: &Lab, name: &str) -> u64 {
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lab.dir.join("lab.json")).unwrap()).unwrap();
    state["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .and_then(|n| n["pid"].as_u64())
        .unwrap_or_else(|| panic!("no pid for {name} in {state}"))
}

fn serve(args: &[&str], cwd: &Path) -> Child {
    Command::new(drnode_bin())
        .arg("serve")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn drnode")
}

/// Hit by starting a second drnode on a running node's data directory (another listen address):
/// both served and the second left its URL in the replicated member list for good.
#[test]
fn two_drnodes_on_one_data_directory() {
    let lab = Lab::up(2);
    let dir = lab.node_dir("node-2");
    let before = lab
        .ok(&["api", "GET", "/v1/members", "--node", "node-1"])
        .stdout();
    let holder = lab_pid(&lab, "node-2");
    // Same directory, another address: the config the second node would have advertised.
    let text = std::fs::read_to_string(dir.join("drnode.yaml")).unwrap();
    let mut cfg: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cfg["listen"] = format!("127.0.0.1:{port}").into();
    cfg["advertise"] = format!("https://127.0.0.1:{port}").into();
    let second = dir.join("second.yaml");
    std::fs::write(&second, serde_yaml::to_string(&cfg).unwrap()).unwrap();
    for args in [
        vec!["--config", second.to_str().unwrap()],
        vec!["--data-dir", dir.to_str().unwrap()],
    ] {
        let out = exit_within("the second drnode", serve(&args, lab.cwd()), DEADLINE);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("in use by another drnode (pid {holder})")),
            "{args:?}: {err}"
        );
    }
    lab.wait_converged(DEADLINE);
    assert_eq!(
        lab.ok(&["api", "GET", "/v1/members", "--node", "node-1"])
            .stdout(),
        before
    );
    // The running node was not disturbed, and a restart takes the directory back.
    lab.ok(&["lab", "restart", "node-2"]);
    lab.wait_converged(DEADLINE);
}
