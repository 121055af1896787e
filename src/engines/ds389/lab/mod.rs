//! A lab of real 389 Directory Server instances on loopback (`drctl lab up --kind 389ds`), laid
//! out as `shared/engine-labs/389ds/lib.sh` does, with its pitfalls handled:
//!
//! - no systemd: lib389's prefix install (`PREFIX=DIR/root` and a private `defaults.inf` with
//!   `with_systemd = 0`, every path under the prefix; pitfall 1); the instances run as root so
//!   that a lab in a private (0700) directory works;
//! - `dscreate` binds every interface: `nsslapd-listenhost: 127.0.0.1` goes into `dse.ldif`
//!   before the first real start (pitfall 3); no self-signed certificate (pitfall 4);
//! - ns-slapd is started directly (0.5–1.5 s; `dsctl` polls at 1 s, pitfall 5) and found again
//!   through its pid file, checked against its command line.
//!
//! node-1 is the supplier (replica id 1); every instance accepts updates from its identity
//! `cn=repl-1,cn=config`, and node-1 has an agreement to each consumer, initialized at once.

use std::ops::ControlFlow::{Break, Continue};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::state::{identity_dn, one, replica_dn};
use super::steps::DsAction;
use super::{nodes_of, DsCluster};
use crate::engine::Act;
use crate::lab::{Lab, LabError, LabKind, LabOptions, LabRow, ProcState, Sig};
use crate::util::names::lookup;
use crate::util::poll;

mod layout;
mod template;
pub(crate) use layout::missing_tools;

pub(crate) const STATE_FILE: &str = "389ds-lab.json";
pub(crate) const SUFFIX: &str = "dc=drlab,dc=test";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DsLabNode {
    pub(crate) name: String,
    pub(crate) port: u16,
    /// Its LDAPS port (every lab instance serves both).
    #[serde(default)]
    pub(crate) secure_port: u16,
}

impl DsLabNode {
    pub(crate) fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DsLab {
    #[serde(skip)]
    pub(crate) dir: PathBuf,
    pub(crate) nodes: Vec<DsLabNode>,
    /// The cluster file reaches the instances over LDAPS (`lab up --tls`).
    #[serde(default)]
    pub(crate) tls: bool,
}

fn io(what: &str, p: &Path) -> impl FnOnce(std::io::Error) -> LabError {
    let m = format!("{what} {}", p.display());
    move |e| LabError::Failed(format!("{m}: {e}"))
}

impl DsLab {
    pub(crate) fn open(dir: &Path) -> Result<DsLab, LabError> {
        let p = dir.join(STATE_FILE);
        let bytes = std::fs::read(&p).map_err(|_| LabError::NoLab(dir.to_path_buf()))?;
        let mut lab: DsLab = serde_json::from_slice(&bytes)
            .map_err(|e| LabError::Failed(format!("{} is corrupt: {e}", p.display())))?;
        // Absolute: the instances' command lines name their config dirs that way.
        lab.dir = crate::util::words::absolute(dir);
        Ok(lab)
    }

    pub(crate) fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    fn prefix(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// The instance's configuration directory (its `dse.ldif`), named in its command line.
    pub(crate) fn config_dir(&self, name: &str) -> PathBuf {
        self.prefix()
            .join("etc/dirsrv")
            .join(format!("slapd-{name}"))
    }

    fn pid_file(&self, name: &str) -> PathBuf {
        self.prefix()
            .join("run/dirsrv")
            .join(format!("slapd-{name}.pid"))
    }

    pub(crate) fn errors_log(&self, name: &str) -> PathBuf {
        self.prefix()
            .join("var/log/dirsrv")
            .join(format!("slapd-{name}"))
            .join("errors")
    }

    pub(crate) fn node(&self, name: &str) -> Result<&DsLabNode, LabError> {
        lookup(&self.nodes, name, |n| &n.name).map_err(|known| LabError::UnknownNode {
            name: name.to_string(),
            known,
        })
    }

    fn save(&self) -> Result<(), LabError> {
        let state = self.dir.join(STATE_FILE);
        std::fs::write(&state, serde_json::to_vec_pretty(self).expect("serializes"))
            .map_err(io("write", &state))
    }

    /// The pid of the instance's ns-slapd, if it runs (its command line names its config dir).
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.pid_file(name))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (crate::lab::process::state(pid, &self.config_dir(name)) != ProcState::Stopped)
            .then_some(pid)
    }

