//! The CLI's contract: JSON shape, exit codes, clear errors on bad input, completions, config
//! validation.

use crate::support::*;

#[test]
fn status_json_has_the_documented_shape() {
    let lab = Lab::up(2);
    let s = lab.status();
    for key in ["cluster", "healthy", "problems", "nodes"] {
        assert!(s.get(key).is_some(), "missing {key}: {s}");
    }
    assert_eq!(s["schema"], 1, "{s}");
    assert_eq!(s["healthy"], true);
    let n = &s["nodes"][0];
    for key in [
        "name",
        "host_id",
        "url",
        "reachable",
        "role",
        "epoch",
        "db_status",
        "head_seq",
        "applied_seq",
        "owns",
        "lag",
        "primary",
        "roles_held",
        "entries",
        "digest",
        "health",
    ] {
        assert!(n.get(key).is_some(), "node lacks {key}: {n}");
    }
    assert_eq!(n["health"], "green");
    assert!(n["owns"].is_number());
    let roles: Vec<&str> = n["roles_held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(roles, ["naming-master", "schema-master"]);
    // The human table names every node.
    lab.ok(&["status"])
        .stdout_has("node-2")
        .stdout_has("healthy");
    lab.ok(&["check"]).stdout_has("healthy");
    // `check` carries the same schema version, and so does every object of a listing.
    assert_eq!(lab.ok(&["check", "--json"]).json()["schema"], 1);
    let c = lab.ok(&["candidates", "--json"]).json();
    assert!(
        c.as_array().unwrap().iter().all(|x| x["schema"] == 1),
        "{c}"
    );
    let e = lab.ok(&["events", "--node", "node-1", "--json"]).json();
    assert!(!e.as_array().unwrap().is_empty(), "{e}");
    assert!(
        e.as_array().unwrap().iter().all(|x| x["schema"] == 1),
        "{e}"
    );
}

#[test]
fn unknown_and_invalid_nodes_are_usage_errors() {
    let lab = Lab::up(1);
    lab.run(&["entry", "get", "k", "--node", "node-9"])
        .exit(2)
        .stderr_has("unknown node 'node-9'")
        .stderr_has("node-1");
    lab.run(&["status", "--node", "bad_name"])
        .exit(2)
        .stderr_has("underscore");
    lab.run(&["lab", "kill", "no de"])
        .exit(2)
        .stderr_has("not a valid name");
    lab.run(&["lab", "kill", "node-7"])
        .exit(2)
        .stderr_has("unknown lab node");
    lab.run(&["entry", "put", "../etc", "v"])
        .exit(2)
        .stderr_has("segment");
    lab.run(&["entry", "put", "_sys/primary", "v"])
        .exit(2)
        .stderr_has("reserved");
    lab.run(&["--timeout", "soon", "status"]).exit(2);
}

#[test]
fn malformed_cluster_files_name_the_problem_and_place() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("syntax.yaml", "cluster: lab\nnodes: [\n  - name: a\n", "syntax.yaml:3:"),
        ("field.yaml", "cluster: lab\nnodes:\n  - name: a\n    urll: https://x:1\n", "unknown field `urll`"),
        ("name.yaml", "cluster: lab\nnodes:\n  - name: bad_name\n    url: https://127.0.0.1:1\n", "nodes[0].name"),
        ("url.yaml", "cluster: lab\nnodes:\n  - name: a\n    url: http://127.0.0.1:1\n", "only https://"),
        ("dup.yaml", "cluster: lab\nnodes:\n  - {name: a, url: 'https://127.0.0.1:1'}\n  - {name: a, url: 'https://127.0.0.1:2'}\n", "already used"),
        ("empty.yaml", "cluster: lab\nnodes: []\n", "empty"),
    ];
    for (file, text, needle) in cases {
        let path = tmp.path().join(file);
        std::fs::write(&path, text).unwrap();
        run(command(drctl_bin(), tmp.path()).args(["--cluster", path.to_str().unwrap(), "status"]))
            .exit(2)
            .stderr_has(file)
            .stderr_has(needle);
    }
    run(command(drctl_bin(), tmp.path()).args(["status"]))
        .exit(2)
        .stderr_has("no cluster");
}

