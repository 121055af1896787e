//! Roles, membership, sync modes, services, packages, upgrade and hosts on real processes.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

fn roles_of(s: &Value, name: &str) -> Vec<String> {
    node(s, name)["roles_held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn host_id(lab: &Lab, name: &str) -> String {
    node(&lab.status(), name)["host_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Edits a lab node's drnode.yaml (replacing lines, appending YAML) and restarts it.
fn reconfigure(lab: &Lab, name: &str, replace: &[(&str, &str)], append: &str) {
    let path = lab.node_dir(name).join("drnode.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in replace {
        assert!(text.contains(from), "{from} not in {text}");
        text = text.replace(from, to);
    }
    text.push_str(append);
    std::fs::write(&path, text).unwrap();
    lab.ok(&["lab", "restart", name]);
}

#[test]
fn seize_roles_after_the_holder_is_killed_and_it_returns() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["failover", "--yes"]);
    let new_primary = if node(&lab.status(), "node-2")["role"] == "primary" {
        "node-2"
    } else {
        "node-3"
    };
    let other = if new_primary == "node-2" {
        "node-3"
    } else {
        "node-2"
    };
    // The naming master is gone: membership changes are refused until it is seized.
    lab.run(&["remove-instance", other, "--yes"])
        .exit(3)
        .stderr_has("naming master");
    // Seizing needs a confirmation (no terminal here), then works; a rerun is a no-op.
    lab.run(&["seize-roles", "--to", new_primary])
        .exit(3)
        .stderr_has("--yes");
    let r = lab
        .ok(&["seize-roles", "--to", new_primary, "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(
        lab.ok(&["seize-roles", "--to", new_primary, "--json"])
            .json()["outcome"],
        "already done"
    );
    assert_eq!(
        roles_of(&lab.status(), new_primary),
        ["naming-master", "schema-master"]
    );
    // The old holder returns: it sees the newer records and holds nothing.
    lab.ok(&["lab", "restart", "node-1"]);
    wait_for("node-1 fenced", DEADLINE, || {
        (node(&lab.status(), "node-1")["role"] == "fenced").then_some(())
    });
    assert!(roles_of(&lab.status(), "node-1").is_empty());
    lab.ok(&["demote", "node-1", "--yes"]);
    let s = lab.wait_converged(DEADLINE);
    assert!(roles_of(&s, "node-1").is_empty());
    // A transfer (the holder answers) needs no confirmation.
    let r = lab
        .ok(&[
            "seize-roles",
            "--to",
            "node-1",
            "--role",
            "schema-master",
            "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(r["runbook"], "seize-roles", "{r}");
    assert_eq!(
        procedure_actions(&r)[0]["args"]["action"],
        "release-role",
        "{r}"
    );
    assert_eq!(roles_of(&lab.status(), "node-1"), ["schema-master"]);
    lab.run(&["seize-roles", "--to", "node-1", "--role", "bogus"])
        .exit(2);
}

#[test]
fn schema_writes_need_the_schema_master() {
    let lab = Lab::up(3);
    lab.ok(&["seize-roles", "--to", "node-3", "--role", "schema-master"]);
    lab.ok(&["entry", "put", "schema/attr", "v1"]);
    lab.ok(&["lab", "pause", "node-3"]);
    lab.run(&["entry", "put", "schema/attr", "v2", "--node", "node-1"])
        .exit(1)
        .stderr_has("schema-master holder node-3 does not answer");
    lab.ok(&[
        "--timeout",
        "300ms",
        "entry",
        "put",
        "plain",
        "ok",
        "--node",
        "node-1",
    ]);
    lab.ok(&["lab", "resume", "node-3"]);
    lab.ok(&["entry", "put", "schema/attr", "v2"]);
}

#[test]
fn removal_stuck_leaving_until_forced() {
    let lab = Lab::up(3);
    let n3 = host_id(&lab, "node-3");
    lab.run(&["remove-instance", "node-1"])
        .exit(3)
        .stderr_has("primary");
    lab.run(&["remove-instance", "node-9"]).exit(2);
    // `--force` is samba-ad's (stop a DC that answers): drnode refuses it, changing nothing.
    lab.run(&["remove-instance", "node-3", "--force", "--yes"])
        .exit(2)
        .stderr_has("--force: only samba-ad removes an instance that answers by force");
    lab.ok(&["lab", "pause", "node-2"]);
    let r = run(lab.drctl(&["--timeout", "300ms", "remove-instance", "node-3", "--json"]))
        .exit(1)
        .json();
    assert_eq!(r["outcome"], "failed part-way", "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("node-2 did not acknowledge"),
        "{r}"
    );
    // node-3 went standalone and kept its data; it is leaving.
    let pending = run(lab.drctl(&["--timeout", "300ms", "removenode", "status", "--json"]))
        .success()
        .json();
    assert_eq!(pending[0]["host_id"], n3.as_str(), "{pending}");
    assert_eq!(pending[0]["missing"], serde_json::json!(["node-2"]));
    assert_eq!(pending[0]["acknowledged_by"], serde_json::json!(["node-1"]));
    // Without --yes there is no terminal to confirm --force.
    run(lab.drctl(&["--timeout", "300ms", "removenode", &n3, "--force"])).exit(3);
    let r = run(lab.drctl(&[
        "--timeout",
        "300ms",
        "removenode",
        &n3,
        "--force",
        "--yes",
        "--json",
    ]))
    .success()
    .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let again = run(lab.drctl(&[
        "--timeout",
        "300ms",
        "removenode",
        &n3,
        "--force",
        "--yes",
        "--json",
    ]))
    .success()
    .json();
    assert_eq!(again["outcome"], "already done");
    lab.ok(&["lab", "resume", "node-2"]);
    let s = lab.status();
    assert_eq!(node(&s, "node-3")["member_state"], "removed");
    assert_eq!(node(&s, "node-3")["role"], "standalone");
    // node-2, paused through the removal, catches up by itself once resumed (a loaded CI run
    // saw it 2 records behind at the first look).
    wait_for("check to pass", DEADLINE, || {
        lab.run(&["check"]).out.status.success().then_some(())
    });
}

#[test]
fn a_removed_node_that_restarts_is_refused_and_wedges_nothing() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "kill", "node-3"]);
    let r = lab.ok(&["remove-instance", "node-3", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    lab.ok(&["lab", "restart", "node-3"]);
    let s = wait_for("node-3 refused as removed", DEADLINE, || {
        let s = lab.status();
        (node(&s, "node-3")["sync"]["phase"] == "removed").then_some(s)
    });
    let reasons = node(&s, "node-3")["reasons"].to_string();
    assert!(
        reasons.contains("removed from cluster lab") && reasons.contains("drctl standalone node-3"),
        "{reasons}"
    );
    assert_eq!(
        s["healthy"], true,
        "a removed node must not wedge the cluster: {s}"
    );
    lab.ok(&["status"])
        .stdout_has("note: node-3: removed from cluster lab");
    lab.ok(&["lab", "write", "--count", "10"]);
    // Back in: standalone, then join (admitted again, data replaced).
    lab.ok(&["standalone", "node-3"]);
    lab.ok(&["join", "node-3", "--primary", "node-1", "--yes"]);
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-3")["member_state"], "normal");
}

#[test]
fn sync_full_on_demand_and_the_loop_is_refused() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "20"]);
    lab.wait_converged(DEADLINE);
    lab.run(&[
        "sync", "full", "--from", "node-2", "--to", "node-1", "--yes",
    ])
    .exit(3)
    .stderr_has("loop");
    lab.run(&["sync", "full", "--from", "node-1", "--to", "node-1"])
        .exit(2);
    lab.ok(&["standalone", "node-3"]);
    lab.ok(&["entry", "put", "local-only", "x", "--node", "node-3"]);
    lab.run(&["sync", "full", "--from", "node-1", "--to", "node-3"])
        .exit(3)
        .stderr_has("--yes");
    let r = lab
        .ok(&[
            "sync", "full", "--from", "node-1", "--to", "node-3", "--yes", "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-3")["digest"], node(&s, "node-1")["digest"]);
    assert_eq!(
        lab.ok(&["sync", "full", "--from", "node-1", "--to", "node-3", "--json"])
            .json()["outcome"],
        "already done"
    );
    // With automatic sync off, an on-demand sync copies once and leaves it off.
    lab.ok(&["sync", "auto", "off", "node-2"]);
    lab.ok(&["lab", "write", "--count", "5"]);
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/follow",
        "--node",
        "node-2",
        &format!(
            r#"{{"primary_url": "{}", "full_sync": true}}"#,
            node(&s, "node-1")["url"].as_str().unwrap()
        ),
    ]);
    let s = wait_for("node-2 copied once", DEADLINE, || {
        let s = lab.status();
        (node(&s, "node-2")["sync"]["phase"] == "off"
            && node(&s, "node-2")["digest"] == node(&s, "node-1")["digest"])
            .then_some(s)
    });
    assert_eq!(node(&s, "node-2")["sync"]["auto"], false);
}

