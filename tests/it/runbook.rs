//! Runbooks (issue 5): every bundled runbook validates and its drill passes on a fresh lab;
//! invalid runbooks fail at the exact line, column and YAML path with a suggestion; a run killed
//! mid-way resumes to the same end state as an uninterrupted one; `--dry-run` and reruns change
//! nothing; a failure before the point of no return rolls back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);
const BUNDLED: &[&str] = &[
    "managed-switchover",
    "forced-failover",
    "partitioned-primary",
    "repoint-primary",
    "repoint-clients",
    "samba-rejoin-dc",
    "samba-replicate",
    "ds389-reinit",
    "demote-old-primary",
    "full-resync",
    "failback",
    "late-failover",
    "late-failback",
    "late-demote",
    "standalone",
    "join",
    "sync-auto",
    "sync-full",
    "services",
    "packages-sync",
    "seize-roles",
    "remove-failed-instance",
    "removenode",
    "removenode-force",
    "etcd-rejoin-member",
    "etcd-snapshot",
    "etcd-restore-snapshot",
    "upgrade-standalone",
    "rejoin-removed-node",
    "adlds-seize-roles",
    "adlds-metadata-cleanup",
];

/// The bundled runbooks every engine that supports their procedure runs (with one drill each).
const SHARED_WITH_OPENLDAP: &[&str] = &[
    "forced-failover",
    "managed-switchover",
    "repoint-primary",
    "demote-old-primary",
];

/// The runbooks that carry an etcd drill too.
const SHARED_WITH_ETCD: &[&str] = &[
    "managed-switchover",
    "forced-failover",
    "removenode",
    "removenode-force",
];
const SHARED_WITH_389DS: &[&str] = &[
    "managed-switchover",
    "forced-failover",
    "demote-old-primary",
    "remove-failed-instance",
    "repoint-primary",
];
const SHARED_WITH_SAMBA: &[&str] = &["seize-roles", "remove-failed-instance"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// drctl on `lab` with its own state directory (journals go there).
fn drctl_state(lab: &Lab, state: &Path, args: &[&str]) -> std::process::Command {
    let mut c = lab.drctl(args);
    c.env("XDG_STATE_HOME", state);
    c
}

/// Every node's role, epoch and digest, and the primary setting: a procedure's end state.
fn end_state(lab: &Lab) -> Vec<(String, Value, Value, Value, Value)> {
    let s = lab.status();
    s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["role"].clone(),
                n["epoch"].clone(),
                n["digest"].clone(),
                n["primary_setting"].clone(),
            )
        })
        .collect()
}

fn outcomes(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_bundled_runbook_validates_and_the_files_are_the_embedded_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<String> = BUNDLED
        .iter()
        .map(|n| {
            root()
                .join(format!("runbooks/{n}.yaml"))
                .display()
                .to_string()
        })
        .collect();
    let mut c = command(drctl_bin(), tmp.path());
    c.arg("runbook").arg("validate").args(&files);
    let out = run(c).success().stdout();
    assert_eq!(out.matches(": ok (").count(), BUNDLED.len(), "{out}");
    let list = run(command(drctl_bin(), tmp.path()).args(["runbook", "list", "--json"]))
        .success()
        .json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BUNDLED);
    assert!(list.as_array().unwrap().iter().all(|r| r["drill"] == true));
    for n in BUNDLED {
        let shown = run(command(drctl_bin(), tmp.path()).args(["runbook", "show", n]))
            .success()
            .stdout();
        let file = std::fs::read_to_string(root().join(format!("runbooks/{n}.yaml"))).unwrap();
        assert!(shown.ends_with(&file), "{n}: the embedded runbook differs");
    }
}

/// Each fixture's first line: `# expect: LINE:COL PATH | TEXT`.
#[test]
fn invalid_runbooks_fail_at_the_exact_line_column_and_path() {
    let dir = root().join("tests/fixtures/runbooks/invalid");
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = text
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("# expect: ");
        let (place, hint) = spec.split_once(" | ").unwrap();
        let (pos, ypath) = place.split_once(' ').unwrap();
        let file = path.display().to_string();
        let r = run(command(drctl_bin(), tmp.path()).args(["runbook", "validate", &file])).exit(2);
        let want = if ypath == "invalid YAML" {
            format!("{file}:{pos}: invalid YAML")
        } else {
            format!("{file}:{pos}: {ypath}: ")
        };
        let line = r
            .stderr()
            .lines()
            .find(|l| l.contains(&want))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no {want:?} in:\n{}", r.stderr()));
        assert!(line.contains(hint), "{line:?} lacks {hint:?}");
        // `drctl run` refuses the same file before touching any cluster.
        run(command(drctl_bin(), tmp.path()).args(["run", &file, "--yes"]))
            .exit(2)
            .stderr_has(&want);
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} fixtures");
}

