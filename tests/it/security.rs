//! Refusals that change nothing: wrong passphrase, untrusted certificate, readable secrets.

use crate::support::*;

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

fn digest_of_primary(lab: &Lab) -> String {
    node(&lab.status(), "node-1")["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn wrong_passphrase_is_refused_logged_and_changes_nothing() {
    let lab = Lab::up(2);
    let before = digest_of_primary(&lab);
    let wrong = lab.cwd().join("wrong");
    std::fs::write(&wrong, "not-the-passphrase").unwrap();
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    lab.run(&[
        "--passphrase-file",
        wrong.to_str().unwrap(),
        "entry",
        "put",
        "k",
        "v",
        "--node",
        "node-1",
    ])
    .exit(2)
    .stderr_has("wrong or missing cluster passphrase")
    .stderr_has("request id");
    let mut c = lab.drctl(&["entry", "put", "k", "v"]);
    c.env("DRCTL_PASSPHRASE", "also-wrong");
    run(c).exit(2).stderr_has("passphrase");
    assert_eq!(digest_of_primary(&lab), before);
    lab.run(&["entry", "get", "k"]).exit(1);
    // drctl stops at the first refusal (the status it asks before anything), and the node
    // records the refused calls it got.
    let events = lab.events("node-1");
    assert!(
        events.iter().any(|e| e["kind"] == "auth_failed"
            && e["success"] == false
            && e["details"]["count"].as_u64() >= Some(1)
            && e["message"]
                .as_str()
                .unwrap()
                .contains("wrong or missing passphrase")),
        "no auth_failed event: {events:?}"
    );
}

#[test]
fn untrusted_certificate_is_refused_and_changes_nothing() {
    let lab = Lab::up(2);
    let before = digest_of_primary(&lab);
    // Another CA: the lab's nodes are not signed by it.
    let other = lab.cwd().join("other-ca");
    run(command(drctl_bin(), lab.cwd()).args(["certs", "init", "--dir", other.to_str().unwrap()]))
        .success();
    let text = std::fs::read_to_string(lab.cluster_file()).unwrap();
    let forged = lab.dir.join("forged.yaml");
    std::fs::write(
        &forged,
        text.replace("certs/ca.pem", other.join("ca.pem").to_str().unwrap()),
    )
    .unwrap();
    lab.run(&[
        "--cluster",
        forged.to_str().unwrap(),
        "entry",
        "put",
        "k",
        "v",
        "--node",
        "node-1",
    ])
    .exit(2)
    .stderr_has("certificate is not trusted");
    lab.run(&[
        "--cluster",
        forged.to_str().unwrap(),
        "entry",
        "put",
        "k",
        "v",
    ])
    .exit(2)
    .stderr_has("certificate");
    assert_eq!(digest_of_primary(&lab), before);
}

#[test]
fn readable_passphrase_file_is_refused() {
    let lab = Lab::up(1);
    let loose = lab.cwd().join("loose");
    std::fs::write(&loose, "whatever").unwrap();
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    lab.run(&["--passphrase-file", loose.to_str().unwrap(), "status"])
        .exit(2)
        .stderr_has("chmod 600");
}

#[test]
fn health_needs_no_passphrase_but_everything_else_does() {
    let lab = Lab::up(1);
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let ca = lab.dir.join("certs/ca.pem");
    let mut c = command(drctl_bin(), lab.cwd());
    c.args(["--node", &url, "--ca", ca.to_str().unwrap(), "status"]);
    c.env("DRCTL_PASSPHRASE", "nope");
    run(c).exit(2).stderr_has("401");
    // With the right passphrase, --node URL alone reads the member list from that node.
    let pass = std::fs::read_to_string(lab.dir.join("passphrase")).unwrap();
    let mut c = command(drctl_bin(), lab.cwd());
    c.args([
        "--node",
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "status",
        "--json",
    ]);
    c.env("DRCTL_PASSPHRASE", pass);
    let s = run(c).success().json();
    assert_eq!(s["cluster"], "lab");
    assert_eq!(s["nodes"][0]["name"], "node-1");
}

/// Requests drctl itself would never send, straight at a node: a truncated JSON body, a body
/// of the wrong shape, a key that escapes its path. Each gets a clear 400 with the stable code
/// and a request id, changes nothing, and the node keeps serving.
#[test]
fn truncated_and_malformed_requests_change_nothing() {
    let lab = Lab::up(1);
    let before = digest_of_primary(&lab);
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let pass = std::fs::read_to_string(lab.dir.join("passphrase")).unwrap();
    let trust = drctl::util::tls::Trust {
        ca: Some(lab.dir.join("certs/ca.pem")),
        trust_dir: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(drctl::util::tls::client_config(&trust).unwrap())
            .build()
            .unwrap();
        let send = |path: &str, body: &'static str| {
            http.put(format!("{url}{path}"))
                .bearer_auth(pass.trim())
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        for (path, body, needle) in [
            ("/v1/entries/k", r#"{"value": "cut sh"#, "EOF"),
            ("/v1/entries/k", r#"{"value": 42}"#, "value"),
            ("/v1/entries/k", r#"{"valu": "x"}"#, "value"),
            ("/v1/settings/bad_name", r#"{"value": "x"}"#, "underscore"),
        ] {
            let resp = send(path, body).await.unwrap();
            assert_eq!(resp.status().as_u16(), 400, "{path} {body}");
            let err: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(err["code"], "bad_request", "{err}");
            assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
            assert!(err["request_id"].as_str().unwrap().len() >= 8, "{err}");
        }
    });
    assert_eq!(digest_of_primary(&lab), before);
    lab.run(&["entry", "get", "k"]).exit(1);
    lab.ok(&["entry", "put", "k", "still serving"]);
}

/// Hit by 4,000 requests with a bad passphrase: each added an event, +69 MB of `node.db`. Now
/// one event per source and minute counts them, and the file barely grows.
#[test]
fn unauthenticated_requests_grow_node_db_without_bound() {
    let lab = Lab::up(1);
    let url = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let db_size = || {
        ["node.db", "node.db-wal"]
            .iter()
            .map(|f| {
                std::fs::metadata(lab.node_dir("node-1").join(f))
                    .map(|m| m.len())
                    .unwrap_or(0)
            })
            .sum::<u64>()
    };
    let before = db_size();
    let trust = drctl::util::tls::Trust {
        ca: Some(lab.dir.join("certs/ca.pem")),
        trust_dir: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(drctl::util::tls::client_config(&trust).unwrap())
            .build()
            .unwrap();
        let long = "p".repeat(4000);
        for batch in 0..125 {
            let sends = (0..32).map(|i| {
                http.put(format!("{url}/v1/entries/k{batch}-{i}/{long}"))
                    .bearer_auth("wrong")
                    .json(&serde_json::json!({"value": "x"}))
                    .send()
            });
            for r in futures_util::future::join_all(sends).await {
                assert_eq!(r.unwrap().status().as_u16(), 401);
            }
        }
    });
    let counted = wait_for("the refusals counted in the events", DEADLINE, || {
        let events = lab.events("node-1");
        let failed: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["kind"] == "auth_failed")
            .collect();
        let total: u64 = failed
            .iter()
            .map(|e| e["details"]["count"].as_u64().unwrap_or(0))
            .sum();
        (total == 4000).then_some(failed.len())
    });
    assert!(counted <= 2, "{counted} events for one source in a minute");
    let grown = db_size().saturating_sub(before);
    println!("node.db grew by {grown} bytes for 4000 refused calls ({counted} event(s))");
    assert!(grown < 1 << 20, "node.db grew by {grown} bytes");
}

/// Hit by a wrong passphrase or an untrusted CA: exit 0 (`status`), 1 (`check`, `events`) or 3
/// (procedures) with every node "unreachable". It is exit 2 on every command, said as it is.
#[test]
fn wrong_passphrase_or_untrusted_ca_is_exit_2_on_every_command() {
    let lab = Lab::up(2);
    let before = digest_of_primary(&lab);
    let commands: [&[&str]; 7] = [
        &["status"],
        &["check"],
        &["events"],
        &["candidates"],
        &["entry", "get", "k"],
        &["switchover", "--to", "node-2", "--yes"],
        &["run", "managed-switchover", "--var", "to=node-2", "--yes"],
    ];
    for args in commands {
        let mut c = lab.drctl(args);
        c.env("DRCTL_PASSPHRASE", "not-the-passphrase");
        run(c)
            .exit(2)
            .stderr_has("wrong passphrase for node-1 (401")
            .stderr_has("wrong passphrase for node-2 (401");
    }
    let other = lab.cwd().join("other-ca");
    run(command(drctl_bin(), lab.cwd()).args(["certs", "init", "--dir", other.to_str().unwrap()]))
        .success();
    let text = std::fs::read_to_string(lab.cluster_file()).unwrap();
    let forged = lab.dir.join("forged.yaml");
    std::fs::write(
        &forged,
        text.replace("certs/ca.pem", other.join("ca.pem").to_str().unwrap()),
    )
    .unwrap();
    for args in commands {
        let mut a = vec!["--cluster", forged.to_str().unwrap()];
        a.extend(args);
        lab.run(&a)
            .exit(2)
            .stderr_has("node-1's certificate is not trusted by the cluster CA");
    }
    assert_eq!(
        digest_of_primary(&lab),
        before,
        "a refused command changed nothing"
    );
    // One node with another passphrase is enough: the command says which.
    let cfg = lab.node_dir("node-2").join("drnode.yaml");
    let own = lab.node_dir("node-2").join("own-passphrase");
    std::fs::write(&own, "a-passphrase-of-its-own").unwrap();
    std::fs::set_permissions(&own, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let pass_line = text
        .lines()
        .find(|l| l.starts_with("passphrase_file:"))
        .unwrap()
        .to_string();
    std::fs::write(
        &cfg,
        text.replace(&pass_line, &format!("passphrase_file: {}", own.display())),
    )
    .unwrap();
    lab.ok(&["lab", "restart", "node-2"]);
    for args in [&["status"][..], &["check"], &["events"]] {
        let r = lab
            .run(args)
            .exit(2)
            .stderr_has("wrong passphrase for node-2 (401");
        assert!(!r.stderr().contains("for node-1"), "{}", r.dump());
    }
}

/// Hit by a node configured for another cluster with the same CA and passphrase: it was joined
/// and `check` said healthy. drctl compares each node's cluster name; nodes compare their peers'.
#[test]
fn node_of_another_cluster_is_flagged_and_refused() {
    let lab = Lab::up(2);
    let certs = lab.dir.join("certs");
    run(command(drctl_bin(), lab.cwd()).args([
        "certs",
        "issue",
        "node-3",
        "--dir",
        certs.to_str().unwrap(),
        "--cluster-name",
        "other",
        "--san",
        "127.0.0.1",
    ]))
    .success();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = lab.cwd().join("node-3");
    run(command(drnode_bin(), lab.cwd())
        .args([
            "init",
            "--name",
            "node-3",
            "--cluster",
            "other",
            "--data-dir",
        ])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--certs-dir"])
        .arg(&certs)
        .arg("--passphrase-file")
        .arg(lab.dir.join("passphrase")))
    .success();
    let mut child = std::process::Command::new(drnode_bin())
        .args(["serve", "--data-dir"])
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut child);
    let url = format!("https://127.0.0.1:{port}");
    let text = std::fs::read_to_string(lab.cluster_file()).unwrap();
    let with3 = lab.dir.join("with-node-3.yaml");
    std::fs::write(
        &with3,
        format!("{text}- name: node-3\n  url: {url}\n  kind: drnode\n  promotable: true\n"),
    )
    .unwrap();
    let c = with3.to_str().unwrap();
    let check = wait_for("node-3 answering", DEADLINE, || {
        let r = lab.run(&["--cluster", c, "check"]);
        r.stdout().contains("belongs to cluster other").then_some(r)
    });
    let check = check.exit(1);
    assert!(check.stdout().contains("node-3"), "{}", check.dump());
    lab.run(&[
        "--cluster",
        c,
        "join",
        "node-3",
        "--primary",
        "node-1",
        "--yes",
    ])
    .exit(3)
    .stderr_has("cannot join cluster lab");
    // Told to follow node-1 directly, node-3 is refused by node-1: no member record, an event.
    let primary = node(&lab.status(), "node-1")["url"]
        .as_str()
        .unwrap()
        .to_string();
    lab.ok(&[
        "api",
        "POST",
        "/v1/admin/follow",
        "--node",
        &url,
        &format!(r#"{{"primary_url": "{primary}", "full_sync": true}}"#),
    ]);
    wait_for("node-1 refusing node-3", DEADLINE, || {
        lab.events("node-1")
            .iter()
            .any(|e| e["kind"] == "wrong_cluster")
            .then_some(())
    });
    let members = lab
        .ok(&["api", "GET", "/v1/members", "--node", "node-1"])
        .stdout();
    assert!(!members.contains("node-3"), "{members}");
    lab.ok(&["check"]);
    // A node whose configuration says lab but whose certificate was made for another cluster.
    run(command(drctl_bin(), lab.cwd()).args([
        "certs",
        "issue",
        "node-2",
        "--dir",
        certs.to_str().unwrap(),
        "--cluster-name",
        "other",
        "--san",
        "127.0.0.1",
    ]))
    .success();
    lab.ok(&["lab", "restart", "node-2"]);
    let r = lab.run(&["check"]).exit(1);
    assert!(
        r.stdout().contains("node-2 (https://127.0.0.1:")
            && r.stdout()
                .contains("presents a certificate of cluster other"),
        "{}",
        r.dump()
    );
}
