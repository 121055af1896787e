//! Operators: the real `drctl` binary run as a subprocess against the run's cluster file, with
//! its journals and export files kept in the run's directory. Every call is recorded with its
//! exit code and report, for the exit-code invariant.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

/// One drctl invocation and how it ended.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Call {
    /// Who ran it (`chaos-a`, `chaos-b`, the policy).
    pub operator: String,
    pub args: Vec<String>,
    /// `None` when chaos killed it.
    pub exit: Option<i32>,
    pub killed: bool,
    /// The runbook report's `outcome`, when it printed one.
    pub outcome: Option<crate::engine::RunOutcomeKind>,
    /// The runbook report's `resume`, when it printed one.
    pub resume: Option<String>,
    pub run_id: Option<String>,
    pub ms: u64,
    /// The end of stderr, for evidence.
    pub stderr: String,
    #[serde(skip)]
    pub stdout: String,
}

/// When chaos SIGKILLs a drctl it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kill {
    /// This long after its start.
    After(Duration),
    /// The moment its run's journal records a step that changed something: the procedure took
    /// effect, the checks after it have not run and the run's lock is not yet released.
    OnChange,
}

impl Kill {
    pub(crate) fn of(after_ms: u64, on_change: bool) -> Kill {
        if on_change {
            Kill::OnChange
        } else {
            Kill::After(Duration::from_millis(after_ms))
        }
    }
}

/// How to run drctl for one lab.
#[derive(Debug, Clone)]
pub(crate) struct Drctl {
    pub bin: PathBuf,
    pub cluster_file: PathBuf,
    /// The working directory: export files land here.
    pub exports: PathBuf,
    /// `XDG_STATE_HOME`: run journals land under it.
    pub state: PathBuf,
}

impl Drctl {
    pub(crate) fn new(run_dir: &Path, cluster_file: &Path) -> std::io::Result<Drctl> {
        let bin = std::env::current_exe()?;
        let exports = run_dir.join("exports");
        let state = run_dir.join("state");
        std::fs::create_dir_all(&exports)?;
        std::fs::create_dir_all(&state)?;
        Ok(Drctl {
            bin,
            cluster_file: cluster_file.to_path_buf(),
            exports,
            state,
        })
    }

    pub(crate) fn journals(&self) -> PathBuf {
        self.state.join("drctl").join("runs")
    }

    /// Runs `drctl ARGS` as `operator`; kills it (SIGKILL) as `kill` says, if given.
    pub(crate) async fn call(&self, operator: &str, args: &[String], kill: Option<Kill>) -> Call {
        let started = Instant::now();
        let mut cmd = tokio::process::Command::new(&self.bin);
        cmd.arg("--cluster")
            .arg(&self.cluster_file)
            .args(["--operator", operator, "--timeout", "500ms"])
            .args(args)
            .current_dir(&self.exports)
            .env("XDG_STATE_HOME", &self.state)
            .env_remove("DRCTL_CLUSTER")
            .env_remove("DRCTL_KIND")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut call = Call {
            operator: operator.to_string(),
            args: args.to_vec(),
            exit: None,
            killed: false,
            outcome: None,
            resume: None,
            run_id: None,
            ms: 0,
            stderr: String::new(),
            stdout: String::new(),
        };
        let journals_before = self.journal_ids();
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                call.stderr = format!("cannot run {}: {e}", self.bin.display());
                return call;
            }
        };
        let out = match kill {
            Some(Kill::OnChange) => {
                let Some(pid) = child.id() else {
                    call.stderr = "drctl ended before it could be watched".into();
                    return call;
                };
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let watch = {
                    let (dir, stop) = (self.journals(), stop.clone());
                    std::thread::spawn(move || kill_on_change(&dir, &journals_before, pid, &stop))
                };
                let out = child.wait_with_output().await;
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                call.killed = watch.join().unwrap_or(false);
                out
            }
            Some(Kill::After(after)) => {
                let pid = child.id();
                let wait = child.wait_with_output();
                tokio::pin!(wait);
                tokio::select! {
                    out = &mut wait => out,
                    _ = tokio::time::sleep(after) => {
                        if let Some(pid) = pid {
                            let _ = nix::sys::signal::kill(
                                nix::unistd::Pid::from_raw(pid as i32),
                                nix::sys::signal::Signal::SIGKILL,
                            );
                        }
                        call.killed = true;
                        wait.await
                    }
                }
            }
            None => child.wait_with_output().await,
        };
        call.ms = started.elapsed().as_millis() as u64;
        match out {
            Ok(out) => {
                call.exit = if call.killed { None } else { out.status.code() };
                // A procedure that finished before the kill landed is not a killed one.
                if call.killed && out.status.code().is_some() {
                    call.killed = false;
                    call.exit = out.status.code();
                }
                call.stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let err = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = err.lines().rev().take(6).collect();
                call.stderr = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&call.stdout) {
                    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
                    call.outcome = v
                        .get("outcome")
                        .and_then(|o| serde_json::from_value(o.clone()).ok());
                    call.resume = s("resume");
                    call.run_id = s("run_id");
                    if let Some(e) = s("error") {
                        call.stderr = e;
                    }
                }
            }
            Err(e) => call.stderr = format!("waiting for drctl: {e}"),
        }
        call
    }

    /// The run ids of the journals in this lab's state directory.
    pub(crate) fn journal_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.journals())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".jsonl").map(str::to_string)
            })
            .collect();
        ids.sort();
        ids
    }
}

/// Watches the journal of the run drctl `pid` starts (the one not in `before`) and SIGKILLs it
/// the moment a step line says it changed something; true if it did. Polled every 100 µs from a
/// thread of its own: the checks after a drnode procedure's change take a few milliseconds.
fn kill_on_change(
    dir: &Path,
    before: &[String],
    pid: u32,
    stop: &std::sync::atomic::AtomicBool,
) -> bool {
    use crate::runbook::journal::Entry;
    let mut journal: Option<PathBuf> = None;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        if journal.is_none() {
            journal = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.extension().is_some_and(|x| x == "jsonl")
                        && p.file_stem()
                            .is_some_and(|s| !before.iter().any(|b| s == b.as_str()))
                });
        }
        let changed = journal
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|text| {
                text.lines().any(|l| {
                    matches!(
                        serde_json::from_str::<Entry>(l),
                        Ok(Entry::Step { changed: true, .. })
                    )
                })
            });
        if changed {
            return nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            )
            .is_ok();
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    false
}

/// The procedure's drctl arguments, with the node names already resolved.
pub(crate) fn proc_args(words: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    v.extend(["--yes", "--json", "--wait", "10s"].map(String::from));
    v
}
