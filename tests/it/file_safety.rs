//! Security and file safety: secrets never rendered, files written without following planted
//! links or overwriting, operator commands quoted and never run by a dry run, oversized input
//! refused at once, a closed pipe ends drctl quietly. Each test is named after the hole it closes.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

pub(super) fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// drctl on `lab` with journals under `state`.
fn with_state(lab: &Lab, state: &Path, args: &[&str]) -> std::process::Command {
    let mut c = lab.drctl(args);
    c.env("XDG_STATE_HOME", state);
    c
}

const LEAKY: &str = r#"
name: leaky
description: uses secrets in a command that fails
params:
  pw: {secret: true, description: a password}
steps:
  - name: use them
    uses: exec
    with:
      command: "echo token={{ env.DRCTL_TEST_TOKEN }} pw={{ pw }}; cat lab/passphrase; echo {{ env.DRCTL_TEST_TOKEN }} >&2; exit 3"
"#;

// Hit: `{{ env.X }}` in an exec command landed in the journal's note and error, the report
// table, the JSON report and stderr; journals were 0644 when the runs directory existed.
#[test]
fn env_secrets_are_redacted_everywhere_and_journals_are_private() {
    let lab = Lab::up(1);
    let rb = lab.cwd().join("leaky.yaml");
    std::fs::write(&rb, LEAKY).unwrap();
    let state = lab.cwd().join("state");
    let runs = state.join("drctl/runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::set_permissions(&runs, std::fs::Permissions::from_mode(0o755)).unwrap();
    let passphrase = std::fs::read_to_string(lab.dir.join("passphrase")).unwrap();
    let passphrase = passphrase.trim();
    let token = "tok-5ecret-value";
    let pw = "pw-5ecret-value";
    let leaks = |what: &str, text: &str| {
        for s in [token, pw, passphrase] {
            assert!(!text.contains(s), "{what} shows a secret ({s}):\n{text}");
        }
    };
    let mut run_id = String::new();
    for json in [false, true] {
        let mut c = with_state(&lab, &state, &["run", rb.to_str().unwrap(), "--var"]);
        c.arg(format!("pw={pw}"));
        if json {
            c.arg("--json");
        }
        c.env("DRCTL_TEST_TOKEN", token);
        let r = run(c).exit(1);
        leaks("stdout", &r.stdout());
        leaks("stderr", &r.stderr());
        assert!(
            r.stdout().contains("token='***'") && r.stderr().contains("token='***'"),
            "{}",
            r.dump()
        );
        if json {
            run_id = r.json()["run_id"].as_str().unwrap().to_string();
        }
    }
    // The journal keeps no secret parameter: a resume is given it again.
    run(with_state(&lab, &state, &["run", "--resume", &run_id]))
        .exit(2)
        .stderr_has("give it again with --var pw=");
    let mut c = with_state(&lab, &state, &["run", "--resume", &run_id, "--var"]);
    c.arg(format!("pw={pw}")).env("DRCTL_TEST_TOKEN", token);
    let r = run(c).exit(1);
    leaks("stderr", &r.stderr());
    assert!(r.stderr().contains("pw='***'"), "{}", r.dump());
    let journals: Vec<_> = std::fs::read_dir(&runs).unwrap().flatten().collect();
    assert_eq!(journals.len(), 2);
    for j in journals {
        let text = std::fs::read_to_string(j.path()).unwrap();
        leaks("the journal", &text);
        assert!(text.contains("***"), "{text}");
        assert_eq!(mode(&j.path()), 0o600, "{}", j.path().display());
    }
    assert_eq!(mode(&runs), 0o700);
}

// Hit: `--var 'to=x; touch /tmp/p'` ran `touch`: the value was pasted unquoted into `sh -c`.
#[test]
fn exec_template_values_are_quoted_for_the_shell() {
    let lab = Lab::up(1);
    let rb = lab.cwd().join("quote.yaml");
    std::fs::write(
        &rb,
        r#"
name: quote
description: a value in every quoting context
params:
  to: {required: true, description: where}
steps:
  - name: echo it
    uses: exec
    with:
      command: "printf '%s|' {{ to }} \"{{ to }}\" '{{ to }}' > out.txt"
"#,
    )
    .unwrap();
    let pwned = lab.cwd().join("pwned");
    let value = format!(
        "x; touch {} $(touch {}) `touch {}` '\"",
        pwned.display(),
        pwned.display(),
        pwned.display()
    );
    lab.ok(&["run", rb.to_str().unwrap(), "--var", &format!("to={value}")]);
    assert!(!pwned.exists(), "the value ran as a command");
    let out = std::fs::read_to_string(lab.cwd().join("out.txt")).unwrap();
    assert_eq!(out, format!("{value}|{value}|{value}|"));
}

// Hit: `drctl run --dry-run` ran the `unless:` guard of an `exec` step.
#[test]
fn dry_run_runs_no_exec_guard() {
    let lab = Lab::up(1);
    let rb = lab.cwd().join("guard.yaml");
    std::fs::write(
        &rb,
        r#"
name: guard
description: a guard with a side effect
steps:
  - name: guarded
    uses: exec
    with: {command: "true", unless: "touch guard-ran"}
"#,
    )
    .unwrap();
    let r = lab.ok(&["run", rb.to_str().unwrap(), "--dry-run", "--json"]);
    assert!(!lab.cwd().join("guard-ran").exists(), "{}", r.dump());
    assert_eq!(r.json()["steps"][0]["outcome"], "would run", "{}", r.dump());
}

// Hit: `hosts apply` replaced a symlinked hosts file with a plain file, followed a planted
// `FILE.drctl-tmp` symlink (writing through it), and left its tmp file behind.
#[test]
fn hosts_apply_writes_through_symlinks_and_ignores_planted_tmp() {
    let lab = Lab::up(1);
    let real = lab.cwd().join("real-hosts");
    std::fs::write(&real, "127.0.0.1 localhost\n").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = lab.cwd().join("hosts");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let victim = lab.cwd().join("victim");
    std::fs::write(&victim, "untouched\n").unwrap();
    std::os::unix::fs::symlink(&victim, lab.cwd().join("hosts.drctl-tmp")).unwrap();
    lab.ok(&["hosts", "apply", "--file", link.to_str().unwrap()]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        text.starts_with("127.0.0.1 localhost\n# BEGIN drctl cluster"),
        "{text}"
    );
    assert_eq!(mode(&real), 0o644);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
    let names: Vec<String> = std::fs::read_dir(lab.cwd())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ![
                ".state",
                "lab",
                "real-hosts",
                "hosts",
                "hosts.drctl-tmp",
                "victim",
            ]
            .contains(&n.as_str())
        })
        .collect();
    assert!(names.is_empty(), "files left: {names:?}");
    lab.ok(&["hosts", "apply", "--file", link.to_str().unwrap()])
        .stdout_has("already done");
}

