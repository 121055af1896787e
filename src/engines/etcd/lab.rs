//! A lab of real etcd members on loopback (`drctl lab up --kind etcd`): each member with its
//! own client and peer port and data directory, started in its own process group and found
//! again through its pid file (checked against its command line). The flags are the ones of
//! `shared/engine-labs/etcd/lab.sh`; a member whose data directory exists ignores the
//! `--initial-cluster*` flags, so the same command starts it the first time and every time after.
//! With `--tls`, the members serve https client and peer URLs with certificates of a lab CA
//! (`tls/`), require a client certificate (`--client-cert-auth`), and have etcd's auth enabled
//! (user root, its password in `tls/root.password`) once the cluster first formed.

use std::ops::ControlFlow::{Break, Continue};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{nodes_of, Client, EtcdCluster};
use crate::lab::{Lab, LabError, LabKind, LabOptions, LabRow, ProcState, Sig};
use crate::util::names::lookup;
use crate::util::poll;

pub(crate) const STATE_FILE: &str = "etcd-lab.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EtcdLabNode {
    pub(crate) name: String,
    pub(crate) client_port: u16,
    pub(crate) peer_port: u16,
    /// Its client and peer URLs are https.
    #[serde(default)]
    pub(crate) tls: bool,
}

impl EtcdLabNode {
    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }
    pub(crate) fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.client_port)
    }
    pub(crate) fn peer_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.peer_port)
    }
}

/// The lab's TLS files (in `tls/`), relative to the lab directory as the cluster file names
/// them: the CA, each member's certificate (server and client: it is also a peer's), drctl's
/// client certificate, and the root user's password.
const TLS_DIR: &str = "tls";
const CLIENT_CERT: &str = "drctl";
const PASSWORD_FILE: &str = "tls/root.password";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EtcdLab {
    #[serde(skip)]
    pub(crate) dir: PathBuf,
    pub(crate) nodes: Vec<EtcdLabNode>,
    /// `--initial-cluster-token`: a lab's members never join another lab's.
    pub(crate) token: String,
    /// Set once the cluster first formed: from then on a member started with an empty data
    /// directory joins an `existing` cluster (and is refused unless it was added), instead of
    /// bootstrapping a new one beside it.
    #[serde(default)]
    pub(crate) bootstrapped: bool,
    /// Members over https with client certificates, and etcd's auth once bootstrapped.
    #[serde(default)]
    pub(crate) tls: bool,
}

fn io(what: &str, p: &Path) -> impl FnOnce(std::io::Error) -> LabError {
    let m = format!("{what} {}", p.display());
    move |e| LabError::Failed(format!("{m}: {e}"))
}

/// The etcd binary on PATH, if there is one.
pub(crate) fn etcd_binary() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("etcd"))
            .find(|p| p.is_file())
    })
}

/// Why an etcd lab cannot run here, if it cannot.
pub(crate) fn missing_tools() -> Option<String> {
    etcd_binary().is_none().then(|| {
        "etcd not installed (no `etcd` on PATH): apt-get install etcd-server etcd-client".into()
    })
}

impl EtcdLab {
    pub(crate) fn open(dir: &Path) -> Result<EtcdLab, LabError> {
        let p = dir.join(STATE_FILE);
        let bytes = std::fs::read(&p).map_err(|_| LabError::NoLab(dir.to_path_buf()))?;
        let mut lab: EtcdLab = serde_json::from_slice(&bytes)
            .map_err(|e| LabError::Failed(format!("{} is corrupt: {e}", p.display())))?;
        lab.dir = dir.to_path_buf();
        Ok(lab)
    }

    pub(crate) fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    pub(crate) fn node(&self, name: &str) -> Result<&EtcdLabNode, LabError> {
        lookup(&self.nodes, name, |n| &n.name).map_err(|known| LabError::UnknownNode {
            name: name.to_string(),
            known,
        })
    }

