//! Samba AD DCs (`drctl lab up --kind samba-ad`): three real DCs, each in its own network
//! namespace, driven through the real drctl binary: status names the holder of each of the 7
//! FSMO roles, a SIGKILLed holder is named with its roles and the seize remedy, `seize-roles`
//! seizes them, the old holder restarted learns it, a live holder hands a role over, a paused DC that
//! holds no role is named without one, `remove-instance` refuses a DC that answers and removes
//! a dead one, its role moved first, which, back with its old disk, is named as no DC.
//! One lab for the whole sequence (each DC costs seconds). Skipped, saying why, where Samba or
//! network namespaces are missing.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);
const ROLES: [&str; 7] = [
    "domaindns",
    "forestdns",
    "infrastructure",
    "naming",
    "pdc",
    "rid",
    "schema",
];

/// The network namespace of a lab DC (its `command_prefix` in the lab's cluster file).
fn netns_of(lab: &Lab, dc: &str) -> String {
    let yaml = std::fs::read_to_string(lab.cluster_file()).unwrap();
    let prefix = "ip netns exec sdc";
    yaml.lines()
        .filter_map(|l| l.trim().strip_prefix("command_prefix: \""))
        .map(|l| l.trim_end_matches('"'))
        .find(|l| l.starts_with(prefix) && l.ends_with(&format!("-{dc}")))
        .unwrap_or_else(|| panic!("no namespace of {dc} in {yaml}"))
        .trim_start_matches("ip netns exec ")
        .to_string()
}

