//! Upgrading by dropping every node to standalone (seed 003 §5.13.9): maintenance on, the
//! primary then each replica standalone, the upgrade command per node, the cluster re-formed
//! around the same primary (partial sync: no write happened in between), maintenance off.
//! A rerun finds its own maintenance (by id) and continues.

use std::ops::ControlFlow::{Break, Continue};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};

use super::step::Action;
use super::{Cluster, Plan, ProcError};
use crate::api::Maintenance;
use crate::engine::Step;
use crate::engines::drnode::cluster::ClusterView;
use crate::lab::Owner;
use crate::util::poll;

pub async fn upgrade(
    cl: &Cluster,
    view: &ClusterView,
    command: &str,
    id: Option<&str>,
) -> Result<Plan<Action>, ProcError> {
    if command.trim().is_empty() {
        return Err(ProcError::usage("--exec needs a command"));
    }
    let id = match id {
        Some(i) => {
            crate::util::names::validate_label(i)
                .map_err(|e| ProcError::usage(format!("--id: {e}")))?;
            i.to_string()
        }
        None => hex::encode(Sha256::digest(command.as_bytes()))[..12].to_string(),
    };
    let down = view.silent();
    if !down.is_empty() {
        return Err(ProcError::refused(format!(
            "{} do(es) not answer: an upgrade re-forms the whole cluster",
            down.join(", ")
        ))
        .unchanged());
    }
    // A maintenance of this upgrade already running names the primary to re-form around.
    let ongoing = view
        .nodes
        .iter()
        .filter_map(|n| n.ok())
        .filter_map(|s| s.maintenance.clone())
        .find(|m| m.id == id);
    let primary = match &ongoing {
        Some(m) => m.primary.clone(),
        None => view
            .primary()
            .map(|p| p.name.clone())
            .ok_or_else(|| ProcError::refused("no primary answers").unchanged())?,
    };
    cl.target(&primary)?;
    let maintenance = Maintenance {
        id: id.clone(),
        reason: format!("upgrade {id}"),
        primary: primary.clone(),
    };
    let mut plan = Plan::new("upgrade");
    let names: Vec<String> = std::iter::once(primary.clone())
        .chain(
            view.nodes
                .iter()
                .map(|n| n.name.clone())
                .filter(|n| *n != primary),
        )
        .collect();
    // Finished before (every node ran it, no maintenance left): nothing to do.
    let mut finished = ongoing.is_none();
    for n in &names {
        let ran = cl
            .target(n)?
            .client
            .get_local(&format!("upgrade-{id}"))
            .await?;
        finished &= ran.is_some();
    }
    if finished {
        plan.note(format!(
            "upgrade {id} already ran on every node; give another --id to run the command again"
        ));
        plan.step(Step::new(Action::Converged { primary }));
        return Ok(plan);
    }
    plan.note(format!(
        "upgrade {id}: writes are refused until the cluster is re-formed around {primary}"
    ));
    plan.confirm = Some(format!(
        "Put the cluster in maintenance and run `{command}` for each node?"
    ));
    for n in &names {
        plan.step(Step::new(Action::Maintenance {
            node: n.clone(),
            maintenance: Some(maintenance.clone()),
        }));
    }
    for n in &names {
        plan.step(Step::new(Action::Standalone { node: n.clone() }));
    }
    for n in &names {
        plan.step(Step::new(Action::Exec {
            node: n.clone(),
            command: command.to_string(),
            marker: id.clone(),
        }));
    }
    // Re-formed at a new epoch (no node may be promoted at one in use); a rerun that finds
    // the primary promoted already keeps its epoch.
    let epoch = match view.node(&primary).and_then(|n| n.ok()) {
        Some(s)
            if ongoing.is_some()
                && s.role == crate::api::Role::Primary
                && s.epoch == view.epoch() =>
        {
            s.epoch
        }
        _ => super::next_epoch(view.epoch())?,
    };
    plan.step(Step::new(Action::Promote {
        node: primary.clone(),
        epoch,
        caught_up_with: None,
        procedure: "upgrade".into(),
    }));
    for n in names.iter().skip(1) {
        plan.step(Step::new(Action::Follow {
            node: n.clone(),
            primary: primary.clone(),
            full_sync: false,
        }));
    }
    for n in &names {
        plan.step(Step::new(Action::Maintenance {
            node: n.clone(),
            maintenance: None,
        }));
    }
    plan.step(Step::new(Action::Converged { primary }));
    Ok(plan)
}

