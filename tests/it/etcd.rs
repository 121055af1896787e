//! etcd members on real etcd processes (`drctl lab up --kind etcd`), driven through the real
//! drctl binary: status and its problems after a SIGKILL, move-leader (dry run, run, rerun,
//! refusals), member removal (refused without quorum changing nothing, a dead member removed
//! and verified, rerun), what a removed member does when it is started again, its rejoin, and
//! a failover after a lost quorum whose fenced members are refused when they come back. One lab
//! for the whole sequence (CI time). Skipped, saying why, where etcd is not installed.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

fn up() -> Lab {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    lab.ok(&["lab", "up", "--kind", "etcd", "--nodes", "3"])
        .stdout_has("healthy");
    lab
}

fn leader(s: &Value) -> String {
    s["leader"].as_str().unwrap_or_default().to_string()
}

fn members(s: &Value) -> Vec<String> {
    let mut m: Vec<String> = s["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    m.sort();
    m
}

/// Waits until status holds `cond`; the status that held it.
#[track_caller]
fn wait_status(lab: &Lab, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    wait_for(what, DEADLINE, || {
        let s = lab.run(&["status", "--json"]).json();
        cond(&s).then_some(s)
    })
}

#[test]
fn etcd_status_switchover_and_removenode_on_one_lab() {
    if etcd_missing() {
        return;
    }
    let lab = up();

    // The lab and the status: three members, one leader, raft positions per member.
    let ls = lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(ls["kind"], "etcd");
    let rows = ls["nodes"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["state"] == "running" && r["pid"].is_u64()),
        "{ls}"
    );
    let s = wait_status(&lab, "a healthy cluster", |s| s["healthy"] == true);
    assert_eq!(s["kind"], "etcd");
    assert_eq!(members(&s), ["node-1", "node-2", "node-3"]);
    let nodes = s["nodes"].as_array().unwrap();
    let leaders: Vec<&Value> = nodes.iter().filter(|n| n["role"] == "leader").collect();
    assert_eq!(leaders.len(), 1, "{s}");
    for n in nodes {
        assert_eq!(n["kind"], "etcd");
        assert_eq!(n["reachable"], true);
        assert!(n["raft_index"].as_u64().unwrap() > 0, "{n}");
        assert!(n["raft_term"].as_u64().unwrap() > 0, "{n}");
        assert!(n["db_size"].as_u64().unwrap() > 0, "{n}");
        assert_eq!(n["member_id"], n["host_id"], "{n}");
        assert!(n["member_id"].as_str().is_some_and(|m| m.len() > 8), "{n}");
        assert_eq!(n["cluster_id"], s["cluster_id"]);
        assert_eq!(n["primary"], leaders[0]["name"]);
        assert_eq!(n["alarms"], serde_json::json!([]));
    }
    let old = leader(&s);
    let c = lab.ok(&["candidates", "--json"]).json();
    let c = c.as_array().unwrap();
    assert!(c
        .iter()
        .any(|x| x["name"] == old.as_str() && x["rank"].is_null()));
    assert_eq!(c.iter().filter(|x| x["rank"].is_u64()).count(), 2, "{c:?}");
    let to = c.iter().find(|x| x["rank"] == 1).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();

    // Switchover: a dry run changes nothing, the run moves the leader, a rerun is already done.
    let dry = lab
        .ok(&["switchover", "--to", &to, "--dry-run", "--json"])
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    assert_eq!(leader(&lab.status()), old, "a dry run moved the leader");
    let r = lab
        .ok(&["switchover", "--to", &to, "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(
        leader(&lab.status()),
        to,
        "the run said done but {to} does not lead"
    );
    let r = lab
        .ok(&["switchover", "--to", &to, "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    lab.run(&["switchover", "--to", "nosuch", "--yes"])
        .exit(2)
        .stderr_has("unknown node 'nosuch'");
    lab.run(&[
        "switchover",
        "--to",
        &old,
        "--expect-primary",
        &old,
        "--yes",
    ])
    .exit(3)
    .stderr_has(&format!("the leader is {to}"));

    // Hit by reading the contract: etcd runs took no lock, so two operators (or one in two
    // shells) could each fail over after a quorum loss and force two new clusters. A run
    // holding the cluster's host lock refuses a second one, which changes nothing.
    second_run_on_the_same_host_is_refused_by_the_cluster_lock(&lab, &old);

    // A member killed with SIGKILL: status names it with the fix.
    let dead = ["node-1", "node-2", "node-3"]
        .into_iter()
        .find(|n| *n != to && *n != old)
        .unwrap()
        .to_string();
    let live = old.clone();
    lab.ok(&["lab", "kill", &dead]);
    let s = wait_status(&lab, "the killed member unreachable", |s| {
        node(s, &dead)["reachable"] == false
    });
    assert_eq!(s["healthy"], false);
    assert_eq!(node(&s, &dead)["health"], "red");
    let problems = s["problems"].to_string();
    assert!(
        problems.contains(&format!("{dead} does not answer"))
            && problems.contains(&format!("drctl removenode {dead}")),
        "{problems}"
    );
    lab.run(&["check"]).exit(1).stdout_has(&dead);
    lab.run(&["switchover", "--to", &dead, "--yes"])
        .exit(3)
        .stderr_has("does not answer");
    assert_eq!(leader(&lab.status()), to);

    // Removing a live member would leave one of two answering: refused, nothing changed,
    // by drctl and (forced) by etcd itself.
    lab.run(&["removenode", &live, "--yes"])
        .exit(3)
        .stderr_has("fewer than their quorum of 2");
    lab.run(&["removenode", &live, "--force", "--yes"])
        .exit(3)
        .stderr_has("etcd refuses to remove");
    let s = lab.status();
    assert_eq!(members(&s), ["node-1", "node-2", "node-3"]);
    assert_eq!(node(&s, &live)["role"], "follower");

    // A rejoin of a member still in the membership is refused: remove it first.
    lab.run(&[
        "run",
        "etcd-rejoin-member",
        "--var",
        &format!("node={dead}"),
        "--yes",
    ])
    .exit(3)
    .stderr_has("still a voting member");
    assert!(
        lab.dir.join(&dead).join("data").exists(),
        "the refusal moved its data"
    );

    // The dead member: a dry run changes nothing, the run removes it and verifies.
    let dry = lab.ok(&["removenode", &dead, "--dry-run", "--json"]).json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    assert_eq!(members(&lab.status()).len(), 3);
    let r = lab.ok(&["removenode", &dead, "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = lab.status();
    let mut want = vec![to.clone(), live.clone()];
    want.sort();
    assert_eq!(members(&s), want);
    assert_eq!(node(&s, &dead)["role"], "removed");
    assert_eq!(s["healthy"], true, "{s}");
    let r = lab.ok(&["removenode", &dead, "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");

    // A removed member started again with its old data directory exits at once (status 0:
    // a supervisor would not notice); the cluster is not disturbed.
    lab.run(&["lab", "restart", &dead])
        .exit(1)
        .stderr_has("exited after it started (with status 0): it was removed from the cluster");
    let s = lab.status();
    assert_eq!(s["healthy"], true, "{s}");
    assert_eq!(members(&s), want);

    // Rejoin it: a dry run changes nothing; the run fences its old data directory, adds it
    // as a learner, starts it empty and promotes it; a rerun is already done.
    let data = lab.dir.join(&dead).join("data");
    let rejoin = [
        "run",
        "etcd-rejoin-member",
        "--var",
        &format!("node={dead}"),
    ];
    let dry = lab
        .ok(&[&rejoin[..], &["--dry-run", "--json"]].concat())
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    assert!(
        data.join("member").exists(),
        "a dry run moved the data directory"
    );
    assert_eq!(members(&lab.status()), want);
    let r = lab.ok(&[&rejoin[..], &["--yes", "--json"]].concat()).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = wait_status(&lab, "the rejoined member voting and healthy", |s| {
        s["healthy"] == true && node(s, &dead)["role"] == "follower"
    });
    assert_eq!(members(&s), ["node-1", "node-2", "node-3"]);
    assert!(std::fs::read_dir(lab.dir.join(&dead)).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("data.removed-")));
    let r = lab.ok(&[&rejoin[..], &["--yes", "--json"]].concat()).json();
    assert_eq!(r["outcome"], "already done", "{r}");

    // Quorum lost: two of three killed. Failover keeps the survivor alone and fences the two
    // (data directories moved aside), so they are refused when they come back instead of
    // forming the old quorum; then they rejoin.
    let survivor = live.clone();
    let lost: Vec<String> = ["node-1", "node-2", "node-3"]
        .iter()
        .filter(|n| **n != survivor)
        .map(|n| n.to_string())
        .collect();
    for n in &lost {
        lab.ok(&["lab", "kill", n]);
    }
    let s = wait_status(&lab, "the quorum loss reported", |s| {
        s["problems"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("no leader: 1 of 3 voting members answer"))
    });
    assert!(
        s["problems"][0].as_str().unwrap().contains(&survivor),
        "the fix names the survivor: {s}"
    );
    let dry = lab.ok(&["failover", "--dry-run", "--json"]).json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    for n in &lost {
        assert!(
            lab.dir.join(n).join("data").exists(),
            "a dry run fenced {n}"
        );
    }
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = lab.status();
    assert_eq!(leader(&s), survivor, "{s}");
    assert_eq!(members(&s), vec![survivor.clone()]);
    assert_eq!(s["healthy"], true, "{s}");
    for n in &lost {
        assert_eq!(node(&s, n)["role"], "removed");
        assert!(lab.dir.join(n).join("data").is_file(), "{n} not fenced");
        // Back with an empty data directory: refused, the survivor alone still leads.
        lab.run(&["lab", "restart", n]).exit(1).stderr_has("exited");
    }
    let s = lab.status();
    assert_eq!(
        (leader(&s), members(&s)),
        (survivor.clone(), vec![survivor.clone()])
    );
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
    for n in &lost {
        let r = lab
            .ok(&[
                "run",
                "etcd-rejoin-member",
                "--var",
                &format!("node={n}"),
                "--yes",
                "--json",
            ])
            .json();
        assert_eq!(r["outcome"], "succeeded", "{r}");
    }
    let s = wait_status(&lab, "three voting members again", |s| {
        s["healthy"] == true && members(s).len() == 3
    });
    assert_eq!(leader(&s), survivor);

    // Total loss, rebuilt from a snapshot: a new cluster id, every member back; a rerun finds
    // the restore done (the token is the snapshot's hash).
    let old_id = s["cluster_id"].clone();
    let r = lab
        .ok(&[
            "run",
            "etcd-snapshot",
            "--var",
            "path=snap.db",
            "--yes",
            "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(lab.cwd().join("snap.db").metadata().unwrap().len() > 0);
    for n in ["node-1", "node-2", "node-3"] {
        lab.ok(&["lab", "kill", n]);
    }
    let restore = ["run", "etcd-restore-snapshot", "--var", "snapshot=snap.db"];
    let dry = lab
        .ok(&[&restore[..], &["--dry-run", "--json"]].concat())
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    let r = lab
        .ok(&[&restore[..], &["--yes", "--json"]].concat())
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = wait_status(&lab, "the restored cluster healthy", |s| {
        s["healthy"] == true
    });
    assert_eq!(members(&s), ["node-1", "node-2", "node-3"]);
    assert_ne!(s["cluster_id"], old_id, "a restore makes a new cluster");
    let r = lab
        .ok(&[&restore[..], &["--yes", "--json"]].concat())
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

/// The bench runs both sides and reports every round (what it measures is not asserted: speed
/// is the bench's to report, not a test's to time).
/// A runbook holds the lock (an etcd step, then a wait for a file) while a switchover is tried.
fn second_run_on_the_same_host_is_refused_by_the_cluster_lock(lab: &Lab, to: &str) {
    let dir = lab.cwd().to_path_buf();
    let (started, go) = (dir.join("STARTED"), dir.join("GO"));
    let file = dir.join("hold.yaml");
    std::fs::write(
        &file,
        format!(
            "name: hold\nsteps:\n  - name: Reachable\n    uses: assert.reachable\n    with: {{node: {to}}}\n  - name: Hold\n    uses: exec\n    with: {{command: \"touch {} && while [ ! -f {} ]; do sleep 0.05; done\"}}\n",
            started.display(),
            go.display()
        ),
    )
    .unwrap();
    let mut first = lab
        .drctl(&["run", file.to_str().unwrap(), "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first run to hold the lock", DEADLINE, || {
        started.exists().then_some(())
    });
    let before = leader(&lab.status());
    lab.run(&["switchover", "--to", to, "--yes"])
        .exit(3)
        .stderr_has("locked by another run")
        .stderr_has("for hold (run ")
        .stderr_has(&format!("drctl pid {}", first.id()));
    assert_eq!(
        leader(&lab.status()),
        before,
        "a refused run moved the leader"
    );
    std::fs::write(&go, "").unwrap();
    assert!(first.wait().unwrap().success());
    let _ = std::fs::remove_file(&started);
}

#[test]
fn etcd_lab_bench_measures_drctl_beside_etcdctl() {
    if etcd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut c = command(drctl_bin(), tmp.path());
    c.args(["--kind", "etcd", "lab", "bench", "--rounds", "2", "--json"]);
    let r = run(c).success().json();
    assert_eq!(r["nodes"], 3);
    assert_eq!(r["drctl_switchover_ms"].as_array().unwrap().len(), 2, "{r}");
    let has_etcdctl = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("etcdctl").is_file()));
    if has_etcdctl {
        assert_eq!(
            r["etcdctl_switchover_ms"].as_array().unwrap().len(),
            2,
            "{r}"
        );
        assert!(r["ratio"].as_f64().unwrap() > 0.0, "{r}");
    }
}

#[test]
fn etcd_bad_cluster_files_are_named_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, needle) in [
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'ldap://127.0.0.1:1'}\n",
            "nodes[0].url: 'ldap://127.0.0.1:1': an etcd member needs http://HOST:PORT",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1', peer_url: 'x'}\n",
            "nodes[0].peer_url: 'x'",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1', suffix: 'dc=x'}\n",
            "nodes[0].suffix: only for `kind: openldap` or `kind: 389ds` nodes",
        ),
        // TLS and auth: each refusal names its field.
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'https://127.0.0.1:1'}\n",
            "nodes[0].ca_file: required for an https:// url",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1', ca_file: ca.pem}\n",
            "nodes[0].ca_file: only for an https:// url",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'https://127.0.0.1:1', ca_file: ca.pem, cert_file: c.pem}\n",
            "nodes[0].key_file: required with cert_file",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1', username: root}\n",
            "nodes[0].password_file: required with username",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1', password_env: PW}\n",
            "nodes[0].username: required with password_env",
        ),
        // Read when the engine opens: the node and the field.
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'https://127.0.0.1:1', ca_file: missing.pem}\n",
            "a: ca_file: cannot read certificate file",
        ),
        (
            "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1', username: root, password_file: open.pw}\n",
            "a: password_file: passphrase file",
        ),
    ] {
        let file = tmp.path().join("c.yaml");
        std::fs::write(&file, text).unwrap();
        std::fs::write(tmp.path().join("open.pw"), "pw\n").unwrap();
        let mut c = command(drctl_bin(), tmp.path());
        c.arg("--cluster").arg(&file).arg("status");
        run(c).exit(2).stderr_has(needle);
    }
    // A member that does not answer is a problem, not a crash.
    let file = tmp.path().join("c.yaml");
    std::fs::write(
        &file,
        "cluster: e\nnodes:\n- {name: a, kind: etcd, url: 'http://127.0.0.1:1'}\n",
    )
    .unwrap();
    let mut c = command(drctl_bin(), tmp.path());
    c.arg("--cluster").arg(&file).arg("check");
    run(c).exit(1).stdout_has("no member answers");
}