#[test]
fn api_escape_hatch() {
    let lab = Lab::up(1);
    let v = lab.ok(&["api", "GET", "/v1/node"]).json();
    assert_eq!(v["name"], "node-1");
    lab.ok(&["api", "PUT", "/v1/entries/raw/key", r#"{"value": "v1"}"#]);
    lab.ok(&["entry", "get", "raw/key"]).stdout_has("v1");
    lab.run(&["api", "PUT", "/v1/entries/raw/key", "{not json"])
        .exit(2)
        .stderr_has("not JSON");
    let r = lab
        .run(&["api", "PUT", "/v1/entries/raw/key", r#"{"wrong": 1}"#])
        .exit(1);
    assert!(r.stdout().contains("bad_request"), "{}", r.stdout());
    assert!(r.stdout().contains("request_id"));
}

/// `lab up --nodes 50` forms one primary and 49 replicas, and `status` reads every one of
/// them in order; 51 is refused, naming the range.
#[test]
fn a_lab_of_50_nodes_comes_up_and_status_reads_every_node() {
    let lab = Lab::up(50);
    let st = lab.ok(&["status", "--json"]).json();
    assert_eq!(st["healthy"], true, "{st}");
    let nodes = st["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["name"], format!("node-{}", i + 1));
        assert_eq!(n["reachable"], true, "{n}");
        let role = if i == 0 { "primary" } else { "replica" };
        assert_eq!(n["role"], role, "{n}");
    }
    lab.ok(&["lab", "down"]);
    let tmp = tempfile::tempdir().unwrap();
    run(command(drctl_bin(), tmp.path()).args(["lab", "up", "--nodes", "51"]))
        .exit(2)
        .stderr_has("51");
}

#[test]
fn lab_lifecycle_and_refusals() {
    let lab = Lab::up(2);
    // A second lab in the same directory is refused while the first runs.
    lab.run(&["lab", "up"])
        .exit(3)
        .stderr_has("already running");
    let st = lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(st["nodes"][0]["state"], "running");
    lab.ok(&["lab", "pause", "node-2"]);
    let st = lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(st["nodes"][1]["state"], "paused");
    lab.ok(&["lab", "resume", "node-2"]);
    lab.ok(&["lab", "kill", "node-2"]);
    let st = lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(st["nodes"][1]["state"], "stopped");
    lab.run(&["lab", "kill", "node-2"])
        .exit(1)
        .stderr_has("not running");
    let pid = lab.ok(&["lab", "status", "--json"]).json()["nodes"][0]["pid"]
        .as_u64()
        .unwrap();
    lab.ok(&["lab", "down"]);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists() || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.contains(") Z")
        }
    );
    assert!(!lab.dir.exists());
}

#[test]
fn committed_completions_match_the_cli() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (bin, name) in [(drctl_bin(), "drctl"), (drnode_bin(), "drnode")] {
        for (shell, file) in [
            ("bash", format!("{name}.bash")),
            ("zsh", format!("_{name}")),
            ("fish", format!("{name}.fish")),
        ] {
            let generated = run(command(bin, root).args(["completions", shell]))
                .success()
                .stdout();
            let committed = std::fs::read_to_string(root.join("completions").join(&file))
                .unwrap_or_else(|e| panic!("completions/{file}: {e}"));
            assert!(
                generated == committed,
                "completions/{file} is stale: run `{name} completions {shell} > completions/{file}`"
            );
        }
    }
}

#[test]
fn committed_man_page_matches_the_cli() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = run(command(drctl_bin(), root).args(["man"]))
        .success()
        .stdout();
    assert!(
        generated.starts_with(".ie"),
        "not roff: {}",
        &generated[..40.min(generated.len())]
    );
    assert!(
        generated.contains("switchover"),
        "the subcommands are listed"
    );
    let committed = std::fs::read_to_string(root.join("man/drctl.1"))
        .unwrap_or_else(|e| panic!("man/drctl.1: {e}"));
    assert!(
        generated == committed,
        "man/drctl.1 is stale: run `drctl man > man/drctl.1`"
    );
    let drnode = run(command(drnode_bin(), root).args(["man"]))
        .success()
        .stdout();
    assert!(
        drnode.starts_with(".ie") && drnode.contains("serve"),
        "{drnode}"
    );
    let committed = std::fs::read_to_string(root.join("man/drnode.1"))
        .unwrap_or_else(|e| panic!("man/drnode.1: {e}"));
    assert!(
        drnode == committed,
        "man/drnode.1 is stale: run `drnode man > man/drnode.1`"
    );
}