#[test]
fn automatic_sync_turns_itself_off_after_repeated_failures() {
    let lab = Lab::up(3);
    reconfigure(
        &lab,
        "node-2",
        &[("max_failures: 30", "max_failures: 3")],
        "",
    );
    lab.wait_converged(DEADLINE);
    lab.ok(&["lab", "kill", "node-1"]);
    let events = wait_for("automatic sync suspended on node-2", DEADLINE, || {
        let ev = lab.events("node-2");
        ev.iter()
            .any(|e| {
                e["kind"] == "sync" && e["success"] == false && e["details"]["suspended"] == true
            })
            .then_some(ev)
    });
    assert!(events.iter().any(|e| e["message"]
        .as_str()
        .unwrap()
        .contains("suspended after 3 failed attempts")));
    // Stopped by failures, not by the operator: the operator's setting is still on.
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["sync"]["auto"], true);
    assert_eq!(node(&s, "node-2")["sync"]["phase"], "suspended");
    assert!(node(&s, "node-2")["reasons"]
        .to_string()
        .contains("automatic sync suspended"));
    // It stays stopped across a restart (seed 001), until a command lifts it.
    lab.ok(&["lab", "restart", "node-2"]);
    assert_eq!(node(&lab.status(), "node-2")["sync"]["phase"], "suspended");
}

