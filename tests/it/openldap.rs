//! OpenLDAP procedures on real slapd (`drctl lab up --kind openldap`), driven through the real
//! drctl binary and the real ldap-utils: forced failover after kill -9, live demotion of a
//! provider that is behind, export + reseed of a diverged one, switchover under writes,
//! reruns, refusals and bad input. Skipped, saying why, where slapd is not installed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);
const ADMIN: &str = "cn=admin,dc=example,dc=com";

fn slapd_missing() -> bool {
    let missing = ["/usr/sbin/slapd", "/usr/bin/ldapadd", "/usr/bin/ldapsearch"]
        .iter()
        .any(|p| !Path::new(p).exists());
    if missing {
        println!("skipped: slapd not installed (apt-get install slapd ldap-utils)");
    }
    missing
}

/// A running slapd lab in a temporary directory, torn down on drop.
struct Ldap {
    lab: Lab,
    urls: std::collections::BTreeMap<String, String>,
}

impl Ldap {
    fn up() -> Ldap {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("lab");
        let lab = Lab { tmp, dir };
        lab.ok(&["lab", "up", "--kind", "openldap", "--nodes", "3"]);
        let s = lab.status();
        let urls = s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["name"].as_str().unwrap().to_string(),
                    n["url"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        Ldap { lab, urls }
    }
    fn password(&self) -> String {
        std::fs::read_to_string(self.lab.dir.join("password")).unwrap()
    }
    fn url(&self, node: &str) -> String {
        self.urls[node].clone()
    }
    /// ldapadd of `uid=NAME` entries on `node`; true when acknowledged.
    fn add(&self, node: &str, uids: &[&str]) -> bool {
        let ldif: String = uids
            .iter()
            .map(|u| format!("dn: uid={u},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: {u}\ncn: {u}\nsn: test\nuserPassword: pw-{u}\n\n"))
            .collect();
        self.ldapadd(&self.url(node), &ldif)
    }
    fn ldapadd(&self, url: &str, ldif: &str) -> bool {
        use std::io::Write;
        let mut c = Command::new("ldapadd")
            .args(["-x", "-H", url, "-D", ADMIN, "-w", &self.password()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
        c.wait().unwrap().success()
    }
    /// An ldapmodify on `node`'s cn=config that must succeed.
    fn config_modify(&self, node: &str, ldif: &str) {
        use std::io::Write;
        let mut c = Command::new("ldapmodify")
            .args([
                "-x",
                "-H",
                &self.url(node),
                "-D",
                "cn=admin,cn=config",
                "-w",
                &self.password(),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
        assert!(
            c.wait().unwrap().success(),
            "ldapmodify on {node} failed: {ldif}"
        );
    }
    /// The uids present on `node`.
    fn uids(&self, node: &str) -> HashSet<String> {
        let out = Command::new("ldapsearch")
            .args([
                "-x",
                "-LLL",
                "-H",
                &self.url(node),
                "-D",
                ADMIN,
                "-w",
                &self.password(),
            ])
            .args(["-b", "ou=people,dc=example,dc=com", "(uid=*)", "uid"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("uid: "))
            .map(str::to_string)
            .collect()
    }
    /// Waits until the group is healthy with equal fingerprints on every node.
    fn converged(&self) -> Value {
        self.lab.wait_converged(DEADLINE)
    }
    /// Makes `node` lose the entries `uid=U` while keeping its contextCSN, offline (slapcat,
    /// drop, slapadd): what a consumer is left with when syncrepl skipped a write below its
    /// cookie (a provider killed right after out-of-order commits). Syncrepl never resends it.
    fn lose_quietly(&self, node: &str, uids: &[&str]) {
        self.lab.ok(&["lab", "stop", node]);
        let d = self.lab.dir.join(node);
        let conf = d.join("slapd.d");
        let dump = Command::new("slapcat")
            .arg("-F")
            .arg(&conf)
            .args(["-b", "dc=example,dc=com"])
            .output()
            .unwrap();
        assert!(dump.status.success(), "slapcat {node}: {dump:?}");
        let text = String::from_utf8(dump.stdout).unwrap();
        let kept: Vec<&str> = text
            .split("\n\n")
            .filter(|e| !uids.iter().any(|u| e.starts_with(&format!("dn: uid={u},"))))
            .collect();
        assert_eq!(
            text.split("\n\n").count() - kept.len(),
            uids.len(),
            "{node} holds each of {uids:?}"
        );
        let ldif = d.join("kept.ldif");
        std::fs::write(&ldif, kept.join("\n\n")).unwrap();
        for f in std::fs::read_dir(d.join("db")).unwrap() {
            std::fs::remove_file(f.unwrap().path()).unwrap();
        }
        let add = Command::new("slapadd")
            .args(["-q", "-w", "-F"])
            .arg(&conf)
            .args(["-b", "dc=example,dc=com", "-l"])
            .arg(&ldif)
            .output()
            .unwrap();
        assert!(add.status.success(), "slapadd {node}: {add:?}");
        self.lab.ok(&["lab", "restart", node]);
    }
    /// Adds `uid=U` to `node` offline with slapadd and no `-w`: the entry (its entryCSN now,
    /// under `node`'s serverID) is in the data, the contextCSN is not moved. A provider killed
    /// (`kill -9`) before its contextCSN checkpoint comes back like this.
    fn add_unannounced(&self, node: &str, uid: &str) {
        let sid = node_of(&self.lab.status(), node)["server_id"]
            .as_u64()
            .expect("server_id");
        self.lab.ok(&["lab", "stop", node]);
        let d = self.lab.dir.join(node);
        let now = time_now_csn();
        let ldif = d.join("unannounced.ldif");
        std::fs::write(
            &ldif,
            format!(
                "dn: uid={uid},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\n\
                 uid: {uid}\ncn: {uid}\nsn: test\nentryCSN: {now}#000000#{sid:03x}#000000\n\n"
            ),
        )
        .unwrap();
        let add = Command::new("slapadd")
            .arg("-F")
            .arg(d.join("slapd.d"))
            .args(["-b", "dc=example,dc=com", "-l"])
            .arg(&ldif)
            .output()
            .unwrap();
        assert!(add.status.success(), "slapadd {node}: {add:?}");
        self.lab.ok(&["lab", "restart", node]);
    }
    /// Role and fingerprint of every node: what a refusal or a rerun must not change.
    fn shape(&self) -> Vec<(Value, Value, Value)> {
        let s = self.lab.status();
        s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["name"].clone(), n["role"].clone(), n["digest"].clone()))
            .collect()
    }
}

/// A CSN timestamp for now (`YYYYmmddHHMMSS.ffffffZ`), from date(1).
fn time_now_csn() -> String {
    let out = Command::new("date")
        .args(["-u", "+%Y%m%d%H%M%S.%6NZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn node_of<'a>(s: &'a Value, name: &str) -> &'a Value {
    node(s, name)
}

fn uids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:04}")).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn openldap_failover_by_csn_after_kill9_then_behind_provider_demoted_live() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["first"]));
    l.converged();
    // node-3 misses the last writes: the new provider must be node-2, chosen by CSN.
    l.lab.ok(&["lab", "kill", "node-3"]);
    let late = uids("late", 20);
    assert!(l.add("node-1", &refs(&late)));
    wait_for("node-2 to hold the late writes", DEADLINE, || {
        l.uids("node-2").contains("late0019").then_some(())
    });
    l.lab.ok(&["lab", "kill", "node-1"]);
    l.lab.ok(&["lab", "restart", "node-3"]);
    let before = l.shape();
    l.lab
        .run(&["failover", "--to", "node-3", "--yes"])
        .exit(3)
        .stderr_has("newer writes");
    assert_eq!(l.shape(), before, "a refused failover changed something");
    let dry = l.lab.ok(&["failover", "--dry-run", "--json"]).json();
    assert_eq!(dry["outcome"], "dry run");
    assert_eq!(l.shape(), before, "a dry run changed something");
    let r = l.lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(r["runbook"], "forced-failover", "{r}");
    assert_eq!(procedure_actions(&r)[1]["args"]["node"], "node-2", "{r}");
    let r = l.lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
    // New writes on the new provider reach the repointed consumer.
    assert!(l.add("node-2", &["after-failover"]));
    wait_for("node-3 to follow node-2", DEADLINE, || {
        let u = l.uids("node-3");
        (u.contains("after-failover") && u.contains("late0019")).then_some(())
    });
    // The old provider comes back behind (it missed after-failover): live demotion.
    l.lab.ok(&["lab", "restart", "node-1"]);
    let s = l.lab.status();
    assert_eq!(node_of(&s, "node-1")["role"], "provider");
    assert_eq!(node_of(&s, "node-1")["position"], "behind", "{s}");
    let r = l.lab.ok(&["demote", "node-1", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = l.converged();
    assert_eq!(node_of(&s, "node-1")["role"], "consumer");
    assert_eq!(node_of(&s, "node-1")["primary"], "node-2");
    assert!(l.uids("node-1").contains("after-failover"));
    let r = l.lab.ok(&["demote", "node-1", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

#[test]
fn openldap_diverged_provider_exported_reseeded_and_export_replays() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &refs(&uids("base", 10))));
    l.converged();
    l.lab.ok(&["lab", "kill", "node-1"]);
    l.lab.ok(&["failover", "--yes"]);
    assert!(l.add("node-2", &["on-new-provider"]));
    // The old provider restarts and takes writes that never replicate.
    l.lab.ok(&["lab", "restart", "node-1"]);
    let split = uids("split", 3);
    assert!(l.add("node-1", &refs(&split)));
    let s = l.lab.status();
    assert_eq!(
        node_of(&s, "node-1")["position"]["diverged"],
        serde_json::json!(["001"]),
        "{s}"
    );
    // Without --yes and without a terminal it refuses, changing nothing.
    let before = l.shape();
    l.lab
        .run(&["demote", "node-1"])
        .exit(3)
        .stderr_has("uid=split0000");
    assert_eq!(l.shape(), before);
    let export: PathBuf = l.lab.cwd().join("node-1-divergent.ldif");
    let r = l
        .lab
        .ok(&[
            "demote",
            "node-1",
            "--yes",
            "--json",
            "--export",
            export.to_str().unwrap(),
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(r["runbook"], "demote-old-primary", "{r}");
    let note = procedure_actions(&r)[0]["note"]
        .as_str()
        .unwrap()
        .to_string();
    for u in &split {
        assert!(
            note.contains(&format!("uid={u},")),
            "the export note does not name {u}: {note}"
        );
    }
    let text = std::fs::read_to_string(&export).unwrap();
    let dns: Vec<&str> = text.lines().filter(|l| l.starts_with("dn: ")).collect();
    assert_eq!(dns.len(), 3, "exactly the divergent entries: {text}");
    let s = l.converged();
    assert_eq!(node_of(&s, "node-1")["role"], "consumer");
    let on1 = l.uids("node-1");
    assert!(
        on1.contains("on-new-provider") && !on1.contains("split0000"),
        "node-1 was not reseeded"
    );
    let r = l.lab.ok(&["demote", "node-1", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "already done", "{r}");
    // The export replays cleanly on the provider and reaches everyone.
    assert!(
        l.ldapadd(&l.url("node-2"), &text),
        "ldapadd of the export failed"
    );
    wait_for("the replayed entries on every node", DEADLINE, || {
        ["node-1", "node-2", "node-3"]
            .iter()
            .all(|n| l.uids(n).contains("split0002"))
            .then_some(())
    });
    l.converged();
}

#[test]
fn openldap_switchover_under_writes_keeps_every_acknowledged_write() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    let urls: Vec<String> = ["node-1", "node-2", "node-3"]
        .iter()
        .map(|n| l.url(n))
        .collect();
    let pw = l.password();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, urls, pw) = (stop.clone(), urls.clone(), pw.clone());
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 5000 {
                let uid = format!("w{i:05}");
                let ldif = format!("dn: uid={uid},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: w\nsn: w\n\n");
                // The first server that acknowledges wins; consumers answer with a referral.
                if urls.iter().any(|u| ldapadd_with(u, &pw, &ldif)) {
                    acked.push(uid);
                    i += 1;
                }
            }
            acked
        })
    };
    wait_for("writes under way", DEADLINE, || {
        l.uids("node-1").contains("w00020").then_some(())
    });
    let r = l
        .lab
        .ok(&["switchover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let count = || {
        l.uids("node-2")
            .iter()
            .filter(|u| u.starts_with('w'))
            .count()
    };
    let at_switch = count();
    wait_for("writes on the new provider", DEADLINE, || {
        (count() >= at_switch + 20).then_some(())
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked = writer.join().unwrap();
    let s = l.converged();
    assert_eq!(node_of(&s, "node-2")["role"], "provider");
    assert_eq!(node_of(&s, "node-1")["role"], "consumer");
    assert_eq!(node_of(&s, "node-3")["primary"], "node-2");
    let present = l.uids("node-2");
    let missing: Vec<&String> = acked.iter().filter(|u| !present.contains(*u)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    let r = l
        .lab
        .ok(&["switchover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

fn ldapadd_with(url: &str, pw: &str, ldif: &str) -> bool {
    use std::io::Write;
    let mut c = Command::new("ldapadd")
        .args(["-x", "-H", url, "-D", ADMIN, "-w", pw])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
    c.wait().unwrap().success()
}

#[test]
fn openldap_refusals_safety_checks_and_bad_input() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    l.converged();
    let before = l.shape();
    l.lab
        .run(&["switchover", "--to", "node-9", "--yes"])
        .exit(2);
    l.lab
        .run(&["repoint", "--primary", "node-2", "--yes"])
        .exit(3)
        .stderr_has("not a provider");
    l.lab
        .run(&["failover", "--to", "node-3", "--yes"])
        .exit(3)
        .stderr_has("answers");
    l.lab
        .run(&[
            "switchover",
            "--to",
            "node-2",
            "--yes",
            "--expect-primary",
            "node-3",
        ])
        .exit(3);
    l.lab
        .run(&["switchover", "--to", "node-2", "--expect-epoch", "1"])
        .exit(2);
    // A provider that answers but refuses our bind is not lost: no failover.
    let yaml = std::fs::read_to_string(l.lab.cluster_file()).unwrap();
    let wrong = yaml.replacen("password_file: password", "password_env: WRONG_PW", 1);
    let bad_file = l.lab.dir.join("wrong-password.yaml");
    std::fs::write(&bad_file, wrong).unwrap();
    let mut c = l.lab.drctl(&["failover", "--yes"]);
    c.env("WRONG_PW", "not-the-password")
        .arg("--cluster")
        .arg(&bad_file);
    run(c).exit(3).stderr_has("answers but refuses");
    assert_eq!(l.shape(), before, "a refusal changed something");
    let r = l
        .lab
        .ok(&["repoint", "--primary", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    // A consumer that could be promoted without the replicator's size limit: `check` says so.
    let mut c = Command::new("ldapmodify");
    c.args([
        "-x",
        "-H",
        &l.url("node-3"),
        "-D",
        "cn=admin,cn=config",
        "-w",
        &l.password(),
    ]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcLimits\nolcLimits: {0}dn.exact=\"cn=admin,cn=config\" size.hard=unlimited size.soft=unlimited\n").unwrap();
    assert!(child.wait().unwrap().success());
    let out = l.lab.run(&["check"]).exit(1).stdout_has("size limit");
    assert!(
        out.stdout().contains("node-3") && out.stdout().contains("fix:"),
        "{}",
        out.stdout()
    );
    // A syncprov without olcSpCheckpoint, and two servers sharing a serverID.
    l.config_modify("node-1", "dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config\nchangetype: modify\ndelete: olcSpCheckpoint\n");
    l.config_modify(
        "node-3",
        "dn: cn=config\nchangetype: modify\nreplace: olcServerID\nolcServerID: 2\n",
    );
    let problems = l.lab.run(&["check", "--json"]).exit(1).json()["problems"].to_string();
    assert!(problems.contains("olcSpCheckpoint: 1 1"), "{problems}");
    assert!(
        problems.contains("node-2, node-3 share olcServerID 2"),
        "{problems}"
    );
}

#[test]
fn openldap_nodes_of_a_mixed_cluster_file_are_chosen_with_kind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.yaml");
    std::fs::write(
        &file,
        "cluster: mixed\ntls: {ca: ca.pem}\nnodes:\n- {name: web-1, url: 'https://127.0.0.1:1'}\n\
         - {name: dir-1, kind: openldap, url: 'ldap://127.0.0.1:1', bind_dn: 'cn=admin,cn=config', password_env: DIR_PW, suffix: 'dc=x'}\n",
    )
    .unwrap();
    let mut c = command(drctl_bin(), dir.path());
    c.env("DIR_PW", "secret").arg("--cluster").arg(&file);
    c.args([
        "--kind",
        "openldap",
        "--timeout",
        "200ms",
        "check",
        "--json",
    ]);
    let out = run(c).exit(1);
    let problems = out.json()["problems"].to_string();
    assert!(
        problems.contains("dir-1: does not answer") && !problems.contains("web-1"),
        "{problems}"
    );
}

#[test]
fn openldap_cluster_file_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.yaml");
    let cases = [
        ("cluster: x\nnodes:\n- {name: a, kind: openldap, url: 'ldap://127.0.0.1:1', bind_dn: 'cn=admin,cn=config', password_env: X}\n", "nodes[0].suffix"),
        ("cluster: x\nnodes:\n- {name: a, kind: openldap, url: 'https://h:1', bind_dn: 'cn=a,cn=config', password_env: X, suffix: 'dc=x'}\n", "nodes[0].url"),
        ("cluster: x\nnodes:\n- {name: a, kind: openldap, url: 'ldap://h:1', bind_dn: 'cn=a,cn=config', password_env: X, suffix: 'dc=x', colour: red}\n", "colour"),
        ("cluster: x\nnodes:\n- {name: a, url: 'https://h:1', suffix: 'dc=x'}\n", "nodes[0].suffix: only for"),
    ];
    for (yaml, needle) in cases {
        std::fs::write(&file, yaml).unwrap();
        let mut c = command(drctl_bin(), dir.path());
        c.arg("--cluster").arg(&file).arg("status");
        run(c).exit(2).stderr_has(needle);
    }
}

#[test]
fn openldap_consumer_down_during_switchover_is_repointed_afterwards() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["before"]));
    l.converged();
    // node-3 hangs (SIGSTOP): the switchover goes on without it and says so.
    l.lab.ok(&["lab", "pause", "node-3"]);
    let r = l
        .lab
        .ok(&[
            "--timeout",
            "300ms",
            "switchover",
            "--to",
            "node-2",
            "--yes",
            "--json",
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let last = procedure_actions(&r).last().unwrap().clone();
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains("node-3 does not answer"),
        "{r}"
    );
    l.lab.ok(&["lab", "resume", "node-3"]);
    assert!(l.add("node-2", &["after"]));
    // node-3 still follows node-1 (now a consumer itself): status says so; repoint fixes it.
    let s = l.lab.status();
    assert_eq!(node_of(&s, "node-3")["primary"], "node-1", "{s}");
    assert_eq!(node_of(&s, "node-3")["health"], "red", "{s}");
    let dry = l
        .lab
        .ok(&["repoint", "--primary", "node-2", "--dry-run", "--json"])
        .json();
    assert_eq!(dry["runbook"], "repoint-primary", "{dry}");
    let step3 = procedure_actions(&dry)
        .into_iter()
        .find(|s| s["args"]["node"] == "node-3");
    assert_eq!(step3.unwrap()["outcome"], "would run", "{dry}");
    let r = l
        .lab
        .ok(&["repoint", "--primary", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = l.converged();
    assert_eq!(node_of(&s, "node-3")["primary"], "node-2");
    assert!(l.uids("node-3").contains("after"));
    let r = l
        .lab
        .ok(&["repoint", "--primary", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

/// A switchover that died part-way (reproduced by making its first changes by hand) is finished
/// by running the same command again.
#[test]
fn openldap_switchover_stopped_part_way_is_finished_by_a_rerun() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["one"]));
    l.converged();
    let db = "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\n";
    // Died right after freezing the provider.
    l.config_modify(
        "node-1",
        &format!("{db}replace: olcReadOnly\nolcReadOnly: TRUE\n"),
    );
    let r = l
        .lab
        .ok(&["switchover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(procedure_actions(&r)[0]["outcome"], "already done", "{r}");
    l.converged();
    // Died right after promoting the target: two providers, the old one read-only.
    l.config_modify(
        "node-2",
        &format!("{db}replace: olcReadOnly\nolcReadOnly: TRUE\n"),
    );
    l.config_modify(
        "node-1",
        &format!("{db}delete: olcUpdateRef\n-\ndelete: olcSyncrepl\n"),
    );
    let r = l
        .lab
        .ok(&["switchover", "--to", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = l.converged();
    assert_eq!(node_of(&s, "node-1")["role"], "provider");
    for n in ["node-2", "node-3"] {
        assert_eq!(node_of(&s, n)["primary"], "node-1", "{s}");
        assert_eq!(node_of(&s, n)["read_only"], false, "{s}");
    }
    assert!(l.add("node-1", &["two"]));
    wait_for("the new write everywhere", DEADLINE, || {
        ["node-2", "node-3"]
            .iter()
            .all(|n| l.uids(n).contains("two"))
            .then_some(())
    });
}

impl Ldap {
    /// Makes `node` a consumer of `provider` by hand (what the old `repoint` did toward a stale
    /// provider): its own olcSyncrepl with the provider= URL replaced, then olcUpdateRef.
    fn follow_by_hand(&self, node: &str, provider: &str) {
        let out = Command::new("ldapsearch")
            .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &self.url(node)])
            .args(["-D", "cn=admin,cn=config", "-w", &self.password()])
            .args([
                "-b",
                "olcDatabase={1}mdb,cn=config",
                "-s",
                "base",
                "olcSyncrepl",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix("olcSyncrepl: "))
            .unwrap_or_else(|| panic!("{node} has no olcSyncrepl: {text}"));
        let old = value
            .split_whitespace()
            .find_map(|w| w.strip_prefix("provider="))
            .unwrap();
        let value = value.replacen(old, &self.url(provider), 1);
        self.config_modify(
            node,
            &format!(
                "dn: olcDatabase={{1}}mdb,cn=config\nchangetype: modify\nreplace: olcSyncrepl\nolcSyncrepl: {value}\n-\nreplace: olcUpdateRef\nolcUpdateRef: {}\n",
                self.url(provider)
            ),
        );
    }
}

/// Issue 1: the provider is the one promoted last, not the one most consumers follow. A consumer
/// that was down during the failover comes back following the old provider: `check` said to
/// demote the new provider (every add since the failover would have gone to an LDIF export).
#[test]
fn openldap_provider_promoted_last_wins_over_a_stale_provider_a_returning_consumer_follows() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["base"]));
    l.converged();
    l.lab.ok(&["lab", "kill", "node-3"]);
    l.lab.ok(&["lab", "pause", "node-1"]);
    let r = l
        .lab
        .ok(&["--timeout", "300ms", "failover", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let since = uids("since", 5);
    assert!(l.add("node-2", &refs(&since)));
    l.lab.ok(&["lab", "resume", "node-1"]);
    l.lab.ok(&["lab", "restart", "node-3"]);
    let s = l.lab.status();
    assert_eq!(s["provider"], "node-2", "{s}");
    let check = l.lab.run(&["check"]).exit(1);
    let text = format!("{}{}", check.stdout(), check.stderr());
    assert!(
        !text.contains("drctl demote node-2"),
        "check says to demote the new provider: {text}"
    );
    assert!(text.contains("drctl demote node-1"), "{text}");
    assert!(text.contains("repoint --primary node-2"), "{text}");
    // What check says works and keeps every add since the failover.
    l.lab.ok(&["demote", "node-1", "--yes"]);
    l.lab.ok(&["repoint", "--primary", "node-2", "--yes"]);
    let s = l.converged();
    assert_eq!(s["provider"], "node-2", "{s}");
    for n in ["node-1", "node-2", "node-3"] {
        let u = l.uids(n);
        assert!(
            since.iter().all(|x| u.contains(x)) && u.contains("base"),
            "{n} lacks writes: {u:?}"
        );
    }
}

/// Issue 2: `repoint` toward a stale old provider is refused (it left consumers diverged for
/// good), and a diverged consumer is demoted: its own entries exported, then reseeded (the
/// convergence check used to fail the run before the export even started).
#[test]
fn openldap_repoint_to_stale_provider_refused_and_diverged_consumer_exported_and_reseeded() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["base"]));
    l.converged();
    l.lab.ok(&["lab", "kill", "node-1"]);
    l.lab.ok(&["failover", "--yes"]);
    assert!(l.add("node-2", &["new0", "new1"]));
    wait_for("node-3 to hold node-2's adds", DEADLINE, || {
        l.uids("node-3").contains("new1").then_some(())
    });
    l.lab.ok(&["lab", "restart", "node-1"]);
    let before = l.shape();
    l.lab
        .run(&["repoint", "--primary", "node-1", "--yes"])
        .exit(3)
        .stderr_has("node-1 lacks writes");
    l.lab
        .run(&["demote", "node-3", "--to", "node-1", "--yes"])
        .exit(3)
        .stderr_has("lacks writes the provider node-2 holds");
    assert_eq!(l.shape(), before, "a refusal changed something");
    // What the old repoint did: node-3 follows the stale node-1, which takes writes.
    l.follow_by_hand("node-3", "node-1");
    let split = uids("split", 3);
    assert!(l.add("node-1", &refs(&split)));
    wait_for("node-3 to take node-1's split writes", DEADLINE, || {
        l.uids("node-3").contains("split0002").then_some(())
    });
    let s = l.lab.status();
    assert_eq!(s["provider"], "node-2", "{s}");
    assert_eq!(
        node_of(&s, "node-3")["position"]["diverged"],
        serde_json::json!(["001"]),
        "{s}"
    );
    let export: PathBuf = l.lab.cwd().join("node-3-divergent.ldif");
    let r = l
        .lab
        .ok(&[
            "demote",
            "node-3",
            "--yes",
            "--json",
            "--export",
            export.to_str().unwrap(),
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let text = std::fs::read_to_string(&export).unwrap();
    for u in &split {
        assert!(text.contains(&format!("dn: uid={u},")), "{text}");
    }
    let on3 = l.uids("node-3");
    assert!(
        on3.contains("new1") && !on3.contains("split0000"),
        "node-3 was not reseeded from node-2: {on3:?}"
    );
    // The stale provider itself: diverged too, exported and reseeded.
    let r = l.lab.ok(&["demote", "node-1", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = l.converged();
    assert_eq!(s["provider"], "node-2", "{s}");
    assert!(l.uids("node-1").contains("new1"));
}

/// Issue 4 (chaos seed 9008: two switchovers raced, 18 acknowledged adds lost): a second
/// OpenLDAP procedure on the same cluster from this host is refused while the first runs,
/// naming it, and changes nothing; once the first ends the same command runs.
#[test]
fn openldap_second_run_on_the_same_host_is_refused_by_the_cluster_lock() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["one"]));
    l.converged();
    let dir = l.lab.cwd().to_path_buf();
    let (started, go) = (dir.join("STARTED"), dir.join("GO"));
    let file = dir.join("hold.yaml");
    std::fs::write(
        &file,
        format!(
            "name: hold\nsteps:\n  - name: Converged\n    uses: openldap.wait-converged\n  - name: Hold\n    uses: exec\n    with: {{command: \"touch {} && while [ ! -f {} ]; do sleep 0.05; done\"}}\n",
            started.display(),
            go.display()
        ),
    )
    .unwrap();
    let mut first = l
        .lab
        .drctl(&["run", file.to_str().unwrap(), "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first run to hold the lock", DEADLINE, || {
        started.exists().then_some(())
    });
    let before = l.shape();
    l.lab
        .run(&["switchover", "--to", "node-2", "--yes"])
        .exit(3)
        .stderr_has("locked by another run")
        .stderr_has("for hold (run ")
        .stderr_has(&format!("drctl pid {}", first.id()));
    assert_eq!(l.shape(), before, "a refused run changed something");
    std::fs::write(&go, "").unwrap();
    assert!(first.wait().unwrap().success());
    let r = l
        .lab
        .ok(&["switchover", "--to", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    l.converged();
}

/// The fields every engine fills in `status --json`, beside its own.
const COMMON: &[&str] = &[
    "name",
    "kind",
    "url",
    "reachable",
    "host_id",
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
    "reasons",
];

pub(crate) fn assert_common_shape(s: &Value, kind: &str) {
    assert_eq!(s["kind"], kind, "{s}");
    for key in ["cluster", "healthy", "problems", "nodes"] {
        assert!(s.get(key).is_some(), "{kind} status lacks {key}: {s}");
    }
    for n in s["nodes"].as_array().unwrap() {
        assert_eq!(n["kind"], kind, "{n}");
        for key in COMMON {
            assert!(n.get(key).is_some(), "{kind} node lacks {key}: {n}");
        }
        assert!(n["health"].is_string() && n["reasons"].is_array(), "{n}");
    }
}

#[test]
fn status_json_has_one_shape_for_every_engine() {
    let drnode = Lab::up(1);
    assert_common_shape(&drnode.status(), "drnode");
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    let s = l.lab.status();
    assert_common_shape(&s, "openldap");
    // The engine's own fields are still there, beside the common ones.
    assert!(s["provider"].is_string(), "{s}");
    assert!(s["nodes"][0].get("server_id").is_some(), "{s}");
    // One unreachable node: the same shape, with why.
    l.lab.ok(&["lab", "kill", "node-3"]);
    let s = l.lab.run(&["status", "--json"]).success().json();
    assert_common_shape(&s, "openldap");
    let dead = &s["nodes"].as_array().unwrap()[2];
    assert_eq!(dead["reachable"], false, "{dead}");
    assert!(dead["error"].is_string(), "{dead}");
    // Every key of a node that answers, unknown ones null.
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(dead), keys(&s["nodes"][0]), "{s}");
}

/// The OpenLDAP `status --watch` made a fresh Ctrl-C listener each turn, so a Ctrl-C that
/// arrived while a probe waited on a slow node was lost and the watch went on for ever.
#[test]
fn openldap_status_watch_ends_on_a_ctrl_c_that_arrives_while_probing() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    // A paused slapd accepts the connection and never answers: each probe waits it out.
    l.lab.ok(&["lab", "pause", "node-3"]);
    let mut child = l
        .lab
        .drctl(&["--timeout", "1s", "status", "--watch", "--interval", "1ms"])
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
    // After the first redraw the next probe starts within a millisecond and waits on node-3.
    wait_for("the first redraw", DEADLINE, || {
        seen.lock()
            .unwrap()
            .contains("cluster ldap-lab")
            .then_some(())
    });
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = wait_for("--watch to end on Ctrl-C", Duration::from_secs(15), || {
        child.try_wait().unwrap()
    });
    l.lab.ok(&["lab", "resume", "node-3"]);
    assert!(status.success(), "Ctrl-C ends --watch cleanly: {status:?}");
}

/// `drctl lab` is one code path for every engine's lab: the kind of a lab is found from its
/// directory, another kind's lab is not laid over it, and a signal to a stopped node fails the
/// same way on every kind.
#[test]
fn lab_commands_drive_an_openldap_lab_like_any_other() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    let st = l.lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(st["kind"], "openldap", "{st}");
    assert_eq!(st["nodes"].as_array().unwrap().len(), 3, "{st}");
    assert!(st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["state"] == "running"));
    l.lab
        .run(&["lab", "up"])
        .exit(3)
        .stderr_has("holds a lab of kind openldap");
    l.lab
        .run(&["lab", "up", "--kind", "openldap"])
        .exit(3)
        .stderr_has("already running");
    l.lab.ok(&["lab", "pause", "node-3"]);
    let st = l.lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(st["nodes"][2]["state"], "paused", "{st}");
    l.lab.ok(&["lab", "resume", "node-3"]);
    // The same lab by a relative --lab-dir finds the slapd started under the absolute one
    // (it said "node-3 was not running" and left slapd up).
    let relative = |args: &[&str]| {
        let mut c = command(drctl_bin(), l.lab.cwd());
        c.args(["--lab-dir", "lab"]).args(args);
        run(c)
    };
    relative(&["lab", "stop", "node-3"])
        .success()
        .stdout_has("node-3 (pid");
    let st = l.lab.ok(&["lab", "status", "--json"]).json();
    assert_eq!(st["nodes"][2]["state"], "stopped", "{st}");
    relative(&["lab", "restart", "node-3"])
        .success()
        .stdout_has("node-3 restarted");
    l.lab
        .ok(&["lab", "kill", "node-3"])
        .stdout_has("killed (SIGKILL)");
    l.lab
        .run(&["lab", "kill", "node-3"])
        .exit(1)
        .stderr_has("node-3 is not running");
    l.lab
        .run(&["lab", "kill", "node-9"])
        .exit(2)
        .stderr_has("unknown lab node");
    l.lab
        .ok(&["lab", "restart", "node-3"])
        .stdout_has("node-3 restarted");
    l.converged();
    l.lab.ok(&["lab", "down"]).stdout_has("openldap lab");
    l.lab.run(&["lab", "status"]).exit(2).stderr_has("no lab");
}

/// Chaos seeds 320 and 5505: after a provider was killed right after taking writes, a consumer
/// held the provider's CSNs but not all its entries, and `check` said healthy (it compared CSNs
/// only); a failover could promote it and lose acknowledged writes. Now: red with the entries
/// named, demote reseeds it, failover prefers a node holding every entry (refusing when none
/// does, and exporting what it drops under --force), and reseeds the one that missed.
#[test]
fn openldap_equal_csns_with_other_data_are_red_never_promoted_and_reseeded() {
    if slapd_missing() || !Path::new("/usr/sbin/slapcat").exists() {
        return;
    }
    let l = Ldap::up();
    let all = ["a", "b", "c"];
    assert!(l.add("node-1", &all));
    l.converged();
    l.lose_quietly("node-3", &["b"]);
    let s = l.lab.status();
    let csns: Vec<&Value> = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["position"])
        .collect();
    assert_eq!(node_of(&s, "node-3")["position"], "in-sync", "{s}");
    assert_eq!(node_of(&s, "node-3")["health"], "red", "{csns:?} {s}");
    l.lab
        .run(&["check"])
        .exit(1)
        .stdout_has("same CSNs as node-1 but other data: lacks 1 entry (uid=b,ou=people");
    // demote mends it: nothing to export, a reseed from the provider.
    let r = l.lab.ok(&["demote", "node-3", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(l.uids("node-3").contains("b"));
    l.converged();

    // The provider dies; node-3 missed b again. Only node-2 holds every entry.
    l.lose_quietly("node-3", &["b"]);
    l.lab.ok(&["lab", "kill", "node-1"]);
    let c = l.lab.ok(&["candidates", "--json"]).json();
    let c3 = c
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "node-3")
        .unwrap();
    assert_eq!(c3["rank"], 2, "{c}");
    assert!(
        c3["lacks"][0].as_str().unwrap().starts_with("uid=b,"),
        "{c}"
    );
    let before = l.shape();
    l.lab
        .run(&["failover", "--to", "node-3", "--yes"])
        .exit(3)
        .stderr_has("node-3 lacks 1 entry (uid=b,");
    assert_eq!(l.shape(), before, "a refused failover changed something");
    let r = l.lab.ok(&["failover", "--yes", "--json"]).json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert_eq!(l.lab.status()["provider"], "node-2");
    for n in ["node-2", "node-3"] {
        assert_eq!(
            l.uids(n),
            all.iter().map(|u| u.to_string()).collect(),
            "{n}"
        );
    }

    // No survivor holds every entry: refused, naming both; --to --force exports what it drops.
    l.lab.ok(&["lab", "restart", "node-1"]);
    l.lab.ok(&["demote", "node-1", "--yes"]);
    l.converged();
    l.lose_quietly("node-1", &["a"]);
    l.lose_quietly("node-3", &["c"]);
    l.lab.ok(&["lab", "kill", "node-2"]);
    let before = l.shape();
    l.lab
        .run(&["failover", "--yes"])
        .exit(3)
        .stderr_has("none holds them all")
        .stderr_has("node-1 lacks 1 entry (uid=a,")
        .stderr_has("node-3 lacks 1 entry (uid=c,");
    assert_eq!(l.shape(), before, "a refused failover changed something");
    let r = l
        .lab
        .ok(&["failover", "--to", "node-1", "--force", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let export = std::fs::read_dir(l.lab.cwd())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("drctl-failover-node-3-")
        })
        .expect("node-3's entries node-1 lacks were exported");
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.contains("dn: uid=a,ou=people"), "{text}");
    assert!(!text.contains("dn: uid=b,"), "{text}");
    assert_eq!(l.uids("node-3"), l.uids("node-1"));
}

/// A provider back from `kill -9` with a contextCSN older than its data answers reconnecting
/// consumers "nothing new": they stay behind for good with every syncrepl link up (chaos seeds
/// 4035 and 320: `check` said healthy while fingerprints differed for 60 s). `check` must call
/// them red, and `demote` must reseed them (a live demotion waited for a catch-up that never
/// comes).
#[test]
fn openldap_consumer_stalled_behind_with_its_link_up_is_red_and_reseeded_by_demote() {
    if slapd_missing() || !Path::new("/usr/sbin/slapadd").exists() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["a"]));
    l.converged();
    l.add_unannounced("node-1", "z");
    wait_for("both consumers' links up again", DEADLINE, || {
        let s = l.lab.status();
        ["node-2", "node-3"]
            .iter()
            .all(|n| node_of(&s, n)["link"] == "up")
            .then_some(())
    });
    for n in ["node-2", "node-3"] {
        assert!(
            !l.uids(n).contains("z"),
            "{n} got z: the stall was not made"
        );
    }
    let mut c = l.lab.run(&["check"]).exit(1);
    for n in ["node-2", "node-3"] {
        c = c.stdout_has(&format!(
            "{n}: behind node-1 and not catching up though its syncrepl link is up"
        ));
    }
    let s = l.lab.status();
    assert_eq!(node_of(&s, "node-2")["health"], "red", "{s}");
    // The dry run names the reseed and changes nothing.
    let before = l.shape();
    l.lab
        .ok(&["demote", "node-2", "--to", "node-1", "--dry-run"])
        .stderr_has("does not catch up though its syncrepl link is up")
        .stdout_has("reseed node-2 from node-1");
    assert_eq!(l.shape(), before, "a dry run changed something");
    for n in ["node-2", "node-3"] {
        let r = l
            .lab
            .ok(&["demote", n, "--to", "node-1", "--yes", "--json"])
            .json();
        assert_eq!(r["outcome"], "succeeded", "{r}");
        assert!(l.uids(n).contains("z"), "{n} was not reseeded: {r}");
    }
    l.converged();
    // A rerun finds nothing to mend.
    let r = l
        .lab
        .ok(&["demote", "node-2", "--to", "node-1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    l.lab.ok(&["check"]);
}

#[test]
fn openldap_lab_bench_times_drctl_beside_ldapmodify_by_hand() {
    if slapd_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut c = command(drctl_bin(), tmp.path());
    c.args([
        "--kind", "openldap", "lab", "bench", "--rounds", "1", "--json",
    ]);
    let r = run(c).success().json();
    assert_eq!(r["nodes"], 3, "{r}");
    for p in ["failover", "switchover"] {
        for side in ["drctl_ms", "by_hand_ms"] {
            let v = r[p][side].as_array().unwrap();
            assert_eq!(v.len(), 1, "{p} {side}: {r}");
            assert!(v[0].as_u64().unwrap() > 0, "{p} {side}: {r}");
        }
        assert!(r[p]["ratio"].as_f64().unwrap() > 0.0, "{p}: {r}");
    }
}

/// Hit by the repoint-primary drill (6.2 s): a forced failover run while a consumer's slapd was
/// paused paid the bind timeout on it at every probe of every step.
#[test]
fn openldap_a_paused_consumer_is_waited_for_once_per_command() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    assert!(l.add("node-1", &["before"]));
    l.converged();
    l.lab.ok(&["lab", "kill", "node-1"]);
    l.lab.ok(&["lab", "pause", "node-3"]);
    let (r, waits, _) = waits_for(
        &l.lab,
        &l.url("node-3"),
        &["failover", "--to", "node-2", "--yes", "--json"],
    );
    let report = r.success().json();
    assert_eq!(report["outcome"], "succeeded", "{report}");
    assert_eq!(waits, 1, "node-3 waited for {waits} times");
    // Woken, it is asked again by the next command, and follows the new provider once repointed.
    l.lab.ok(&["lab", "resume", "node-3"]);
    let r = l
        .lab
        .ok(&["repoint", "--primary", "node-2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    assert!(l.add("node-2", &["after"]));
    wait_for("node-3 to follow node-2", DEADLINE, || {
        l.uids("node-3").contains("after").then_some(())
    });
}

/// The nodes are read side by side: under a steady write load a consumer read a moment after
/// its provider holds the provider's newer writes and looked ahead of it, diverged. A repoint
/// toward the live provider was refused (the first of these runs, before the fix), telling the
/// operator to demote it.
#[test]
fn openldap_a_consumer_read_after_its_provider_under_writes_is_not_called_diverged() {
    if slapd_missing() {
        return;
    }
    let l = Ldap::up();
    let mut writers: Vec<_> = (0..4)
        .map(|w| {
            let ldif: String = (0..4000)
                .map(|i| format!("dn: uid=s{w}-{i},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: s{w}-{i}\ncn: s\nsn: s\n\n"))
                .collect();
            let file = l.lab.cwd().join(format!("stream-{w}.ldif"));
            std::fs::write(&file, ldif).unwrap();
            Command::new("ldapadd")
                .args(["-x", "-H", &l.url("node-1"), "-D", ADMIN, "-w", &l.password()])
                .arg("-f")
                .arg(&file)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    wait_for("writes under way", DEADLINE, || {
        (l.uids("node-1").len() >= 400).then_some(())
    });
    let runs: Vec<Run> = (0..3)
        .map(|_| l.lab.run(&["repoint", "--primary", "node-1", "--yes"]))
        .collect();
    for w in &mut writers {
        let _ = w.kill();
        w.wait().unwrap();
    }
    for r in runs {
        r.success();
    }
}