/// The wrapper every upgrade command runs in (`sh -c WRAPPER drctl-upgrade LINE STATUS_FILE`),
/// in its own process group. Its stdin is a pipe from drctl that is never written: when drctl
/// ends, however it ends (`kill -9` included), the watchdog reads end-of-file and kills the
/// whole group, so the command never outlives the drctl that started it. The exit status is
/// written before the watchdog is stopped, so a command that finished is never taken for an
/// interrupted one.
const WRAPPER: &str = r#"exec 3<&0 </dev/null
sh -c "$1" 3<&- &
cmd=$!
{ read -r _ <&3; kill -9 0; } &
watch=$!
exec 3<&-
wait "$cmd"
rc=$?
echo "$rc" > "$2.tmp" && mv "$2.tmp" "$2"
kill "$watch" 2>/dev/null
exit "$rc"
"#;

/// What drctl records on its own host before it waits for an upgrade command: which process
/// runs it, so that a rerun after drctl was killed waits for (or reports) that process instead
/// of starting the command a second time.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Started {
    /// The wrapper: leader of the command's process group.
    owner: Owner,
    started_at: String,
    command: String,
}

/// `$XDG_STATE_HOME/drctl/upgrades/CLUSTER-ID-NODE`: the started record (`.json`) and the exit
/// status (`.rc`).
fn record_base(cluster: &str, marker: &str, node: &str) -> PathBuf {
    crate::util::state::runs_dir()
        .with_file_name("upgrades")
        .join(format!("{cluster}-{marker}-{node}"))
}

/// Characters a POSIX shell never interprets in a word.
fn shell_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c)
}

/// `v` as one shell word that expands to exactly `v`: bare when only safe characters, else
/// single-quoted (a `'` inside becomes `'\''`).
pub(super) fn shell_quote(v: &str) -> String {
    if !v.is_empty() && v.chars().all(shell_safe) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

/// Substitutes `{node}`, `{url}` and `{data_dir}`, each quoted for the shell: a value never
/// becomes shell syntax, whatever it holds.
pub(super) fn render(command: &str, node: &str, url: &str, data_dir: &str) -> String {
    command
        .replace("{node}", &shell_quote(node))
        .replace("{url}", &shell_quote(url))
        .replace("{data_dir}", &shell_quote(data_dir))
}

/// Whether any process of group `pgid` still runs (zombies do not count).
fn group_alive(pgid: u32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| {
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let f: Vec<&str> = rest.split_whitespace().collect();
            !matches!(f.first(), Some(&"Z") | Some(&"X"))
                && f.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
        })
}

fn still_running(s: &Started) -> bool {
    s.owner.alive() || group_alive(s.owner.pid)
}

