//! Test support: run the binaries with a clean environment, and a lab fixture.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) fn drctl_bin() -> &'static str {
    env!("CARGO_BIN_EXE_drctl")
}

pub(crate) fn drnode_bin() -> &'static str {
    env!("CARGO_BIN_EXE_drnode")
}

/// True (and says the test is skipped) where there is no `etcd` on PATH.
pub(crate) fn etcd_missing() -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("etcd").is_file()));
    if !found {
        println!("skipped: etcd not installed (apt-get install etcd-server etcd-client)");
    }
    !found
}

/// True (and says the test is skipped) where Samba AD or root (the lab's namespaces) is missing.
pub(crate) fn samba_missing() -> bool {
    let found = ["/usr/bin/samba-tool", "/usr/sbin/samba"]
        .iter()
        .all(|p| Path::new(p).is_file());
    if !found {
        println!(
            "skipped: Samba AD DC not installed (apt-get install samba samba-ad-dc samba-ad-provision)"
        );
        return true;
    }
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: the samba-ad lab needs root (ip netns)");
        return true;
    }
    false
}

/// The `--json` summary of a chaos campaign that must have passed: every one of its `runs`
/// kept every invariant in `kept` and lost no write, with faults, procedures and acked writes
/// counted, and its JUnit file says so.
#[track_caller]
pub(crate) fn campaign_passed(r: &Run, runs: u64, kept: &[&str], junit: &Path) -> Value {
    let s = r.json();
    let broken: Vec<&Value> = s["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] != true)
        .collect();
    assert!(broken.is_empty(), "runs failed: {broken:#?}");
    assert_eq!(r.code(), 0, "{}", r.dump());
    assert_eq!(s["runs"], runs);
    assert_eq!(s["writes_lost"], 0);
    for counted in ["writes_acknowledged", "faults", "procedures"] {
        assert!(s[counted].as_u64().unwrap() > 0, "no {counted}: {s}");
    }
    let inv = s["invariants"].as_object().unwrap();
    for name in kept {
        assert_eq!(inv[*name], runs, "invariant {name}: {s}");
    }
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(
        xml.contains(&format!("<testsuite name=\"drctl chaos\" tests=\"{runs}\""))
            && xml.contains("failures=\"0\""),
        "{xml}"
    );
    s
}

/// `drctl [--kind KIND] chaos ARGS` in `dir`, with `env` added.
pub(crate) fn chaos_run(
    kind: Option<&str>,
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run {
    let mut c = command(drctl_bin(), dir);
    c.envs(env.iter().copied());
    if let Some(k) = kind {
        c.args(["--kind", k]);
    }
    c.arg("chaos").args(args);
    run(c)
}

/// One run (seed 5, 2 steps of `procedure`) with the test-only fault that deletes acknowledged
/// writes behind the tool's back, kept under `dir/kept`: it must fail `acked-writes-kept`
/// naming every write deleted and count them lost. The summary and the deleted writes.
#[track_caller]
pub(crate) fn chaos_catches_dropped(
    kind: Option<&str>,
    dir: &Path,
    procedure: &str,
) -> (Value, Vec<String>) {
    let kept = dir.join("kept");
    let r = chaos_run(
        kind,
        dir,
        &[("DRCTL_CHAOS_TEST_FAULTS", "1")],
        &[
            "--seed",
            "5",
            "--runs",
            "1",
            "--faults",
            "drop-acked",
            "--procedures",
            procedure,
            "--steps",
            "2",
            "--json",
            "--keep-failed",
            kept.to_str().unwrap(),
        ],
    )
    .exit(1);
    assert!(!r.stderr().contains("panicked"), "{}", r.dump());
    let s = r.json();
    let rep = &s["reports"][0];
    assert_eq!(rep["passed"], false, "{rep:#}");
    // A delete that did not happen (nothing acked yet, an error) drops nothing.
    let dropped: Vec<String> = rep["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let (what, result) = (e["what"].as_str()?, e["result"].as_str()?);
            (what.starts_with("TEST: delete acknowledged write")
                && !result.starts_with("skipped")
                && !result.contains("Err("))
            .then(|| what.rsplit(": ").next().unwrap().to_string())
        })
        .collect();
    assert!(!dropped.is_empty(), "no write was deleted: {rep:#}");
    let first = rep["first_broken"].as_str().unwrap();
    assert!(first.starts_with("acked-writes-kept: "), "{first}");
    for w in &dropped {
        assert!(first.contains(w.as_str()), "{w} not named in {first}");
    }
    assert_eq!(s["writes_lost"].as_u64(), Some(dropped.len() as u64), "{s}");
    let seed = kept.join("seed-5");
    assert!(
        seed.join("acked.jsonl").is_file(),
        "nothing kept in {seed:?}"
    );
    (s, dropped)
}

/// A finished command, with assertions that print its output when they fail.
pub(crate) struct Run {
    pub what: String,
    pub out: Output,
}

impl Run {
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub(crate) fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub(crate) fn dump(&self) -> String {
        format!(
            "{}\nexit: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.what,
            self.out.status.code(),
            self.stdout(),
            self.stderr()
        )
    }
    #[track_caller]
    pub(crate) fn success(self) -> Self {
        assert!(
            self.out.status.success(),
            "command failed:\n{}",
            self.dump()
        );
        self
    }
    #[track_caller]
    pub(crate) fn exit(self, code: i32) -> Self {
        assert_eq!(self.code(), code, "unexpected exit code:\n{}", self.dump());
        self
    }
    #[track_caller]
    pub(crate) fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.dump()
        );
        self
    }
    #[track_caller]
    pub(crate) fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout().contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.dump()
        );
        self
    }
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.dump()))
    }
}

