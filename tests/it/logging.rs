//! Logs off a terminal: drnode's log file and drctl's piped stderr carry no escape codes;
//! `--log-format json` (drnode) and `DRCTL_LOG_FORMAT=json` (drctl) write one JSON object per
//! line; a level or format that does not parse is refused naming its variable.

use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);
const ESC: u8 = 0x1b;

#[track_caller]
fn assert_reachable(lab: &Lab, up: bool) {
    wait_for("node-1 to answer drctl status", DEADLINE, || {
        (node(&lab.status(), "node-1")["reachable"] == up).then_some(())
    });
}

#[test]
fn drnode_log_file_has_no_escape_codes_and_json_lines_with_log_format_json() {
    let lab = Lab::up(1);
    // The lab's node logs to a file: plain text.
    let lab_log = std::fs::read(lab.node_dir("node-1").join("drnode.log")).unwrap();
    assert!(String::from_utf8_lossy(&lab_log).contains("drnode serving"));
    assert!(!lab_log.contains(&ESC), "escape codes in drnode.log");

    kill_and_release(&lab, "node-1");
    let path = lab.cwd().join("json.log");
    let file = std::fs::File::create(&path).unwrap();
    let mut child = Command::new(drnode_bin())
        .args(["serve", "--log-format", "json", "--data-dir"])
        .arg(lab.node_dir("node-1"))
        .env("DRNODE_LOG", "debug")
        .env_remove("DRNODE_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    assert_reachable(&lab, true);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_for("drnode to exit", DEADLINE, || child.try_wait().unwrap());
    let log = std::fs::read_to_string(&path).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    for l in &lines {
        assert!(l["timestamp"].is_string() && l["level"].is_string(), "{l}");
    }
    let said = |m: &str| lines.iter().any(|l| l["fields"]["message"] == m);
    assert!(said("drnode serving") && said("drnode stopping"), "{log}");
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "DRNODE_LOG=debug: {log}"
    );
}

#[test]
fn drctl_logs_through_a_pipe_are_plain_text_or_json_lines() {
    let lab = Lab::up(1);
    let r = run(lab.drctl(&["status"]).env("DRCTL_LOG", "debug")).success();
    assert!(r.stderr().contains("DEBUG"), "{}", r.dump());
    assert!(!r.stderr().as_bytes().contains(&ESC), "{}", r.dump());
    // The format from the environment or the flag.
    for r in [
        run(lab
            .drctl(&["status"])
            .env("DRCTL_LOG", "debug")
            .env("DRCTL_LOG_FORMAT", "json")),
        run(lab
            .drctl(&["status", "--log-format", "json"])
            .env("DRCTL_LOG", "debug")),
    ] {
        let r = r.success();
        let stderr = r.stderr();
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(!lines.is_empty(), "{}", r.dump());
        for l in lines {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}"));
            assert!(v["level"].is_string() && v["fields"].is_object(), "{l}");
        }
    }
    // A level or format that does not parse is refused, naming the option.
    run(lab.drctl(&["status"]).env("DRCTL_LOG_FORMAT", "xml"))
        .exit(2)
        .stderr_has("--log-format");
    run(lab.drctl(&["status"]).env("DRCTL_LOG", "nonsense=["))
        .exit(2)
        .stderr_has("DRCTL_LOG");
    run(command(drnode_bin(), lab.cwd())
        .args(["check-config", "--data-dir"])
        .arg(lab.node_dir("node-1"))
        .env("DRNODE_LOG", "nonsense=["))
    .exit(2)
    .stderr_has("DRNODE_LOG");
}