#[test]
fn certs_init_and_issue() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let d = dir.to_str().unwrap();
    run(command(drctl_bin(), tmp.path()).args([
        "certs",
        "init",
        "--dir",
        d,
        "--cluster-name",
        "prod",
    ]))
    .success();
    run(command(drctl_bin(), tmp.path()).args(["certs", "init", "--dir", d]))
        .exit(3)
        .stderr_has("already exists");
    run(command(drctl_bin(), tmp.path()).args([
        "certs",
        "issue",
        "mss-1",
        "--dir",
        d,
        "--cluster-name",
        "prod",
        "--san",
        "10.0.0.1",
    ]))
    .success();
    run(command(drctl_bin(), tmp.path()).args(["certs", "issue", "bad_name", "--dir", d])).exit(2);
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("mss-1.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(key_mode & 0o077, 0, "the key is readable by others");
    // The certificate is usable by a node: drnode accepts it in its config.
    let pass = tmp.path().join("pass");
    std::fs::write(&pass, "s3cret").unwrap();
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    run(command(drnode_bin(), tmp.path()).args([
        "init",
        "--name",
        "mss-1",
        "--cluster",
        "prod",
        "--data-dir",
        "n1",
        "--certs-dir",
        d,
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]))
    .success();
    run(command(drnode_bin(), tmp.path()).args(["check-config", "--data-dir", "n1"]))
        .success()
        .stdout_has("ok");
}

#[test]
fn drnode_check_config_lists_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("drnode.yaml");
    std::fs::write(
        &cfg,
        "version: 1\nname: bad_name\ncluster: c\ndata_dir: nowhere\nlisten: 'not-an-addr'\n\
         tls: {cert: missing.pem, key: missing.key, ca: missing-ca.pem}\npassphrase_file: nope\n",
    )
    .unwrap();
    let r = run(command(drnode_bin(), tmp.path()).args([
        "check-config",
        "--config",
        cfg.to_str().unwrap(),
    ]))
    .exit(2);
    for needle in ["name:", "listen:", "data_dir:", "tls:", "passphrase_file:"] {
        assert!(
            r.stderr().contains(needle),
            "check-config does not mention {needle}:\n{}",
            r.stderr()
        );
    }
    std::fs::write(&cfg, "version: 1\nname: a\nbogus: 1\n").unwrap();
    run(command(drnode_bin(), tmp.path()).args([
        "check-config",
        "--config",
        cfg.to_str().unwrap(),
    ]))
    .exit(2)
    .stderr_has("unknown field `bogus`");
    run(command(drnode_bin(), tmp.path()).args([
        "init",
        "--name",
        "bad_name",
        "--cluster",
        "c",
        "--data-dir",
        "x",
        "--certs-dir",
        "y",
        "--passphrase-file",
        "z",
    ]))
    .exit(2)
    .stderr_has("underscore");
}