    /// Starts the instance (a running one is left alone) and waits until its port answers.
    pub(crate) fn start(&self, name: &str) -> Result<u32, LabError> {
        let n = self.node(name)?;
        if let Some(pid) = self.pid(name) {
            return Ok(pid);
        }
        let pid_file = self.pid_file(name);
        // ns-slapd refuses to start while its lock directory names a pid that still exists,
        // which an instance killed a moment ago does until init reaps it.
        let locks = self
            .prefix()
            .join("run/lock/dirsrv")
            .join(format!("slapd-{name}/server"));
        let named: Vec<u32> = std::fs::read_dir(&locks)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        // Dead means gone or a zombie: a killed process still exiting holds its sockets and
        // files; a zombie holds nothing, and its lock (which init would let go of when it
        // reaps it, 1–4 s later here) is removed.
        let zombie = |p: u32| crate::lab::process::zombie(p);
        let dead = || {
            poll::holds(
                named
                    .iter()
                    .all(|p| zombie(*p) || !Path::new(&format!("/proc/{p}")).exists()),
            )
        };
        let _ = poll::within_blocking(Duration::from_secs(30), Duration::from_millis(5), dead);
        for p in named.iter().filter(|p| zombie(**p)) {
            let _ = std::fs::remove_file(locks.join(p.to_string()));
        }
        let _ = std::fs::remove_file(&pid_file);
        // ns-slapd detaches itself; it writes its pid file once it runs.
        let status = Command::new("/usr/sbin/ns-slapd")
            .arg("-D")
            .arg(self.config_dir(name))
            .arg("-i")
            .arg(&pid_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .status()
            .map_err(|e| LabError::Failed(format!("cannot start ns-slapd for {name}: {e}")))?;
        if !status.success() {
            return Err(LabError::Failed(format!(
                "ns-slapd for {name} did not start ({status}): see {}",
                self.errors_log(name).display()
            )));
        }
        let answers = || match (
            self.pid(name),
            std::net::TcpStream::connect(("127.0.0.1", n.port)).is_ok(),
        ) {
            (Some(pid), true) => Break(pid),
            _ => Continue(()),
        };
        poll::within_blocking(Duration::from_secs(30), Duration::from_millis(20), answers).map_err(
            |()| {
                LabError::Failed(format!(
                    "ns-slapd for {name} did not answer within 30 s: see {}",
                    self.errors_log(name).display()
                ))
            },
        )
    }

    /// The file ns-slapd rewrites when it has closed its database environment cleanly (a start
    /// that finds it needs no recovery).
    fn guardian(&self, name: &str) -> PathBuf {
        self.prefix()
            .join("var/lib/dirsrv")
            .join(format!("slapd-{name}"))
            .join("db/guardian")
    }

    /// Sends `sig` to the instance and, for KILL and TERM, waits until it is gone. A clean stop
    /// (TERM) ends once the instance has closed its databases: ns-slapd then sleeps 3 s before
    /// it exits (measured with strace: it rewrites `db/guardian`, removes its SNMP stats file
    /// and semaphore, then a `pselect` of 3 s, then only its buffered access log and freeing
    /// memory), which the lab does not wait out: it ends the instance with SIGKILL there. What
    /// a clean stop must leave (the CSN state in `nsState`, written to `dse.ldif` at the
    /// replication plugin's close; the database closed without recovery needed) is on disk by
    /// then. (A semaphore left taken does not matter: the next start resets it, measured.)
    pub(crate) fn signal(&self, name: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        self.node(name)?;
        let Some(pid) = self.pid(name) else {
            return Ok(None);
        };
        let send = |sig| {
            crate::lab::process::send(pid, sig)
                .map_err(|e| LabError::Failed(format!("signal {pid}: {e}")))
        };
        let asked = std::time::SystemTime::now();
        send(sig)?;
        if matches!(sig, Sig::Kill | Sig::Term) {
            // A paused ns-slapd acts on SIGTERM only once it runs again.
            let _ = send(Sig::Cont);
            // Gone, or a zombie (dead, its files closed): `start` waits for the reap, which
            // only a start again needs.
            let gone = || self.pid(name).is_none();
            let guardian = self.guardian(name);
            let closed = || {
                sig == Sig::Term
                    && std::fs::metadata(&guardian)
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t >= asked)
            };
            let ended = || poll::holds(gone() || closed());
            let _ =
                poll::within_blocking(Duration::from_secs(30), Duration::from_millis(10), ended);
            let gone = || poll::holds(gone());
            if self.pid(name).is_some() {
                send(Sig::Kill)?;
                let _ =
                    poll::within_blocking(Duration::from_secs(5), Duration::from_millis(5), gone);
            }
        }
        Ok(Some(pid))
    }