    pub(crate) fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("data")
    }

    /// Lays out N members and the cluster file; refuses over a running lab.
    pub(crate) fn create(dir: &Path, nodes: u16) -> Result<EtcdLab, LabError> {
        EtcdLab::create_with(dir, nodes, false)
    }

    /// `create`, with `tls`: https members, client certificates and auth.
    pub(crate) fn create_with(dir: &Path, nodes: u16, tls: bool) -> Result<EtcdLab, LabError> {
        if let Some(why) = missing_tools() {
            return Err(LabError::Unavailable(why));
        }
        if !(1..=9).contains(&nodes) {
            return Err(LabError::Failed(format!(
                "--nodes {nodes}: an etcd lab has 1 to 9 members"
            )));
        }
        if let Ok(old) = EtcdLab::open(dir) {
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
        let ports = crate::lab::process::free_ports(2 * nodes as usize)
            .map_err(io("choose ports in", dir))?;
        let lab = EtcdLab {
            dir: dir.to_path_buf(),
            nodes: (0..nodes as usize)
                .map(|i| EtcdLabNode {
                    name: format!("node-{}", i + 1),
                    client_port: ports[2 * i],
                    peer_port: ports[2 * i + 1],
                    tls,
                })
                .collect(),
            token: format!(
                "drctl-lab-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            bootstrapped: false,
            tls,
        };
        let access = if tls { lab.make_tls()? } else { String::new() };
        let mut yaml = format!(
            "# Written by `drctl lab up --kind etcd`. Use it with: export DRCTL_CLUSTER={}\ncluster: etcd-lab\nnodes:\n",
            lab.cluster_file().display()
        );
        // The host commands drctl runs for what the API cannot do: this drctl's own `lab`.
        let drctl = std::env::current_exe().map_err(io("find the drctl binary for", dir))?;
        let lab_cmd = |verb: &str, node: &str| {
            format!(
                "'{}' --lab-dir '{}' lab {verb} {node}",
                drctl.display(),
                dir.display()
            )
        };
        for n in &lab.nodes {
            let d = dir.join(&n.name);
            std::fs::create_dir_all(&d).map_err(io("create", &d))?;
            yaml.push_str(&format!(
                "- name: {}\n  kind: etcd\n  url: {}\n  peer_url: {}\n  data_dir: {}/data\n  start_command: \"{}\"\n  stop_command: \"{}\"\n{access}",
                n.name,
                n.url(),
                n.peer_url(),
                n.name,
                lab_cmd("restart", &n.name),
                lab_cmd("stop", &n.name),
            ));
        }
        std::fs::write(lab.cluster_file(), yaml).map_err(io("write", &lab.cluster_file()))?;
        lab.save()?;
        Ok(lab)
    }

    /// The lab CA, a certificate per member (for 127.0.0.1 and localhost), drctl's client
    /// certificate and root's password; the cluster file's lines that name them.
    fn make_tls(&self) -> Result<String, LabError> {
        let d = self.dir.join(TLS_DIR);
        let certs = |e: crate::certs::CertError| LabError::Failed(format!("lab certificates: {e}"));
        crate::certs::init_ca(&d, "etcd-lab").map_err(certs)?;
        let sans = ["127.0.0.1".to_string(), "localhost".to_string()];
        for n in &self.nodes {
            crate::certs::issue(&d, &n.name, "etcd-lab", &sans).map_err(certs)?;
        }
        client_cert(&d)
            .map_err(|e| LabError::Failed(format!("drctl's client certificate: {e}")))?;
        let pw = self.dir.join(PASSWORD_FILE);
        crate::util::secret::write_private_file(
            &pw,
            crate::util::secret::Passphrase::random()
                .expose()
                .as_bytes(),
        )
        .map_err(io("write", &pw))?;
        Ok(format!(
            "  ca_file: {TLS_DIR}/ca.pem\n  cert_file: {TLS_DIR}/{CLIENT_CERT}.pem\n  key_file: {TLS_DIR}/{CLIENT_CERT}.key\n  username: root\n  password_file: {PASSWORD_FILE}\n"
        ))
    }

    /// The flags of a member that serves TLS (clients and peers with certificates of the lab
    /// CA); none for a plain lab.
    fn tls_flags(&self, name: &str) -> Vec<String> {
        if !self.tls {
            return Vec::new();
        }
        let f = |file: &str| self.dir.join(TLS_DIR).join(file).display().to_string();
        let (cert, key, ca) = (
            f(&format!("{name}.pem")),
            f(&format!("{name}.key")),
            f("ca.pem"),
        );
        [
            ("--cert-file", &cert),
            ("--key-file", &key),
            ("--trusted-ca-file", &ca),
            ("--peer-cert-file", &cert),
            ("--peer-key-file", &key),
            ("--peer-trusted-ca-file", &ca),
        ]
        .iter()
        .map(|(flag, v)| format!("{flag}={v}"))
        .chain([
            "--client-cert-auth".into(),
            "--peer-client-cert-auth".into(),
        ])
        .collect()
    }

    /// etcd's auth on, as `etcdctl user add root; auth enable` does it: the root user with
    /// the lab's password and the root role.
    async fn enable_auth(&self, cl: &EtcdCluster) -> Result<(), LabError> {
        let pw = crate::util::secret::Passphrase::from_file(&self.dir.join(PASSWORD_FILE))
            .map_err(|e| LabError::Failed(e.to_string()))?;
        let url = &cl.nodes[0].url;
        cl.client
            .enable_auth(url, "root", pw.expose())
            .await
            .map_err(|e| LabError::Failed(format!("enable etcd's auth in the lab: {e}")))
    }

    fn save(&self) -> Result<(), LabError> {
        let state = self.dir.join(STATE_FILE);
        std::fs::write(&state, serde_json::to_vec_pretty(self).expect("serializes"))
            .map_err(io("write", &state))
    }

    /// The pid of the member's etcd, if it runs (its command line names its data directory).
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.dir.join(name).join("etcd.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (crate::lab::process::state(pid, &self.data_dir(name)) != ProcState::Stopped).then_some(pid)
    }

    fn initial_cluster(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("{}={}", n.name, n.peer_url()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts the member (a running one is left alone) and waits until its client port
    /// answers; an etcd that exits at once (a removed member exits with status 0) is an error.
    pub(crate) fn start(&self, name: &str) -> Result<u32, LabError> {
        let n = self.node(name)?;
        if let Some(pid) = self.pid(name) {
            return Ok(pid);
        }
        let d = self.dir.join(name);
        let etcd = etcd_binary()
            .ok_or_else(|| LabError::Unavailable(missing_tools().unwrap_or_default()))?;
        let log_path = d.join("etcd.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io("open", &log_path))?;
        let mut cmd = Command::new(etcd);
        // How a new member joins, as etcd reads it from its environment. The bootstrap values
        // unless the caller gives its own (`member add` prints them for a member that joins a
        // running cluster: ETCD_INITIAL_CLUSTER, ETCD_INITIAL_CLUSTER_STATE=existing). A
        // member whose data directory exists ignores them.
        for (var, value) in [
            ("ETCD_INITIAL_CLUSTER", self.initial_cluster()),
            (
                "ETCD_INITIAL_CLUSTER_STATE",
                if self.bootstrapped { "existing" } else { "new" }.to_string(),
            ),
            ("ETCD_INITIAL_CLUSTER_TOKEN", self.token.clone()),
        ] {
            if std::env::var_os(var).is_none() {
                cmd.env(var, value);
            }
        }
        let mut child = cmd
            .arg("--name")
            .arg(name)
            .arg("--data-dir")
            .arg(self.data_dir(name))
            .args(["--listen-client-urls", &n.url()])
            .args(["--advertise-client-urls", &n.url()])
            .args(["--listen-peer-urls", &n.peer_url()])
            .args(["--initial-advertise-peer-urls", &n.peer_url()])
            .args(["--logger=zap", "--log-outputs=stderr"])
            .args(self.tls_flags(name))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("open", &log_path))?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the operator's terminal does not reach it.
            .process_group(0)
            .spawn()
            .map_err(|e| LabError::Failed(format!("cannot start etcd for {name}: {e}")))?;
        let pid = child.id();
        let pid_path = d.join("etcd.pid");
        std::fs::write(&pid_path, pid.to_string()).map_err(io("write", &pid_path))?;
        let answers = || {
            if let Ok(Some(status)) = child.try_wait() {
                return Break(Err(status));
            }
            if std::net::TcpStream::connect(("127.0.0.1", n.client_port)).is_ok() {
                Break(Ok(()))
            } else {
                Continue(())
            }
        };
        match poll::within_blocking(Duration::from_secs(20), Duration::from_millis(10), answers) {
            Ok(Ok(())) => Ok(pid),
            Ok(Err(status)) => Err(LabError::Failed(format!(
                "etcd for {name} exited right after it started ({status}){}: see {}",
                why_exited(&log_path),
                log_path.display()
            ))),
            Err(()) => Err(LabError::Failed(format!(
                "etcd for {name} did not answer within 20 s: see {}",
                log_path.display()
            ))),
        }
    }

    /// Sends `sig` to the member's etcd and, for KILL and TERM, waits until it is gone.
    pub(crate) fn signal(&self, name: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        self.node(name)?;
        let Some(pid) = self.pid(name) else {
            return Ok(None);
        };
        let gone = || self.pid(name).is_none();
        crate::lab::process::signal_until_gone(pid, sig, Duration::from_secs(10), gone)?;
        Ok(Some(pid))
    }

    /// SIGKILLs every member and removes the directory: a throwaway lab (drills, bench), whose
    /// graceful stops would wait on a cluster that is losing its quorum member by member.
    pub(crate) fn discard(self) -> Result<(), LabError> {
        for n in &self.nodes {
            self.signal(&n.name, Sig::Kill)?;
        }
        std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))
    }

    /// Stops every member (TERM), then removes the directory unless `keep`.
    pub(crate) fn down(self, keep: bool) -> Result<Vec<String>, LabError> {
        let mut stopped = Vec::new();
        for n in &self.nodes {
            if self.signal(&n.name, Sig::Term)?.is_some() {
                stopped.push(n.name.clone());
            }
        }
        if !keep {
            std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))?;
        }
        Ok(stopped)
    }

    /// The lab's members as its cluster file lists them.
    pub(crate) fn cluster(&self) -> Result<EtcdCluster, LabError> {
        let inv = crate::engines::load_inventory(&self.cluster_file())
            .map_err(|e| LabError::Failed(e.to_string()))?;
        let nodes = nodes_of(&inv).map_err(LabError::Failed)?;
        let client = Client::for_nodes(&nodes, Duration::from_secs(1)).map_err(LabError::Failed)?;
        Ok(EtcdCluster::new(
            &inv.file.cluster,
            nodes,
            client,
            Duration::from_secs(30),
        ))
    }

    /// Starts every member and waits (up to `deadline`) until the cluster is healthy.
    pub(crate) async fn up(&mut self, deadline: Duration) -> Result<EtcdCluster, LabError> {
        for n in &self.nodes {
            EtcdLab::start(self, &n.name)?;
        }
        let cl = self.cluster()?;
        poll::within(deadline, Duration::from_millis(20), || async {
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
                "the etcd lab was not healthy within {} s: {}",
                deadline.as_secs(),
                problems.join("; ")
            ))
        })?;
        if self.tls && !self.bootstrapped {
            self.enable_auth(&cl).await?;
        }
        self.bootstrapped = true;
        self.save()?;
        Ok(cl)
    }
}