/// The procedure's own steps in a subcommand's report: the actions of its runbook's
/// `procedure.*` (or `openldap.failover|switchover|repoint|demote`) step, each with `step`,
/// `outcome`, `note` and the action in `args` (a subcommand is a front for a bundled runbook).
#[track_caller]
pub(crate) fn procedure_actions(report: &Value) -> Vec<Value> {
    let steps = report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {report}"));
    let step = steps
        .iter()
        .find(|s| {
            s["uses"].as_str().is_some_and(|u| {
                u.starts_with("procedure.")
                    || (u.starts_with("openldap.") && !u.contains("assert") && !u.contains("wait"))
            })
        })
        .unwrap_or_else(|| panic!("no procedure step in {report}"));
    step["actions"].as_array().cloned().unwrap_or_default()
}

/// A report's plan, without its run id and timings: each step's name, action and outcome, and the
/// procedure steps it expands to.
pub(crate) fn plan_of(report: &Value) -> (Value, Vec<Value>, Value) {
    let steps = report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {report}"))
        .iter()
        .map(|s| {
            let actions: Vec<Value> = s["actions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| serde_json::json!([x["step"], x["outcome"]]))
                        .collect()
                })
                .unwrap_or_default();
            serde_json::json!([s["name"], s["uses"], s["outcome"], actions])
        })
        .collect();
    (report["runbook"].clone(), steps, report["outcome"].clone())
}

/// Asserts that subcommand `sub` (run in `cwd`) is a front for `runbook`: with `--dry-run
/// --json`, `drctl SUB` and `drctl run RUNBOOK --var …` plan the same steps, with the same
/// outcome, exit code and error.
#[track_caller]
pub(crate) fn assert_front_is_runbook(
    lab: &Lab,
    cwd: &Path,
    sub: &[&str],
    runbook: &str,
    vars: &[&str],
) {
    let mut a: Vec<&str> = sub.to_vec();
    a.extend(["--dry-run", "--json"]);
    let front = run(lab.drctl(&a).current_dir(cwd));
    let mut b = vec!["run", runbook, "--dry-run", "--json"];
    for v in vars {
        b.extend(["--var", v]);
    }
    let direct = run(lab.drctl(&b));
    assert_eq!(front.code(), direct.code(), "{sub:?}: {}", front.dump());
    let (fr, dr) = (front.json(), direct.json());
    assert_eq!(fr["runbook"], runbook, "{sub:?}: {fr}");
    assert_eq!(plan_of(&fr), plan_of(&dr), "{sub:?}");
    assert_eq!(fr["error"], dr["error"], "{sub:?}");
}