    /// SIGKILLs every instance and removes the directory: a throwaway lab (drills), whose
    /// clean stops would cost seconds each.
    pub(crate) fn discard(self) -> Result<(), LabError> {
        for n in &self.nodes {
            self.signal(&n.name, Sig::Kill)?;
        }
        std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))
    }

    /// Stops every instance (TERM, all at once: each clean stop takes seconds), then removes
    /// the directory unless `keep`.
    pub(crate) fn down(self, keep: bool) -> Result<Vec<String>, LabError> {
        let stopped: Vec<String> = std::thread::scope(|s| {
            let jobs: Vec<_> = self
                .nodes
                .iter()
                .map(|n| s.spawn(|| (n.name.clone(), self.signal(&n.name, Sig::Term))))
                .collect();
            jobs.into_iter()
                .filter_map(|j| j.join().ok())
                .filter_map(|(name, r)| matches!(r, Ok(Some(_))).then_some(name))
                .collect()
        });
        if !keep {
            std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))?;
        }
        Ok(stopped)
    }

    /// The lab's instances as its cluster file lists them.
    pub(crate) fn cluster(&self) -> Result<DsCluster, LabError> {
        let inv = crate::engines::load_inventory(&self.cluster_file())
            .map_err(|e| LabError::Failed(e.to_string()))?;
        let nodes = nodes_of(&inv).map_err(LabError::Failed)?;
        Ok(DsCluster::new(
            &inv.file.cluster,
            nodes,
            Duration::from_secs(2),
            Duration::from_secs(60),
        ))
    }

    /// Starts every instance, makes node-1 the supplier of the others and waits (up to
    /// `deadline`) until the group is healthy.
    pub(crate) async fn up(&mut self, deadline: Duration) -> Result<DsCluster, LabError> {
        for n in &self.nodes {
            DsLab::start(self, &n.name)?;
        }
        let cl = self.cluster()?;
        let failed = |e: crate::engine::ProcError| LabError::Failed(e.to_string());
        let ldap = |e: crate::engines::openldap::LdapError| LabError::Failed(e.to_string());
        let first = self.nodes[0].name.clone();
        for (i, n) in cl.nodes.iter().enumerate() {
            let mut s = cl.session(n.name()).await.map_err(failed)?;
            // A copy of the template starts with an empty database: the suffix entry as
            // dscreate makes it (a consumer's is replaced by its total update).
            if s.read(SUFFIX, &["1.1"]).await.map_err(ldap)?.is_none() {
                s.add(SUFFIX, suffix_entry()).await.map_err(ldap)?;
            }
            let id = identity_dn(1);
            if s.read(&id, &["1.1"]).await.map_err(ldap)?.is_none() {
                let attrs = vec![
                    (
                        "objectClass".to_string(),
                        ["top", "netscapeServer", "nsAccount"]
                            .map(String::from)
                            .into(),
                    ),
                    ("cn".to_string(), one("repl-1")),
                    ("userPassword".to_string(), one(n.repl_password.expose())),
                ];
                s.add(&id, attrs).await.map_err(ldap)?;
            }
            let rdn = replica_dn(SUFFIX);
            if s.read(&rdn, &["1.1"]).await.map_err(ldap)?.is_none() {
                let (kind, flags, rid) = if i == 0 {
                    ("3", "1", "1")
                } else {
                    ("2", "0", "65535")
                };
                let attrs = vec![
                    (
                        "objectClass".to_string(),
                        ["top", "nsds5Replica"].map(String::from).into(),
                    ),
                    ("cn".to_string(), one("replica")),
                    ("nsDS5ReplicaRoot".to_string(), one(SUFFIX)),
                    ("nsDS5ReplicaType".to_string(), one(kind)),
                    ("nsDS5Flags".to_string(), one(flags)),
                    ("nsDS5ReplicaId".to_string(), one(rid)),
                    ("nsDS5ReplicaBindDN".to_string(), one(id)),
                ];
                s.add(&rdn, attrs).await.map_err(ldap)?;
            }
            s.close().await;
        }
        // Each consumer's agreement and total update at once: an init has 2.5 s of fixed
        // overhead (engine-labs/389ds §3), paid once instead of once per consumer.
        let feed = |to: String| {
            let (cl, first) = (&cl, first.clone());
            async move {
                for step in [
                    DsAction::Agreement {
                        from: first.clone(),
                        to: to.clone(),
                        rid: 1,
                    },
                    DsAction::Init {
                        from: first,
                        to,
                        always: false,
                        exported: false,
                        run: None,
                    },
                ] {
                    if step.check(cl).await? == crate::engine::Check::ToDo {
                        step.apply(cl).await?;
                    }
                    step.verify(cl).await?;
                }
                Ok(())
            }
        };
        futures_util::future::join_all(self.nodes.iter().skip(1).map(|n| feed(n.name.clone())))
            .await
            .into_iter()
            .collect::<Result<Vec<()>, _>>()
            .map_err(failed)?;
        self.healthy(&cl, deadline).await?;
        Ok(cl)
    }

    /// Starts every instance of a lab whose replication was set up and waits (up to
    /// `deadline`) until the group is healthy: a lab restored from a kept copy
    /// (`runbook::drill_pool`). The consumers first, all at once, then the supplier (node-1, as
    /// `up` made it): a supplier that starts before its consumers answer records "Can't contact
    /// LDAP server" for its agreements and says so until they next connect, 3 s later.
    pub(crate) async fn resume(&self, deadline: Duration) -> Result<DsCluster, LabError> {
        std::thread::scope(|s| {
            let jobs: Vec<_> = self
                .nodes
                .iter()
                .skip(1)
                .map(|n| s.spawn(|| DsLab::start(self, &n.name)))
                .collect();
            jobs.into_iter()
                .map(|j| j.join().expect("an instance's start panicked"))
                .collect::<Result<Vec<u32>, _>>()
        })?;
        if let Some(first) = self.nodes.first() {
            DsLab::start(self, &first.name)?;
        }
        let cl = self.cluster()?;
        self.healthy(&cl, deadline).await?;
        Ok(cl)
    }

    /// Stops every instance cleanly (TERM), which writes each supplier's CSN state (`nsState`,
    /// engine-labs/389ds pitfall 6), and fails unless each is gone: what a copy of the lab's
    /// directory is taken after. The supplier (node-1, as `up` made it) first, then the others
    /// at once: a supplier that outlives its consumers records its agreements' last update as
    /// "Can't contact LDAP server", and a copy started again then reports that until the
    /// agreements next connect (2–3 s).
    pub(crate) fn stop_all(&self) -> Result<(), LabError> {
        if let Some(first) = self.nodes.first() {
            self.signal(&first.name, Sig::Term)?;
        }
        std::thread::scope(|s| {
            let jobs: Vec<_> = self
                .nodes
                .iter()
                .skip(1)
                .map(|n| s.spawn(|| self.signal(&n.name, Sig::Term)))
                .collect();
            jobs.into_iter()
                .map(|j| j.join().expect("an instance's stop panicked"))
                .collect::<Result<Vec<_>, _>>()
        })?;
        match self.nodes.iter().find(|n| self.pid(&n.name).is_some()) {
            Some(n) => Err(LabError::Failed(format!("{} did not stop", n.name))),
            None => Ok(()),
        }
    }

    /// Waits (up to `deadline`) until the group is healthy.
    async fn healthy(&self, cl: &DsCluster, deadline: Duration) -> Result<(), LabError> {
        poll::within(deadline, Duration::from_millis(50), || async {
            let a = cl.probe().await.assess();
            if a.healthy {
                Break(())
            } else {
                Continue(a.problems)
            }
        })
        .await
        .map_err(|problems| {
            LabError::Failed(format!(
                "the 389ds lab was not healthy within {} s: {}",
                deadline.as_secs(),
                problems.join("; ")
            ))
        })
    }
}

