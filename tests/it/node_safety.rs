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

/// A drnode this test started; killed when the test ends, however it ends.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts node-1 of `lab` by hand with its log (stderr) on `/dev/full`, logging at debug so every
/// request writes to it.
fn serve_with_full_log(lab: &Lab) -> Started {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let child = Command::new(drnode_bin())
        .args(["serve", "--data-dir"])
        .arg(lab.node_dir("node-1"))
        .env("DRNODE_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(full)
        .spawn()
        .expect("spawn drnode");
    Started(child)
}

/// Hit by running drnode with stderr on a full disk: tracing's fallback print panicked, requests
/// were dropped, and the node could not start again.
#[test]
fn log_write_failure_kills_the_node() {
    let lab = Lab::up(1);
    lab.ok(&["lab", "kill", "node-1"]);
    let mut node = serve_with_full_log(&lab);
    let healthy = |lab: &Lab| {
        wait_for("node-1 serving with a full log", DEADLINE, || {
            (lab.run(&["check"]).code() == 0).then_some(())
        })
    };
    healthy(&lab);
    for i in 0..20 {
        lab.ok(&["entry", "put", &format!("k{i}"), &format!("v{i}")]);
    }
    assert!(
        node.0.try_wait().unwrap().is_none(),
        "drnode exited with its log on a full disk"
    );
    // Killed and started again, still with the full log: it starts and has every write.
    node.0.kill().unwrap();
    node.0.wait().unwrap();
    let _node = serve_with_full_log(&lab);
    healthy(&lab);
    for i in 0..20 {
        lab.ok(&["entry", "get", &format!("k{i}")])
            .stdout_has(&format!("v{i}"));
    }
    lab.ok(&["entry", "put", "after", "restart"]);
}

/// A tmpfs mounted over a directory, its former content copied in; lazily unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` over `dir`, keeping what `dir` held. None when not root.
    fn over(dir: &Path, size: &str) -> Option<Tmpfs> {
        if !nix::unistd::geteuid().is_root() {
            return None;
        }
        let aside = dir.with_extension("aside");
        std::fs::rename(dir, &aside).unwrap();
        std::fs::create_dir(dir).unwrap();
        let sh = |cmd: String| {
            let ok = Command::new("sh").arg("-c").arg(&cmd).status().unwrap();
            assert!(ok.success(), "{cmd}");
        };
        sh(format!(
            "mount -t tmpfs -o size={size} tmpfs '{}'",
            dir.display()
        ));
        let mounted = Tmpfs(dir.to_path_buf());
        sh(format!(
            "cp -a '{}/.' '{}/'",
            aside.display(),
            dir.display()
        ));
        Some(mounted)
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Hit by filling the disk under a node's store: writes failed with 500 and the node had to be
/// nursed back. Now: 507 with a clear message, reads served, every acknowledged write kept.
#[test]
fn a_full_disk_refuses_writes_and_loses_nothing() {
    let lab = Lab::up(1);
    lab.ok(&["lab", "kill", "node-1"]);
    let Some(disk) = Tmpfs::over(&lab.node_dir("node-1"), "3M") else {
        println!("skipped: mounting a small tmpfs needs root");
        return;
    };
    lab.ok(&["lab", "restart", "node-1"]);
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let pass = std::fs::read_to_string(lab.dir.join("passphrase")).unwrap();
    let trust = drctl::util::tls::Trust {
        ca: Some(lab.dir.join("certs/ca.pem")),
        trust_dir: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(drctl::util::tls::client_config(&trust).unwrap())
        .build()
        .unwrap();
    let value = "x".repeat(32 * 1024);
    // Write until the disk refuses; remember every acknowledged key.
    let mut acked = Vec::new();
    let refusal = rt.block_on(async {
        for i in 0..1000 {
            let resp = http
                .put(format!("{url}/v1/entries/fill/{i}"))
                .bearer_auth(pass.trim())
                .json(&serde_json::json!({ "value": format!("{i}:{value}") }))
                .send()
                .await
                .expect("the node answers");
            if resp.status().is_success() {
                acked.push(i);
                continue;
            }
            let status = resp.status().as_u16();
            return (status, resp.json::<serde_json::Value>().await.unwrap());
        }
        panic!("a 3 MB disk took 1000 writes of 32 KB");
    });
    assert_eq!(refusal.0, 507, "{refusal:?}");
    assert_eq!(refusal.1["code"], "insufficient_storage", "{refusal:?}");
    assert!(
        acked.len() > 5,
        "{} writes before the disk was full",
        acked.len()
    );
    // drctl says what happened; the node still serves reads, also after a restart on the full disk.
    let big = "y".repeat(64 * 1024);
    lab.run(&["entry", "put", "k", &big])
        .exit(1)
        .stderr_has("disk is full");
    lab.ok(&["entry", "get", "fill/0"]);
    // (Closing the store checkpoints its WAL, so a restart may free a little space.)
    lab.ok(&["lab", "restart", "node-1"]);
    lab.ok(&["entry", "get", &format!("fill/{}", acked.last().unwrap())]);
    // Space freed: writes resume, and every acknowledged write is there after a restart.
    disk.resize("64M");
    lab.ok(&["entry", "put", "k", "v"]);
    lab.ok(&["lab", "restart", "node-1"]);
    let entries = lab.ok(&["entry", "list", "--json"]).json();
    for i in &acked {
        let key = format!("fill/{i}");
        let e = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key.as_str())
            .unwrap_or_else(|| panic!("acknowledged {key} is lost"));
        assert!(e["value"].as_str().unwrap().starts_with(&format!("{i}:")));
    }
}

/// Hit by killing `drctl upgrade --exec` while the command ran and rerunning it (3 of 48 runs):
/// the command outlived drctl and the rerun started it a second time, overlapping the first.
#[test]
fn upgrade_exec_ran_the_command_twice_overlapping() {
    let lab = Lab::up(2);
    let out = lab.cwd().join("upgrade-runs");
    std::fs::create_dir(&out).unwrap();
    let log = out.join("log");
    // Each run takes a lock per node: a run that finds it taken overlaps another.
    let command = format!(
        "flock -n {dir}/{{node}}.lock sh -c 'echo start {{node}} $$ >> {log}; sleep 2; \
         echo end {{node}} $$ >> {log}' || echo overlap {{node}} >> {log}",
        dir = out.display(),
        log = log.display()
    );
    let first = lab
        .drctl(&["upgrade", "--exec", &command, "--id", "u7", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = Started(first);
    let started_pid = wait_for("the command to start for node-1", DEADLINE, || {
        let text = std::fs::read_to_string(&log).ok()?;
        let line = text.lines().find(|l| l.starts_with("start node-1 "))?;
        line.rsplit(' ').next().map(str::to_string)
    });
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let r = lab
        .ok(&[
            "upgrade", "--exec", &command, "--id", "u7", "--yes", "--json", "--wait", "60s",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("overlap"),
        "two commands overlapped:\n{text}"
    );
    for n in ["node-1", "node-2"] {
        let ends = text
            .lines()
            .filter(|l| l.starts_with(&format!("end {n} ")))
            .count();
        assert_eq!(ends, 1, "{n} upgraded once:\n{text}");
    }
    // The command drctl was running when it was killed died with it.
    assert!(
        !text.contains(&format!("end node-1 {started_pid}")),
        "the command outlived drctl:\n{text}"
    );
    lab.wait_converged(DEADLINE);
    let again = lab
        .ok(&["upgrade", "--exec", &command, "--id", "u7", "--json"])
        .json();
    assert_eq!(again["outcome"], "already done", "{again}");
}

/// Hit by a node URL or data directory holding shell syntax: it was pasted into the command
/// unquoted and ran. Each value is now one shell word.
#[test]
fn upgrade_placeholders_are_quoted_for_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lab $(touch pwned)");
    let lab = Lab { tmp, dir };
    run(lab.drctl(&["lab", "up", "--nodes", "1"])).success();
    let out = lab.cwd().join("args");
    let command = format!(
        "printf '%s|' {{node}} {{url}} {{data_dir}} >> {}",
        out.display()
    );
    lab.ok(&["upgrade", "--exec", &command, "--yes"]);
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let got = std::fs::read_to_string(&out).unwrap();
    let want = format!("node-1|{url}|{}", lab.node_dir("node-1").display());
    assert!(got.starts_with(&want), "{got}");
    assert!(
        !lab.cwd().join("pwned").exists(),
        "the data directory ran as shell"
    );
}

/// The other half of the same hole: a rerun while the first drctl is frozen (SIGSTOP: alive,
/// its command still running) waits for that command and does not start a second.
#[test]
fn upgrade_rerun_waits_for_a_command_still_running() {
    let lab = Lab::up(1);
    let out = lab.cwd().join("upgrade-runs");
    std::fs::create_dir(&out).unwrap();
    let log = out.join("log");
    let command = format!(
        "flock -n {dir}/{{node}}.lock sh -c 'echo start {{node}} $$ >> {log}; sleep 2; \
         echo end {{node}} $$ >> {log}' || echo overlap {{node}} >> {log}",
        dir = out.display(),
        log = log.display()
    );
    let first = lab
        .drctl(&["upgrade", "--exec", &command, "--id", "u8", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = Started(first);
    wait_for("the command to start for node-1", DEADLINE, || {
        std::fs::read_to_string(&log)
            .ok()?
            .contains("start node-1 ")
            .then_some(())
    });
    let pid = nix::unistd::Pid::from_raw(first.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let r = lab
        .ok(&[
            "upgrade",
            "--exec",
            &command,
            "--id",
            "u8",
            "--yes",
            "--json",
            "--break-lock",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(
        r.to_string().contains("not run again"),
        "the rerun did not wait for the running command: {r}"
    );
    let _ = first.0.kill();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>().len(),
        2,
        "one start and one end:\n{text}"
    );
    assert!(!text.contains("overlap"), "{text}");
}

/// Hit by the chaos `disk-full` fault (seed 303): a replica whose disk filled suspended its
/// sync but could not save the suspension, and `drctl sync auto on` then answered "already on"
/// and never restarted the loop, also once the disk had room again (exit 5, never converged).
#[test]
fn a_replica_whose_disk_filled_resumes_on_sync_auto_on_once_it_has_room() {
    let lab = Lab::up(2);
    lab.ok(&["lab", "kill", "node-2"]);
    let dir = lab.node_dir("node-2");
    // It gives up after 3 failed pulls (drnode's default is 30, about 26 s).
    let config = dir.join("drnode.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text: String = text
        .lines()
        .map(|l| match l.split_once("max_failures:") {
            Some((indent, _)) => format!("{indent}max_failures: 3\n"),
            None => format!("{l}\n"),
        })
        .collect();
    assert!(text.contains("max_failures: 3"), "{text}");
    std::fs::write(&config, text).unwrap();
    let Some(disk) = Tmpfs::over(&dir, "64M") else {
        println!("skipped: mounting a small tmpfs needs root");
        return;
    };
    lab.ok(&["lab", "restart", "node-2"]);
    wait_for("node-2 caught up", DEADLINE, || {
        (lab.run(&["check"]).code() == 0).then_some(())
    });
    // Its disk full: it holds what it holds and not a byte more.
    let s = nix::sys::statvfs::statvfs(&dir).unwrap();
    let used = (s.blocks() - s.blocks_free()) * s.fragment_size();
    disk.resize(&used.max(4096).to_string());
    lab.ok(&["lab", "write", "--count", "40"]);
    wait_for("node-2 suspends its sync", DEADLINE, || {
        let r = lab.run(&["check"]);
        (r.stdout() + &r.stderr())
            .contains("suspended")
            .then_some(())
    });
    disk.resize("64M");
    lab.ok(&["sync", "auto", "on", "node-2", "--yes", "--wait", "10s"]);
    wait_for("node-2 converged", DEADLINE, || {
        (lab.run(&["check"]).code() == 0).then_some(())
    });
}
