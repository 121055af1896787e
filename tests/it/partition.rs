//! Partitions in drills (issue 5) and drills that do not leak their lab: the partitioned-primary
//! drill cuts node-1 off for real (network namespaces, packets dropped) and expects it fenced after
//! the heal; a drill killed with SIGKILL leaves nodes that exit by themselves and leftovers the
//! next drill sweeps; SIGTERM tears the lab down at once.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

fn can_make_namespaces() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    root && std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Names of network namespaces and lab links that carry the owner tag of `pid`.
fn net_leftovers(pid: u32) -> Vec<String> {
    let tag = format!("p{pid}s");
    let mut out = Vec::new();
    for args in [&["netns", "list"][..], &["-o", "link", "show"][..]] {
        if let Ok(o) = std::process::Command::new("ip").args(args).output() {
            out.extend(
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| {
                        l.contains(&format!("drctl-{tag}"))
                            || l.contains(&format!("drctl-lab {tag}"))
                    })
                    .map(str::to_string),
            );
        }
    }
    out
}

/// Pids of the processes serving from under `dir` (a drill lab's drnodes).
fn drnodes_under(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<String> = String::from_utf8_lossy(&cmd)
                .split('\0')
                .map(str::to_string)
                .collect();
            args.iter().any(|a| a.ends_with("drnode"))
                && args.iter().any(|a| Path::new(a).starts_with(dir))
        })
        .collect()
}

fn drill_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("drctl-drill-"))
        })
        .collect()
}

/// `drctl drill NAME` in the background, its temporary labs under `tmp`.
/// The runbook's drnode drill (its drills on other labs would run beside it).
fn start_drill(cwd: &Path, tmp: &Path, name: &str) -> Child {
    command(drctl_bin(), cwd)
        .args(["--kind", "drnode", "drill", name])
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn drctl drill")
}

#[test]
fn a_partitioned_primary_is_fenced_once_the_links_return_and_no_write_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let labs = tmp.path().join("tmp");
    std::fs::create_dir(&labs).unwrap();
    let child = command(drctl_bin(), tmp.path())
        .args(["drill", "partitioned-primary", "--json"])
        .env("TMPDIR", &labs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let r = Run {
        what: "drctl drill partitioned-primary --json".into(),
        out,
    }
    .success();
    let report = &r.json()[0];
    if !can_make_namespaces() {
        // Not root or no `ip`: the drill says why and does not pretend.
        assert!(
            report["skipped"]
                .as_str()
                .is_some_and(|s| s.contains("network namespaces")),
            "{report}"
        );
        return;
    }
    assert_eq!(report["skipped"], serde_json::Value::Null, "{report}");
    assert_eq!(report["passed"], true, "{report}");
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let at = |needle: &str| {
        steps
            .iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("no step {needle:?} in {steps:?}"))
    };
    // Cut before the run, healed after it, fenced after the heal.
    assert!(at("inject: partition node-1") < at("Promote the target"));
    assert!(at("Promote the target") < at("after: heal every cut link"));
    assert!(at("after: heal every cut link") < at("after: wait until node-1 is fenced"));
    let checks: Vec<String> = report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["ok"], e["what"].as_str().unwrap()))
        .collect();
    for want in [
        "true primary is node-2",
        "true node-1 is fenced",
        "true no acknowledged write lost",
    ] {
        assert!(checks.iter().any(|c| c == want), "{want} not in {checks:?}");
    }
    assert_eq!(report["writes_lost"], 0, "{report}");
    assert!(report["writes_acknowledged"].as_u64().unwrap() >= 200);
    // The namespaces, veths and bridge are gone with the lab, and so is its directory.
    assert_eq!(net_leftovers(pid), Vec::<String>::new());
    assert_eq!(drill_dirs(&labs), Vec::<PathBuf>::new());
}

#[test]
fn a_drill_killed_mid_run_leaves_nodes_that_exit_and_leftovers_the_next_drill_sweeps() {
    let tmp = tempfile::tempdir().unwrap();
    let labs = tmp.path().join("tmp");
    std::fs::create_dir(&labs).unwrap();
    // With namespaces where it can: then they must be swept too.
    let name = if can_make_namespaces() {
        "partitioned-primary"
    } else {
        "forced-failover"
    };
    let mut child = start_drill(tmp.path(), &labs, name);
    let pid = child.id();
    let dir = wait_for("the drill's three drnodes", DEADLINE, || {
        let dir = drill_dirs(&labs).into_iter().next()?;
        (drnodes_under(&dir).len() == 3).then_some(dir)
    });
    nix_kill(pid, "KILL");
    child.wait().unwrap();
    // Nobody tears the lab down, yet its nodes go: they watch the drill's process.
    wait_for(
        "the killed drill's drnodes to exit",
        Duration::from_secs(15),
        || drnodes_under(&dir).is_empty().then_some(()),
    );
    assert!(
        dir.exists(),
        "the killed drill could not remove {}",
        dir.display()
    );
    // The next drill sweeps what the killed one left: its directory and network.
    let r = run(command(drctl_bin(), tmp.path())
        .args(["drill", "sync-auto"])
        .env("TMPDIR", &labs))
    .success()
    .stderr_has("swept drill lab");
    assert!(
        !dir.exists(),
        "{} is still there:\n{}",
        dir.display(),
        r.stderr()
    );
    assert_eq!(net_leftovers(pid), Vec::<String>::new(), "{}", r.stderr());
    assert_eq!(drill_dirs(&labs), Vec::<PathBuf>::new());
}

#[test]
fn sigterm_tears_a_drill_down_at_once_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let labs = tmp.path().join("tmp");
    std::fs::create_dir(&labs).unwrap();
    let child = start_drill(tmp.path(), &labs, "forced-failover");
    let pid = child.id();
    let dir = wait_for("the drill's three drnodes", DEADLINE, || {
        let dir = drill_dirs(&labs).into_iter().next()?;
        (drnodes_under(&dir).len() == 3).then_some(dir)
    });
    nix_kill(pid, "TERM");
    let out = child.wait_with_output().unwrap();
    let r = Run {
        what: "drctl drill forced-failover (SIGTERM)".into(),
        out,
    }
    .exit(4)
    .stderr_has("drill forced-failover interrupted by SIGTERM: its lab was torn down");
    // Torn down by drctl itself before it exited, not later by the nodes' own watch.
    assert_eq!(drnodes_under(&dir), Vec::<u32>::new(), "{}", r.stderr());
    assert!(!dir.exists(), "{} is still there", dir.display());
}

fn nix_kill(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}
