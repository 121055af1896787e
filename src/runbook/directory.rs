//! A throwaway directory for drills of `ldap.*` runbooks: a real slapd (Debian's package) on a
//! free loopback port, seeded with the shape of an AD LDS configuration set (two instances, the
//! naming and schema master roles held by the first). It is OpenLDAP, not AD LDS: it proves the
//! runbook's LDAP operations and their idempotence, not Windows' replication of them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ldap3::LdapConnAsync;

use crate::lab::LabError;
use crate::util::poll;

pub const SLAPD: &str = "/usr/sbin/slapd";
/// The configuration partition of the seeded set (AD LDS: `CN=Configuration,CN={GUID}`).
pub const CONFIG: &str = "cn=Configuration,cn=lds";
pub const SITE: &str = "Default-First-Site-Name";
pub const INSTANCES: [&str; 2] = ["LDS1$instance", "LDS2$instance"];

const SCHEMA: &str = "\
attributetype ( 1.2.840.113556.1.4.369 NAME 'fSMORoleOwner' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.3.23 NAME 'container' SUP top STRUCTURAL MUST cn MAY fSMORoleOwner )
objectclass ( 1.2.840.113556.1.5.14 NAME 'site' SUP top STRUCTURAL MUST cn )
objectclass ( 1.2.840.113556.1.5.17 NAME 'server' SUP top STRUCTURAL MUST cn )
objectclass ( 1.2.840.113556.1.5.7000.47 NAME 'nTDSDSA' SUP top STRUCTURAL MUST cn )
objectclass ( 1.2.840.113556.1.3.11 NAME 'crossRefContainer' SUP top STRUCTURAL MUST cn MAY fSMORoleOwner )
";

pub struct Directory {
    child: std::process::Child,
    pub url: String,
}

fn fail(what: &str, e: impl std::fmt::Display) -> LabError {
    LabError::Failed(format!("{what}: {e}"))
}

/// `CN=NTDS Settings` of an instance of the seeded set.
pub fn ntds(instance: &str) -> String {
    format!("cn=NTDS Settings,{}", server(instance))
}

pub fn server(instance: &str) -> String {
    format!("cn={instance},cn=Servers,cn={SITE},cn=Sites,{CONFIG}")
}

impl Directory {
    pub fn available() -> bool {
        Path::new(SLAPD).is_file()
    }

    /// Starts slapd in `dir` and seeds it; anonymous writes are allowed (a loopback lab only).
    pub async fn start_adlds(dir: &Path) -> Result<Directory, LabError> {
        let db = dir.join("db");
        std::fs::create_dir_all(&db).map_err(|e| fail("create the directory's database", e))?;
        let schema = dir.join("adlds.schema");
        std::fs::write(&schema, SCHEMA).map_err(|e| fail("write the schema", e))?;
        let conf: PathBuf = dir.join("slapd.conf");
        let text = format!(
            "include /etc/ldap/schema/core.schema\ninclude {schema}\npidfile {d}/slapd.pid\n\
             allow update_anon\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\ndatabase mdb\n\
             suffix \"{CONFIG}\"\ndirectory {db}\naccess to * by * write\n",
            schema = schema.display(),
            d = dir.display(),
            db = db.display()
        );
        std::fs::write(&conf, text).map_err(|e| fail("write slapd.conf", e))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| fail("pick a port", e))?
            .port();
        let url = format!("ldap://127.0.0.1:{port}");
        let child = std::process::Command::new(SLAPD)
            .arg("-f")
            .arg(&conf)
            .args(["-h", &format!("{url}/"), "-d", "0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| fail("start slapd", e))?;
        let mut d = Directory { child, url };
        let listens = || async {
            poll::holds(
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok(),
            )
        };
        if poll::within(Duration::from_secs(20), Duration::from_millis(20), listens)
            .await
            .is_err()
        {
            d.stop();
            return Err(LabError::Failed("slapd did not listen within 20 s".into()));
        }
        if let Err(e) = d.seed().await {
            d.stop();
            return Err(e);
        }
        Ok(d)
    }

    async fn seed(&self) -> Result<(), LabError> {
        let (conn, mut ldap) = LdapConnAsync::new(&self.url)
            .await
            .map_err(|e| fail("connect to slapd", e))?;
        tokio::spawn(async move {
            let _ = conn.drive().await;
        });
        let sites = format!("cn=Sites,{CONFIG}");
        let site = format!("cn={SITE},{sites}");
        let servers = format!("cn=Servers,{site}");
        let owner = ntds(INSTANCES[0]);
        let mut entries: Vec<(String, &str, Option<String>)> = vec![
            (CONFIG.to_string(), "container", None),
            (
                format!("cn=Partitions,{CONFIG}"),
                "crossRefContainer",
                Some(owner.clone()),
            ),
            // AD's class is dMD; OpenLDAP's core schema has another `dmd`, so a container here.
            (format!("cn=Schema,{CONFIG}"), "container", Some(owner)),
            (sites, "container", None),
            (site, "site", None),
            (servers, "container", None),
        ];
        for i in INSTANCES {
            entries.push((server(i), "server", None));
            entries.push((ntds(i), "nTDSDSA", None));
        }
        for (dn, class, role_owner) in entries {
            let cn = dn[3..dn.find(',').unwrap_or(dn.len())].to_string();
            let mut attrs = vec![
                ("objectClass".to_string(), [class.to_string()].into()),
                ("cn".to_string(), [cn].into()),
            ];
            if let Some(o) = role_owner {
                attrs.push(("fSMORoleOwner".to_string(), [o].into()));
            }
            ldap.add(&dn, attrs)
                .await
                .and_then(|r| r.success())
                .map_err(|e| fail(&format!("seed {dn}"), e))?;
        }
        let _ = ldap.unbind().await;
        Ok(())
    }

    /// Reads attributes of `dn` (None if it does not exist), for a drill's expectations.
    pub async fn read(
        &self,
        dn: &str,
    ) -> Result<Option<std::collections::HashMap<String, Vec<String>>>, LabError> {
        let (conn, mut ldap) = LdapConnAsync::new(&self.url)
            .await
            .map_err(|e| fail("connect to slapd", e))?;
        tokio::spawn(async move {
            let _ = conn.drive().await;
        });
        let r = ldap
            .search(dn, ldap3::Scope::Base, "(objectClass=*)", vec!["*"])
            .await
            .map_err(|e| fail(&format!("read {dn}"), e))?;
        let _ = ldap.unbind().await;
        if r.1.rc == 32 {
            return Ok(None);
        }
        let (entries, _) = r.success().map_err(|e| fail(&format!("read {dn}"), e))?;
        Ok(entries
            .into_iter()
            .next()
            .map(|e| ldap3::SearchEntry::construct(e).attrs))
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        self.stop();
    }
}