/// A failover that stopped after its fence (drctl SIGKILLed, or the survivor's start failing)
/// left each fenced member able to start again with an empty data directory under its old
/// member id once the old quorum was back: a voter that lost its log and its vote, healthy in
/// `status` (a failover killed part-way, then the lost members restarted).
#[test]
fn etcd_a_member_fenced_by_a_stopped_failover_never_votes_again_under_its_old_id() {
    if etcd_missing() {
        return;
    }
    let lab = up();
    wait_status(&lab, "a healthy cluster", |s| s["healthy"] == true);
    for n in ["node-1", "node-2"] {
        lab.ok(&["lab", "kill", n]);
    }
    let s = wait_status(&lab, "the quorum loss reported", |s| {
        s["problems"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("no leader: 1 of 3 voting members answer"))
    });
    // The order the failover fences them in; the second one's stop command fails, so the run
    // stops after fencing the first.
    let dry = lab.ok(&["failover", "--dry-run", "--json"]).json();
    let fences: Vec<String> = dry["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["args"]["action"] == "fence")
        .map(|a| a["args"]["node"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fences.len(), 2, "{dry:#}");
    let (fenced, kept) = (fences[0].clone(), fences[1].clone());
    let old_id = node(&s, &fenced)["member_id"].clone();
    let file = lab.cluster_file();
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, with_command(&yaml, &kept, "stop_command", "false")).unwrap();
    let r = lab.run(&["failover", "--yes", "--json"]).exit(1);
    std::fs::write(&file, &yaml).unwrap();
    assert!(
        r.stdout()
            .contains(&format!("{kept}'s stop_command failed")),
        "{}",
        r.dump()
    );
    assert!(
        !lab.dir.join(&fenced).join("data").is_dir(),
        "{fenced} not fenced"
    );
    assert!(lab.dir.join(&kept).join("data").is_dir());

    // The old quorum is back without the fenced member: a rerun has nothing to fail over.
    lab.ok(&["lab", "restart", &kept]);
    wait_status(&lab, "a leader again", |s| !leader(s).is_empty());
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
    // The fenced member started again (a supervisor, an operator): refused, not a voter
    // without its log.
    lab.run(&["lab", "restart", &fenced])
        .exit(1)
        .stderr_has("exited");
    let s = lab.status();
    assert_eq!(node(&s, &fenced)["reachable"], false, "{s}");
    assert_eq!(s["healthy"], false, "{s}");

    // Removed and rejoined: a new member id.
    lab.ok(&["removenode", &fenced, "--yes"]);
    lab.ok(&[
        "run",
        "etcd-rejoin-member",
        "--var",
        &format!("node={fenced}"),
        "--yes",
    ]);
    let s = wait_status(&lab, "three voting members again", |s| {
        s["healthy"] == true && members(s).len() == 3
    });
    assert_ne!(node(&s, &fenced)["member_id"], old_id, "{s}");

    a_failover_stopped_while_it_forces_a_new_cluster_is_finished_by_a_rerun(&lab);
}

/// A failover stopped while it restarted its survivor to force a new cluster, between the stop
/// and the start (drctl SIGKILLed there, or the start failing): no member answered, and a rerun
/// (or `run --resume`) refused "no member answers" for good, while the survivor, started again
/// as it was, had no quorum to serve with (chaos `--kind etcd` seed 9104). The record the
/// failover leaves beside the survivor's data directory lets a rerun finish it.
fn a_failover_stopped_while_it_forces_a_new_cluster_is_finished_by_a_rerun(lab: &Lab) {
    let s = lab.status();
    let survivor = leader(&s);
    let lost: Vec<String> = members(&s).into_iter().filter(|n| *n != survivor).collect();
    for n in &lost {
        lab.ok(&["lab", "kill", n]);
    }
    wait_status(lab, "the quorum loss reported", |s| leader(s).is_empty());
    // The survivor's start fails: the run stops after its stop, as one killed there does.
    let file = lab.cluster_file();
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        with_command(&yaml, &survivor, "start_command", "false"),
    )
    .unwrap();
    let r = lab.run(&["failover", "--yes", "--json"]).exit(1);
    std::fs::write(&file, &yaml).unwrap();
    assert!(
        r.stdout()
            .contains(&format!("{survivor}'s start_command failed")),
        "{}",
        r.dump()
    );
    let s = lab.status();
    let answering: Vec<&Value> = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["reachable"] == true)
        .collect();
    assert!(answering.is_empty(), "no member should answer: {s}");

    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r:#}");
    let s = wait_status(lab, "the survivor leads alone", |s| leader(s) == survivor);
    assert_eq!(members(&s), vec![survivor.clone()], "{s}");
    let leftovers: Vec<_> = std::fs::read_dir(lab.dir.join(&survivor))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with(".forcing-new-cluster")
        })
        .map(|e| e.path())
        .collect();
    assert!(
        leftovers.is_empty(),
        "the failover's record outlived it: {leftovers:?}"
    );
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r:#}");
}