/// drctl's client certificate, signed by the lab CA in `dir`: without a CommonName, which
/// etcd's gateway refuses once auth is on (HTTP 400 "CommonName of client sending a request
/// against gateway will be ignored", etcd-io/etcd#10366); named by its SAN only.
fn client_cert(dir: &Path) -> Result<(), String> {
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose};
    let ca = crate::certs::ca_paths(dir);
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let ca_key = KeyPair::from_pem(&read(&ca.key)?).map_err(|e| e.to_string())?;
    let issuer = Issuer::from_ca_cert_pem(&read(&ca.cert)?, ca_key).map_err(|e| e.to_string())?;
    let mut params =
        CertificateParams::new(vec![CLIENT_CERT.to_string()]).map_err(|e| e.to_string())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(825);
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.signed_by(&key, &issuer).map_err(|e| e.to_string())?;
    let (cert_path, key_path) = (
        dir.join(format!("{CLIENT_CERT}.pem")),
        dir.join(format!("{CLIENT_CERT}.key")),
    );
    crate::util::secret::write_private_file(&key_path, key.serialize_pem().as_bytes())
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    std::fs::write(&cert_path, cert.pem()).map_err(|e| format!("{}: {e}", cert_path.display()))
}

/// Why an etcd that exited at once did, from its log (zap JSON lines): a removed member
/// (which exits with status 0), or the message of its last fatal line.
fn why_exited(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    // The lines of its last start.
    let last: Vec<&str> = text
        .lines()
        .rev()
        .take_while(|l| !l.contains("\"msg\":\"starting an etcd server\""))
        .collect();
    if last
        .iter()
        .any(|l| l.contains("the member has been permanently removed"))
    {
        return " (with status 0): it was removed from the cluster, and its data directory must be moved aside before it rejoins as a new member".into();
    }
    last.iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "fatal")
        .map(|v| {
            format!(
                ": {}: {}",
                v["msg"].as_str().unwrap_or_default(),
                v["error"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>()
            )
        })
        .unwrap_or_default()
}