// Hit: a symlink in the primary's packages/ was listed, served and copied to every replica.
#[test]
fn package_symlinks_are_neither_served_nor_copied() {
    let lab = Lab::up(2);
    let secret = lab.cwd().join("private.key");
    std::fs::write(&secret, "PRIVATE").unwrap();
    let real = lab.cwd().join("real.tar");
    std::fs::write(&real, "REAL").unwrap();
    lab.ok(&["packages", "put", real.to_str().unwrap()]);
    let pkgs = lab.node_dir("node-1").join("packages");
    std::os::unix::fs::symlink(&secret, pkgs.join("leak.tar")).unwrap();
    let list = lab.ok(&["packages", "list", "--json"]).json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["real.tar"], "{list}");
    lab.run(&["api", "GET", "/v1/packages/leak.tar", "--node", "node-1"])
        .exit(1);
    lab.ok(&["packages", "sync", "--yes"]);
    let copied = lab
        .ok(&["packages", "list", "--json", "--node", "node-2"])
        .json();
    assert_eq!(copied.as_array().unwrap().len(), 1, "{copied}");
    assert!(!copied.to_string().contains("leak.tar"), "{copied}");
    assert!(!lab.node_dir("node-2").join("packages/leak.tar").exists());
    let events = lab.events("node-1");
    assert!(
        events.iter().any(|e| e["kind"] == "package_skipped"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("leak.tar is a symlink")),
        "{events:?}"
    );
}