/// A command with the DRCTL_* environment of the machine removed.
pub(crate) fn command(bin: &str, cwd: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("DRCTL_") || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    c.env("DRCTL_DRNODE", drnode_bin());
    c.env("DRCTL_OPERATOR", "tester");
    // Run journals go to the test's directory, not the user's state directory.
    c.env("XDG_STATE_HOME", cwd.join(".state"));
    c
}

pub(crate) fn run(mut c: impl std::borrow::BorrowMut<Command>) -> Run {
    let c = c.borrow_mut();
    let what = format!("{c:?}");
    let out = c.output().expect("spawn");
    Run { what, out }
}

/// Polls `cond` until it returns Some, or panics after `deadline` naming `what`.
#[track_caller]
pub(crate) fn wait_for<T>(
    what: &str,
    deadline: Duration,
    mut cond: impl FnMut() -> Option<T>,
) -> T {
    wait_saying(what, deadline, || cond().ok_or_else(String::new))
}

/// [`wait_for`], where `cond` says why not yet (Err): the last reason ends the panic message.
#[track_caller]
pub(crate) fn wait_saying<T>(
    what: &str,
    deadline: Duration,
    mut cond: impl FnMut() -> Result<T, String>,
) -> T {
    let until = Instant::now() + deadline;
    loop {
        match cond() {
            Ok(v) => return v,
            Err(why) if Instant::now() > until => {
                panic!("timed out after {deadline:?} waiting for {what}{why}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// A running lab in a temporary directory, torn down on drop.
pub(crate) struct Lab {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Lab {
    pub(crate) fn up(nodes: u16) -> Lab {
        Self::up_with(nodes, &[])
    }

    pub(crate) fn up_with(nodes: u16, extra: &[&str]) -> Lab {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("lab");
        let lab = Lab { tmp, dir };
        let mut c = lab.drctl(&["lab", "up", "--nodes", &nodes.to_string()]);
        c.args(extra);
        run(c).success();
        lab
    }

    pub(crate) fn cwd(&self) -> &Path {
        self.tmp.path()
    }

    pub(crate) fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    /// drctl aimed at this lab (by --lab-dir, so the cluster file is found through the lab).
    pub(crate) fn drctl(&self, args: &[&str]) -> Command {
        let mut c = command(drctl_bin(), self.cwd());
        c.arg("--lab-dir").arg(&self.dir).args(args);
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run(self.drctl(args))
    }

    pub(crate) fn ok(&self, args: &[&str]) -> Run {
        self.run(args).success()
    }

    pub(crate) fn status(&self) -> Value {
        self.ok(&["status", "--json"]).json()
    }

    /// Polls `status --json` until `cond` holds of it, or panics after `deadline` naming `what`
    /// and the problems of the last status read (why it was not yet what was waited for).
    #[track_caller]
    pub(crate) fn wait_status(
        &self,
        what: &str,
        deadline: Duration,
        cond: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_saying(what, deadline, || {
            let s = self.run(&["status", "--json"]).json();
            if cond(&s) {
                Ok(s)
            } else {
                Err(format!("; the last status's problems: {}", s["problems"]))
            }
        })
    }

    /// Waits until the cluster is healthy and every node holds the same data.
    #[track_caller]
    pub(crate) fn wait_converged(&self, deadline: Duration) -> Value {
        wait_for("a healthy cluster with equal digests", deadline, || {
            let s = self.status();
            let nodes = s["nodes"].as_array()?;
            let first = nodes.first()?["digest"].clone();
            let equal = nodes
                .iter()
                .all(|n| n["digest"] == first && !first.is_null());
            (s["healthy"] == Value::Bool(true) && equal).then_some(s)
        })
    }

    /// An HTTPS client trusting the lab's CA, and the passphrase its nodes take as a bearer
    /// token: for requests `drctl` would not send (many at once, raw bodies).
    pub(crate) fn http(&self) -> (reqwest::Client, String) {
        let trust = drctl::util::tls::Trust {
            ca: Some(self.dir.join("certs/ca.pem")),
            trust_dir: None,
        };
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(drctl::util::tls::client_config(&trust).expect("TLS config"))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        let pass = std::fs::read_to_string(self.dir.join("passphrase")).expect("passphrase");
        (http, pass.trim().to_string())
    }

    pub(crate) fn node_dir(&self, node: &str) -> PathBuf {
        self.dir.join(node)
    }

    pub(crate) fn events(&self, node: &str) -> Vec<Value> {
        self.ok(&["events", "--node", node, "--json", "--limit", "100000"])
            .json()
            .as_array()
            .expect("events are a list")
            .clone()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.drctl(&["lab", "down"]).output();
    }
}

pub(crate) fn node<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {status}"))
}

pub(crate) fn count_lines(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

/// SIGKILLs a lab node and waits until the kernel has released its data directory's lock, so
/// a drnode the test starts itself on that directory is not refused as a second one (`lab kill`
/// returns once the process's command line is gone, a moment before its files are closed).
pub(crate) fn kill_and_release(lab: &Lab, name: &str) {
    use nix::fcntl::{Flock, FlockArg};
    lab.ok(&["lab", "kill", name]);
    let lock = lab.node_dir(name).join("drnode.lock");
    wait_for(
        "the killed node's data directory lock",
        Duration::from_secs(10),
        || {
            let f = std::fs::File::open(&lock).ok()?;
            Flock::lock(f, FlockArg::LockExclusiveNonblock)
                .ok()
                .map(drop)
        },
    );
}

/// How many times the command waited in vain for the node at `url` (its `DRCTL_LOG=debug`
/// lines), and how long the command took.
pub(crate) fn waits_for(lab: &Lab, url: &str, args: &[&str]) -> (Run, usize, Duration) {
    let mut c = lab.drctl(args);
    c.env("DRCTL_LOG", "debug");
    let started = Instant::now();
    let r = run(c);
    let took = started.elapsed();
    let needle = format!("url=\"{url}\"");
    let waits = r
        .stderr()
        .lines()
        .filter(|l| l.contains("waited in vain for an answer") && l.contains(&needle))
        .count();
    (r, waits, took)
}

/// drctl on a real terminal: `script` runs it on a pty, so it prompts as it does for an operator.
pub(crate) struct Terminal {
    child: std::process::Child,
    out: std::sync::mpsc::Receiver<String>,
    pub seen: String,
}

impl Lab {
    /// Starts `drctl args` on a pty of its own.
    pub(crate) fn on_terminal(&self, args: &[&str]) -> Terminal {
        use std::io::Read;
        let drctl = self.drctl(args);
        let line = drctl
            .get_args()
            .map(|a| format!("'{}'", a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ");
        let envs: Vec<(std::ffi::OsString, std::ffi::OsString)> = drctl
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
            .collect();
        // `exec`: script runs the line through $SHELL or /bin/sh; a shell left as drctl's parent
        // gets the terminal's signals too and dies by them once drctl has ended (CI: ^C gave 130).
        let mut child = Command::new("script")
            .args(["-qec", &format!("exec {} {line}", drctl_bin()), "/dev/null"])
            .current_dir(self.cwd())
            .envs(envs)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn script");
        let mut out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
            }
        });
        Terminal {
            child,
            out: rx,
            seen: String::new(),
        }
    }
}

impl Terminal {
    /// Waits until the terminal has shown `text`.
    #[track_caller]
    pub(crate) fn wait_for(&mut self, text: &str, deadline: Duration) {
        let until = Instant::now() + deadline;
        while !self.seen.contains(text) {
            let left = until.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(more) => self.seen.push_str(&more),
                Err(_) => panic!("{text:?} never showed:\n{}", self.seen),
            }
        }
    }

    /// Types `bytes` on the terminal.
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(bytes).expect("write to the terminal");
        stdin.flush().expect("flush the terminal");
    }

    /// Waits for drctl to end; returns its exit status, with all it showed in `seen`.
    #[track_caller]
    pub(crate) fn finish(&mut self, deadline: Duration) -> std::process::ExitStatus {
        let status = wait_for("drctl to end on its terminal", deadline, || {
            self.child.try_wait().expect("wait for script")
        });
        while let Ok(more) = self.out.recv_timeout(Duration::from_millis(500)) {
            self.seen.push_str(&more);
        }
        status
    }
}