#[test]
fn every_bundled_drill_passes_in_a_lab_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("junit.xml");
    let mut c = command(drctl_bin(), tmp.path());
    c.args(["drill", "--all", "--json", "--junit"]).arg(&junit);
    let r = run(c);
    if r.code() != 0 {
        // Only the drills that failed: the whole report is longer than a CI log keeps.
        let failed: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&r.stdout())
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d["passed"] != true)
            .collect();
        panic!(
            "drill --all failed (exit {}):\n{}\n--- the failed drills:\n{}",
            r.code(),
            r.stderr(),
            serde_json::to_string_pretty(&failed).unwrap_or_default()
        );
    }
    let report = r.json();
    let reports = report.as_array().unwrap();
    // One run per drill: the runbooks OpenLDAP, etcd, 389ds and Samba AD share carry a drill of
    // theirs too.
    let runs = BUNDLED.len()
        + SHARED_WITH_OPENLDAP.len()
        + SHARED_WITH_ETCD.len()
        + SHARED_WITH_389DS.len()
        + SHARED_WITH_SAMBA.len();
    assert_eq!(reports.len(), runs);
    for (kind, names) in [
        ("openldap", SHARED_WITH_OPENLDAP),
        ("etcd", SHARED_WITH_ETCD),
        ("389ds", SHARED_WITH_389DS),
        ("samba-ad", SHARED_WITH_SAMBA),
    ] {
        for name in names {
            assert!(
                reports
                    .iter()
                    .any(|r| r["runbook"] == *name && r["kind"] == kind),
                "no {kind} drill of {name}"
            );
        }
    }
    for r in reports {
        assert_eq!(r["passed"], true, "{r}");
        assert!(r["recovery_ms"].as_u64().unwrap() > 0, "{r}");
        assert!(r["expectations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["ok"] == true));
    }
    // The heavy engines' drills share one lab each: the first keeps a copy of its lab once it
    // is up, every later one starts from that copy (and still passes: a fresh domain each time).
    for kind in ["389ds", "samba-ad"] {
        let labs: Vec<String> = reports
            .iter()
            .filter(|r| r["kind"] == kind && r["skipped"].is_null())
            .map(|r| {
                r["steps"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        if labs.is_empty() {
            continue;
        }
        let kept = labs.iter().filter(|l| l.contains(", kept for ")).count();
        let copies = labs.iter().filter(|l| l.ends_with(", from the kept copy"));
        assert_eq!(
            (kept, copies.count()),
            (1, labs.len() - 1),
            "{kind}: {labs:?}"
        );
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), runs, "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    // Drills use temporary labs, never the lab directory of the user.
    assert!(!tmp.path().join(".drctl-lab").exists());
}

const KILLABLE: &str = r#"
name: killable
params:
  to: {required: true}
  marker: {required: true}
  nap: {default: "0"}
steps:
  - name: switch over
    uses: procedure.switchover
    with: {to: "{{ to }}"}
  - name: a slow step
    uses: exec
    with:
      command: "touch {{ marker }} && sleep {{ nap }}"
      unless: "test -f {{ marker }}"
  - name: note it
    uses: cluster.set-setting
    with: {name: note, value: "switched to {{ to }}"}
"#;

#[test]
fn a_killed_run_resumes_to_the_same_end_state_as_an_uninterrupted_one() {
    let killed = Lab::up(3);
    let state = killed.cwd().join("state");
    let book = killed.cwd().join("killable.yaml");
    std::fs::write(&book, KILLABLE).unwrap();
    let marker = killed.cwd().join("marker");
    let b = book.to_str().unwrap();
    let mut child = drctl_state(
        &killed,
        &state,
        &[
            "run",
            b,
            "--yes",
            "--var",
            "to=node-2",
            "--var",
            &format!("marker={}", marker.display()),
            "--var",
            "nap=30",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    wait_for("the slow step to start", DEADLINE, || {
        marker.exists().then_some(())
    });
    child.kill().unwrap(); // SIGKILL, mid-step
    child.wait().unwrap();
    let runs = state.join("drctl/runs");
    let journal = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let run_id = journal.file_stem().unwrap().to_str().unwrap().to_string();
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert!(
        lines.contains(r#""index":0"#) && lines.contains(r#""outcome":"done""#),
        "{lines}"
    );
    assert!(!lines.contains(r#""event":"end""#), "{lines}");

    let resumed = run(drctl_state(
        &killed,
        &state,
        &["run", "--resume", &run_id, "--yes", "--json"],
    ))
    .success()
    .json();
    assert_eq!(resumed["run_id"], run_id.as_str());
    assert_eq!(
        outcomes(&resumed),
        ["verified earlier", "already done", "done"],
        "{resumed}"
    );
    let killed_state = end_state(&killed);

    let whole = Lab::up(3);
    let state2 = whole.cwd().join("state");
    let marker2 = whole.cwd().join("marker");
    let r = run(drctl_state(
        &whole,
        &state2,
        &[
            "run",
            b,
            "--yes",
            "--json",
            "--var",
            "to=node-2",
            "--var",
            &format!("marker={}", marker2.display()),
        ],
    ))
    .success()
    .json();
    assert_eq!(r["outcome"], "succeeded");
    let whole_state = end_state(&whole);
    let shape = |s: &[(String, Value, Value, Value, Value)]| {
        s.iter()
            .map(|n| (n.0.clone(), n.1.clone(), n.2.clone(), n.4.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&killed_state), shape(&whole_state));
    let note = |lab: &Lab| lab.ok(&["api", "GET", "/v1/settings/note"]).stdout();
    assert_eq!(note(&killed), note(&whole));
}

#[test]
fn dry_run_and_rerun_change_nothing() {
    let lab = Lab::up(3);
    let state = lab.cwd().join("state");
    let before = end_state(&lab);
    let dry = run(drctl_state(
        &lab,
        &state,
        &[
            "run",
            "managed-switchover",
            "--var",
            "to=node-2",
            "--dry-run",
            "--json",
        ],
    ))
    .success()
    .json();
    assert_eq!(dry["outcome"], "dry run");
    assert!(outcomes(&dry).contains(&"would run".to_string()), "{dry}");
    assert_eq!(end_state(&lab), before);
    assert!(
        !state.join("drctl/runs").exists(),
        "a dry run writes no journal"
    );
    // One code path: the subcommand is a front for this runbook and plans the same steps.
    let sub = lab
        .ok(&["switchover", "--to", "node-2", "--dry-run", "--json"])
        .json();
    assert_eq!(plan_of(&sub), plan_of(&dry));

    let first = run(drctl_state(
        &lab,
        &state,
        &[
            "run",
            "managed-switchover",
            "--var",
            "to=node-2",
            "--yes",
            "--json",
        ],
    ))
    .success()
    .json();
    assert_eq!(first["outcome"], "succeeded", "{first}");
    let after = lab.wait_converged(DEADLINE);
    assert_eq!(node(&after, "node-2")["role"], "primary");
    let done = end_state(&lab);
    let again = run(drctl_state(
        &lab,
        &state,
        &[
            "run",
            "managed-switchover",
            "--var",
            "to=node-2",
            "--yes",
            "--json",
        ],
    ))
    .success()
    .json();
    assert_eq!(again["outcome"], "already done", "{again}");
    assert_eq!(end_state(&lab), done);
    // A precondition that does not hold refuses (exit 3) and changes nothing.
    lab.run(&["run", "forced-failover", "--var", "failed=node-1", "--yes"])
        .exit(3)
        .stderr_has("node-1 answers");
    assert_eq!(end_state(&lab), done);
    // Parameters are checked by name, with a suggestion.
    lab.run(&["run", "managed-switchover", "--var", "too=node-2"])
        .exit(2)
        .stderr_has("did you mean `to`?");
    lab.run(&["run", "managed-switchover"])
        .exit(2)
        .stderr_has("needs --var to=");
}

#[test]
fn a_failure_before_the_point_of_no_return_rolls_back() {
    let lab = Lab::up(3);
    let book = lab.cwd().join("rollback.yaml");
    let text = |ponr: bool| {
        format!(
            r#"
name: rollback
steps:
  - name: set a marker
    uses: cluster.set-setting
    with: {{name: marker, value: set}}
    point_of_no_return: {ponr}
    undo:
      uses: cluster.set-setting
      with: {{name: marker, value: undone}}
  - name: node-3 must be primary (it is not)
    uses: assert.primary-is
    with: {{node: node-3}}
"#
        )
    };
    std::fs::write(&book, text(false)).unwrap();
    let b = book.to_str().unwrap();
    let r = lab.run(&["run", b, "--yes", "--json"]).exit(3);
    let report = r.json();
    assert_eq!(report["outcome"], "refused", "{report}");
    assert_eq!(outcomes(&report), ["undone", "failed"]);
    let marker = |lab: &Lab| lab.ok(&["api", "GET", "/v1/settings/marker"]).stdout();
    assert!(marker(&lab).contains("undone"), "{}", marker(&lab));

    // The journal says so, so a resume would not skip the undone step.
    let runs = lab.cwd().join(".state/drctl/runs");
    let journals: String = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(journals.contains(r#""outcome":"undone""#), "{journals}");

    // Past the point of no return nothing is undone, and the report says how to resume.
    std::fs::write(&book, text(true)).unwrap();
    let r = lab.run(&["run", b, "--yes", "--json"]).exit(1);
    let report = r.json();
    assert_eq!(report["outcome"], "failed part-way", "{report}");
    assert!(report["resume"]
        .as_str()
        .unwrap()
        .starts_with("drctl run --resume "));
    assert!(marker(&lab).contains("\"set\""), "{}", marker(&lab));

    // A question without a terminal and without --yes: refused, nothing changed.
    let ask = "name: ask\nsteps:\n  - {name: ask, uses: confirm, with: {message: Go?}}\n  - {name: set, uses: cluster.set-setting, with: {name: marker, value: asked}}\n";
    std::fs::write(&book, ask).unwrap();
    lab.run(&["run", b]).exit(3).stderr_has("rerun with --yes");
    assert!(marker(&lab).contains("\"set\""), "{}", marker(&lab));

    // A wait that runs out after a change: timed out, outcome unknown, exit 5, how to look.
    let slow = r#"
name: slow
steps:
  - name: set a marker
    uses: cluster.set-setting
    with: {name: marker, value: waited}
  - name: wait for something that does not happen
    uses: wait.status
    with: {node: node-3, role: standalone}
    timeout: 500ms
"#;
    std::fs::write(&book, slow).unwrap();
    // `--wait` is a floor: a step's own `timeout:` may extend it, never cut it.
    let r = lab.run(&["run", b, "--yes", "--wait", "200ms"]).exit(5);
    let err = r.stderr();
    assert!(err.contains("timed out, the outcome is unknown"), "{err}");
    assert!(
        err.contains("drctl status") && err.contains("drctl run --resume "),
        "{err}"
    );
}

const HTTP_BOOK: &str = r#"
name: http-steps
params:
  url: {required: true}
  value: {required: true}
steps:
  - name: set a setting through the admin API, unless it is set
    uses: http.request
    with:
      method: PUT
      url: "{{ url }}/v1/settings/via-http"
      headers: {Authorization: "Bearer {{ env.NODE_TOKEN }}"}
      body: {value: "{{ value }}"}
      unless: {url: "{{ url }}/v1/settings/via-http", status: 200}
  - name: read it back
    id: read
    uses: http.request
    with:
      url: "{{ url }}/v1/settings/via-http"
      headers: {Authorization: "Bearer {{ env.NODE_TOKEN }}"}
  - name: check what it read
    uses: exec
    with: {command: "test '{{ steps.read.body }}' = '{\"value\":\"{{ value }}\"}'"}
"#;

#[test]
fn http_request_steps_use_the_cluster_ca_and_are_guarded_by_unless() {
    let lab = Lab::up(1);
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let token = std::fs::read_to_string(lab.dir.join("passphrase")).unwrap();
    let book = lab.cwd().join("http.yaml");
    std::fs::write(&book, HTTP_BOOK).unwrap();
    let go = |value: &str| {
        let mut c = lab.drctl(&[
            "run",
            book.to_str().unwrap(),
            "--yes",
            "--json",
            "--var",
            &format!("url={url}"),
            "--var",
            &format!("value={value}"),
        ]);
        c.env("NODE_TOKEN", token.trim());
        run(c)
    };
    let first = go("one").success().json();
    assert_eq!(outcomes(&first)[..2], ["done", "done"], "{first}");
    // Credentials never reach the report (nor the journal: they come from the environment).
    assert!(
        !first.to_string().contains(token.trim()),
        "the token leaked: {first}"
    );
    let second = go("two").exit(1).json();
    assert_eq!(outcomes(&second)[0], "already done", "{second}");
    assert_eq!(
        lab.ok(&["api", "GET", "/v1/settings/via-http"]).json()["value"],
        "one"
    );
}

/// Every procedure subcommand is a thin front for its bundled runbook: on the same cluster,
/// `drctl SUBCOMMAND --dry-run` and `drctl run RUNBOOK --dry-run` plan the same steps, with the
/// same outcome and exit code, refusals included. A file in the working directory named like a
/// runbook does not take a subcommand's place.
#[test]
fn every_procedure_subcommand_is_its_bundled_runbook() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "30"]);
    lab.wait_converged(DEADLINE);
    let host3 = node(&lab.status(), "node-3")["host_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Fronts run where files are named like their runbooks (`drctl run NAME` would take those).
    let decoys = lab.cwd().join("decoys");
    std::fs::create_dir(&decoys).unwrap();
    for name in ["managed-switchover", "join", "upgrade-standalone"] {
        std::fs::write(decoys.join(name), "name: not-this\nsteps: [\n").unwrap();
    }
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["switchover", "--to", "node-2"],
            "managed-switchover",
            &["to=node-2"],
        ),
        (
            &["failover", "--to", "node-3", "--force"],
            "forced-failover",
            &["target=node-3", "force=true", "export_dir=."],
        ),
        // The primary answers: refused, by the same step.
        (&["failover"], "forced-failover", &[]),
        (
            &["repoint", "--primary", "node-1"],
            "repoint-primary",
            &["primary=node-1"],
        ),
        (
            &["repoint", "--primary", "node-2"],
            "repoint-primary",
            &["primary=node-2"],
        ),
        (
            &["demote", "node-1"],
            "demote-old-primary",
            &["node=node-1"],
        ),
        (&["standalone", "node-3"], "standalone", &["node=node-3"]),
        (
            &["join", "node-3", "--primary", "node-1"],
            "join",
            &["node=node-3", "primary=node-1"],
        ),
        (
            &["sync", "auto", "off", "node-2"],
            "sync-auto",
            &["node=node-2", "state=off"],
        ),
        (
            &["sync", "full", "--from", "node-1", "--to", "node-3"],
            "sync-full",
            &["from=node-1", "to=node-3"],
        ),
        (
            &["seize-roles", "--to", "node-2"],
            "seize-roles",
            &["to=node-2"],
        ),
        (
            &["remove-instance", "node-3"],
            "remove-failed-instance",
            &["node=node-3"],
        ),
        (
            &["services", "start", "node-2"],
            "services",
            &["node=node-2", "state=start"],
        ),
        (&["packages", "sync"], "packages-sync", &[]),
        (
            &["upgrade", "--exec", "true", "--id", "u1"],
            "upgrade-standalone",
            &["command=true", "id=u1"],
        ),
    ];
    let removenode = ["removenode", host3.as_str()];
    let removenode_force = ["removenode", host3.as_str(), "--force"];
    let host_var = format!("host_id={host3}");
    let extra: [(&[&str], &str, &[&str]); 2] = [
        (&removenode, "removenode", &[host_var.as_str()]),
        (&removenode_force, "removenode-force", &[host_var.as_str()]),
    ];
    for (sub, runbook, vars) in cases.iter().copied().chain(extra) {
        assert_front_is_runbook(&lab, &decoys, sub, runbook, vars);
    }
}

/// `drill` prints one line per drill and ends with the plain totals line CI logs are read by;
/// the steps and checks are behind `-v`.
#[test]
fn drill_ends_with_a_totals_line() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(command(drctl_bin(), tmp.path()).args(["drill", "standalone"])).success();
    let out = r.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "DRILL\tRESULT\tRECOVERY MS\tTOTAL MS\tNOTE",
        "{}",
        r.dump()
    );
    assert!(lines[1].starts_with("standalone\tpass\t"), "{}", r.dump());
    assert!(
        lines[2].starts_with("1 passed, 0 failed, 0 skipped in ") && lines.len() == 3,
        "{}",
        r.dump()
    );
    let v = run(command(drctl_bin(), tmp.path()).args(["drill", "standalone", "-v"])).success();
    let header = v.stdout().lines().next().unwrap_or_default().to_string();
    assert_eq!(
        header,
        "DRILL\tRESULT\tRECOVERY MS\tTOTAL MS\tSTEPS (ms)\tCHECKS",
        "{}",
        v.dump()
    );
}

// Hit at the second shell: a run had stopped part-way and the only way to find its id was the
// scrollback of the first one.
#[test]
fn run_list_names_a_stopped_run_and_how_to_resume_it_and_its_error_once() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "pause", "node-3"]);
    // node-3 cannot acknowledge: the removal stops part-way (node-2 stays leaving).
    let r = lab.run(&["removenode", "node-2", "--yes"]).exit(1);
    // The reason is said once on each stream: in the report, and on drctl's last line (not
    // again on the progress lines, nor on the step's row above the action's).
    let why = "node-2 stays leaving: node-3 did not acknowledge";
    assert_eq!(r.stdout().matches(why).count(), 1, "{}", r.dump());
    assert_eq!(r.stderr().matches(why).count(), 1, "{}", r.dump());
    lab.ok(&["lab", "resume", "node-3"]);
    let runs = lab.ok(&["run", "--list", "--json"]).json();
    let run = &runs[0];
    let id = run["run_id"].as_str().unwrap().to_string();
    assert_eq!(run["runbook"], "removenode", "{runs}");
    assert_eq!(run["schema"], 1, "{runs}");
    assert_eq!(run["outcome"], "failed part-way", "{runs}");
    assert_eq!(run["resume"], format!("drctl run --resume {id}"), "{runs}");
    let table = lab.ok(&["run", "--list"]).stdout();
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("{id}\tremovenode\t")),
        "{table}"
    );
    let shown = lab.ok(&["run", "--show", &id]).stdout();
    assert!(
        shown.contains("failed part-way")
            && shown.contains(&format!("resume with: drctl run --resume {id}")),
        "{shown}"
    );
    // Resumed to the end, it is no longer offered for resuming.
    lab.ok(&["run", "--resume", &id, "--yes"]);
    let after = lab.ok(&["run", "--list", "--json"]).json();
    let run = after
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == id.as_str())
        .unwrap();
    assert_eq!(run["outcome"], "succeeded", "{after}");
    assert!(run["resume"].is_null() && run["resumes"] == 1, "{after}");
    lab.run(&["run", "--show", "nosuch"])
        .exit(2)
        .stderr_has("no run nosuch");
}

