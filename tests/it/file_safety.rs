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

fn mode(p: &Path) -> u32 {
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

const LEAKY_DRILL: &str = r#"
name: leaky-drill
description: a drill whose step shows a secret and fails
steps:
  - name: use it
    uses: exec
    with:
      command: "echo token={{ env.DRCTL_TEST_TOKEN }}; echo {{ env.DRCTL_TEST_TOKEN }} >&2; cp $TMPDIR/drctl-drill-*/passphrase $TMPDIR/../copied; cat $TMPDIR/../copied >&2; exit 3"
drill:
  nodes: 1
"#;

// Hit: a drill whose runbook echoed `{{ env.TOKEN }}` and failed showed the token in the drill
// table, `--json`, the progress lines and the JUnit file written for CI.
#[test]
fn drill_reports_and_junit_never_carry_a_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let labs = tmp.path().join("tmp");
    std::fs::create_dir(&labs).unwrap();
    let rb = tmp.path().join("leaky-drill.yaml");
    std::fs::write(&rb, LEAKY_DRILL).unwrap();
    let token = "tok-5ecret-drill";
    for json in [false, true] {
        let junit = tmp.path().join(format!("junit-{json}.xml"));
        let mut c = command(drctl_bin(), tmp.path());
        c.args(["drill", rb.to_str().unwrap(), "--junit"])
            .arg(&junit)
            .env("TMPDIR", &labs)
            .env("DRCTL_TEST_TOKEN", token);
        if json {
            c.arg("--json");
        }
        let r = run(c).exit(1);
        let xml = std::fs::read_to_string(&junit).unwrap();
        // The drill lab's passphrase, copied out by the step before the lab was removed.
        let copied = std::fs::read_to_string(tmp.path().join("copied")).unwrap();
        let passphrase = copied.trim();
        assert_eq!(passphrase.len(), 32, "{}", r.dump());
        for (what, text) in [
            ("stdout", r.stdout()),
            ("stderr", r.stderr()),
            ("junit", xml),
        ] {
            assert!(!text.contains(token), "{what} shows the token:\n{text}");
            assert!(
                !text.contains(passphrase),
                "{what} shows the lab passphrase:\n{text}"
            );
            assert!(
                what == "stderr" || text.contains("token='***'"),
                "{what} hides what failed:\n{text}"
            );
        }
        if json {
            let error = r.json()[0]["error"].as_str().unwrap().to_string();
            assert!(error.contains("token='***'"), "{}", r.dump());
        }
        // A CI artifact: its usual mode, only its content is redacted.
        assert_eq!(mode(&junit) & 0o600, 0o600);
    }
}