/// The cluster file `yaml` with `node`'s `key` (a command) replaced by `command`.
fn with_command(yaml: &str, node: &str, key: &str, command: &str) -> String {
    let at = yaml.find(&format!("- name: {node}\n")).unwrap();
    let start = at + yaml[at..].find(&format!("  {key}: ")).unwrap();
    let end = start + yaml[start..].find('\n').unwrap();
    format!("{}  {key}: \"{command}\"{}", &yaml[..start], &yaml[end..])
}

/// A lab of members over https with client certificates and etcd's auth (`lab up --tls`):
/// status and move-leader through the TLS client and its token, the password in no output, and
/// members the cluster file cannot read (another CA, a wrong password) reported as alive.
#[test]
fn etcd_tls_and_auth_lab() {
    if etcd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    let up = lab.ok(&["lab", "up", "--kind", "etcd", "--nodes", "3", "--tls"]);
    assert!(up.stdout().contains("healthy"), "{}", up.dump());
    let password = std::fs::read_to_string(lab.dir.join("tls/root.password")).unwrap();
    let yaml = std::fs::read_to_string(lab.cluster_file()).unwrap();
    for field in [
        "url: https://",
        "ca_file:",
        "cert_file:",
        "key_file:",
        "username: root",
        "password_file:",
    ] {
        assert!(yaml.contains(field), "{field} in {yaml}");
    }
    let s = wait_status(&lab, "a healthy cluster over https", |s| {
        s["healthy"] == true
    });
    for n in s["nodes"].as_array().unwrap() {
        assert!(n["url"].as_str().unwrap().starts_with("https://"), "{n}");
        assert!(n["raft_index"].as_u64().unwrap() > 0, "{n}");
    }
    // Move-leader over TLS, with the token (a member list and move-leader need it).
    let to = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["role"] == "follower")
        .and_then(|n| n["name"].as_str())
        .unwrap()
        .to_string();
    let r = lab.ok(&["switchover", "--to", &to, "--yes"]);
    assert!(!r.stdout().contains(password.trim()) && !r.stderr().contains(password.trim()));
    wait_status(&lab, "the new leader", |s| leader(s) == to);
    // A snapshot: the streamed call, which etcd's auth guards.
    let snap = lab.cwd().join("tls.db");
    let path = format!("path={}", snap.display());
    lab.ok(&["run", "etcd-snapshot", "--var", &path, "--yes"]);
    assert!(std::fs::metadata(&snap).unwrap().len() > 4096);

    failover_is_refused_while_members_behind_a_wrong_ca_file_or_password_answer(&lab);
    etcd_failover_with_auth_and_no_quorum_saves_the_survivors_database_file(&lab);
}