/// The suffix entry `dscreate` makes (`create_suffix_entry = True`), readable by anyone.
fn suffix_entry() -> Vec<(String, std::collections::HashSet<String>)> {
    let dc = SUFFIX
        .split(',')
        .next()
        .and_then(|rdn| rdn.strip_prefix("dc="))
        .expect("the lab suffix starts with dc=");
    vec![
        (
            "objectClass".to_string(),
            ["top", "domain"].map(String::from).into(),
        ),
        ("dc".to_string(), one(dc)),
        ("description".to_string(), one(SUFFIX)),
        (
            "aci".to_string(),
            one("(targetattr=\"dc || description || objectClass\")(targetfilter=\"(objectClass=domain)\")\
                 (version 3.0; acl \"Enable anyone domain read\"; allow (read, search, compare)\
                 (userdn=\"ldap:///anyone\");)"),
        ),
    ]
}

/// The 389ds lab as the registry knows it.
pub(crate) const LAB: LabKind = LabKind {
    state_file: STATE_FILE,
    unavailable: missing_tools,
    create: |dir: &Path, o: &LabOptions| Ok(Box::new(DsLab::create_with(dir, o.nodes, o.tls)?)),
    open: |dir: &Path| Ok(Box::new(DsLab::open(dir)?)),
    tls: Some("ldaps:// urls, the lab CA as ca_file, agreements over TLS"),
    beside: false,
};