/// drctl run on the lab network (inside `dc`'s namespace), with the lab's LDAPS cluster file.
fn over_ldaps(lab: &Lab, from: &str, file: &Path, args: &[&str]) -> Run {
    let mut c = command("ip", lab.cwd());
    c.args([
        "netns",
        "exec",
        &netns_of(lab, from),
        drctl_bin(),
        "--cluster",
    ])
    .arg(file)
    .args(args);
    run(c)
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn samba_status_names_the_role_holder_and_a_dead_holder_with_the_seize_remedy() {
    if samba_missing() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("lab");
    let lab = Lab { tmp, dir };
    lab.ok(&["lab", "up", "--kind", "samba-ad", "--nodes", "3"])
        .stdout_has("healthy");

    // All 7 roles on dc1, as every DC sees them; three DCs in the domain.
    let s = lab.status();
    super::openldap::assert_common_shape(&s, "samba-ad");
    assert_eq!(s["healthy"], true, "{s}");
    for role in ROLES {
        assert_eq!(s["roles"][role], "dc1", "{s}");
    }
    assert_eq!(
        node(&s, "dc1")["roles_held"],
        serde_json::json!(ROLES),
        "{s}"
    );
    for dc in ["dc1", "dc2", "dc3"] {
        let n = node(&s, dc);
        assert_eq!(n["health"], "green", "{n}");
        assert_eq!(n["dsa"], dc, "{n}");
        assert_eq!(
            n["domain_dcs"],
            serde_json::json!(["dc1", "dc2", "dc3"]),
            "{n}"
        );
        for role in ROLES {
            assert_eq!(n["roles_seen"][role], "dc1", "{n}");
        }
    }
    lab.ok(&["check"]).stdout_has("is healthy");
    // The same over LDAPS (simple bind), from a host on the lab network.
    let ldaps = lab.dir.join("cluster-ldaps.yaml");
    let s = over_ldaps(&lab, "dc2", &ldaps, &["status", "--json"])
        .success()
        .json();
    assert_eq!(s["healthy"], true, "{s}");
    assert_eq!(s["roles"]["schema"], "dc1", "{s}");
    // A refused bind is an answer: the DC is named, its roles are not to be seized.
    let wrong = lab.dir.join("wrong.pw");
    std::fs::write(&wrong, "not-the-password").unwrap();
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let bad = lab.dir.join("bad-ldaps.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&ldaps)
            .unwrap()
            .replace("admin.pw", "wrong.pw"),
    )
    .unwrap();
    let r = over_ldaps(&lab, "dc2", &bad, &["check"])
        .exit(1)
        .stdout_has("dc1: answers but cannot be read: bind as Administrator@sdc.test");
    assert!(!r.stdout().contains("seize-roles"), "{}", r.dump());
    // A verb the engine does not claim yet is refused by name, changing nothing.
    lab.run(&["failover", "--yes"])
        .exit(2)
        .stderr_has("the samba-ad engine does not support it");

    // The holder SIGKILLed (every process in its namespace): its roles and the remedy.
    lab.ok(&["lab", "kill", "dc1"]);
    let dead = lab.run(&["status", "--json"]).json();
    super::openldap::assert_common_shape(&dead, "samba-ad");
    assert_eq!(dead["healthy"], false, "{dead}");
    let d1 = node(&dead, "dc1");
    assert_eq!(d1["reachable"], false, "{d1}");
    assert!(d1["error"].is_string(), "{d1}");
    assert_eq!(d1["health"], "red", "{d1}");
    assert_eq!(keys(d1), keys(node(&dead, "dc2")), "{dead}");
    lab.run(&["check"])
        .exit(1)
        .stdout_has(
            "dc1: holds the roles domaindns, forestdns, infrastructure, naming, pdc, rid, schema \
             and does not answer: drctl seize-roles --to dc2",
        )
        .stdout_has("(resolv.conf) names dc1, which does not answer: drctl repoint --primary dc2")
        .stdout_has("(krb5.conf) names dc1, which does not answer: drctl repoint --primary dc2");
    over_ldaps(&lab, "dc2", &ldaps, &["check"])
        .exit(1)
        .stdout_has("and does not answer: drctl seize-roles --to dc2");
    let c = lab.ok(&["candidates", "--json"]).json();
    let rank = |name: &str| {
        c.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["rank"]
            .clone()
    };
    assert_eq!(rank("dc2"), 1, "{c}");
    assert_eq!(rank("dc1"), Value::Null, "{c}");

    samba_repoint_points_the_client_off_a_dead_dc(&lab);
    samba_seize_roles_moves_every_role_of_a_dead_holder_and_refuses_a_live_one(&lab);

    // Back with its disk (never cleaned up): it learns the new holder and the domain is healthy.
    lab.ok(&["lab", "restart", "dc1"]);
    let s = lab.wait_status("a healthy domain after dc1's restart", DEADLINE, |s| {
        s["healthy"] == true
    });
    for role in ROLES {
        assert_eq!(s["roles"][role], "dc2", "{s}");
    }
    assert!(node(&s, "dc1")["roles_held"]
        .as_array()
        .is_some_and(|r| r.is_empty()));
    // Now the holder answers: it hands the role over (a seize beside it would leave two
    // holders), to dc3 and back.
    for (to, from) in [("dc3", "dc2"), ("dc2", "dc3")] {
        lab.ok(&["seize-roles", "--to", to, "--role", "pdc", "--yes"])
            .stdout_has(&format!("transfer the pdc role from {from} to {to}"));
        let s = lab.status();
        for dc in ["dc1", "dc2", "dc3"] {
            assert_eq!(node(&s, dc)["roles_seen"]["pdc"], to, "{dc}: {s}");
        }
        assert_eq!(s["roles"]["schema"], "dc2", "{s}");
    }
    // A hung holder (SIGSTOP) is silent: the role is seized at once (`--force`: no transfer
    // attempt that waits 60 s or more), and resumed, the old holder gives it up.
    lab.ok(&["lab", "pause", "dc2"]);
    lab.ok(&[
        "--timeout",
        "1s",
        "seize-roles",
        "--to",
        "dc3",
        "--role",
        "pdc",
        "--yes",
    ])
    .stdout_has("seize the pdc role on dc3");
    lab.ok(&["lab", "resume", "dc2"]);
    wait_for(
        "dc2 naming dc3 the pdc holder after resume",
        DEADLINE,
        || {
            let s = lab.run(&["status", "--json"]).json();
            ["dc1", "dc2", "dc3"]
                .iter()
                .all(|dc| node(&s, dc)["roles_seen"]["pdc"] == "dc3")
                .then_some(())
        },
    );
    // The new holder dies right after its seize, before anything else happened: its role is
    // named with the remedy, seized back onto dc2, and dc3 restarted with its disk (its seize
    // older than dc2's) gives the role up: one holder.
    lab.ok(&["lab", "kill", "dc3"]);
    lab.run(&["check"])
        .exit(1)
        .stdout_has("dc3: holds the roles pdc and does not answer: drctl seize-roles --to dc2");
    lab.ok(&["seize-roles", "--to", "dc2", "--role", "pdc", "--yes"])
        .stdout_has("seize the pdc role on dc2")
        .stdout_has("make the PDC's DNS SRV record name dc2");
    lab.ok(&["lab", "restart", "dc3"]);
    lab.wait_status("every DC naming dc2 the pdc holder", DEADLINE, |s| {
        s["healthy"] == true
            && ["dc1", "dc2", "dc3"]
                .iter()
                .all(|dc| node(s, dc)["roles_seen"]["pdc"] == "dc2")
    });

    // A paused DC that holds no role: named, with no seize remedy (its roles are not at stake).
    lab.ok(&["lab", "pause", "dc3"]);
    let r = lab
        .run(&["--timeout", "1s", "check"])
        .exit(1)
        .stdout_has("dc3: does not answer");
    assert!(!r.stdout().contains("seize-roles"), "{}", r.dump());
    lab.ok(&["lab", "resume", "dc3"]);
    lab.wait_status("dc3 answering after resume", DEADLINE, |s| {
        s["healthy"] == true
    });

    // The seed's zombie: dc1 takes the pdc role back, dies and is removed from the domain
    // (metadata cleanup: its role moves first, and it says so), then comes back with its disk.
    // A client's write dc1 acknowledges right before it dies never reaches another DC (it
    // replicates seconds later): the removal reads it from dc1's disk and exports it, named.
    lab.ok(&["seize-roles", "--to", "dc1", "--role", "pdc", "--yes"]);
    assert!(
        add_user(&lab, "10.99.53.11", "last-write"),
        "dc1 refused a write"
    );
    lab.ok(&["lab", "kill", "dc1"]);
    lab.run(&["remove-instance", "dc3", "--yes"])
        .exit(3)
        .stderr_has("dc3 answers: stop it first");
    let r = lab
        .ok(&["remove-instance", "dc1", "--dry-run", "--json"])
        .json();
    assert_eq!(r["outcome"], "dry run", "{r}");
    assert_eq!(
        node(&lab.status(), "dc3")["domain_dcs"],
        serde_json::json!(["dc1", "dc2", "dc3"]),
        "a dry run removed dc1"
    );
    let r = lab
        .ok(&["remove-instance", "dc1", "--yes"])
        .stdout_has("seize the pdc role on dc2")
        .stdout_has("make the PDC's DNS SRV record name dc2")
        .stderr_has("dc1 still holds the roles pdc: they move to dc2 first")
        .stdout_has("only dc1 held to ");
    let said = r.stdout();
    let export = said
        .split("only dc1 held to ")
        .nth(1)
        .and_then(|t| t.split(':').next())
        .unwrap_or_default();
    let ldif = std::fs::read_to_string(export).unwrap_or_else(|e| panic!("{export}: {e}"));
    assert!(
        ldif.contains("dn: CN=last-write,CN=Users,DC=sdc,DC=test\n"),
        "{ldif}"
    );
    // Only what dc1 wrote itself: not what it received (the removal of dc3's leftovers by
    // dc1's partners, say), and no secret.
    assert!(!ldif.to_ascii_lowercase().contains("unicodepwd"), "{ldif}");
    assert!(
        said.contains("CN=last-write,CN=Users,DC=sdc,DC=test"),
        "{said}"
    );
    let s = lab.status();
    for dc in ["dc2", "dc3"] {
        assert_eq!(
            node(&s, dc)["domain_dcs"],
            serde_json::json!(["dc2", "dc3"]),
            "{dc}: {s}"
        );
    }
    assert_eq!(
        node(&s, "dc2")["roles_held"],
        serde_json::json!(ROLES),
        "{s}"
    );
    let r = lab
        .ok(&["remove-instance", "dc1", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    lab.ok(&["lab", "restart", "dc1"]);
    let r = lab
        .run(&["check"])
        .exit(1)
        // Within its first seconds dc1 reads itself: the others hold its NTDS Settings deleted.
        // Once it has broken itself (about 17 s), they no longer list it.
        .stdout_has("dc1: not a DC of the domain (");
    assert!(!r.stdout().contains("seize-roles"), "{}", r.dump());
    samba_a_zombie_is_kept_from_clients_and_joined_again(&lab);
}

/// Adds the user `cn` on the DC at `ip` the way a client does (ldapadd over LDAPS with a
/// simple bind, from dc2's namespace on the lab network); whether it was acknowledged.
fn add_user(lab: &Lab, ip: &str, cn: &str) -> bool {
    let password = std::fs::read_to_string(lab.dir.join("admin.pw")).unwrap();
    let entry = format!(
        "dn: CN={cn},CN=Users,DC=sdc,DC=test\nobjectClass: user\nsAMAccountName: {}\n\n",
        cn.replace('-', "")
    );
    std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &netns_of(lab, "dc2"),
            "ldapadd",
            "-x",
            "-H",
        ])
        .arg(format!("ldaps://{ip}"))
        .args(["-D", "Administrator@sdc.test", "-w", password.trim()])
        .env("LDAPTLS_REQCERT", "never")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(entry.as_bytes())?;
            c.wait()
        })
        .unwrap()
        .success()
}