#[test]
fn services_ip_substitution_and_start_after_sync() {
    let lab = Lab::up(3);
    assert_eq!(node(&lab.status(), "node-1")["services"], "running");
    assert_eq!(node(&lab.status(), "node-2")["services"], "stopped");
    lab.ok(&["services", "start", "node-2"]);
    assert_eq!(node(&lab.status(), "node-2")["services"], "running");
    assert_eq!(
        lab.ok(&["services", "start", "node-2", "--json"]).json()["outcome"],
        "already done"
    );
    lab.ok(&["services", "stop", "node-2"]);
    assert_eq!(node(&lab.status(), "node-2")["services"], "stopped");
    // A promoted node starts its services.
    lab.ok(&["switchover", "--to", "node-2"]);
    assert_eq!(node(&lab.status(), "node-2")["services"], "running");
    // node-3 listens elsewhere: service entries read there carry its substitute IP.
    reconfigure(
        &lab,
        "node-3",
        &[(
            "start_services_after_sync: false",
            "start_services_after_sync: true",
        )],
        "ip_substitution:\n  10.0.0.1: 10.9.9.9\n",
    );
    lab.ok(&["entry", "put", "service/web", "listen 10.0.0.1:443"]);
    lab.ok(&["entry", "put", "other/web", "listen 10.0.0.1:443"]);
    wait_for("substituted on node-3", DEADLINE, || {
        let r = lab.run(&["entry", "get", "service/web", "--node", "node-3"]);
        (r.stdout().trim() == "listen 10.9.9.9:443").then_some(())
    });
    lab.ok(&["entry", "get", "service/web", "--node", "node-1"])
        .stdout_has("listen 10.0.0.1:443");
    lab.ok(&["entry", "get", "other/web", "--node", "node-3"])
        .stdout_has("10.0.0.1");
    // The stored data is the same everywhere.
    let s = lab.wait_converged(DEADLINE);
    assert_eq!(node(&s, "node-3")["digest"], node(&s, "node-2")["digest"]);
    // start_services_after_sync: a full sync starts node-3's services.
    assert_eq!(node(&s, "node-3")["services"], "stopped");
    lab.ok(&["join", "node-3", "--primary", "node-2", "--yes"]);
    lab.ok(&["standalone", "node-3"]);
    lab.ok(&[
        "sync", "full", "--from", "node-2", "--to", "node-3", "--yes",
    ]);
    assert_eq!(node(&lab.status(), "node-3")["services"], "running");
}