/// A runbook whose last step waits for the primary its first step made; stopped in between.
const SUPERSEDED: &str = r#"
name: superseded
params:
  to: {required: true}
  marker: {required: true}
steps:
  - name: switch over
    uses: procedure.switchover
    with: {to: "{{ to }}"}
  - name: a slow step
    uses: exec
    with:
      command: "touch {{ marker }} && sleep 30"
      unless: "test -f {{ marker }}"
  - name: wait for its primary
    uses: wait.caught-up
    with: {primary: "{{ to }}"}
    timeout: 30s
"#;

// Chaos seed 46116: a switchover's runbook was resumed after a later switchover had made its
// target a replica again. Its last wait spent its whole 60 s on a node that only another
// procedure could make primary again, and the operator's recovery ran out of time behind it.
#[test]
fn a_wait_for_a_primary_a_later_procedure_superseded_fails_at_once() {
    let lab = Lab::up(3);
    let book = lab.cwd().join("superseded.yaml");
    std::fs::write(&book, SUPERSEDED).unwrap();
    let marker = lab.cwd().join("marker");
    let mut child = lab
        .drctl(&[
            "run",
            book.to_str().unwrap(),
            "--yes",
            "--var",
            "to=node-2",
            "--var",
            &format!("marker={}", marker.display()),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the slow step to start", DEADLINE, || {
        marker.exists().then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let runs = lab.ok(&["run", "--list", "--json"]).json();
    let id = runs[0]["run_id"].as_str().unwrap().to_string();
    // A second operator switches over again, then the first run is resumed.
    lab.ok(&["switchover", "--to", "node-3", "--yes"]);
    let r = lab
        .run(&["run", "--resume", &id, "--yes", "--json"])
        .exit(1);
    let report = r.json();
    let last = &report["steps"][2];
    assert_eq!(last["outcome"], "failed", "{report:#}");
    let why = last["note"].as_str().unwrap_or_default();
    assert!(
        why.contains("node-2 is replica and node-3 is the primary") && why.contains("superseded"),
        "{report:#}"
    );
}

// Chaos seed 46230: an older drctl SIGKILLed as it began left an empty journal; `run --resume`
// of it said only "it does not start with a start event". It says the run never started.
#[test]
fn resume_of_a_run_killed_before_its_start_says_it_never_started() {
    let lab = Lab::up(2);
    let runs = lab.cwd().join(".state/drctl/runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::write(runs.join("0123456789ab.jsonl"), "").unwrap();
    lab.run(&["run", "--resume", "0123456789ab"])
        .exit(2)
        .stderr_has("the run never started")
        .stderr_has("so it changed nothing; run the procedure again");
}