fn read_rc(base: &Path) -> Option<i32> {
    std::fs::read_to_string(base.with_extension("rc"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn forget(base: &Path) {
    let _ = std::fs::remove_file(base.with_extension("json"));
    let _ = std::fs::remove_file(base.with_extension("rc"));
}

/// Waits until the group of `s` is gone, or `until`.
async fn wait_gone(s: &Started, until: tokio::time::Instant) -> bool {
    poll::until(until, Duration::from_millis(50), || async {
        poll::holds(!still_running(s))
    })
    .await
    .is_ok()
}

/// Runs the upgrade command for `node` once: never while an earlier run's command still runs,
/// never again once it succeeded (the marker on the node, or the exit status an earlier run's
/// command left), then records the marker on the node.
pub(super) async fn exec(
    cl: &Cluster,
    node: &str,
    command: &str,
    marker: &str,
) -> Result<Option<String>, ProcError> {
    let t = cl.target(node)?;
    let s = t.client.status().await?;
    let line = render(command, node, &s.url, &s.data_dir);
    let base = record_base(&cl.name, marker, node);
    let until = tokio::time::Instant::now() + cl.step_timeout;
    let mut note = None;
    if let Some(earlier) = std::fs::read(base.with_extension("json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Started>(&b).ok())
    {
        if !wait_gone(&earlier, until).await {
            return Err(ProcError::timed_out(format!(
                "`{}` for {node}, started by an earlier run at {} ({}), still runs after {} ms; \
                 nothing new was started: wait for it to end, then rerun",
                earlier.command,
                earlier.started_at,
                earlier.owner,
                cl.step_timeout.as_millis()
            )));
        }
        match read_rc(&base) {
            Some(0) => {
                mark_done(cl, node, marker, until).await?;
                forget(&base);
                return Ok(Some(format!(
                    "`{}` started by an earlier run ({}) had finished; not run again",
                    earlier.command, earlier.owner
                )));
            }
            Some(rc) => {
                forget(&base);
                return Err(ProcError::failed(format!(
                    "`{}` for {node}, started by an earlier run, failed (exit {rc}); rerun to try again",
                    earlier.command
                )));
            }
            None => {
                note = Some(format!(
                    "the command an earlier run started ({}) was interrupted; ran it again",
                    earlier.owner
                ));
                forget(&base);
            }
        }
    }
    let rc = run_wrapped(&line, &base, node, until).await?;
    if let Err(rc) = rc {
        forget(&base);
        return Err(ProcError::failed(format!("`{line}` failed ({rc})")));
    }
    mark_done(cl, node, marker, until).await?;
    forget(&base);
    Ok(Some(match note {
        Some(n) => format!("ran `{line}` ({n})"),
        None => format!("ran `{line}`"),
    }))
}

/// Starts the wrapped command, records it as started, and waits for it (killing its whole group
/// at the deadline). Ok(Err(message)) when the command failed.
async fn run_wrapped(
    line: &str,
    base: &Path,
    node: &str,
    until: tokio::time::Instant,
) -> Result<Result<(), String>, ProcError> {
    let dir = base.parent().expect("a record has a directory");
    std::fs::create_dir_all(dir).map_err(|e| {
        ProcError::failed(format!(
            "cannot create {}: {e}; nothing was run",
            dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(base.with_extension("rc"));
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(WRAPPER)
        .arg("drctl-upgrade")
        .arg(line)
        .arg(base.with_extension("rc"))
        .process_group(0)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ProcError::failed(format!("cannot run `{line}`: {e}")))?;
    let pid = child.id().expect("a spawned child has a pid");
    // Held, never written: closing it (drctl ending) is what kills the group.
    let _lifeline = child.stdin.take();
    let started = Started {
        owner: Owner::of(pid).unwrap_or(Owner { pid, start: 0 }),
        started_at: crate::util::clock::now_rfc3339(),
        command: line.to_string(),
    };
    let record = serde_json::to_vec(&started).expect("the record serializes");
    if let Err(e) = std::fs::write(base.with_extension("json"), record) {
        let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
        return Err(ProcError::failed(format!(
            "cannot record that `{line}` started ({e}); it was stopped"
        )));
    }
    let out = match tokio::time::timeout_at(until, child.wait_with_output()).await {
        Ok(out) => out.map_err(|e| ProcError::failed(format!("cannot run `{line}`: {e}")))?,
        Err(_) => {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            wait_gone(
                &started,
                tokio::time::Instant::now() + Duration::from_secs(5),
            )
            .await;
            forget(base);
            return Err(ProcError::timed_out(format!(
                "`{line}` did not finish in time and was killed; the outcome is unknown: check {node}, then rerun"
            )));
        }
    };
    if out.status.success() {
        Ok(Ok(()))
    } else {
        Ok(Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Records on the node that its command ran, waiting for a node the command restarted.
async fn mark_done(
    cl: &Cluster,
    node: &str,
    marker: &str,
    until: tokio::time::Instant,
) -> Result<(), ProcError> {
    let t = cl.target(node)?;
    let key = format!("upgrade-{marker}");
    poll::until(until, Duration::from_millis(20), || async {
        match t
            .client
            .put_local(&key, &crate::util::clock::now_rfc3339())
            .await
        {
            Ok(_) => Break(Ok(())),
            Err(e) if e.is_unreachable() => Continue(e),
            Err(e) => Break(Err(e.into())),
        }
    })
    .await
    .unwrap_or_else(|e| Err(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substituted_values_never_become_shell_syntax() {
        assert_eq!(shell_quote("node-1"), "node-1");
        assert_eq!(
            shell_quote("https://127.0.0.1:7443"),
            "https://127.0.0.1:7443"
        );
        assert_eq!(shell_quote("/d/$(touch x)"), "'/d/$(touch x)'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            render("echo {data_dir} {node}", "n1", "u", "/a b;rm -rf /"),
            "echo '/a b;rm -rf /' n1"
        );
    }
}