#[test]
fn packages_sync_copies_checksummed_files_and_removes_extras() {
    let lab = Lab::up(3);
    let a = lab.cwd().join("app-1.0.zip");
    std::fs::write(&a, b"version 1.0 payload").unwrap();
    let b = lab.cwd().join("tool.zip");
    std::fs::write(&b, vec![7u8; 100_000]).unwrap();
    lab.ok(&["packages", "put", a.to_str().unwrap()]);
    lab.ok(&["packages", "put", b.to_str().unwrap()]);
    let stale = lab.cwd().join("stale.zip");
    std::fs::write(&stale, b"old").unwrap();
    lab.ok(&[
        "packages",
        "put",
        stale.to_str().unwrap(),
        "--node",
        "node-2",
    ]);
    lab.run(&[
        "packages",
        "put",
        a.to_str().unwrap(),
        "--name",
        "../escape",
    ])
    .exit(2);
    // Removing stale.zip from node-2 needs a confirmation.
    lab.run(&["packages", "sync"]).exit(3).stderr_has("--yes");
    let r = lab.ok(&["packages", "sync", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let primary = lab
        .ok(&["packages", "list", "--json", "--node", "node-1"])
        .json();
    for n in ["node-2", "node-3"] {
        assert_eq!(
            lab.ok(&["packages", "list", "--json", "--node", n]).json(),
            primary,
            "{n}"
        );
    }
    assert_eq!(primary.as_array().unwrap().len(), 2);
    assert_eq!(
        lab.ok(&["packages", "sync", "--json"]).json()["outcome"],
        "already done"
    );
}

#[test]
fn upgrade_of_a_three_node_lab_keeps_every_entry() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "100"]);
    let before = lab.wait_converged(DEADLINE);
    let digest = node(&before, "node-1")["digest"].clone();
    let command = format!(
        "{} --lab-dir {} lab restart {{node}}",
        drctl_bin(),
        lab.dir.display()
    );
    lab.run(&["upgrade", "--exec", &command])
        .exit(3)
        .stderr_has("--yes");
    let r = lab
        .ok(&[
            "upgrade", "--exec", &command, "--yes", "--json", "--wait", "60s",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let after = lab.wait_converged(DEADLINE);
    for n in ["node-1", "node-2", "node-3"] {
        assert_eq!(node(&after, n)["digest"], digest, "{n}");
        assert!(node(&after, n)["maintenance"].is_null(), "{n}");
    }
    assert_eq!(node(&after, "node-1")["role"], "primary");
    // Re-formed at a new epoch: a node standalone at the old epoch is never promoted at it.
    assert_eq!(
        node(&after, "node-1")["epoch"].as_u64().unwrap(),
        node(&before, "node-1")["epoch"].as_u64().unwrap() + 1
    );
    let events = lab.events("node-2");
    assert!(
        events.iter().filter(|e| e["kind"] == "start").count() >= 2,
        "node-2 was restarted by the upgrade"
    );
    let again = lab.ok(&["upgrade", "--exec", &command, "--json"]).json();
    assert_eq!(again["outcome"], "already done", "{again}");
    // Maintenance refuses writes with a clear error.
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/maintenance",
        "--node",
        "node-1",
        r#"{"maintenance": {"id": "m1", "reason": "upgrade m1", "primary": "node-1"}}"#,
    ]);
    lab.run(&["entry", "put", "k", "v"])
        .exit(1)
        .stderr_has("maintenance");
}