// Hit: an OpenLDAP bind password (the cluster file's `password_file` or `password_env`) was
// never registered as a secret: a step or an LDAP error showing it printed it in clear.
#[test]
fn openldap_bind_password_is_redacted() {
    if !Path::new("/usr/sbin/slapd").exists() {
        println!("skipped: slapd not installed (apt-get install slapd ldap-utils)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let lab = Lab {
        dir: tmp.path().join("lab"),
        tmp,
    };
    lab.ok(&["lab", "up", "--kind", "openldap", "--nodes", "2"]);
    let pw_file = lab.dir.join("password");
    let pw = std::fs::read_to_string(&pw_file)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(mode(&pw_file), 0o600);
    // The lab's slapd configuration holds the replication credentials in clear.
    for n in ["node-1", "node-2"] {
        assert_eq!(mode(&lab.dir.join(n).join("config.ldif")), 0o600, "{n}");
    }
    let rb = lab.cwd().join("leaky-ldap.yaml");
    std::fs::write(
        &rb,
        format!(
            r#"
name: leaky-ldap
description: an openldap run whose step shows the bind password
steps:
  - name: converged
    uses: openldap.wait-converged
  - name: show it
    uses: exec
    with:
      command: "echo bind=$(cat {}) >&2; exit 3"
"#,
            pw_file.display()
        ),
    )
    .unwrap();
    // The same cluster, the password from the environment instead of a file.
    let by_env = lab.cwd().join("by-env.yaml");
    let yaml = std::fs::read_to_string(lab.dir.join("cluster.yaml")).unwrap();
    std::fs::write(
        &by_env,
        yaml.replace(
            "password_file: password",
            "password_env: DRCTL_TEST_LDAP_PW",
        ),
    )
    .unwrap();
    // An `ldap.*` step binding with `password_env` (no openldap node read: its own password).
    let url = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("url: "))
        .unwrap()
        .to_string();
    let rb_step = lab.cwd().join("leaky-ldap-step.yaml");
    std::fs::write(
        &rb_step,
        format!(
            r#"
name: leaky-ldap-step
description: an ldap step binding with a password from the environment, then showing it
steps:
  - name: read
    uses: ldap.search
    with: {{url: "{url}", bind_dn: "cn=admin,cn=config", password_env: DRCTL_TEST_LDAP_PW, base: "cn=config", scope: base}}
  - name: show it
    uses: exec
    with:
      command: "echo bind=$DRCTL_TEST_LDAP_PW >&2; exit 3"
"#
        ),
    )
    .unwrap();
    let state = lab.cwd().join("state");
    let plain = lab.dir.join("cluster.yaml");
    for (cluster, rb) in [(&plain, &rb), (&by_env, &rb), (&plain, &rb_step)] {
        let mut c = command(drctl_bin(), lab.cwd());
        c.arg("--cluster")
            .arg(cluster)
            .args(["run", rb.to_str().unwrap()])
            .env("DRCTL_TEST_LDAP_PW", &pw)
            .env("XDG_STATE_HOME", &state);
        let r = run(c).exit(1);
        for (what, text) in [("stdout", r.stdout()), ("stderr", r.stderr())] {
            assert!(
                !text.contains(&pw),
                "{what} shows the bind password:\n{text}"
            );
        }
        assert!(r.stdout().contains("bind=***"), "{}", r.dump());
    }
    for j in std::fs::read_dir(state.join("drctl/runs"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert!(
            !text.contains(&pw),
            "the journal shows the password:\n{text}"
        );
    }
}

// Guard: with DRCTL_LOG=trace and DRNODE_LOG=trace every HTTP request, TLS handshake and runbook
// step is logged; none of those lines may carry a passphrase or a `{{ env.* }}` value.
#[test]
fn tracing_logs_never_carry_a_secret() {
    let lab = Lab::up(1);
    let mut c = lab.drctl(&["lab", "restart", "node-1"]);
    c.env("DRNODE_LOG", "trace");
    run(c).success();
    let passphrase = std::fs::read_to_string(lab.dir.join("passphrase")).unwrap();
    let passphrase = passphrase.trim().to_string();
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let token = "tok-5ecret-log";
    let rb = lab.cwd().join("logged.yaml");
    std::fs::write(
        &rb,
        format!(
            r#"
name: logged
description: a secret in a command, a URL and a header
steps:
  - name: show it
    uses: exec
    with:
      command: "echo token={{{{ env.DRCTL_TEST_TOKEN }}}}; cat {}"
  - name: call
    uses: http.request
    with:
      url: "{url}/v1/node?t={{{{ env.DRCTL_TEST_TOKEN }}}}"
      headers: {{X-Token: "{{{{ env.DRCTL_TEST_TOKEN }}}}"}}
"#,
            lab.dir.join("passphrase").display()
        ),
    )
    .unwrap();
    let mut c = lab.drctl(&["run", rb.to_str().unwrap()]);
    c.env("DRCTL_LOG", "trace").env("DRCTL_TEST_TOKEN", token);
    let r = run(c);
    assert!(r.code() <= 1, "{}", r.dump());
    assert!(
        r.stderr().contains("TRACE"),
        "nothing was logged: {}",
        r.dump()
    );
    let node_log = std::fs::read_to_string(lab.node_dir("node-1").join("drnode.log")).unwrap();
    assert!(
        node_log.contains("TRACE"),
        "drnode logged nothing:\n{node_log}"
    );
    for (what, text) in [
        ("stdout", r.stdout()),
        ("stderr", r.stderr()),
        ("drnode.log", node_log),
    ] {
        for s in [token, passphrase.as_str()] {
            assert!(!text.contains(s), "{what} shows a secret ({s}):\n{text}");
        }
    }
}