/// The etcd lab as the registry knows it.
pub(crate) const LAB: LabKind = LabKind {
    state_file: STATE_FILE,
    unavailable: missing_tools,
    create: |dir: &Path, o: &LabOptions| Ok(Box::new(EtcdLab::create_with(dir, o.nodes, o.tls)?)),
    open: |dir: &Path| Ok(Box::new(EtcdLab::open(dir)?)),
    tls: Some("https client and peer urls with a lab CA, client certificates required, and etcd's auth on"),
    beside: true,
};

impl Lab for EtcdLab {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn cluster_file(&self) -> PathBuf {
        EtcdLab::cluster_file(self)
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
                        crate::lab::process::state(p, &self.data_dir(&n.name))
                    }),
                    url: n.url(),
                }
            })
            .collect()
    }

    fn start(&mut self, node: &str) -> Result<u32, LabError> {
        EtcdLab::start(self, node)
    }

    fn signal(&mut self, node: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        EtcdLab::signal(self, node, sig)
    }

    fn up(&mut self, deadline: Duration) -> BoxFuture<'_, Result<(), LabError>> {
        Box::pin(async move { EtcdLab::up(self, deadline).await.map(drop) })
    }

    fn wait_up<'a>(
        &'a self,
        node: &'a str,
        deadline: Duration,
    ) -> BoxFuture<'a, Result<(), LabError>> {
        Box::pin(async move {
            let url = self.node(node)?.url();
            let cl = self.cluster()?;
            let log = self.dir.join(node).join("etcd.log");
            let r = poll::within(deadline, Duration::from_millis(20), || async {
                if self.pid(node).is_none() {
                    return Break(Err(()));
                }
                match cl.client.status(&url).await {
                    Ok(_) => Break(Ok(())),
                    Err(e) => Continue(e.to_string()),
                }
            })
            .await;
            match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(())) => Err(LabError::Failed(format!(
                    "etcd for {node} exited after it started{}: see {}",
                    why_exited(&log),
                    log.display()
                ))),
                Err(e) => Err(LabError::Failed(format!(
                    "etcd for {node} does not answer after {} s (a member answers once it reaches a quorum of its cluster): {e}",
                    deadline.as_secs()
                ))),
            }
        })
    }

    fn log_file(&self, node: &str) -> Option<PathBuf> {
        Some(self.dir.join(node).join("etcd.log"))
    }

    fn try_next(&self) -> &'static str {
        "  drctl candidates\n  drctl switchover --to node-2 --dry-run\n  \
         drctl lab kill node-3        # SIGKILL a member\n  drctl removenode node-3 --dry-run\n"
    }

    fn down(self: Box<Self>, keep: bool) -> Result<Vec<String>, LabError> {
        EtcdLab::down(*self, keep)
    }
}