#[test]
fn hosts_block_and_alias() {
    let lab = Lab::up(2);
    let status = lab.status();
    let port = node(&status, "node-1")["url"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(lab.cluster_file()).unwrap();
    let with_alias = lab.dir.join("alias.yaml");
    std::fs::write(
        &with_alias,
        format!("{text}alias: localhost\nalias_port: {port}\n"),
    )
    .unwrap();
    let c = with_alias.to_str().unwrap();
    let block = lab.ok(&["--cluster", c, "hosts", "render"]).stdout();
    assert!(
        block.contains("127.0.0.1 node-1\n127.0.0.1 node-2\n127.0.0.1 localhost\n"),
        "{block}"
    );
    let hosts = lab.cwd().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
    lab.ok(&[
        "--cluster",
        c,
        "hosts",
        "apply",
        "--file",
        hosts.to_str().unwrap(),
    ])
    .stdout_has("written");
    lab.ok(&[
        "--cluster",
        c,
        "hosts",
        "apply",
        "--file",
        hosts.to_str().unwrap(),
    ])
    .stdout_has("already done");
    // The client resolves the alias and tries its addresses in order.
    lab.ok(&[
        "--cluster",
        c,
        "--node",
        "localhost",
        "entry",
        "put",
        "via",
        "alias",
    ]);
    lab.ok(&["entry", "get", "via"]).stdout_has("alias");
    let bad = lab.dir.join("bad.yaml");
    std::fs::write(&bad, format!("{text}alias: bad_alias\n")).unwrap();
    lab.run(&["--cluster", bad.to_str().unwrap(), "hosts", "render"])
        .exit(2)
        .stderr_has("underscore");
}

/// An upgrade command that fails on `node` ("NODE not ready") until the returned flag file
/// exists, and logs each node it upgrades to the returned log file.
fn upgrade_failing_on(lab: &Lab, node: &str) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let flag = lab.cwd().join(format!("{node}-may-upgrade"));
    let log = lab.cwd().join("upgrades.log");
    let command = format!(
        "if [ {{node}} = {node} ] && [ ! -f {flag} ]; then echo '{node} not ready' >&2; exit 1; fi; echo {{node}} >> {log}",
        flag = flag.display(),
        log = log.display()
    );
    (command, flag, log)
}

/// An upgrade stopped part-way (the command fails on node-2) is continued by a rerun: node-1's
/// upgrade is not run again, and the cluster is re-formed with the same data.
#[test]
fn an_interrupted_upgrade_continues_when_rerun() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "40"]);
    let before = lab.wait_converged(DEADLINE);
    let (command, flag, log) = upgrade_failing_on(&lab, "node-2");
    let r = run(lab.drctl(&[
        "upgrade", "--exec", &command, "--id", "u1", "--yes", "--json",
    ]))
    .exit(1)
    .json();
    assert_eq!(r["outcome"], "failed part-way", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("node-2 not ready"),
        "{r}"
    );
    // Mid-upgrade: maintenance refuses writes.
    lab.run(&["entry", "put", "k", "v"])
        .exit(1)
        .stderr_has("maintenance");
    std::fs::write(&flag, "").unwrap();
    let r = lab
        .ok(&[
            "upgrade", "--exec", &command, "--id", "u1", "--yes", "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        ["node-1", "node-2", "node-3"],
        "each node upgraded once"
    );
    let after = lab.wait_converged(DEADLINE);
    assert_eq!(
        node(&after, "node-3")["digest"],
        node(&before, "node-1")["digest"]
    );
    lab.ok(&["entry", "put", "k", "v"]);
}

