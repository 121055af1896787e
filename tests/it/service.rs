//! drnode as a service: the systemd unit's own command line, run for real, tells readiness over
//! a notify socket, serves, and stops cleanly and promptly on SIGTERM, logging plain text.

use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);
/// A graceful stop gives open requests 2 s: well inside this.
const STOP_DEADLINE: Duration = Duration::from_secs(10);
const ESC: u8 = 0x1b;

fn unit_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/drnode.service")
}

/// The `[Service]` settings of the unit, in order (a key may repeat, like `Environment=`).
fn service_settings() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(unit_path()).expect("contrib/drnode.service");
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if section == "Service" {
            let (k, v) = line.split_once('=').expect("key=value");
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

fn setting(settings: &[(String, String)], key: &str) -> Option<String> {
    settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// A stopped lab node whose data directory stands in for `/var/lib/drnode`.
fn stopped_node() -> Lab {
    let lab = Lab::up(1);
    kill_and_release(&lab, "node-1");
    lab
}

/// A drnode started by the test, with its notify socket and log file.
struct Service {
    child: Child,
    notify: UnixDatagram,
    log: PathBuf,
}

impl Service {
    /// Runs `argv` as systemd would: the notify socket in NOTIFY_SOCKET, the unit's
    /// `Environment=`, stdout and stderr to a file (not a terminal, like journald's pipe).
    fn start(dir: &Path, argv: &[String], env: &[(String, String)]) -> Service {
        let socket = dir.join("notify.sock");
        let _ = std::fs::remove_file(&socket);
        let notify = UnixDatagram::bind(&socket).expect("notify socket");
        let log = dir.join("service.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .env_remove("DRNODE_LOG")
            .env_remove("DRNODE_LOG_FORMAT")
            .env("NOTIFY_SOCKET", &socket)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let child = c.spawn().expect("spawn the unit's command");
        Service { child, notify, log }
    }

    /// Waits for a notify message containing `line` (e.g. `READY=1`).
    #[track_caller]
    fn wait_notify(&mut self, line: &str) -> String {
        let until = Instant::now() + DEADLINE;
        let mut buf = [0u8; 4096];
        self.notify
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        loop {
            match self.notify.recv(&mut buf) {
                Ok(n) => {
                    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                    if msg.lines().any(|l| l == line) {
                        return msg;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("notify socket: {e}"),
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "drnode exited ({status}) before {line}:\n{}",
                    self.log_text()
                );
            }
            assert!(Instant::now() < until, "no {line} within {DEADLINE:?}");
        }
    }

    /// SIGTERM, then the exit code, which must come within STOP_DEADLINE.
    #[track_caller]
    fn terminate(&mut self) -> (i32, Duration) {
        let sent = Instant::now();
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let status = wait_for("drnode to exit after SIGTERM", STOP_DEADLINE, || {
            self.child.try_wait().unwrap()
        });
        (status.code().unwrap_or(-1), sent.elapsed())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[track_caller]
fn assert_reachable(lab: &Lab, up: bool) {
    wait_for("node-1 to answer drctl status", DEADLINE, || {
        (node(&lab.status(), "node-1")["reachable"] == up).then_some(())
    });
}

#[test]
fn the_units_command_line_tells_ready_serves_and_stops_cleanly_on_sigterm() {
    let settings = service_settings();
    assert_eq!(setting(&settings, "Type").as_deref(), Some("notify"));
    assert_eq!(setting(&settings, "NotifyAccess").as_deref(), Some("main"));
    assert_eq!(setting(&settings, "KillSignal").as_deref(), Some("SIGTERM"));
    let exec = setting(&settings, "ExecStart").expect("ExecStart");
    let env: Vec<(String, String)> = settings
        .iter()
        .filter(|(k, _)| k == "Environment")
        .map(|(_, v)| {
            let (k, v) = v.split_once('=').expect("Environment=K=V");
            (k.to_string(), v.to_string())
        })
        .collect();

    let lab = stopped_node();

    // The unit's paths, moved to the test's directory.
    let data_dir = lab.node_dir("node-1");
    let argv: Vec<String> = exec
        .split_whitespace()
        .map(|a| match a {
            "/usr/local/bin/drnode" => drnode_bin().to_string(),
            "/var/lib/drnode" => data_dir.display().to_string(),
            other => other.to_string(),
        })
        .collect();
    assert!(
        !argv
            .iter()
            .any(|a| a.starts_with("/etc") || a.starts_with("/var") || a.starts_with("/usr")),
        "a path of the unit not substituted: {argv:?}"
    );
    let mut svc = Service::start(lab.cwd(), &argv, &env);
    let ready = svc.wait_notify("READY=1");
    assert!(ready.contains("STATUS=serving node-1 on"), "{ready}");
    assert_reachable(&lab, true);
    lab.ok(&["api", "PUT", "/v1/entries/service/k", r#"{"value": "v"}"#]);

    let (code, took) = svc.terminate();
    assert_eq!(code, 0, "exit after SIGTERM:\n{}", svc.log_text());
    svc.wait_notify("STOPPING=1");
    let log = svc.log_text();
    assert!(log.contains("drnode stopping"), "{log}");
    assert!(
        !log.as_bytes().contains(&ESC),
        "escape codes in the service's log:\n{log}"
    );
    assert_reachable(&lab, false);
    eprintln!("drnode stopped {took:?} after SIGTERM");

    // Where systemd is installed, it reads the unit without a complaint.
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if analyze.exists() {
        let text = std::fs::read_to_string(unit_path())
            .unwrap()
            .replace("/usr/local/bin/drnode", drnode_bin());
        let copy = lab.cwd().join("drnode.service");
        std::fs::write(&copy, text).unwrap();
        let r = run(Command::new(analyze).arg("verify").arg(&copy));
        assert!(
            r.stderr().trim().is_empty() && r.code() == 0,
            "{}",
            r.dump()
        );
    }
}
