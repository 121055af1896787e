//! 389 Directory Server instances on real ns-slapd (`drctl lab up --kind 389ds`), driven through
//! the real drctl binary: status after a SIGKILL of the supplier, the forced failover (dry run,
//! refusals, run, rerun) with every acknowledged write kept, the old supplier that comes back
//! refused by every consumer, and its demotion with what only it held exported. One lab for
//! the whole sequence (each instance costs seconds); a second lab in `ds389_promotion.rs`.
//! Skipped, saying why, where 389-ds-base is not installed.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

pub(super) const DEADLINE: Duration = Duration::from_secs(60);

pub(super) fn ds_missing() -> bool {
    let found =
        Path::new("/usr/sbin/dscreate").is_file() && Path::new("/usr/sbin/ns-slapd").is_file();
    if !found {
        println!("skipped: 389 Directory Server not installed (apt-get install 389-ds-base)");
    }
    !found
}

/// A new lab of 3 instances, or None (said) when 389 Directory Server is not installed.
pub(super) fn ds_lab() -> Option<Lab> {
    if ds_missing() {
        return None;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    lab.ok(&["lab", "up", "--kind", "389ds", "--nodes", "3"]);
    Some(lab)
}

pub(super) fn url_of(lab: &Lab, node: &str) -> String {
    let s = lab.run(&["status", "--json"]).json();
    crate::support::node(&s, node)["url"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `ldapadd` of one entry as Directory Manager; whether the server acknowledged it.
pub(super) fn add(lab: &Lab, url: &str, uid: &str) -> bool {
    add_with(&lab.dir.join("dm.pw"), url, uid)
}

fn add_with(pw: &Path, url: &str, uid: &str) -> bool {
    use std::io::Write;
    let mut c = std::process::Command::new("ldapadd")
        .args(["-x", "-H", url, "-D", "cn=Directory Manager", "-y"])
        .arg(pw)
        // The lab's CA, for an ldaps:// url (`lab up --tls`).
        .env("LDAPTLS_CACERT", pw.with_file_name("ca.pem"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ldapadd (apt-get install ldap-utils)");
    // ldapadd may exit before reading (a server that refuses the bind): not acknowledged.
    let _ = write!(
        c.stdin.take().unwrap(),
        "dn: uid={uid},dc=drlab,dc=test\nobjectClass: top\nobjectClass: account\nuid: {uid}\n"
    );
    c.wait().unwrap().success()
}

pub(super) fn has(lab: &Lab, url: &str, uid: &str) -> bool {
    let out = std::process::Command::new("ldapsearch")
        .args(["-x", "-LLL", "-H", url, "-D", "cn=Directory Manager", "-y"])
        .arg(lab.dir.join("dm.pw"))
        .env("LDAPTLS_CACERT", lab.dir.join("ca.pem"))
        .args(["-b", "dc=drlab,dc=test", &format!("(uid={uid})"), "1.1"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!("uid={uid},"))
}

/// The lab over LDAPS (`lab up --tls`): drctl reads every instance over TLS checked against
/// the lab's CA (and reads none with another CA); a supplier that answers but cannot be read
/// (its CA wrong in the cluster file) is no reason to fail over; a failover's agreements
/// replicate over TLS, and the dead supplier's replica id is found by the LDAP port the cluster
/// file gives.
#[test]
fn ds389_over_ldaps_checks_the_ca_and_fails_over_with_agreements_over_tls() {
    if ds_missing() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    lab.ok(&["lab", "up", "--kind", "389ds", "--nodes", "3", "--tls"])
        .stdout_has("healthy");
    let s = lab.status();
    assert_eq!(s["healthy"], true, "{s}");
    let (u1, u2, u3) = (
        url_of(&lab, "node-1"),
        url_of(&lab, "node-2"),
        url_of(&lab, "node-3"),
    );
    for u in [&u1, &u2, &u3] {
        assert!(u.starts_with("ldaps://127.0.0.1:"), "{u}");
    }

    // Another CA: drctl talks to no instance, and says why.
    let other = lab.dir.join("other-ca.pem");
    run(std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not the lab CA", "-keyout"])
        .arg(lab.dir.join("other-ca.key"))
        .arg("-out")
        .arg(&other))
    .exit(0);
    let yaml = std::fs::read_to_string(lab.dir.join("cluster.yaml")).unwrap();
    let wrong = lab.dir.join("wrong-ca.yaml");
    std::fs::write(
        &wrong,
        yaml.replace("ca_file: ca.pem", "ca_file: other-ca.pem"),
    )
    .unwrap();
    let r = run(command(drctl_bin(), &lab.dir)
        .arg("--cluster")
        .arg(&wrong)
        .args(["status", "--json"]));
    let s = r.json();
    for n in s["nodes"].as_array().unwrap() {
        assert_eq!(n["reachable"], false, "{n}");
    }
    assert!(s.to_string().contains("certificate"), "{s}");
    // Only the supplier's CA wrong: it answers but cannot be read, so it may be taking writes;
    // a failover beside it would make two suppliers, and is refused, changing nothing.
    let blind = lab.dir.join("supplier-unreadable.yaml");
    std::fs::write(
        &blind,
        yaml.replacen("ca_file: ca.pem", "ca_file: other-ca.pem", 1),
    )
    .unwrap();
    let in_blind = |args: &[&str]| {
        run(command(drctl_bin(), &lab.dir)
            .arg("--cluster")
            .arg(&blind)
            .args(args))
    };
    in_blind(&["check"]).stdout_has("node-1: answers but cannot be read");
    in_blind(&["failover", "--to", "node-2"])
        .exit(3)
        .stderr_has("may be the supplier");
    in_blind(&["failover"]).exit(3);
    assert_eq!(supplier(&lab.status()), "node-1");

    assert!(add(&lab, &u1, "tls-before"));
    wait_for("the write on every consumer", DEADLINE, || {
        (has(&lab, &u2, "tls-before") && has(&lab, &u3, "tls-before")).then_some(())
    });
    lab.ok(&["lab", "kill", "node-1"]);
    lab.ok(&["failover"]);
    let s = lab.status();
    assert_eq!(supplier(&s), "node-2", "{s}");
    assert!(add(&lab, &u2, "tls-after"));
    wait_for(
        "node-2's write on node-3 over its TLS agreement",
        DEADLINE,
        || has(&lab, &u3, "tls-after").then_some(()),
    );
    let out = std::process::Command::new("ldapsearch")
        .args(["-x", "-LLL", "-H", &u2, "-D", "cn=Directory Manager", "-y"])
        .arg(lab.dir.join("dm.pw"))
        .env("LDAPTLS_CACERT", lab.dir.join("ca.pem"))
        .args(["-b", "cn=mapping tree,cn=config"])
        .args([
            "(objectClass=nsds5replicationagreement)",
            "nsDS5ReplicaTransportInfo",
        ])
        .output()
        .unwrap();
    let agreements = String::from_utf8_lossy(&out.stdout);
    assert!(
        agreements.contains("nsDS5ReplicaTransportInfo: SSL")
            && !agreements.contains("nsDS5ReplicaTransportInfo: LDAP"),
        "{agreements}"
    );
    // The dead supplier's replica id, named in the RUV by its plain LDAP port.
    lab.ok(&["remove-instance", "node-1", "--dry-run"])
        .stdout_has("clean replica id 1");
}

/// `drctl demote NODE --export FILE` (in the lab's working directory), which must succeed; the
/// export it wrote.
pub(super) fn demote_exporting(lab: &Lab, node: &str, file: &str) -> String {
    let export = lab.cwd().join(file);
    let r = lab
        .ok(&[
            "demote",
            node,
            "--export",
            export.to_str().unwrap(),
            "--yes",
            "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    std::fs::read_to_string(&export).unwrap()
}

pub(super) fn supplier(s: &Value) -> String {
    s["supplier"].as_str().unwrap_or_default().to_string()
}

#[test]
fn ds389_failover_keeps_every_write_and_the_old_supplier_is_refused() {
    if ds_missing() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    lab.ok(&["lab", "up", "--kind", "389ds", "--nodes", "3"])
        .stdout_has("healthy");

    // Status: one supplier, two consumers accepting its identity, the same keys for every node.
    let s = lab.status();
    assert_eq!(s["kind"], "389ds");
    assert_eq!(s["healthy"], true, "{s}");
    assert_eq!(supplier(&s), "node-1");
    for n in s["nodes"].as_array().unwrap() {
        assert_eq!(
            n["accepts"],
            serde_json::json!(["cn=repl-1,cn=config"]),
            "{n}"
        );
    }
    let (u1, u2, u3) = (
        url_of(&lab, "node-1"),
        url_of(&lab, "node-2"),
        url_of(&lab, "node-3"),
    );
    let acked: Vec<String> = (0..20)
        .map(|i| format!("w{i}"))
        .filter(|uid| add(&lab, &u1, uid))
        .collect();
    assert_eq!(acked.len(), 20, "node-1 refused writes");
    // Replicated before the crash: the test is about what the failover keeps, not about what a
    // crash loses.
    wait_for("the writes on every consumer", DEADLINE, || {
        acked
            .iter()
            .all(|w| has(&lab, &u2, w) && has(&lab, &u3, w))
            .then_some(())
    });

    ds389_sync_full_reinitializes_a_consumer_once_per_run_and_refuses_the_wrong_pair(
        &lab, &acked, &u3,
    );

    lab.ok(&["lab", "kill", "node-1"]);
    let dead = lab.run(&["status", "--json"]).json();
    assert_eq!(dead["healthy"], false);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(node(&dead, "node-1")),
        keys(node(&dead, "node-2")),
        "{dead}"
    );
    lab.run(&["check"])
        .exit(1)
        .stdout_has("no supplier answers")
        .stdout_has("drctl failover");
    let c = lab.ok(&["candidates", "--json"]).json();
    assert_eq!(c[0]["rank"], 1, "{c}");

    // A dry run changes nothing; a target that does not answer is refused, changing nothing.
    lab.ok(&["failover", "--dry-run"]);
    lab.run(&["failover", "--to", "node-1", "--yes"])
        .exit(3)
        .stderr_has("node-1 cannot be promoted: does not answer");
    lab.run(&["failover", "--force", "--yes"]).exit(2);
    let after_dry = lab.run(&["status", "--json"]).json();
    assert_eq!(node(&after_dry, "node-2")["role"], "consumer");
    assert_eq!(
        node(&after_dry, "node-3")["accepts"],
        serde_json::json!(["cn=repl-1,cn=config"]),
        "a dry run or a refusal moved the fence"
    );

    // The failover: node-2 (the first most advanced) supplies, with a new replica id.
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = wait_for("node-2 supplying a healthy node-3", DEADLINE, || {
        let s = lab.run(&["status", "--json"]).json();
        (supplier(&s) == "node-2" && node(&s, "node-3")["health"] == "green").then_some(s)
    });
    assert_eq!(node(&s, "node-2")["replica_id"], 2, "{s}");
    for w in &acked {
        assert!(has(&lab, &u2, w) && has(&lab, &u3, w), "{w} lost");
    }
    assert!(
        add(&lab, &u2, "after-failover"),
        "node-2 does not take writes"
    );
    wait_for("a write on node-2 to reach node-3", DEADLINE, || {
        has(&lab, &u3, "after-failover").then_some(())
    });
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");

    // The old supplier comes back with its agreements and takes a write: every consumer
    // refuses its updates, status names it, and the write reaches no one.
    ds389_old_supplier_that_returns_is_refused_by_every_consumer(&lab, &u1, &u2, &u3);

    // Its demotion: a dry run changes nothing; the run exports what only it holds (the write
    // it took, named), makes it a consumer of node-2 and re-initializes it; a rerun is done.
    lab.ok(&["demote", "node-1", "--dry-run"]);
    assert_eq!(node(&lab.status(), "node-1")["role"], "supplier");
    let ldif = demote_exporting(&lab, "node-1", "node-1.ldif");
    assert!(
        ldif.contains("dn: uid=split-brain,dc=drlab,dc=test\nchangetype: add"),
        "{ldif}"
    );
    assert!(
        !ldif.contains("uid=marker"),
        "exported a write node-2 has: {ldif}"
    );
    let s = wait_for("a healthy group after the demotion", DEADLINE, || {
        let s = lab.run(&["status", "--json"]).json();
        (s["healthy"] == true).then_some(s)
    });
    assert_eq!(node(&s, "node-1")["role"], "consumer", "{s}");
    assert!(
        !has(&lab, &u1, "split-brain"),
        "node-1 kept its divergent write"
    );
    assert!(
        has(&lab, &u1, "marker"),
        "node-1 was not re-initialized from node-2"
    );
    lab.run(&["status"]).stdout_has("healthy");
    let r = lab.ok(&["demote", "node-1", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
    assert!(add(&lab, &u2, "after-demote"));
    wait_for("a write on node-2 to reach node-1", DEADLINE, || {
        has(&lab, &u1, "after-demote").then_some(())
    });

    // A consumer killed and restarted is drained into by its data, not by the agreement.
    ds389_switchover_drains_into_a_restarted_consumer_by_what_it_holds(&lab, [&u1, &u2, &u3]);

    // And back: a switchover to node-1 under writes loses none of them.
    switch_back_under_writes_loses_no_acknowledged_write(&lab, [&u1, &u2, &u3]);

    // node-2 (once the supplier with replica id 2) dies for good: its removal deletes the
    // agreement to it and cleans replica id 2 from every RUV without crashing node-3.
    let s = lab.status();
    assert!(node(&s, "node-3")["ruv"].get("2").is_some(), "{s}");
    lab.ok(&["lab", "kill", "node-2"]);
    lab.run(&["remove-instance", "node-1", "--yes"])
        .exit(3)
        .stderr_has("node-1 answers: stop it first");
    lab.ok(&["remove-instance", "node-2", "--dry-run"]);
    assert!(node(&lab.status(), "node-3")["ruv"].get("2").is_some());
    let r = lab
        .ok(&["remove-instance", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    // The only problem left is node-2 itself, until the cluster file drops it.
    let s = wait_for("node-2 the only problem", DEADLINE, || {
        let s = lab.run(&["status", "--json"]).json();
        let p = s["problems"].as_array()?.clone();
        (p.len() == 1 && p[0].as_str()?.starts_with("node-2: does not answer")).then_some(s)
    });
    for n in ["node-1", "node-3"] {
        assert!(
            node(&s, n)["ruv"].get("2").is_none(),
            "{n} still lists replica id 2: {s}"
        );
    }
    assert!(add(&lab, &u1, "after-removal"));
    wait_for("a write on node-1 to reach node-3", DEADLINE, || {
        has(&lab, &u3, "after-removal").then_some(())
    });
    let r = lab
        .ok(&["remove-instance", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    two_suppliers_with_one_replica_id_are_neither_the_supplier(&lab, &u3);
    lab.ok(&["lab", "down"]);
}

/// A supplier's backup started as another instance takes its replica id: both write CSNs of
/// one id. Status took the last of them for the supplier; now neither is, and both are named.
/// `sync full`: a total update of a consumer from the supplier, one per run (the RUVs being
/// equal is no reason to skip what the operator asked for), proved by the mark the run leaves
/// on the agreement and by every acknowledged entry on the consumer after it.
fn ds389_sync_full_reinitializes_a_consumer_once_per_run_and_refuses_the_wrong_pair(
    lab: &Lab,
    acked: &[String],
    u3: &str,
) {
    let args = ["sync", "full", "--from", "node-1", "--to", "node-3"];
    let dry = lab
        .ok(&[&args[..], &["--dry-run", "--json"]].concat())
        .json();
    assert_eq!(dry["outcome"], "dry run", "{dry}");
    assert!(
        dry.to_string().contains("re-initialize node-3 from node-1"),
        "{dry}"
    );
    let mut runs = Vec::new();
    for _ in 0..2 {
        let r = lab.ok(&[&args[..], &["--yes", "--json"]].concat()).json();
        assert_eq!(r["outcome"], "succeeded", "{r}");
        let said = r.to_string();
        assert!(
            said.contains("the total update of node-3 from node-1 this run started ended"),
            "{r}"
        );
        runs.push(r["run_id"].clone());
        assert!(acked.iter().all(|w| has(lab, u3, w)), "{r}");
    }
    assert_ne!(runs[0], runs[1]);
    let s = lab.status();
    assert_eq!(s["healthy"], true, "{s}");
    lab.run(&[
        "sync", "full", "--from", "node-2", "--to", "node-3", "--yes",
    ])
    .exit(3)
    .stderr_has("node-2 is not the supplier (node-1 is)");
    lab.run(&[
        "sync", "full", "--from", "node-1", "--to", "node-1", "--yes",
    ])
    .exit(2)
    .stderr_has("name the same instance");
    lab.run(&["sync", "auto", "off", "node-3", "--yes"])
        .exit(2)
        .stderr_has("sync auto: a 389ds consumer is fed by the supplier's agreements");
}

fn two_suppliers_with_one_replica_id_are_neither_the_supplier(lab: &Lab, u3: &str) {
    use std::io::Write;
    let rid = node(&lab.status(), "node-1")["replica_id"]
        .as_u64()
        .unwrap();
    let mut c = std::process::Command::new("ldapmodify")
        .args(["-x", "-H", u3, "-D", "cn=Directory Manager", "-y"])
        .arg(lab.dir.join("dm.pw"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    write!(
        c.stdin.take().unwrap(),
        "dn: cn=replica,cn=dc\\3Ddrlab\\2Cdc\\3Dtest,cn=mapping tree,cn=config\nchangetype: modify\n\
         replace: nsDS5ReplicaType\nnsDS5ReplicaType: 3\n-\nreplace: nsDS5Flags\nnsDS5Flags: 1\n-\n\
         replace: nsDS5ReplicaId\nnsDS5ReplicaId: {rid}\n-\n"
    )
    .unwrap();
    assert!(c.wait().unwrap().success(), "node-3 kept its replica entry");
    let s = lab.run(&["status", "--json"]).json();
    assert!(s["supplier"].is_null(), "{s}");
    lab.run(&["check"]).exit(1).stdout_has(&format!(
        "node-1 and node-3 are suppliers with one replica id {rid}"
    ));
}

fn ds389_old_supplier_that_returns_is_refused_by_every_consumer(
    lab: &Lab,
    u1: &str,
    u2: &str,
    u3: &str,
) {
    lab.ok(&["lab", "restart", "node-1"]);
    assert!(
        add(lab, u1, "split-brain"),
        "the returning node-1 took no write"
    );
    // Its agreements tried and were refused: the condition, not a sleep.
    wait_for("node-1's agreements to be refused", DEADLINE, || {
        let s = lab.run(&["status", "--json"]).json();
        let agreements = node(&s, "node-1")["agreements"].as_array()?.clone();
        (agreements.len() == 2
            && agreements.iter().all(|a| {
                a["status"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("permission denied")
            }))
        .then_some(())
    });
    assert!(add(lab, u2, "marker"), "node-2 does not take writes");
    wait_for("node-2's write to reach node-3", DEADLINE, || {
        has(lab, u3, "marker").then_some(())
    });
    assert!(
        !has(lab, u2, "split-brain"),
        "node-2 took the old supplier's write"
    );
    assert!(
        !has(lab, u3, "split-brain"),
        "node-3 took the old supplier's write"
    );
    let s = lab.run(&["status", "--json"]).json();
    assert_eq!(supplier(&s), "node-2", "{s}");
    assert_eq!(node(&s, "node-1")["health"], "red", "{s}");
    lab.run(&["check"])
        .exit(1)
        .stdout_has("node-1: an old supplier (replica id 1) is back");
    // A rerun beside it is already done: the old supplier is no consumer to wait for.
    let r = lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

/// `ldapmodify` as Directory Manager; whether it succeeded.
pub(super) fn modify(lab: &Lab, url: &str, ldif: &str) -> bool {
    use std::io::Write;
    let mut c = std::process::Command::new("ldapmodify")
        .args(["-x", "-H", url, "-D", "cn=Directory Manager", "-y"])
        .arg(lab.dir.join("dm.pw"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ldapmodify (apt-get install ldap-utils)");
    let _ = write!(c.stdin.take().unwrap(), "{ldif}");
    c.wait().unwrap().success()
}

/// Chaos seed 7012: the supplier's `nsds5agmtmaxcsn` for a consumer is set when the supplier
/// logs a change, not when the consumer takes it. A switchover drained into a consumer that was
/// down and had just restarted (its supplier backing off), promoted it, and re-initialized the
/// old supplier from it: every write the consumer had missed was gone. Here the supplier backs
/// off for a minute, so the switchover starts while the consumer lacks the writes for sure.
fn ds389_switchover_drains_into_a_restarted_consumer_by_what_it_holds(
    lab: &Lab,
    [u1, u2, u3]: [&str; 3],
) {
    assert_eq!(supplier(&lab.status()), "node-2");
    let replica = "cn=replica,cn=dc\\3Ddrlab\\2Cdc\\3Dtest,cn=mapping tree,cn=config";
    let agmt = format!("cn=node-2-to-node-3,{replica}");
    // (Set on the replica entry: an agreement refuses it. Max first: min may not exceed it.)
    assert!(modify(
        lab,
        u2,
        &format!(
            "dn: {replica}\nchangetype: modify\nreplace: nsds5ReplicaBackoffMax\n\
             nsds5ReplicaBackoffMax: 120\n-\nreplace: nsds5ReplicaBackoffMin\n\
             nsds5ReplicaBackoffMin: 60\n"
        )
    ));
    lab.ok(&["lab", "kill", "node-3"]);
    let gap: Vec<String> = (0..5).map(|i| format!("gap{i}")).collect();
    for w in &gap {
        assert!(add(lab, u2, w), "node-2 refused {w}");
    }
    wait_for("node-2 to fail to reach node-3", DEADLINE, || {
        let out = std::process::Command::new("ldapsearch")
            .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", u2, "-D"])
            .args(["cn=Directory Manager", "-y"])
            .arg(lab.dir.join("dm.pw"))
            .args(["-b", &agmt, "-s", "base", "nsds5replicaLastUpdateStatus"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .contains("Can't contact")
            .then_some(())
    });
    lab.ok(&["lab", "restart", "node-3"]);
    assert!(
        !has(lab, u3, "gap0"),
        "node-2 reached node-3 despite its backoff"
    );
    let r = lab
        .ok(&["switchover", "--to", "node-3", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    for u in [u1, u2, u3] {
        for w in &gap {
            assert!(has(lab, u, w), "{w} lost on {u}");
        }
    }
}

fn switch_back_under_writes_loses_no_acknowledged_write(lab: &Lab, urls: [&str; 3]) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
        let pw = lab.dir.join("dm.pw");
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let uid = format!("sw{i}");
                // Whichever instance takes it: consumers refer it, a read-only supplier refuses.
                if urls.iter().any(|u| add_with(&pw, u, &uid)) {
                    acked.lock().unwrap().push(uid);
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    wait_for("the writer to get writes acknowledged", DEADLINE, || {
        (acked.lock().unwrap().len() >= 5).then_some(())
    });
    lab.run(&["switchover", "--to", "nosuch", "--yes"])
        .exit(2)
        .stderr_has("unknown node 'nosuch'");
    let r = lab
        .ok(&["switchover", "--to", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let n = acked.lock().unwrap().len();
    wait_for("writes acknowledged after the switchover", DEADLINE, || {
        (acked.lock().unwrap().len() >= n + 5).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    let s = wait_for("node-1 supplying a healthy group", DEADLINE, || {
        let s = lab.run(&["status", "--json"]).json();
        (supplier(&s) == "node-1" && s["healthy"] == true).then_some(s)
    });
    assert_eq!(node(&s, "node-2")["role"], "consumer", "{s}");
    wait_for(
        "every acknowledged write on every instance",
        DEADLINE,
        || {
            acked
                .iter()
                .all(|w| urls.iter().all(|u| has(lab, u, w)))
                .then_some(())
        },
    );
    let r = lab
        .ok(&["switchover", "--to", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

#[test]
fn ds389_bad_cluster_files_are_named_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("c.yaml");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "secret").unwrap();
    let entry = |extra: &str| {
        format!(
            "cluster: c\nnodes:\n- name: a\n  kind: 389ds\n  url: ldap://127.0.0.1:1\n  bind_dn: cn=Directory Manager\n  password_file: pw\n  suffix: dc=x\n  replication_password_file: pw\n{extra}"
        )
    };
    for (yaml, needle) in [
        (
            entry("").replace("ldap://127.0.0.1:1", "https://127.0.0.1:1"),
            "url: 'https://127.0.0.1:1': a 389ds instance needs ldap://HOST:PORT",
        ),
        (
            entry("").replace("  suffix: dc=x\n", ""),
            "suffix: required for `kind: 389ds`",
        ),
        (
            entry("").replace("  replication_password_file: pw\n", ""),
            "replication_password_file: required",
        ),
        (entry("  start_command: \"\"\n"), "start_command: empty"),
        (entry("  data_dir: x\n"), "data_dir: only for"),
        (
            entry("").replace("ldap://", "ldaps://"),
            "ca_file: required for ldaps://",
        ),
        (
            entry("  ca_file: pw\n").replace("ldap://", "ldaps://"),
            "ldap_port: required for ldaps://",
        ),
        (
            entry("  ca_file: pw\n"),
            "ca_file: only for an ldaps:// url",
        ),
        (
            entry("  ldap_port: 389\n"),
            "ldap_port: only for an ldaps:// url",
        ),
    ] {
        std::fs::write(&file, yaml).unwrap();
        run(command(drctl_bin(), tmp.path())
            .arg("--cluster")
            .arg(&file)
            .arg("status"))
        .exit(2)
        .stderr_has(needle);
    }
}

/// The last wait of a repoint holds the consumers to the supplier's newest change when it
/// began, and wakes no agreement that is sending. Before: held to the newest change of the
/// moment, it chased a steady write load and timed out while the writes ran (4 `ldapadd`
/// streams, `--wait 2s`: 3 of 5 repoints); and its wake disabled agreements that were sending,
/// which under that load took 6.8 s and 10.1 s, past the operation's timeout, and left
/// `node-1-to-node-3` disabled.
#[test]
fn ds389_a_repoint_under_steady_writes_waits_for_the_head_it_began_with_and_wakes_no_busy_agreement(
) {
    let Some(lab) = ds_lab() else {
        return;
    };
    let u1 = url_of(&lab, "node-1");
    // Long enough to outlast the repoint: they are stopped once it returned.
    let mut writers: Vec<std::process::Child> = (0..4)
        .map(|w| {
            let ldif: String = (0..8000)
                .map(|i| {
                    format!(
                        "dn: uid=st{w}-{i},dc=drlab,dc=test\nobjectClass: top\n\
                         objectClass: account\nuid: st{w}-{i}\n\n"
                    )
                })
                .collect();
            let file = lab.dir.join(format!("stream-{w}.ldif"));
            std::fs::write(&file, ldif).unwrap();
            std::process::Command::new("ldapadd")
                .args(["-x", "-H", &u1, "-D", "cn=Directory Manager", "-y"])
                .arg(lab.dir.join("dm.pw"))
                .arg("-f")
                .arg(&file)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("ldapadd (apt-get install ldap-utils)")
        })
        .collect();
    wait_for("the streams under way on every consumer", DEADLINE, || {
        ["node-2", "node-3"]
            .iter()
            .all(|n| has(&lab, &url_of(&lab, n), "st0-50"))
            .then_some(())
    });
    let r = lab.run(&["repoint", "--primary", "node-1", "--yes", "--wait", "30s"]);
    let still_writing = writers.iter_mut().any(|w| w.try_wait().unwrap().is_none());
    for w in &mut writers {
        let _ = w.kill();
        w.wait().unwrap();
    }
    r.success();
    assert!(
        still_writing,
        "the streams ended before the repoint did: it proved nothing under writes"
    );
    // No agreement left disabled: the group is healthy once the consumers replayed the rest.
    wait_for("a healthy group", DEADLINE, || {
        (lab.status()["healthy"] == true).then_some(())
    });
    lab.ok(&["lab", "down"]);
}