#[test]
fn status_watch_redraws_until_interrupted() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    let lab = Lab::up(1);
    let mut child = lab
        .drctl(&["status", "--watch", "--interval", "100ms"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let mut out = child.stdout.take().unwrap();
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let redraws = wait_for("three redraws", std::time::Duration::from_secs(20), || {
        let n = seen
            .lock()
            .unwrap()
            .matches("cluster lab (epoch 1)")
            .count();
        (n >= 3).then_some(n)
    });
    assert!(redraws >= 3);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = wait_for(
        "--watch to end on Ctrl-C",
        std::time::Duration::from_secs(10),
        || child.try_wait().unwrap(),
    );
    assert!(status.success(), "Ctrl-C ends --watch cleanly: {status:?}");
}

// Hit by `drctl status | cut -f…`: piped tables were drawn with box characters and squeezed to
// 80 columns, so cells broke mid-word and no script could split them.
#[test]
fn piped_tables_are_tab_separated_with_the_narrow_columns_by_default() {
    let lab = Lab::up(2);
    let table = lab.ok(&["status"]).stdout();
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("cluster lab (epoch 1)"), "{table}");
    assert_eq!(
        lines.next(),
        Some("NODE\tREACHABLE\tROLE\tEPOCH\tLAG\tSYNC\tPRIMARY\tHEALTH"),
        "{table}"
    );
    let row: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(row[..3], ["node-1", "yes", "primary"], "{table}");
    assert!(!table.contains(['│', '┆', '─', '\u{1b}']), "{table}");
    // -o wide has every column; -o yaml is the JSON document as YAML.
    let wide = lab.ok(&["status", "-o", "wide"]).stdout();
    for column in ["OWNS", "DIGEST", "ENTRIES", "HOST ID"] {
        assert!(
            wide.lines()
                .nth(1)
                .unwrap()
                .split('\t')
                .any(|c| c == column),
            "{column}: {wide}"
        );
    }
    let yaml: serde_json::Value =
        serde_yaml::from_str(&lab.ok(&["status", "-o", "yaml"]).stdout()).unwrap();
    assert_eq!(yaml["nodes"][1]["name"], "node-2", "{yaml}");
    lab.run(&["status", "-o", "json", "--json"]).exit(2);
    lab.run(&["status", "-o", "pretty"])
        .exit(2)
        .stderr_has("pretty");
    // The same for candidates and runbook list.
    let candidates = lab.ok(&["candidates"]).stdout();
    assert!(candidates.starts_with("RANK\tNODE\t"), "{candidates}");
    let list = lab.ok(&["runbook", "list"]).stdout();
    assert!(list.starts_with("NAME\tDRILL\tDESCRIPTION\n"), "{list}");
    let wide = lab.ok(&["runbook", "list", "-o", "wide"]).stdout();
    assert!(
        wide.starts_with("NAME\tPARAMS\tSTEPS\tDRILL\tDESCRIPTION\n"),
        "{wide}"
    );
}

// Hit by `drctl --help` and `runbook list`: they sent the operator to "seed 002" and "§5.13.9",
// documents an operator does not have, instead of saying what the procedure is for.
#[test]
fn help_and_runbook_list_name_no_internal_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let mut texts = vec![run(command(drctl_bin(), tmp.path()).args(["--help"]))
        .success()
        .stdout()];
    let list = run(command(drctl_bin(), tmp.path()).args(["runbook", "list", "--json"]))
        .success()
        .json();
    for r in list.as_array().unwrap() {
        texts.push(r["description"].as_str().unwrap().to_string());
    }
    for sub in [
        "switchover",
        "failover",
        "repoint",
        "sync",
        "hosts",
        "removenode",
        "upgrade",
    ] {
        texts.push(
            run(command(drctl_bin(), tmp.path()).args([sub, "--help"]))
                .success()
                .stdout(),
        );
    }
    for text in &texts {
        for internal in ["seed 0", "seeds 0", "§"] {
            assert!(!text.contains(internal), "'{internal}' in:\n{text}");
        }
    }
}

