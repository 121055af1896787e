//! A lab of real slapd processes on loopback (`drctl lab up --kind openldap`): node-1 is the
//! provider, the others its consumers. Each node's cn=config is built offline with
//! `slapadd -n0` from the configuration measured in `shared/OPENLDAP.md`; slapd runs in the
//! foreground (`-d`) in its own process group and is found again through its pid file.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::lab::netns::Net;
use crate::lab::owner::Owner;
use crate::lab::{LabError, ProcState, Sig};
use crate::util::names::lookup;
use crate::util::poll;

pub const STATE_FILE: &str = "openldap-lab.json";
pub const SLAPD: &str = "/usr/sbin/slapd";
pub const SUFFIX: &str = "dc=example,dc=com";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=com";
pub const CONFIG_DN: &str = "cn=admin,cn=config";
pub const REPL_DN: &str = "cn=replicator,dc=example,dc=com";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LdapLabNode {
    pub name: String,
    pub port: u16,
    pub server_id: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LdapLab {
    #[serde(skip)]
    pub dir: PathBuf,
    pub nodes: Vec<LdapLabNode>,
    /// Each slapd in a network namespace of its own, where links can be cut (chaos
    /// partitions); none: every slapd on loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<Net>,
}

fn io(what: &str, p: &Path) -> impl FnOnce(std::io::Error) -> LabError {
    let m = format!("{what} {}", p.display());
    move |e| LabError::Failed(format!("{m}: {e}"))
}

/// Why slapd cannot be used here, if it cannot.
pub fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = [SLAPD, "/usr/sbin/slapadd", "/usr/sbin/slappasswd"]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    (!missing.is_empty()).then(|| format!(
        "slapd not installed ({} missing): apt-get install slapd ldap-utils (touch /etc/ldap/noslapd first so the package does not start its own slapd)",
        missing.join(", ")))
}

pub fn is_lab(dir: &Path) -> bool {
    dir.join(STATE_FILE).exists()
}