/// `drctl upgrade` is a front for the upgrade-standalone runbook: a run stopped part-way leaves a
/// journal and the exact command that continues it, and `drctl run --resume` finishes it without
/// running any node's command twice.
#[test]
fn an_interrupted_upgrade_resumes_from_its_journal() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "write", "--count", "20"]);
    let before = lab.wait_converged(DEADLINE);
    let (command, flag, log) = upgrade_failing_on(&lab, "node-3");
    let r = run(lab.drctl(&[
        "upgrade", "--exec", &command, "--id", "u2", "--yes", "--json",
    ]))
    .exit(1)
    .json();
    assert_eq!(r["runbook"], "upgrade-standalone", "{r}");
    assert_eq!(r["outcome"], "failed part-way", "{r}");
    let run_id = r["run_id"].as_str().unwrap();
    assert_eq!(r["resume"], format!("drctl run --resume {run_id}"), "{r}");
    let journal = std::path::PathBuf::from(r["journal"].as_str().unwrap());
    assert!(journal.starts_with(lab.cwd().join(".state")), "{r}");
    assert!(std::fs::read_to_string(&journal)
        .unwrap()
        .contains("upgrade-standalone"));
    std::fs::write(&flag, "").unwrap();
    let r = lab
        .ok(&["run", "--resume", run_id, "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(r["run_id"], run_id, "{r}");
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        ["node-1", "node-2", "node-3"],
        "each node upgraded once"
    );
    let after = lab.wait_converged(DEADLINE);
    assert_eq!(
        node(&after, "node-2")["digest"],
        node(&before, "node-1")["digest"]
    );
    // Finished: the subcommand now has nothing to do.
    let again = lab
        .ok(&["upgrade", "--exec", &command, "--id", "u2", "--json"])
        .json();
    assert_eq!(again["outcome"], "already done", "{again}");
}

#[test]
fn hosts_block_runbook_step_writes_once() {
    let lab = Lab::up(2);
    let rb = lab.cwd().join("hosts.yaml");
    std::fs::write(
        &rb,
        "name: hosts\ndescription: write the hosts block\nparams:\n  file: {required: true, description: the hosts file}\nsteps:\n  - name: Hosts block\n    uses: hosts.block\n    with: {file: \"{{ file }}\", alias: lab-alias}\n",
    )
    .unwrap();
    let hosts = lab.cwd().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
    let var = format!("file={}", hosts.display());
    let r = lab
        .ok(&["run", rb.to_str().unwrap(), "--var", &var, "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let text = std::fs::read_to_string(&hosts).unwrap();
    assert!(
        text.starts_with("127.0.0.1 localhost\n# BEGIN drctl cluster lab"),
        "{text}"
    );
    assert!(
        text.contains("127.0.0.1 node-1\n127.0.0.1 node-2\n127.0.0.1 lab-alias\n"),
        "{text}"
    );
    let again = lab
        .ok(&["run", rb.to_str().unwrap(), "--var", &var, "--json"])
        .json();
    assert_eq!(again["outcome"], "already done", "{again}");
    assert_eq!(std::fs::read_to_string(&hosts).unwrap(), text);
}

// Hit by chaos seed 201 (`--procedures removenode,seize-roles,run`): a removed member that came
// back still counted as a replica to wait for, so every later procedure's "every node follows
// the primary" waited on it until its timeout (exit 5): a rejoin of another node, a switchover.
#[test]
fn a_removed_member_that_returns_is_not_waited_for() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "kill", "node-3"]);
    lab.ok(&["removenode", "node-3", "--yes"]);
    lab.ok(&["lab", "restart", "node-3"]);
    wait_for("node-3 answers", Duration::from_secs(15), || {
        (node(&lab.status(), "node-3")["reachable"] == true).then_some(())
    });
    let r = lab
        .ok(&[
            "switchover",
            "--to",
            "node-2",
            "--yes",
            "--wait",
            "5s",
            "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(r.to_string().contains("node-3 is a removed member"), "{r}");
    // And the README's way back still works.
    lab.ok(&[
        "run",
        "rejoin-removed-node",
        "--var",
        "node=node-3",
        "--var",
        "primary=node-2",
        "--yes",
    ]);
    let s = lab.status();
    assert_eq!(node(&s, "node-3")["member_state"], "normal", "{s}");
    assert_eq!(node(&s, "node-3")["primary"], "node-2", "{s}");
}

// Hit at `drctl status -o wide` after a removal stopped part-way: the member being removed
// (node-2, `leaving`) ranked first for promotion, and a failover would have promoted it.
#[test]
fn a_member_on_its_way_out_is_never_promoted() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "pause", "node-3"]);
    lab.run(&["removenode", "node-2", "--yes"]).exit(1);
    lab.ok(&["lab", "resume", "node-3"]);
    assert_eq!(node(&lab.status(), "node-2")["member_state"], "leaving");
    let c = lab.ok(&["candidates", "--json"]).json();
    let n2 = c
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "node-2")
        .unwrap();
    assert!(n2["rank"].is_null(), "{c}");
    assert!(n2["reason"].as_str().unwrap().starts_with("leaving"), "{c}");
    lab.run(&["switchover", "--to", "node-2", "--yes"]).exit(3);
    lab.ok(&["lab", "kill", "node-1"]);
    let plan = lab.ok(&["failover", "--dry-run", "--json"]).json();
    assert!(plan.to_string().contains("promote node-3"), "{plan}");
    assert!(!plan.to_string().contains("promote node-2"), "{plan}");
}