// Hit at 3 a.m. with `drctl events`: 200 events per node and no way to ask for the last ten
// minutes, one kind, or what happens next.
#[test]
fn events_filter_by_time_and_type_and_follow_new_ones() {
    use std::io::{BufRead, BufReader};
    let lab = Lab::up(2);
    let all = lab.ok(&["events", "--json"]).json();
    assert!(
        all.as_array().unwrap().iter().any(|e| e["kind"] == "start"),
        "{all}"
    );
    let syncs = lab.ok(&["events", "--json", "--type", "sync"]).json();
    let syncs = syncs.as_array().unwrap();
    assert!(
        !syncs.is_empty() && syncs.iter().all(|e| e["kind"] == "sync"),
        "{syncs:?}"
    );
    let future = lab
        .ok(&["events", "--json", "--since", "2999-01-01T00:00:00Z"])
        .json();
    assert_eq!(future, serde_json::json!([]));
    let recent = lab.ok(&["events", "--json", "--since", "1h"]).json();
    assert_eq!(
        recent.as_array().unwrap().len(),
        all.as_array().unwrap().len()
    );
    lab.run(&["events", "--since", "yesterday"])
        .exit(2)
        .stderr_has("--since: 'yesterday'");
    // --follow prints what happens, one JSON object per line. From a time taken here: under
    // load drctl may start after the event, and "0s" (now at its start) would leave it out.
    let since = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut child = lab
        .drctl(&[
            "events", "--follow", "-o", "json", "--type", "sync", "--since", &since,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    lab.ok(&["sync", "auto", "off", "node-2", "--yes"]);
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("--follow printed the new event");
    let e: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (e["node"].as_str(), e["kind"].as_str()),
        (Some("node-2"), Some("sync")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("turned off"), "{e}");
    child.kill().unwrap();
    child.wait().unwrap();
}

// Hit by `drctl status --json | jq '.nodes[] | .host_id'` while a node was down: its host id
// was null (the member list has it) and half its keys were missing.
#[test]
fn an_unreachable_node_keeps_every_json_key_and_its_host_id() {
    let lab = Lab::up(2);
    let before = lab.status();
    let alive = node(&before, "node-2").clone();
    lab.ok(&["lab", "kill", "node-2"]);
    let after = wait_for(
        "node-2 unreachable",
        std::time::Duration::from_secs(10),
        || {
            let s = lab.status();
            (node(&s, "node-2")["reachable"] == false).then_some(s)
        },
    );
    let dead = node(&after, "node-2");
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(dead), keys(&alive), "{dead}");
    assert_eq!(dead["host_id"], alive["host_id"], "{dead}");
    assert_eq!(dead["member_state"], "normal", "{dead}");
    assert!(
        dead["error"].is_string() && alive["error"].is_null(),
        "{dead}"
    );
    let wide = lab.ok(&["status", "-o", "wide"]).stdout();
    let row = wide.lines().find(|l| l.starts_with("node-2\t")).unwrap();
    assert!(row.contains(alive["host_id"].as_str().unwrap()), "{wide}");
}

// Hit by every switchover report: its first row was "skipped … when:", the runbook's own
// routing, which told the operator nothing.
#[test]
fn reports_hide_steps_whose_when_was_false_and_json_keeps_them() {
    let lab = Lab::up(2);
    let text = lab.ok(&["switchover", "--to", "node-2", "--yes"]).stdout();
    assert!(!text.contains("\tskipped\t"), "{text}");
    assert!(
        text.contains("(1 step not needed here: its `when:` was false"),
        "{text}"
    );
    let json = lab
        .ok(&["switchover", "--to", "node-1", "--yes", "--json"])
        .json();
    let steps = json["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["outcome"] == "skipped"), "{json}");
}

// Hit by `drctl removenode node-3`: a member's name was refused ("no member has host id
// node-3"); nodetool takes a host id only, an operator at 3 a.m. has the name.
#[test]
fn removenode_takes_a_members_name_as_well_as_its_host_id() {
    let lab = Lab::up(3);
    lab.ok(&["lab", "kill", "node-3"]);
    lab.run(&["removenode", "node-9", "--yes"])
        .exit(2)
        .stderr_has("no member has the host id or name node-9");
    lab.ok(&["removenode", "node-3", "--yes"]);
    let s = lab.status();
    assert_eq!(node(&s, "node-3")["member_state"], "removed", "{s}");
}

// Hit by Ctrl-C at "Type 'yes' to continue": drctl died by the signal (exit 130) instead of
// aborting like any other "no" (exit 4, nothing changed, the report printed).
#[test]
fn ctrl_c_at_a_confirmation_prompt_aborts_with_exit_4_and_changes_nothing() {
    let lab = Lab::up(2);
    lab.ok(&["lab", "kill", "node-1"]);
    let before = lab.status();
    // A real terminal: ^C on it is SIGINT from the line discipline.
    let mut term = lab.on_terminal(&["failover"]);
    term.wait_for("Type 'yes' to continue", std::time::Duration::from_secs(20));
    term.send(b"\x03");
    let status = term.finish(std::time::Duration::from_secs(20));
    let seen = &term.seen;
    assert_eq!(status.code(), Some(4), "{seen}");
    assert!(
        seen.contains("aborted by the operator; nothing was changed"),
        "{seen}"
    );
    let after = lab.status();
    assert_eq!(node(&after, "node-2")["role"], "replica", "{after}");
    assert_eq!(
        node(&after, "node-2")["epoch"],
        node(&before, "node-2")["epoch"],
        "{after}"
    );
}

// Hit by a cluster file copied before a node moved: drctl probed one URL while the other
// nodes replicated from another, and nothing said so.
#[test]
fn status_warns_when_the_cluster_file_and_the_member_list_disagree_on_a_url() {
    let lab = Lab::up(2);
    assert_eq!(lab.status()["warnings"], serde_json::json!([]));
    let file = lab.cluster_file();
    let text = std::fs::read_to_string(&file).unwrap();
    let url = node(&lab.status(), "node-2")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let moved = url.replace("127.0.0.1", "localhost");
    std::fs::write(&file, text.replace(&url, &moved)).unwrap();
    let s = lab.run(&["status", "--json"]).json();
    let warnings = s["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{s}");
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.starts_with("node-2: the cluster file says ") && w.contains(&url),
        "{w}"
    );
    let table = lab.run(&["status"]).stdout();
    assert!(table.contains("node-2: the cluster file says"), "{table}");
}

// Hit by a typo in a 40-node cluster file: "nodes[17].promotable: … at line 93 column 17" put
// the place last and other errors gave none; runbooks already said FILE:LINE:COLUMN: path.
#[test]
fn cluster_file_errors_lead_with_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "cluster: x\nnodes:\n  - name: a\n    url: https://h:1\n    bogus: 3\n",
            ":5:5: nodes[0].bogus: unknown field",
        ),
        (
            "cluster: x\nnodes:\n  - name: a\n    url: https://h:1\n    promotable: maybe\n",
            ":5:17: nodes[0].promotable: invalid type",
        ),
        (
            "cluster: x\nnodes:\n  - name: a\n    url: https://h:1\n  - name: a\n    url: https://h:2\n",
            ":5:5: nodes[1].name: 'a' is already used by nodes[0]",
        ),
        (
            "cluster: x\nnodes:\n  - name: a\n    url: [https://h:1\n",
            ":5:1: while parsing a flow sequence",
        ),
    ] {
        let file = tmp.path().join("drctl.yaml");
        std::fs::write(&file, text).unwrap();
        let r = run(command(drctl_bin(), tmp.path()).args(["status"])).exit(2);
        let expected = format!("drctl: drctl.yaml{want}");
        assert!(r.stderr().starts_with(&expected), "want {expected}\n{}", r.dump());
    }
}
