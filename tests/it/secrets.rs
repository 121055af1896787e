//! Secrets in what drctl renders beyond a run's own report: drill reports and JUnit files, the
//! lab and drill passphrases, LDAP bind passwords, and the log lines of drctl and drnode. Each
//! test is named after the hole it closes.

use std::path::Path;

use super::file_safety::mode;
use crate::support::*;

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
        // Read as text, with XML's character references resolved.
        let xml = std::fs::read_to_string(&junit)
            .unwrap()
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
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