/// The lab client's namespace and files, from the cluster file's `clients:`.
fn client(lab: &Lab) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(lab.cluster_file()).unwrap()).unwrap();
    let path = |k: &str| std::path::PathBuf::from(yaml["clients"][k].as_str().unwrap());
    let resolv = path("resolv_conf");
    let ns = resolv
        .parent()
        .and_then(|d| d.file_name())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (ns, resolv, path("krb5_conf"))
}

/// What the lab client gets: the address its resolver gives for `host` (None: it cannot
/// resolve it), and whether `kinit` as Administrator works with its krb5.conf.
fn client_sees(lab: &Lab, host: &str) -> (Option<String>, bool) {
    let (ns, _, krb5) = client(lab);
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "getent", "hosts", host])
        .output()
        .unwrap();
    let addr = out
        .status
        .success()
        .then(|| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
        .flatten();
    let password = std::fs::read(lab.dir.join("admin.pw")).unwrap();
    let mut kinit = std::process::Command::new("timeout")
        .args([
            "30",
            "ip",
            "netns",
            "exec",
            &ns,
            "kinit",
            "Administrator@SDC.TEST",
        ])
        .env("KRB5_CONFIG", &krb5)
        .env(
            "KRB5CCNAME",
            format!("FILE:{}", lab.dir.join("client-cc").display()),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    kinit.stdin.take().unwrap().write_all(&password).unwrap();
    (addr, kinit.wait().unwrap().success())
}

fn client_files(lab: &Lab) -> String {
    let (_, resolv, krb5) = client(lab);
    std::fs::read_to_string(resolv).unwrap() + &std::fs::read_to_string(krb5).unwrap()
}

/// dc1, the DC the lab client was set up against, is dead: the client cannot resolve the
/// others or get a ticket (P9). A dry run writes nothing, a dead DC is refused, the repoint
/// lists dc2 then dc3 (dc1 left out) and the client resolves and gets its ticket; a rerun is
/// done.
fn samba_repoint_points_the_client_off_a_dead_dc(lab: &Lab) {
    assert_eq!(client_sees(lab, "dc2.sdc.test"), (None, false));
    let before = client_files(lab);
    let r = lab
        .ok(&["repoint", "--primary", "dc2", "--dry-run", "--json"])
        .json();
    assert_eq!(r["outcome"], "dry run", "{r}");
    assert_eq!(
        client_files(lab),
        before,
        "a dry run wrote the client files"
    );
    lab.run(&["repoint", "--primary", "dc1", "--yes"])
        .exit(3)
        .stderr_has("assert dc1 answers: no");
    assert_eq!(
        client_files(lab),
        before,
        "a refusal wrote the client files"
    );
    lab.ok(&["repoint", "--primary", "dc2", "--yes"])
        .stderr_has("dc1 is left out")
        .stderr_has("'nameserver 10.99.53.11' is commented out");
    assert_eq!(
        client_sees(lab, "dc3.sdc.test"),
        (Some("10.99.53.13".to_string()), true)
    );
    let files = client_files(lab);
    assert!(
        files.contains("nameserver 10.99.53.12\nnameserver 10.99.53.13\n")
            && files.contains("kdc = 10.99.53.12\n\t\tkdc = 10.99.53.13\n"),
        "{files}"
    );
    let r = lab
        .ok(&["repoint", "--primary", "dc2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    let r = lab.run(&["check"]).exit(1);
    assert!(!r.stdout().contains("client:"), "{}", r.dump());
}

/// dc1, removed from the domain, runs again with its old disk (the seed's zombie): clients are
/// never pointed at it, and `join` stops it, moves its databases aside (kept), joins it again
/// through dc3, restarts the partners that keep its old Kerberos key (P14) and proves
/// replication both ways; a rerun is done, and the client may use it again.
fn samba_a_zombie_is_kept_from_clients_and_joined_again(lab: &Lab) {
    // A client that still lists the zombie writes to it (over LDAPS, as lab.sh's client did),
    // within the ~17 s before the zombie pulls its own removal and breaks: the domain never
    // gets that write, and the join exports it, named, before anything moves.
    assert!(
        add_user(lab, "10.99.53.11", "zombie-write"),
        "the zombie refused a client's write"
    );
    lab.run(&["repoint", "--primary", "dc1", "--yes"])
        .exit(3)
        .stderr_has("clients must not use dc1: dc1: not a DC of the domain");
    lab.ok(&["repoint", "--primary", "dc3", "--yes"])
        .stderr_has("dc1 is left out: removed from the domain");
    assert!(client_files(lab).contains("nameserver 10.99.53.13\nnameserver 10.99.53.12\n"));
    // The zombie pulls its own removal, as it does by itself within seconds or minutes: its
    // rootDSE breaks ("Failed to find full DN for dsServiceName"), and Samba's own modules can
    // no longer name its invocation. Its database is still read (raw): the join once exported
    // nothing, with a WARNING.
    let broken = "dc1: answers but cannot be read";
    if !lab.run(&["check"]).stdout().contains(broken) {
        let password = std::fs::read_to_string(lab.dir.join("admin.pw")).unwrap();
        let smb_conf = lab.dir.join("dc1/etc/smb.conf");
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &netns_of(lab, "dc1"), "samba-tool", "drs"])
            .args(["replicate", "dc1", "dc2", "CN=Configuration,DC=sdc,DC=test"])
            .args(["--local", "-k", "no", "-U", "Administrator"])
            .args(["-s", smb_conf.to_str().unwrap()])
            .env("PASSWD", password.trim())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    lab.run(&["check"])
        .exit(1)
        .stdout_has(broken)
        .stdout_has("dc1: not a DC of the domain (");
    // The zombie hangs (SIGSTOP): silent is not stopped. The join stops it for real (its
    // stop_command) before its databases move; it once took a hung DC for stopped, moved the
    // databases from under it and joined beside it (chaos seed 102).
    lab.ok(&["lab", "pause", "dc1"]);
    let private = lab.dir.join("dc1/private");
    let r = lab
        .ok(&["join", "dc1", "--primary", "dc3", "--dry-run", "--json"])
        .json();
    assert_eq!(r["outcome"], "dry run", "{r}");
    assert!(
        private.join("sam.ldb").exists(),
        "a dry run moved dc1's databases"
    );
    let export = lab.dir.join("zombie.ldif");
    let r = lab
        .ok(&[
            "join",
            "dc1",
            "--primary",
            "dc3",
            "--yes",
            "--json",
            "--export",
            export.to_str().unwrap(),
        ])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let hung: Vec<String> = std::process::Command::new("ip")
        .args(["netns", "pids", &netns_of(lab, "dc1")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|s| {
                s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('T'))
            })
        })
        .map(str::to_string)
        .collect();
    assert!(
        hung.is_empty(),
        "the hung zombie still runs beside the new dc1: {hung:?}"
    );
    // Its last step reads the domain as status does: no pull between DCs that answer failing
    // (a restarted partner's pulls in flight can fail after their own step, P15).
    let actions: Vec<&Value> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap())
        .collect();
    let last = actions.last().unwrap();
    assert_eq!(last["args"]["action"], "settled", "{r}");
    assert!(
        ["done", "already done"].contains(&last["outcome"].as_str().unwrap_or("")),
        "{r}"
    );
    let ldif = std::fs::read_to_string(&export).unwrap();
    assert!(
        ldif.contains("dn: CN=zombie-write,CN=Users,DC=sdc,DC=test"),
        "{ldif}"
    );
    assert!(ldif.contains("sAMAccountName: zombiewrite"), "{ldif}");
    // Healthy once the partners' pulls settle: right after the join one pull between two other
    // DCs can fail once (WERROR 0x40, seen in CI) and succeed at its next attempt.
    let s = lab.wait_status("a healthy domain after the zombie's join", DEADLINE, |s| {
        s["healthy"] == true
    });
    for dc in ["dc1", "dc2", "dc3"] {
        let n = node(&s, dc);
        assert_eq!(
            n["domain_dcs"],
            serde_json::json!(["dc1", "dc2", "dc3"]),
            "{n}"
        );
        let reps = n["replication"].as_array().unwrap();
        for other in ["dc1", "dc2", "dc3"].iter().filter(|o| *o != &dc) {
            let working = reps
                .iter()
                .filter(|r| r["from"] == *other && r["failures"] == 0 && r["last_success"].is_i64())
                .count();
            assert_eq!(working, 5, "{dc} pulls from {other}: {n}");
        }
    }
    // The old databases are kept beside the new ones.
    let kept: Vec<String> = std::fs::read_dir(lab.dir.join("dc1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("private.removed-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(lab.dir.join("dc1").join(&kept[0]).join("sam.ldb").exists());
    let r = lab
        .ok(&["join", "dc1", "--primary", "dc3", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
    lab.ok(&["repoint", "--primary", "dc1", "--yes"]);
    assert_eq!(
        client_sees(lab, "dc1.sdc.test"),
        (Some("10.99.53.11".to_string()), true)
    );
    // A DC that answers is removed only by force: stopped, exported, then cleaned up.
    lab.run(&["remove-instance", "dc1", "--yes"])
        .exit(3)
        .stderr_has("or give --force");
    let r = lab
        .ok(&["remove-instance", "dc1", "--force", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let steps = r.to_string();
    assert!(
        steps.contains("stop dc1 (its stop_command)")
            && steps.contains("then export what its own database holds"),
        "{r}"
    );
    let s = lab.status();
    assert_eq!(node(&s, "dc1")["reachable"], false, "{s}");
    for dc in ["dc2", "dc3"] {
        assert_eq!(
            node(&s, dc)["domain_dcs"],
            serde_json::json!(["dc2", "dc3"]),
            "{s}"
        );
    }
    samba_a_join_whose_via_dies_part_way_is_finished_through_another_dc(lab);
}

/// The DC a join goes through dies once the join has made the new DC's objects on it. The
/// operator finishes it through another DC, as the refusal says, and loses nothing.
fn samba_a_join_whose_via_dies_part_way_is_finished_through_another_dc(lab: &Lab) {
    let mut join = lab.drctl(&["join", "dc1", "--primary", "dc3", "--yes"]);
    let mut child = join
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lists = |dc: &str| {
        node(&lab.run(&["status", "--json"]).json(), dc)["domain_dcs"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == "dc1"))
    };
    wait_for("dc3 listing the joining dc1", DEADLINE, || {
        lists("dc3").then_some(())
    });
    lab.ok(&["lab", "kill", "dc3"]);
    let first = child.wait().unwrap();
    let rerun = lab.run(&["join", "dc1", "--primary", "dc2", "--yes"]);
    if rerun.out.status.code() == Some(3) {
        // dc2 took dc1's half-made objects from dc3: the refusal names the remedy.
        rerun.stderr_has("if a join stopped part-way");
        let removed = lab.run(&["remove-instance", "dc1", "--yes"]);
        // Failed once in CI (dc2 kept an NTDS Settings object of dc1 for the 30 s the removal
        // waited): what every DC listed then, for the next run that meets it.
        assert!(
            removed.out.status.success(),
            "{}\nstatus then: {}",
            removed.dump(),
            lab.run(&["status", "--json"]).dump()
        );
        lab.ok(&["join", "dc1", "--primary", "dc2", "--yes"]);
    } else {
        // dc2 had not yet taken them, or the join had finished before dc3 died (`first`).
        assert!(rerun.out.status.success(), "{first:?}: {}", rerun.dump());
    }
    // The domain without dc3: dc1 joined again, a DC of the domain on dc2, pulls settled.
    // (dc3 back with its half-made objects of dc1 is left out: its pulls with the new dc1
    // failed "The attempted logon is invalid" in some runs, not yet solved: issue 16 note.)
    let s = lab.status();
    for dc in ["dc1", "dc2"] {
        let n = node(&s, dc);
        assert_eq!(n["reachable"], true, "{s}");
        let listed = n["domain_dcs"].as_array().unwrap();
        assert!(
            listed.iter().any(|x| x == "dc1") && listed.iter().any(|x| x == "dc2"),
            "{s}"
        );
    }
    let r = lab.run(&["check"]).stdout_has("dc3: does not answer");
    assert!(
        !r.stdout().contains("dc1: not a DC of the domain"),
        "{}",
        r.dump()
    );
}

/// The holder dc1 is dead: a dry run changes nothing, a bad role and a dead target are
/// refused, the seize moves all 7 roles to dc2 (its own copy first, then every DC that
/// answers), and a rerun is done.
fn samba_seize_roles_moves_every_role_of_a_dead_holder_and_refuses_a_live_one(lab: &Lab) {
    let r = lab
        .ok(&["seize-roles", "--to", "dc2", "--dry-run", "--json"])
        .json();
    assert_eq!(r["outcome"], "dry run", "{r}");
    let s = lab.status();
    assert_eq!(s["roles"]["pdc"], "dc1", "a dry run moved a role: {s}");
    lab.run(&[
        "seize-roles",
        "--to",
        "dc2",
        "--role",
        "schema-master",
        "--yes",
    ])
    .exit(2)
    .stderr_has("--role schema-master: unknown: the samba-ad roles are schema, naming, pdc");
    lab.run(&["seize-roles", "--to", "dc1", "--yes"])
        .exit(3)
        .stderr_has("assert dc1 answers: no");
    let r = lab
        .ok(&["seize-roles", "--to", "dc2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "succeeded", "{r}");
    let s = lab.status();
    for role in ROLES {
        assert_eq!(s["roles"][role], "dc2", "{s}");
        for dc in ["dc2", "dc3"] {
            assert_eq!(node(&s, dc)["roles_seen"][role], "dc2", "{dc}: {s}");
        }
    }
    lab.run(&["check"])
        .exit(1)
        .stdout_has("dc1: does not answer");
    let r = lab
        .ok(&["seize-roles", "--to", "dc2", "--yes", "--json"])
        .json();
    assert_eq!(r["outcome"], "already done", "{r}");
}

#[test]
fn samba_bad_cluster_files_are_named_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("c.yaml");
    std::fs::write(tmp.path().join("pw"), "secret").unwrap();
    let ldaps = |extra: &str| {
        format!(
            "cluster: c\nnodes:\n- name: dc1\n  kind: samba-ad\n  url: ldaps://dc1.sdc.test\n  bind_dn: Administrator@sdc.test\n  password_file: pw\n  realm: SDC.TEST\n  danger_accept_invalid_certs: true\n{extra}"
        )
    };
    let ldapi = "cluster: c\nnodes:\n- name: dc1\n  kind: samba-ad\n  url: ldapi:///var/lib/samba/private/ldap_priv/ldapi\n  realm: SDC.TEST\n";
    for (yaml, needle) in [
        (
            ldaps("").replace("ldaps://", "ldap://"),
            "nodes[0].url: 'ldap://dc1.sdc.test': a samba-ad DC needs ldaps://HOST[:PORT] or ldapi:///PATH",
        ),
        (
            ldaps("").replace("  realm: SDC.TEST\n", ""),
            "nodes[0].realm: required for `kind: samba-ad`",
        ),
        (
            ldaps("").replace("  bind_dn: Administrator@sdc.test\n", ""),
            "nodes[0].bind_dn: required for ldaps://",
        ),
        (
            ldaps("").replace("  password_file: pw\n", ""),
            "nodes[0].password_file: required for ldaps://",
        ),
        (
            ldaps("").replace("  danger_accept_invalid_certs: true\n", ""),
            "nodes[0].ca_file: required for ldaps://",
        ),
        (
            ldaps("  command_prefix: \"\"\n"),
            "nodes[0].command_prefix: empty",
        ),
        (ldaps("  suffix: dc=x\n"), "nodes[0].suffix: only for"),
        (ldaps("  realms: X.Y\n"), "nodes[0].realms: unknown field"),
        (
            format!("{ldapi}  password_file: pw\n"),
            "nodes[0].bind_dn: not used over ldapi://",
        ),
        (
            ldaps("  address: dc1.sdc.test\n"),
            "nodes[0].address: 'dc1.sdc.test' is not an IP address",
        ),
        (
            ldaps("  data_dirs: [var/lib/samba/private]\n"),
            "nodes[0].data_dirs: 'var/lib/samba/private' is not an absolute directory",
        ),
        (
            ldaps("  stop_command: \" \"\n"),
            "nodes[0].stop_command: empty",
        ),
        (
            ldaps("  join_password_file: pw\n  join_password_env: PW\n"),
            "nodes[0].join_password_file: give join_password_file or join_password_env",
        ),
        (
            format!("{ldapi}clients: {{}}\n"),
            "clients: names no file",
        ),
        (
            ldapi.replace("kind: samba-ad\n", "kind: skeleton\n") + "clients: {resolv_conf: r}\n",
            "clients: only a samba-ad cluster",
        ),
        (
            ldapi.replace("ldapi:///var", "ldapi://var"),
            "nodes[0].url: 'ldapi://var/lib/samba/private/ldap_priv/ldapi': ldapi:// needs the absolute path",
        ),
    ] {
        std::fs::write(&file, &yaml).unwrap();
        run(command(drctl_bin(), tmp.path())
            .arg("--cluster")
            .arg(&file)
            .arg("status"))
        .exit(2)
        .stderr_has(needle);
    }
    // A valid file whose DC does not answer: status says so (exit 0), check exits 1.
    std::fs::write(
        &file,
        ldapi.replace("/var/lib/samba", tmp.path().to_str().unwrap()),
    )
    .unwrap();
    let s = run(command(drctl_bin(), tmp.path())
        .arg("--cluster")
        .arg(&file)
        .args(["status", "--json"]))
    .json();
    super::openldap::assert_common_shape(&s, "samba-ad");
    assert_eq!(node(&s, "dc1")["reachable"], false, "{s}");
    run(command(drctl_bin(), tmp.path())
        .arg("--cluster")
        .arg(&file)
        .arg("check"))
    .exit(1)
    .stdout_has("dc1: does not answer");
}

/// `lab bench --kind samba-ad`: dc1 killed, its roles seized on dc2, then dc1 removed, once
/// through drctl and once by hand with samba-tool (each on a fresh lab: about 3 minutes), and
/// where the time went, named by drctl's actions and the commands typed.
#[test]
fn samba_lab_bench_times_the_seize_and_the_removal_beside_samba_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let bench = |rounds: &str| {
        let mut c = command(drctl_bin(), tmp.path());
        c.args([
            "--kind", "samba-ad", "lab", "bench", "--rounds", rounds, "--json",
        ]);
        run(c)
    };
    bench("0").exit(2).stderr_has("--rounds must be at least 1");
    if samba_missing() {
        return;
    }
    let r = bench("1").success().json();
    assert_eq!(r["nodes"], 3, "{r}");
    assert_eq!(r["labs_ready_ms"].as_array().unwrap().len(), 1, "{r}");
    for (p, drctl, by_hand) in [
        (
            "seize_roles",
            "seize every role on dc2 (samba-tool fsmo seize --role=all --force)",
            "dc2: samba-tool fsmo seize --role=all --force",
        ),
        (
            "remove_instance",
            "remove the DC dc1 from the domain on dc2",
            "dc2: samba-tool domain demote --remove-other-dead-server=DC1",
        ),
    ] {
        for side in ["drctl", "by_hand"] {
            let v = r[p][format!("{side}_ms")].as_array().unwrap();
            assert_eq!(v.len(), 1, "{p} {side}: {r}");
            assert!(v[0].as_u64().unwrap() > 0, "{p} {side}: {r}");
        }
        assert!(r[p]["ratio"].as_f64().unwrap() > 0.0, "{p}: {r}");
        for (side, action) in [("drctl", drctl), ("by_hand", by_hand)] {
            let named = r[p][format!("{side}_phases")].to_string();
            assert!(
                named.contains(&format!("\"what\":\"{action}")),
                "{p}, {side}: no phase {action:?} in {named}"
            );
        }
    }
}