fn hash(pw: &str) -> Result<String, LabError> {
    let out = Command::new("/usr/sbin/slappasswd")
        .arg("-s")
        .arg(pw)
        .output()
        .map_err(|e| LabError::Failed(format!("slappasswd: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A lab node's `cn=config`. Its database commits without an fsync (`olcDbNoSync`): a lab's
/// faults kill slapd, never the machine, and a killed slapd's committed pages are already the
/// kernel's (LMDB writes them before the commit returns), so an acknowledged write still
/// survives `kill -9`; the fsyncs cost a drill's 100 writes 0.3-1 s on 2 cores.
fn config(
    dir: &Path,
    n: &LdapLabNode,
    provider: Option<(std::net::Ipv4Addr, u16)>,
    pw: &str,
    hashed: &str,
) -> String {
    let d = dir.join(&n.name);
    let d = d.display();
    let mut s = format!(
"dn: cn=config
objectClass: olcGlobal
cn: config
olcServerID: {sid}
olcPidFile: {d}/slapd.pid
olcArgsFile: {d}/slapd.args
olcLogLevel: stats sync

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: syncprov

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: {CONFIG_DN}
olcRootPW: {hashed}

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {hashed}
olcDbDirectory: {d}/db
olcDbMaxSize: 1073741824
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: entryCSN eq
olcDbIndex: entryUUID eq
olcDbIndex: uid eq
olcAccess: {{0}}to * by dn.exact=\"{CONFIG_DN}\" manage by dn.exact=\"{REPL_DN}\" read by * break
olcAccess: {{1}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{2}}to * by users read by * none
olcLimits: {{0}}dn.exact=\"{REPL_DN}\" time.soft=unlimited time.hard=unlimited size.soft=unlimited size.hard=unlimited
olcLimits: {{1}}dn.exact=\"{CONFIG_DN}\" time.soft=unlimited time.hard=unlimited size.soft=unlimited size.hard=unlimited
", sid = n.server_id);
    match provider {
        Some((h, p)) => s.push_str(&format!(
            "olcSyncrepl: {{0}}rid=001 provider=ldap://{h}:{p} bindmethod=simple binddn=\"{REPL_DN}\" credentials={pw} searchbase=\"{SUFFIX}\" scope=sub type=refreshAndPersist retry=\"1 +\" network-timeout=3 keepalive=30:3:5\nolcUpdateRef: ldap://{h}:{p}\n")),
        None => s.push_str("\ndn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config\nobjectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\nolcOverlay: {0}syncprov\nolcSpCheckpoint: 1 1\nolcSpSessionlog: 1000\n"),
    }
    s.push_str(&format!("\ndn: olcDatabase={{2}}monitor,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {{2}}monitor\nolcAccess: {{0}}to * by dn.exact=\"{CONFIG_DN}\" read by * none\n"));
    s
}

impl LdapLab {
    pub fn open(dir: &Path) -> Result<LdapLab, LabError> {
        let p = dir.join(STATE_FILE);
        let bytes = std::fs::read(&p).map_err(|_| LabError::NoLab(dir.to_path_buf()))?;
        let mut lab: LdapLab = serde_json::from_slice(&bytes)
            .map_err(|e| LabError::Failed(format!("{} is corrupt: {e}", p.display())))?;
        lab.dir = dir.to_path_buf();
        Ok(lab)
    }

    pub fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    pub fn password(&self) -> Result<String, LabError> {
        let p = self.dir.join("password");
        std::fs::read_to_string(&p)
            .map(|s| s.trim().to_string())
            .map_err(io("read", &p))
    }

    pub fn node(&self, name: &str) -> Result<&LdapLabNode, LabError> {
        lookup(&self.nodes, name, |n| &n.name).map_err(|known| LabError::UnknownNode {
            name: name.to_string(),
            known,
        })
    }

    /// The address the node's slapd listens on: its namespace's, else loopback.
    pub fn host(&self, name: &str) -> std::net::Ipv4Addr {
        self.net
            .as_ref()
            .and_then(|net| net.node(name))
            .map(|n| n.addr)
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST)
    }

    /// Lays out N nodes (slapadd -n0 each) and the cluster file; refuses over a running lab.
    pub fn create(dir: &Path, nodes: u16) -> Result<LdapLab, LabError> {
        LdapLab::create_in(dir, nodes, false)
    }

    /// [`LdapLab::create`], each slapd in a network namespace of its own if `namespaced` (as
    /// root, with `ip`): links between nodes, and to drctl, can then be cut.
    pub fn create_in(dir: &Path, nodes: u16, namespaced: bool) -> Result<LdapLab, LabError> {
        if let Some(why) = missing_tools() {
            return Err(LabError::Unavailable(why));
        }
        if let Ok(old) = LdapLab::open(dir) {
            let running: Vec<String> = old
                .nodes
                .iter()
                .filter(|n| old.pid(&n.name).is_some())
                .map(|n| n.name.clone())
                .collect();
            if !running.is_empty() {
                return Err(LabError::Running {
                    dir: dir.to_path_buf(),
                    running: running.join(", "),
                });
            }
        }
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let ports =
            crate::lab::process::free_ports(nodes as usize).map_err(io("choose ports in", dir))?;
        let mut lab = LdapLab {
            dir: dir.to_path_buf(),
            nodes: (0..nodes as usize)
                .map(|i| LdapLabNode {
                    name: format!("node-{}", i + 1),
                    port: ports[i],
                    server_id: i as u32 + 1,
                })
                .collect(),
            net: None,
        };
        if namespaced {
            let names: Vec<String> = lab.nodes.iter().map(|n| n.name.clone()).collect();
            lab.net = Some(Net::create(Owner::me(), &names)?);
        }
        let pw: String = {
            use rand::Rng;
            rand::rng()
                .sample_iter(rand::distr::Alphanumeric)
                .take(20)
                .map(char::from)
                .collect()
        };
        let pw_path = dir.join("password");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(&pw_path)
                .map_err(io("write", &pw_path))?;
            f.write_all(pw.as_bytes()).map_err(io("write", &pw_path))?;
        }
        let hashed = hash(&pw)?;
        let mut yaml = format!("# Written by `drctl lab up --kind openldap`. Use it with: export DRCTL_CLUSTER={}\ncluster: ldap-lab\nnodes:\n", lab.cluster_file().display());
        for (i, n) in lab.nodes.iter().enumerate() {
            let d = dir.join(&n.name);
            for sub in ["slapd.d", "db"] {
                std::fs::create_dir_all(d.join(sub)).map_err(io("create", &d))?;
            }
            let provider = &lab.nodes[0];
            let provider = (i > 0).then(|| (lab.host(&provider.name), provider.port));
            let ldif = config(dir, n, provider, &pw, &hashed);
            let path = d.join("config.ldif");
            // It holds the replication credentials in clear (the lab's password): 0600.
            crate::util::secret::write_private_file(&path, ldif.as_bytes())
                .map_err(io("write", &path))?;
            let out = Command::new("/usr/sbin/slapadd")
                .arg("-n0")
                .arg("-F")
                .arg(d.join("slapd.d"))
                .arg("-l")
                .arg(&path)
                .output()
                .map_err(|e| LabError::Failed(format!("slapadd: {e}")))?;
            if !out.status.success() {
                return Err(LabError::Failed(format!(
                    "slapadd -n0 for {}: {}",
                    n.name,
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            yaml.push_str(&format!(
                "- name: {}\n  kind: openldap\n  url: ldap://{}:{}\n  bind_dn: {CONFIG_DN}\n  password_file: password\n  suffix: {SUFFIX}\n  data_dir: {}/db\n",
                n.name, lab.host(&n.name), n.port, n.name));
        }
        std::fs::write(lab.cluster_file(), yaml).map_err(io("write", &lab.cluster_file()))?;
        let state = dir.join(STATE_FILE);
        std::fs::write(&state, serde_json::to_vec_pretty(&lab).expect("serializes"))
            .map_err(io("write", &state))?;
        Ok(lab)
    }

    /// The pid of the node's slapd, if it runs (its command line names the node's directory).
    pub fn pid(&self, name: &str) -> Option<u32> {
        let d = self.dir.join(name);
        let pid: u32 = std::fs::read_to_string(d.join("slapd.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (crate::lab::process::state(pid, &d.join("slapd.d")) != ProcState::Stopped).then_some(pid)
    }

    pub fn start(&self, name: &str) -> Result<(), LabError> {
        let n = self.node(name)?;
        if self.pid(name).is_some() {
            return Ok(());
        }
        let d = self.dir.join(name);
        let log_path = d.join("slapd.log");
        let started = || {
            std::fs::read_to_string(&log_path)
                .map(|l| l.matches("slapd starting").count())
                .unwrap_or(0)
        };
        let before = started();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("slapd.log"))
            .map_err(io("open", &d))?;
        let host = self.host(name);
        // In its namespace: `ip netns exec` execs slapd, so the process started is slapd.
        let prefix = self
            .net
            .as_ref()
            .and_then(|net| net.exec_prefix(name))
            .unwrap_or_default();
        let mut cmd = match prefix.split_first() {
            Some((ip, args)) => {
                let mut c = Command::new(ip);
                c.args(args).arg(SLAPD);
                c
            }
            None => Command::new(SLAPD),
        };
        cmd.arg("-F")
            .arg(d.join("slapd.d"))
            .arg("-h")
            .arg(format!("ldap://{host}:{}/", n.port))
            .arg("-n")
            .arg(format!("slapd-{name}"))
            .arg("-d")
            .arg("16384")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("open", &d))?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| LabError::Failed(format!("cannot start slapd for {name}: {e}")))?;
        // In a namespace, the node may be cut off from here (a restart during a partition):
        // it is up once it says so in its log and listens on its port (it logs first). On
        // loopback, once it answers.
        let answers = || {
            poll::holds(self.pid(name).is_some_and(|pid| {
                if self.net.is_some() {
                    started() > before && crate::lab::process::listening(pid, n.port)
                } else {
                    std::net::TcpStream::connect((host, n.port)).is_ok()
                }
            }))
        };
        poll::within_blocking(Duration::from_secs(20), Duration::from_millis(10), answers).map_err(
            |()| {
                LabError::Failed(format!(
                    "slapd for {name} did not answer within 20 s: see {}",
                    d.join("slapd.log").display()
                ))
            },
        )
    }

    /// Sends `sig` to the node's slapd and, for KILL and TERM, waits until it is gone.
    pub fn signal(&self, name: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        self.node(name)?;
        let Some(pid) = self.pid(name) else {
            return Ok(None);
        };
        let gone = || self.pid(name).is_none();
        crate::lab::process::signal_until_gone(pid, sig, Duration::from_secs(10), gone)?;
        Ok(Some(pid))
    }

    /// Stops every slapd (TERM), then removes the directory unless `keep`.
    pub fn down(self, keep: bool) -> Result<Vec<String>, LabError> {
        let mut stopped = Vec::new();
        for n in &self.nodes {
            if self.signal(&n.name, Sig::Term)?.is_some() {
                stopped.push(n.name.clone());
            }
        }
        // The namespaces go with the lab (a kept lab keeps its files, not its network).
        if let Some(net) = &self.net {
            net.delete()?;
        }
        if !keep {
            std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))?;
        }
        Ok(stopped)
    }
}
