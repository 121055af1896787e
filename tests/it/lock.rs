//! The cluster lock belongs to one run (issue 10, item 2): a second run is refused whoever
//! starts it (exit 3, naming the holder's run id), a paused run keeps its lock, a killed run's
//! lock is taken over by the same command on the same host, and a resumed run releases its
//! run's lock when it ends, even when every step was already done (chaos seed 509).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

/// A run that holds the lock until the file `hold` is removed (`marker` says it started).
const SLOW: &str = r#"
name: slow
params:
  marker: {required: true}
  hold: {required: true}
steps:
  - name: wait for the hold to go
    uses: exec
    with:
      command: "touch {{ marker }}; while test -f {{ hold }}; do sleep 0.1; done"
"#;

/// The same, but a rerun or resume finds the step done once it started (seed 509's shape: the
/// resume of a killed run is "already done" and takes no lock itself).
const SLOW_ONCE: &str = r#"
name: slow-once
params:
  marker: {required: true}
  hold: {required: true}
steps:
  - name: wait for the hold to go
    uses: exec
    with:
      command: "touch {{ marker }}; while test -f {{ hold }}; do sleep 0.1; done"
      unless: "test -f {{ marker }}"
"#;

fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(child.id() as i32), sig).unwrap();
}

/// Runs `c` to its end, failing (instead of hanging) if it has not ended within the deadline.
#[track_caller]
fn run_within(mut c: std::process::Command, deadline: Duration) -> Run {
    let what = format!("{c:?}");
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + deadline;
    let ended = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if std::time::Instant::now() > until {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if !ended {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "{what} did not end within {deadline:?} (two runs at once?)\n--- stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Run {
        what,
        out: child.wait_with_output().unwrap(),
    }
}

/// The one journal in `runs`, by run id.
fn only_run_id(runs: &Path) -> String {
    let mut ids: Vec<String> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids.pop().unwrap()
}

struct Slow {
    book: PathBuf,
    marker: PathBuf,
    hold: PathBuf,
}

impl Slow {
    fn new(lab: &Lab, text: &str) -> Slow {
        let book = lab.cwd().join("slow.yaml");
        std::fs::write(&book, text).unwrap();
        let hold = lab.cwd().join("hold");
        std::fs::write(&hold, "").unwrap();
        Slow {
            book,
            marker: lab.cwd().join("marker"),
            hold,
        }
    }
    fn command(&self, lab: &Lab) -> std::process::Command {
        lab.drctl(&[
            "run",
            self.book.to_str().unwrap(),
            "--yes",
            "--var",
            &format!("marker={}", self.marker.display()),
            "--var",
            &format!("hold={}", self.hold.display()),
        ])
    }
    /// Starts the run and waits until it holds the lock (its step runs).
    fn start(&self, lab: &Lab) -> Child {
        let child = self
            .command(lab)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("the slow step to start", DEADLINE, || {
            self.marker.exists().then_some(())
        });
        child
    }
}

fn lock_events(lab: &Lab, node: &str, kind: &str) -> Vec<serde_json::Value> {
    lab.events(node)
        .into_iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[test]
fn two_runs_by_the_same_operator_cannot_both_hold_the_lock() {
    let lab = Lab::up(3);
    let acked = lab.cwd().join("acked.log");
    let mut writer = lab
        .drctl(&[
            "lab",
            "write",
            "--count",
            "900",
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
    // The first switchover is paused right after it took the lock (its first step line).
    let mut first = lab
        .drctl(&["switchover", "--to", "node-2", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id() as i32;
    let (tx, rx) = mpsc::channel();
    let stderr = first.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut stopped = false;
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if !stopped && line.trim_start().starts_with("[1/") {
                kill(Pid::from_raw(pid), Signal::SIGSTOP).unwrap();
                stopped = true;
                tx.send(()).unwrap();
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(DEADLINE)
        .expect("the first switchover never started a step");
    let run_id = wait_for("the first run's start event", DEADLINE, || {
        lab.events("node-1")
            .iter()
            .filter(|e| e["kind"] == "procedure")
            .find(|e| e["message"].as_str().unwrap_or("").contains("started"))
            .and_then(|e| e["run_id"].as_str().map(str::to_string))
    });

    // The same operator, another shell: refused, naming the run that holds the lock.
    let second = run_within(
        lab.drctl(&["switchover", "--to", "node-2", "--yes"]),
        DEADLINE,
    )
    .exit(3)
    .stderr_has(&run_id)
    .stderr_has(&format!("pid {pid}"))
    .stderr_has("drctl run --resume");
    assert!(
        second.stderr().contains("still running"),
        "{}",
        second.dump()
    );

    kill(Pid::from_raw(pid), Signal::SIGCONT).unwrap();
    let status = first.wait().unwrap();
    let said = reader.join().unwrap();
    assert!(status.success(), "the first switchover failed:\n{said}");
    assert!(writer.wait().unwrap().success(), "the writer gave up");
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-2")["role"], "primary");
    assert_eq!(node(&s, "node-2")["epoch"], 2);
    let present: HashSet<String> = lab
        .ok(&["entry", "list", "--json", "--node", "node-2"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_string())
        .collect();
    let acked: Vec<String> = std::fs::read_to_string(&acked)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(acked.len(), 900);
    let missing: Vec<&String> = acked.iter().filter(|k| !present.contains(*k)).collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
}

#[test]
fn a_paused_run_keeps_its_lock_and_a_killed_run_is_taken_over() {
    let lab = Lab::up(3);
    let slow = Slow::new(&lab, SLOW);
    let mut first = slow.start(&lab);
    let run_id = only_run_id(&lab.cwd().join(".state/drctl/runs"));
    signal(&first, Signal::SIGSTOP);

    // Paused, it is alive: neither the same command nor a resume of its run gets in.
    run_within(slow.command(&lab), DEADLINE)
        .exit(3)
        .stderr_has(&run_id)
        .stderr_has("still running");
    run_within(lab.drctl(&["run", "--resume", &run_id, "--yes"]), DEADLINE)
        .exit(3)
        .stderr_has("still running");

    // Killed, its lock is taken over by the same command, which finishes.
    signal(&first, Signal::SIGKILL);
    first.wait().unwrap();
    std::fs::remove_file(&slow.hold).unwrap();
    run_within(slow.command(&lab), DEADLINE)
        .success()
        .stderr_has(&format!("took over the cluster lock of run {run_id}"))
        .stdout_has(&format!("took over the cluster lock of run {run_id}"));
    for n in ["node-1", "node-2", "node-3"] {
        let over = lock_events(&lab, n, "lock_taken_over");
        assert_eq!(over.len(), 1, "{n}: {over:?}");
        assert!(over[0]["message"].as_str().unwrap().contains(&run_id));
    }
    // And the lock went with it: the next procedure runs.
    lab.ok(&["switchover", "--to", "node-2", "--yes"]);
}

#[test]
fn a_resumed_run_releases_its_lock_when_already_done() {
    let lab = Lab::up(3);
    let slow = Slow::new(&lab, SLOW_ONCE);
    let mut first = slow.start(&lab);
    let run_id = only_run_id(&lab.cwd().join(".state/drctl/runs"));
    first.kill().unwrap(); // SIGKILL, holding a 600 s lock
    first.wait().unwrap();
    std::fs::remove_file(&slow.hold).unwrap();

    let resumed = run_within(
        lab.drctl(&["run", "--resume", &run_id, "--yes", "--json"]),
        DEADLINE,
    )
    .success()
    .json();
    assert_eq!(resumed["outcome"], "already done", "{resumed}");
    assert!(
        resumed["notes"].to_string().contains("released the lock"),
        "{resumed}"
    );
    // No lock of that run is left, not even for another operator (the chaos policy): the next
    // procedure runs without --break-lock.
    let node = lab.ok(&["api", "GET", "/v1/node"]).json();
    assert!(node["lock"].is_null(), "{node}");
    let mut next = lab.drctl(&["switchover", "--to", "node-2", "--yes"]);
    next.env("DRCTL_OPERATOR", "someone-else");
    run(next).success();
    for n in ["node-1", "node-2", "node-3"] {
        assert!(lock_events(&lab, n, "lock_broken").is_empty());
    }
}

#[test]
fn two_racing_runs_exactly_one_proceeds() {
    let lab = Lab::up(3);
    let slow = Slow::new(&lab, SLOW);
    let spawn = || {
        slow.command(&lab)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    for round in 0..5 {
        std::fs::write(&slow.hold, "").unwrap();
        let _ = std::fs::remove_file(&slow.marker);
        let mut runs = vec![spawn(), spawn()];
        // One is refused...
        let loser = wait_for("one of two racing runs to end", DEADLINE, || {
            runs.iter_mut()
                .position(|c| c.try_wait().unwrap().is_some())
        });
        let out = runs.remove(loser).wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(3), "round {round}: {said}");
        // ...and the other holds the lock and runs (a parallel acquisition let each run take
        // some nodes and be refused on the others: both refused).
        let mut winner = runs.pop().unwrap();
        wait_for("the other run to hold the lock and run", DEADLINE, || {
            if let Some(st) = winner.try_wait().unwrap() {
                let mut e = String::new();
                std::io::Read::read_to_string(&mut winner.stderr.take().unwrap(), &mut e).ok();
                panic!("round {round}: both racing runs ended ({st}):\n{said}\n{e}");
            }
            slow.marker.exists().then_some(())
        });
        // A third run, started while it holds the lock, is refused too.
        run_within(slow.command(&lab), DEADLINE).exit(3);
        std::fs::remove_file(&slow.hold).unwrap();
        let won = wait_for("the winner to finish", DEADLINE, || {
            winner.try_wait().unwrap()
        });
        assert!(won.success(), "round {round}: the winner failed");
    }
}

// Hit during an upgrade: a second shell's `switchover` was refused with "no primary answers:
// use `drctl failover`" (the upgrade had made every node standalone) instead of naming the
// upgrade that held the lock, and `check` advised nothing about it.
#[test]
fn a_run_under_way_is_named_before_any_precondition_it_broke() {
    let lab = Lab::up(3);
    let mut upgrade = lab
        .drctl(&["upgrade", "--exec", "sleep 30", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(
        "the upgrade to take the lock and drop the primary",
        Duration::from_secs(20),
        || {
            let s = lab.status();
            (node(&s, "node-1")["role"] == "standalone").then_some(())
        },
    );
    let r = lab.run(&["switchover", "--to", "node-2", "--yes"]).exit(3);
    assert!(
        r.stderr()
            .contains("the cluster lock is held by tester (upgrade, run "),
        "{}",
        r.dump()
    );
    assert!(!r.stderr().contains("failover"), "{}", r.dump());
    let check = lab.run(&["check", "--json"]).exit(1).json();
    let first = check["problems"][0].as_str().unwrap();
    assert!(
        first.starts_with("a procedure is under way: upgrade (run "),
        "{check}"
    );
    upgrade.kill().unwrap();
    upgrade.wait().unwrap();
}
