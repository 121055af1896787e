//! The OpenLDAP runbooks on real slapd (`drctl lab up --kind openldap`), through the real drctl
//! binary: a dry run changes nothing, a run recovers, a rerun is "already done", a wrong
//! precondition refuses (exit 3) before anything changes; their drills pass on labs of their
//! own. Skipped, saying why, where slapd is not installed.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

fn slapd_missing() -> bool {
    let missing = ["/usr/sbin/slapd", "/usr/sbin/slapadd"]
        .iter()
        .any(|p| !Path::new(p).exists());
    if missing {
        println!("skipped: slapd not installed (apt-get install slapd ldap-utils)");
    }
    missing
}

fn ldap_lab() -> Lab {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    lab.ok(&["lab", "up", "--kind", "openldap", "--nodes", "3"]);
    lab
}

/// Each node's role, read-only flag, syncprov, provider URLs and digest: what a run changes.
fn end_state(lab: &Lab) -> Vec<Value> {
    let s = lab.status();
    s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            serde_json::json!([
                n["name"],
                n["role"],
                n["read_only"],
                n["syncprov"],
                n["update_ref"],
                n["digest"]
            ])
        })
        .collect()
}

fn run_json(lab: &Lab, state: &Path, args: &[&str]) -> Run {
    let mut c = lab.drctl(args);
    c.env("XDG_STATE_HOME", state).arg("--json");
    run(c)
}

#[test]
fn openldap_runbooks_dry_run_changes_nothing_run_recovers_rerun_is_already_done() {
    if slapd_missing() {
        return;
    }
    let lab = ldap_lab();
    let state = lab.cwd().join("state");
    // The provider answers: the forced failover refuses before anything changes.
    let before = end_state(&lab);
    let r = run_json(
        &lab,
        &state,
        &["run", "forced-failover", "--var", "failed=node-1", "--yes"],
    )
    .exit(3);
    assert_eq!(r.json()["outcome"], "refused", "{}", r.stdout());
    assert_eq!(end_state(&lab), before);

    lab.ok(&["lab", "kill", "node-1"]);
    let before = end_state(&lab);
    let ff = ["run", "forced-failover", "--var", "failed=node-1"];
    let dry = run_json(&lab, &state, &[&ff[..], &["--dry-run"]].concat())
        .success()
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    assert_eq!(end_state(&lab), before, "a dry run changed something");

    let done = run_json(&lab, &state, &[&ff[..], &["--yes"]].concat())
        .success()
        .json();
    assert_eq!(done["outcome"], "succeeded", "{done}");
    let s = lab.status();
    let provider = s["provider"].as_str().expect("a provider").to_string();
    assert_ne!(provider, "node-1");
    let after = end_state(&lab);
    let again = run_json(&lab, &state, &[&ff[..], &["--yes"]].concat())
        .success()
        .json();
    assert_eq!(again["outcome"], "already done", "{again}");
    assert_eq!(end_state(&lab), after);

    // Switch over to the other survivor: dry run, run, rerun.
    let other = if provider == "node-2" {
        "node-3"
    } else {
        "node-2"
    };
    let to = format!("to={other}");
    let sw = ["run", "managed-switchover", "--var", &to];
    let dry = run_json(&lab, &state, &[&sw[..], &["--dry-run"]].concat())
        .success()
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    assert_eq!(end_state(&lab), after, "a dry run changed something");
    let expect = format!("expect_primary={other}");
    run_json(
        &lab,
        &state,
        &[&sw[..], &["--var", &expect, "--yes"]].concat(),
    )
    .exit(3);
    assert_eq!(end_state(&lab), after, "a refused run changed something");
    let done = run_json(&lab, &state, &[&sw[..], &["--yes"]].concat())
        .success()
        .json();
    assert_eq!(done["outcome"], "succeeded", "{done}");
    assert_eq!(lab.status()["provider"], other);
    let again = run_json(&lab, &state, &[&sw[..], &["--yes"]].concat())
        .success()
        .json();
    assert_eq!(again["outcome"], "already done", "{again}");
}

#[test]
fn openldap_runbook_drills_pass_on_real_slapd_with_no_acknowledged_write_lost() {
    if slapd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = run(command(drctl_bin(), tmp.path()).args([
        "--kind",
        "openldap",
        "drill",
        "managed-switchover",
        "--json",
    ]))
    .success()
    .json();
    let r = out.as_array().map(|a| a[0].clone()).unwrap_or(out);
    assert_eq!(r["passed"], true, "{r}");
    assert!(r["skipped"].is_null(), "{r}");
    assert!(r["writes_acknowledged"].as_u64().unwrap() > 50, "{r}");
    assert_eq!(r["writes_lost"], 0, "{r}");
    let out = run(command(drctl_bin(), tmp.path()).args([
        "--kind",
        "openldap",
        "drill",
        "forced-failover",
        "--json",
    ]))
    .success()
    .json();
    let r = out.as_array().map(|a| a[0].clone()).unwrap_or(out);
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["writes_lost"], 0, "{r}");
    let checks: Vec<&str> = r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert!(checks.iter().any(|c| c.starts_with("converged")), "{r}");
}