// Hit: an export truncated an existing file and followed a symlink planted at its path.
#[test]
fn exports_refuse_to_overwrite_or_follow_symlinks() {
    let lab = Lab::up(2);
    lab.ok(&["lab", "write", "--count", "10"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "pause", "node-2"]);
    lab.ok(&["lab", "write", "--count", "3", "--prefix", "lost"]);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "resume", "node-2"]);
    lab.ok(&["failover", "--yes", "--force"]);
    lab.ok(&["lab", "restart", "node-1"]);
    wait_for("node-1 fenced", DEADLINE, || {
        (node(&lab.status(), "node-1")["role"] == "fenced").then_some(())
    });
    let victim = lab.cwd().join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    let planted = lab.cwd().join("planted.jsonl");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let existing = lab.cwd().join("existing.jsonl");
    std::fs::write(&existing, "an earlier export\n").unwrap();
    for path in [&planted, &existing] {
        let p = path.to_str().unwrap();
        lab.run(&["demote", "node-1", "--yes", "--export", p])
            .exit(3)
            .stderr_has("already exists");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "an earlier export\n"
    );
    assert_eq!(node(&lab.status(), "node-1")["role"], "fenced");
    let fresh = lab.cwd().join("fresh.jsonl");
    lab.ok(&[
        "demote",
        "node-1",
        "--yes",
        "--export",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(mode(&fresh), 0o600);
    assert!(count_lines(&fresh) > 0);
}

// Hit: a 200 KB deeply nested cluster file took 50 s to reject, a 10 MB one 30 s.
#[test]
fn huge_or_deeply_nested_input_is_rejected_by_bound() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("nested.yaml");
    let depth = 100_000;
    std::fs::write(
        &nested,
        format!(
            "cluster: c\nnodes: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    )
    .unwrap();
    let big = dir.path().join("big.yaml");
    let mut text = String::from("cluster: c\nnodes:\n");
    let mut i = 0u32;
    while text.len() < 10_000_000 {
        text.push_str(&format!(
            "  - {{name: n{i}, url: 'https://10.{}.{}.{}:7443'}}\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
        i += 1;
    }
    std::fs::write(&big, &text).unwrap();
    let drctl = |args: &[&str]| run(command(drctl_bin(), dir.path()).args(args));
    drctl(&["--cluster", nested.to_str().unwrap(), "status"])
        .exit(2)
        .stderr_has("nested deeper than")
        .stderr_has("nested.yaml");
    drctl(&["--cluster", big.to_str().unwrap(), "status"])
        .exit(2)
        .stderr_has("larger than 1 MiB")
        .stderr_has("big.yaml");
    // The runbook loader: the same bounds.
    let rb_nested = dir.path().join("rb-nested.yaml");
    std::fs::write(
        &rb_nested,
        format!(
            "name: x\nsteps: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    )
    .unwrap();
    drctl(&["runbook", "validate", rb_nested.to_str().unwrap()])
        .exit(2)
        .stderr_has("nested deeper than");
    drctl(&["runbook", "validate", big.to_str().unwrap()])
        .exit(2)
        .stderr_has("larger than 1 MiB");
}

/// Runs drctl with its stdout a pipe whose reader is gone before drctl writes (closed right
/// after the spawn, while drctl is still starting).
fn into_closed_pipe(mut c: std::process::Command) -> Run {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    Run {
        what: format!("{c:?}"),
        out,
    }
}

// Hit: `drctl status --json | head -c1` (and any long listing into a closed pipe) panicked with
// exit 101 on the broken pipe.
#[test]
fn broken_pipe_exits_quietly() {
    let lab = Lab::up(1);
    // head -c1: the reader leaves after one byte.
    let mut c = lab.drctl(&["status", "--json"]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut one = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut one).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code() == Some(0) && out.stderr.is_empty(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        &["status", "--json"][..],
        &["runbook", "actions"],
        &["runbook", "show", "forced-failover"],
    ] {
        let r = into_closed_pipe(lab.drctl(args));
        assert!(
            r.code() == 0 && r.stderr().is_empty(),
            "{args:?}: {}",
            r.dump()
        );
    }
}