impl Lab for DsLab {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn cluster_file(&self) -> PathBuf {
        DsLab::cluster_file(self)
    }

    fn rows(&self) -> Vec<LabRow> {
        self.nodes
            .iter()
            .map(|n| {
                let pid = self.pid(&n.name);
                LabRow {
                    name: n.name.clone(),
                    pid,
                    state: pid.map_or(ProcState::Stopped, |p| {
                        crate::lab::process::state(p, &self.config_dir(&n.name))
                    }),
                    url: n.url(),
                }
            })
            .collect()
    }

    fn start(&mut self, node: &str) -> Result<u32, LabError> {
        DsLab::start(self, node)
    }

    fn signal(&mut self, node: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        DsLab::signal(self, node, sig)
    }

    fn up(&mut self, deadline: Duration) -> BoxFuture<'_, Result<(), LabError>> {
        Box::pin(async move { DsLab::up(self, deadline).await.map(drop) })
    }

    fn wait_up<'a>(
        &'a self,
        node: &'a str,
        deadline: Duration,
    ) -> BoxFuture<'a, Result<(), LabError>> {
        Box::pin(async move {
            let cl = self.cluster()?;
            poll::within(deadline, Duration::from_millis(20), || async {
                if self.pid(node).is_none() {
                    return Break(Err(()));
                }
                match cl.session(node).await {
                    Ok(s) => {
                        s.close().await;
                        Break(Ok(()))
                    }
                    Err(e) => Continue(e.to_string()),
                }
            })
            .await
            .map_err(|e| {
                LabError::Failed(format!(
                    "ns-slapd for {node} does not answer after {} s: {e}",
                    deadline.as_secs()
                ))
            })?
            .map_err(|()| {
                LabError::Failed(format!(
                    "ns-slapd for {node} exited after it started: see {}",
                    self.errors_log(node).display()
                ))
            })
        })
    }

    fn log_file(&self, node: &str) -> Option<PathBuf> {
        Some(self.errors_log(node))
    }

    fn try_next(&self) -> &'static str {
        "  drctl candidates\n  drctl lab kill node-1        # SIGKILL the supplier\n  \
         drctl failover --dry-run\n"
    }

    fn down(self: Box<Self>, keep: bool) -> Result<Vec<String>, LabError> {
        DsLab::down(*self, keep)
    }
}