#[test]
fn openldap_drill_sections_are_checked_when_the_runbook_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.yaml");
    let text = "name: bad\ndescription: x\nparams:\n  to: {required: true, description: t}\nsteps:\n  - name: Switch\n    uses: openldap.switchover\n    with: {to: \"{{ to }}\"}\ndrill:\n  kind: openldapp\n  vars: {to: node-2}\n";
    std::fs::write(&file, text).unwrap();
    let validate = || {
        let mut c = command(drctl_bin(), tmp.path());
        c.args(["runbook", "validate"]).arg(&file);
        run(c).exit(2).stderr()
    };
    let err = validate();
    assert!(
        err.contains("bad.yaml:10:9: drill.kind: unknown lab kind 'openldapp'"),
        "{err}"
    );
    assert!(err.contains("did you mean `openldap`?"), "{err}");
    let text = text.replace(
        "openldapp",
        "openldap\n  nodes: 1\n  inject: [{standalone: node-3}]",
    );
    std::fs::write(&file, text).unwrap();
    let err = validate();
    assert!(
        err.contains("drill.nodes: an openldap lab has 2 to 9 slapd"),
        "{err}"
    );
    assert!(
        err.contains("drill.inject[0]: make node-3 standalone: an openldap drill injects"),
        "{err}"
    );
    // Faults after the run are drnode-only: the error points at the `after` key.
    let text = "name: bad\ndescription: x\nparams:\n  to: {required: true, description: t}\nsteps:\n  - name: Switch\n    uses: openldap.switchover\n    with: {to: \"{{ to }}\"}\ndrill:\n  kind: openldap\n  vars: {to: node-2}\n  after:\n    - kill: node-1\n";
    std::fs::write(&file, text).unwrap();
    let err = validate();
    assert!(
        err.contains("bad.yaml:12:3: drill.after: an openldap drill has no faults after the run"),
        "{err}"
    );
}

/// `drctl failover|switchover|repoint|demote` on openldap nodes are thin fronts for the openldap
/// runbooks: the same steps and outcome as `drctl run`, refusals included.
#[test]
fn openldap_procedure_subcommands_are_their_bundled_runbooks() {
    if slapd_missing() {
        return;
    }
    let lab = ldap_lab();
    let before = end_state(&lab);
    let cases: &[(&[&str], &str, &[&str])] = &[
        // The provider answers: refused by the same step.
        (&["failover"], "forced-failover", &[]),
        (
            &["switchover", "--to", "node-2"],
            "managed-switchover",
            &["to=node-2"],
        ),
        (
            &["repoint", "--primary", "node-1"],
            "repoint-primary",
            &["primary=node-1"],
        ),
        // A consumer is not an old provider to demote.
        (
            &["demote", "node-2"],
            "demote-old-primary",
            &["node=node-2"],
        ),
    ];
    for (sub, runbook, vars) in cases {
        assert_front_is_runbook(&lab, lab.cwd(), sub, runbook, vars);
    }
    assert_eq!(end_state(&lab), before, "a dry run changed something");
}

/// Pids of the slapd processes serving from under `dir`.
fn slapds_under(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let text = String::from_utf8_lossy(&cmd).to_string();
            let args: Vec<&str> = text.split('\0').collect();
            args.first().is_some_and(|a| a.ends_with("slapd"))
                && args.iter().any(|a| Path::new(a).starts_with(dir))
        })
        .collect()
}

/// slapd does not watch the drill that started it: when `drctl drill` is killed with SIGKILL,
/// the next drill ends the slapd its dead owner left and removes the lab directory.
#[test]
fn slapd_left_by_a_killed_openldap_drill_is_swept_by_the_next_drill() {
    if slapd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let labs = tmp.path().join("tmp");
    std::fs::create_dir(&labs).unwrap();
    let mut child = command(drctl_bin(), tmp.path())
        .args(["--kind", "openldap", "drill", "managed-switchover"])
        .env("TMPDIR", &labs)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = wait_for("the drill's three slapd", DEADLINE, || {
        let dir = std::fs::read_dir(&labs)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.to_string_lossy()
                    .contains("drctl-drill-managed-switchover-")
            })?;
        (slapds_under(&dir).len() == 3).then_some(dir)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let left = slapds_under(&dir);
    assert_eq!(left.len(), 3, "slapd outlives the killed drill");
    let r = run(command(drctl_bin(), tmp.path())
        .args(["drill", "sync-auto"])
        .env("TMPDIR", &labs))
    .success()
    .stderr_has("swept drill lab");
    assert_eq!(slapds_under(&dir), Vec::<u32>::new(), "{}", r.stderr());
    for pid in left {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z")),
            "slapd {pid} still runs"
        );
    }
    assert!(!dir.exists(), "{} is still there", dir.display());
}

/// Issue 3: OpenLDAP procedures wait as long as `--wait`: the bundled runbooks OpenLDAP runs are
/// every engine's, and a step's own `timeout:` (a drnode catch-up's 2m) only extends `--wait`,
/// never cuts it (unit test `a_step_timeout_extends_wait_and_never_cuts_it`). Here: the
/// runbooks behind the OpenLDAP subcommands are the shared ones, each with an OpenLDAP drill.
#[test]
fn openldap_runs_the_shared_bundled_runbooks_each_with_an_openldap_drill() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut seen = 0;
    for name in [
        "forced-failover",
        "managed-switchover",
        "repoint-primary",
        "demote-old-primary",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap();
        assert!(
            text.contains("- kind: openldap"),
            "{name} has no openldap drill"
        );
        seen += 1;
    }
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("openldap-"))
        .collect();
    assert!(
        left.is_empty(),
        "parallel OpenLDAP copies are back: {left:?}"
    );
    assert_eq!(seen, 4);
}