// Hit by chaos seed 5048: with every node down, `removenode node-3` said "no member has the
// host id or name node-3" with exit 2 (a usage error), though node-3 is a member: the member
// list could not be read. It is refused (exit 3), saying why, and changes nothing.
#[test]
fn removenode_with_no_node_answering_is_refused_not_a_usage_error() {
    let lab = Lab::up(3);
    for n in ["node-1", "node-2", "node-3"] {
        lab.ok(&["lab", "kill", n]);
    }
    let r = run(lab.drctl(&[
        "--timeout",
        "300ms",
        "removenode",
        "node-3",
        "--yes",
        "--json",
    ]))
    .exit(3);
    let said = format!("{}{}", r.stdout(), r.stderr());
    assert!(said.contains("no node answers"), "{said}");
    for n in ["node-1", "node-2", "node-3"] {
        lab.ok(&["lab", "restart", n]);
    }
    let s = lab.status();
    assert_eq!(node(&s, "node-3")["member_state"], "normal", "{s}");
}

// Hit by chaos seed 41038: node-3 was wiped and the primary died before it synced, node-2 was cut
// off; `removenode node-2` read node-3's empty member list and said "no member has the host id
// or name node-2" with exit 2, a usage error, though node-2 is a member. Refused (exit 3).
#[test]
fn removenode_reading_a_wiped_nodes_empty_member_list_is_refused_not_a_usage_error() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "kill", "node-3"]);
    for f in ["store.db", "store.db-wal", "store.db-shm"] {
        let _ = std::fs::remove_file(lab.node_dir("node-3").join(f));
    }
    lab.ok(&["lab", "restart", "node-3"]);
    lab.ok(&["lab", "pause", "node-2"]);
    let r = run(lab.drctl(&[
        "--timeout",
        "300ms",
        "removenode",
        "node-2",
        "--yes",
        "--json",
    ]))
    .exit(3);
    let said = format!("{}{}", r.stdout(), r.stderr());
    assert!(
        said.contains("node-2 is in the cluster file, but the member list read from node-3"),
        "{said}"
    );
    lab.ok(&["lab", "resume", "node-2"]);
    lab.ok(&["lab", "restart", "node-1"]);
    let s = lab.status();
    assert_eq!(node(&s, "node-2")["member_state"], "normal", "{s}");
}