/// With auth on, etcd gives no token without a quorum (authenticating goes through raft), so
/// the failover's snapshot API call could not run and the failover stopped at its first step.
/// The survivor's own database file (which nothing changes while no quorum applies entries) is
/// saved instead, and the failover goes on.
fn etcd_failover_with_auth_and_no_quorum_saves_the_survivors_database_file(lab: &Lab) {
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["lab", "kill", "node-2"]);
    wait_status(lab, "node-3 without a quorum", |s| leader(s).is_empty());
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let steps = r.to_string();
    assert!(steps.contains("a copy of"), "{steps}");
    let s = wait_status(lab, "node-3 leads alone", |s| leader(s) == "node-3");
    assert_eq!(node(&s, "node-3")["role"], "leader", "{s}");
}

/// A member whose certificate drctl did not trust (or whose auth refused drctl) was taken for
/// a dead one: with two of three so, `failover` saw a lost quorum and fenced the two live
/// members, one of them the leader (a cluster file pointing at the wrong CA).
fn failover_is_refused_while_members_behind_a_wrong_ca_file_or_password_answer(lab: &Lab) {
    // node-1 leads, and the bad cluster files cannot read node-1 and node-2.
    lab.ok(&["switchover", "--to", "node-1", "--yes"]);
    wait_status(lab, "node-1 leads", |s| leader(s) == "node-1");
    let other = lab.cwd().join("other-ca");
    lab.ok(&[
        "certs",
        "init",
        "--dir",
        other.to_str().unwrap(),
        "--cluster",
        "other",
    ]);
    let pw = lab.dir.join("tls/wrong.password");
    std::fs::write(&pw, "not-the-password").unwrap();
    std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let yaml = std::fs::read_to_string(lab.cluster_file()).unwrap();
    let bad = |from: &str, to: &str| {
        let mut parts: Vec<String> = yaml.split("- name: ").map(str::to_string).collect();
        for p in &mut parts[1..3] {
            *p = p.replace(from, to);
        }
        parts.join("- name: ")
    };
    let other_ca = format!("ca_file: {}", other.join("ca.pem").display());
    for (name, text, fix) in [
        (
            "wrong-ca.yaml",
            bad("ca_file: tls/ca.pem", &other_ca),
            "fix its ca_file",
        ),
        (
            "wrong-password.yaml",
            bad(
                "password_file: tls/root.password",
                "password_file: tls/wrong.password",
            ),
            "fix its username and password_file",
        ),
    ] {
        let file = lab.dir.join(name);
        std::fs::write(&file, text).unwrap();
        let with = |args: &[&str]| {
            let mut c = command(drctl_bin(), lab.cwd());
            c.arg("--cluster").arg(&file).args(args);
            run(c)
        };
        let s = with(&["status", "--json"]).json();
        for n in ["node-1", "node-2"] {
            let row = node(&s, n);
            assert_eq!(row["reachable"], true, "{name}: {row}");
            assert!(
                row["error"]
                    .as_str()
                    .unwrap()
                    .contains("answers but cannot be read"),
                "{name}: {row}"
            );
            assert!(
                row["error"].as_str().unwrap().contains(fix),
                "{name}: {row}"
            );
        }
        assert_eq!(node(&s, "node-3")["role"], "follower", "{name}: {s}");
        let problems = s["problems"].to_string();
        assert!(
            problems.contains("no leader drctl can read"),
            "{name}: {problems}"
        );
        let r = with(&["failover", "--yes"]).exit(3);
        let out = r.stderr();
        assert!(
            out.contains("answer(s) but cannot be read") && out.contains("nothing was changed"),
            "{name}: {out}"
        );
        assert!(!out.contains("not-the-password"), "{name}: {out}");
    }
    // Nothing changed: the same leader, the three members, every data directory in place.
    let s = wait_status(lab, "the lab as it was", |s| s["healthy"] == true);
    assert_eq!(leader(&s), "node-1");
    assert_eq!(members(&s), ["node-1", "node-2", "node-3"]);
    for n in ["node-1", "node-2", "node-3"] {
        assert!(
            lab.dir.join(n).join("data").is_dir(),
            "{n}'s data directory"
        );
    }
}
