//! `ldap.*` runbook steps against a real slapd (Debian's package): they change the directory
//! once, a rerun changes nothing, a wrong password changes nothing. Skipped where slapd is absent.

use std::path::Path;
use std::time::Duration;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

fn outcomes(report: &serde_json::Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// A throwaway slapd on a free loopback port, stopped on drop.
struct Slapd {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Slapd {
    fn start() -> Option<Slapd> {
        let bin = Path::new("/usr/sbin/slapd");
        if !bin.exists() {
            eprintln!("skipped: /usr/sbin/slapd is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\npidfile {d}/slapd.pid\nmodulepath /usr/lib/ldap\n\
                 moduleload back_mdb\ndatabase mdb\nsuffix \"dc=example,dc=org\"\n\
                 rootdn \"cn=admin,dc=example,dc=org\"\nrootpw secret\ndirectory {d}/db\n",
                d = dir.path().display()
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("ldap://127.0.0.1:{port}");
        let child = std::process::Command::new(bin)
            .arg("-f")
            .arg(&conf)
            .args(["-h", &format!("{url}/"), "-d", "0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for("slapd to listen", DEADLINE, || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .map(|_| ())
        });
        Some(Slapd {
            child,
            url,
            _dir: dir,
        })
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LDAP_BOOK: &str = r#"
name: ldap-steps
params:
  url: {required: true}
  holder: {required: true}
steps:
  - name: the base entry
    uses: ldap.add
    with: &conn
      url: "{{ url }}"
      bind_dn: cn=admin,dc=example,dc=org
      password_env: LDAP_PW
      dn: dc=example,dc=org
      attrs: {objectClass: [dcObject, organization], o: Example, dc: example}
  - name: a role object
    uses: ldap.add
    with: {url: "{{ url }}", bind_dn: "cn=admin,dc=example,dc=org", password_env: LDAP_PW, dn: "cn=naming-master,dc=example,dc=org", attrs: {objectClass: organizationalRole, cn: naming-master}}
  - name: seize the role (write its holder)
    uses: ldap.modify
    with: {url: "{{ url }}", bind_dn: "cn=admin,dc=example,dc=org", password_env: LDAP_PW, dn: "cn=naming-master,dc=example,dc=org", replace: {roleOccupant: "cn={{ holder }},dc=example,dc=org"}}
  - name: metadata cleanup
    uses: ldap.delete
    with: {url: "{{ url }}", bind_dn: "cn=admin,dc=example,dc=org", password_env: LDAP_PW, dn: "cn=failed-server,dc=example,dc=org"}
  - name: find the role holder
    id: find
    uses: ldap.search
    with: {url: "{{ url }}", base: "dc=example,dc=org", filter: "(roleOccupant=cn={{ holder }},dc=example,dc=org)", attrs: [cn]}
  - name: the search found it
    uses: assert.healthy
    when: "{{ steps.find.count }} == 1"
"#;

#[test]
fn ldap_steps_change_a_real_directory_once() {
    let Some(slapd) = Slapd::start() else { return };
    let lab = Lab::up(1);
    let book = lab.cwd().join("ldap.yaml");
    // Anchors are refused by the compiler; the test's runbook does not need them.
    std::fs::write(&book, LDAP_BOOK.replace("with: &conn", "with:")).unwrap();
    let b = book.to_str().unwrap();
    let url = format!("url={}", slapd.url);
    let go = || {
        let mut c = lab.drctl(&[
            "run",
            b,
            "--yes",
            "--json",
            "--var",
            &url,
            "--var",
            "holder=lds2",
        ]);
        c.env("LDAP_PW", "secret");
        run(c).success().json()
    };
    let ldap = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut c = std::process::Command::new(args[0])
            .args(&args[1..])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success(), "{args:?}");
    };
    let admin = [
        "-x",
        "-H",
        &slapd.url,
        "-D",
        "cn=admin,dc=example,dc=org",
        "-w",
        "secret",
    ];
    let first = go();
    // The failed server's object comes back (a stale replica re-adds it): cleaned up again.
    ldap(&[&["ldapadd"][..], &admin].concat(), "dn: cn=failed-server,dc=example,dc=org\nobjectClass: organizationalRole\ncn: failed-server\n");
    let second = go();
    assert_eq!(outcomes(&second)[3], "done", "{second}");
    assert_eq!(first["outcome"], "succeeded", "{first}");
    assert_eq!(
        outcomes(&first),
        [
            "done",
            "done",
            "done",
            "already done",
            "already done",
            "already done"
        ],
        "{first}"
    );
    let search = run(std::process::Command::new("ldapsearch").args([
        "-x",
        "-LLL",
        "-H",
        &slapd.url,
        "-b",
        "dc=example,dc=org",
        "(cn=*)",
        "roleOccupant",
    ]))
    .success()
    .stdout();
    assert!(
        search.contains("roleOccupant: cn=lds2,dc=example,dc=org"),
        "{search}"
    );
    assert!(!search.contains("failed-server"), "{search}");
    let again = go();
    assert_eq!(again["outcome"], "already done", "{again}");
    // A wrong password is the operator's to fix: refused before anything changes.
    let mut c = lab.drctl(&["run", b, "--yes", "--var", &url, "--var", "holder=other"]);
    c.env("LDAP_PW", "wrong");
    run(c).exit(1).stderr_has("bind as cn=admin");
}
