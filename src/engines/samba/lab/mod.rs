//! A lab of real Samba AD DCs (`drctl lab up --kind samba-ad --nodes 2..3`), laid out as
//! `shared/engine-labs/samba-ad/lab.sh` does: each DC in its own network namespace on a private
//! bridge (itself in a namespace: nothing gets an address or a route on the host, so no packet
//! leaves the lab's 10.99.53.0/24), DC1 provisioned, the others joined through it, then
//! replication settled by hand (P7: kcc, DsReplicaSync of every NC between every pair with
//! ADD_REF, kcc, sync). drctl reads each DC through its root-only `ldap_priv/ldapi` socket,
//! which does not depend on the network (P6). Pitfalls handled: P1 (samba-ad-provision checked),
//! P2 (/usr/bin/python3), P3 (`-s` an empty file, per-DC paths), P4 (no DNS forwarder), P5
//! (a DC is every process in its namespace), P12 (kcc bounded to 5 s and retried), P15 (a
//! sync retried once).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::lab::{Lab, LabError, LabKind, LabOptions, LabRow, ProcState, Sig};
use crate::util::poll;

mod domain;

pub(crate) const STATE_FILE: &str = "samba-ad-lab.json";
/// The lab's DCs over LDAPS, for drctl run inside the lab network.
const LDAPS_FILE: &str = "cluster-ldaps.yaml";
/// The lab's client: a namespace of its own at 10.99.53.10 (`sdc<id>-client`).
pub(crate) const CLIENT: &str = "client";
const REALM: &str = "SDC.TEST";
const DOMAIN: &str = "SDC";
const DNS_DOMAIN: &str = "sdc.test";
const SAMBA_TOOL: &str = "/usr/bin/samba-tool";
const SAMBA: &str = "/usr/sbin/samba";
const PROVISION_DATA: &str =
    "/usr/share/samba/setup/ad-schema/AD_DS_Attributes__Windows_Server_2012_R2.ldf";

/// DsReplicaSync of every NC from every other DC, in one process (lab.sh's `labdrs.py
/// mesh-sync`); a first failure after a partner restart is retried once (P15).
const MESH_SYNC: &str = r#"
import os, sys, time
from samba.param import LoadParm
from samba.credentials import Credentials
from samba.samdb import SamDB
from samba import drs_utils
from samba.dcerpc import drsuapi, misc
from samba.ndr import ndr_unpack
import ldb
lp = LoadParm(); lp.load(os.environ["LAB_CONF"])
c = Credentials(); c.guess(lp); c.set_username("Administrator")
c.set_password(os.environ["LAB_PASS"]); c.set_domain(lp.get("workgroup")); c.set_realm(lp.get("realm"))
dom = lp.get("realm").lower(); dcs = sys.argv[1:]
db = SamDB(url="ldap://%s.%s" % (dcs[0], dom), credentials=c, lp=lp)
conf = str(db.get_config_basedn()); base = str(db.domain_dn())
ncs = [conf, "CN=Schema," + conf, base, "DC=DomainDnsZones," + base, "DC=ForestDnsZones," + base]
known = {}
for m in db.search(base=conf, scope=ldb.SCOPE_SUBTREE, expression="(objectClass=nTDSDSA)", attrs=["objectGUID"]):
    known[str(m.dn).split(",")[1][3:].lower()] = str(ndr_unpack(misc.GUID, m["objectGUID"][0]))
fails = 0
for dst in dcs:
    drs, h, _ = drs_utils.drsuapi_connect("%s.%s" % (dst, dom), lp, c)
    for src in dcs:
        if src == dst or src not in known:
            continue
        for nc in ncs:
            for attempt in (1, 2):
                try:
                    drs_utils.sendDsReplicaSync(drs, h, known[src], nc, drsuapi.DRSUAPI_DRS_WRIT_REP | drsuapi.DRSUAPI_DRS_ADD_REF)
                    break
                except drs_utils.drsException as e:
                    if attempt == 2:
                        fails += 1; print("sync %s <- %s %s failed: %s" % (dst, src, nc, e))
                    else:
                        time.sleep(1)
sys.exit(1 if fails else 0)
"#;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SambaLab {
    #[serde(skip)]
    pub(crate) dir: PathBuf,
    /// Names the lab's namespaces (`sdc<id>-br`, `sdc<id>-dc1`, …), so two labs never meet.
    id: String,
    pub(crate) nodes: Vec<String>,
}

fn failed(m: impl Into<String>) -> LabError {
    LabError::Failed(m.into())
}

fn io(what: &str, p: &Path) -> impl FnOnce(std::io::Error) -> LabError {
    let m = format!("{what} {}", p.display());
    move |e| failed(format!("{m}: {e}"))
}

/// Runs a command; the error names it and quotes what it said (its last lines).
fn run(cmd: &mut Command) -> Result<String, LabError> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run {shown}: {e}")))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&[&out.stdout[..], &out.stderr[..]].concat())
            .lines()
            .filter(|l| !l.contains("setproctitle"))
            .collect::<Vec<_>>()
            .join("\n");
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(failed(format!(
            "{} failed ({}): {}",
            shown.chars().take(200).collect::<String>(),
            out.status,
            tail.join(" | ")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> Result<String, LabError> {
    run(Command::new("ip").args(args))
}

/// Why a Samba lab cannot run here, if it cannot.
pub(crate) fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = [SAMBA_TOOL, SAMBA, PROVISION_DATA]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "Samba AD DC not installed ({} missing): apt-get install samba samba-ad-dc \
             samba-ad-provision krb5-user winbind smbclient ldap-utils",
            missing.join(", ")
        ));
    }
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root for network namespaces (ip netns)".into());
    }
    let probe = format!("sdc-probe-{}", std::process::id());
    if let Err(e) = ip(&["netns", "add", &probe]) {
        return Some(format!(
            "cannot make a network namespace here (ip netns): {e}"
        ));
    }
    let _ = ip(&["netns", "del", &probe]);
    None
}

impl SambaLab {
    pub(crate) fn open(dir: &Path) -> Result<SambaLab, LabError> {
        let p = dir.join(STATE_FILE);
        let bytes = std::fs::read(&p).map_err(|_| LabError::NoLab(dir.to_path_buf()))?;
        let mut lab: SambaLab = serde_json::from_slice(&bytes)
            .map_err(|e| failed(format!("{} is corrupt: {e}", p.display())))?;
        lab.dir = crate::util::words::absolute(dir);
        Ok(lab)
    }

    fn save(&self) -> Result<(), LabError> {
        let p = self.dir.join(STATE_FILE);
        std::fs::write(&p, serde_json::to_vec_pretty(self).expect("serializes"))
            .map_err(io("write", &p))
    }

    pub(crate) fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    fn index(&self, name: &str) -> Result<usize, LabError> {
        self.nodes
            .iter()
            .position(|n| n == name)
            .map(|i| i + 1)
            .ok_or_else(|| LabError::UnknownNode {
                name: name.to_string(),
                known: self.nodes.join(", "),
            })
    }

    pub(crate) fn netns(&self, name: &str) -> String {
        format!("sdc{}-{name}", self.id)
    }

    fn bridge_ns(&self) -> String {
        format!("sdc{}-br", self.id)
    }

    fn addr(i: usize) -> String {
        format!("10.99.53.{}", 10 + i)
    }

    fn dc_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn smb_conf(&self, name: &str) -> PathBuf {
        self.dc_dir(name).join("etc/smb.conf")
    }

    fn socket(&self, name: &str) -> PathBuf {
        self.dc_dir(name).join("private/ldap_priv/ldapi")
    }

    fn password(&self) -> Result<String, LabError> {
        let p = self.dir.join("admin.pw");
        Ok(std::fs::read_to_string(&p)
            .map_err(io("read", &p))?
            .trim()
            .to_string())
    }

    /// The process ids in the DC's namespace (P5: samba forks smbd and winbindd into process
    /// groups of their own; everything in the namespace is the DC's).
    fn pids(&self, name: &str) -> Vec<u32> {
        ip(&["netns", "pids", &self.netns(name)])
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// The DC's main samba process (its pid file), if the DC runs.
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        let pids = self.pids(name);
        let main = std::fs::read_to_string(self.dc_dir(name).join("run/samba.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .filter(|p| pids.contains(p));
        main.or_else(|| pids.first().copied())
    }

    /// Starts samba in the DC's namespace (a running DC is left alone) and waits until its
    /// LDAP, DNS and Kerberos ports and its ldapi socket answer.
    pub(crate) fn start(&self, name: &str) -> Result<u32, LabError> {
        let i = self.index(name)?;
        if let Some(pid) = self.pid(name) {
            return Ok(pid);
        }
        // Itself first, then the others (glibc takes 3 nameservers).
        let mut ips = vec![Self::addr(i)];
        ips.extend((1..=self.nodes.len()).filter(|j| *j != i).map(Self::addr));
        self.write_resolv(name, &ips)?;
        let d = self.dc_dir(name);
        for sub in ["run", "log"] {
            std::fs::create_dir_all(d.join(sub)).map_err(io("create", &d))?;
        }
        let log_path = self.log_path(name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io("open", &log_path))?;
        let err = log.try_clone().map_err(io("open", &log_path))?;
        // setsid: a session of its own, out of reach of the operator's terminal.
        let mut child = Command::new("setsid")
            .args(["ip", "netns", "exec", &self.netns(name), SAMBA, "-s"])
            .arg(self.smb_conf(name))
            .args(["-F", "--debug-stdout", "-d1"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| failed(format!("cannot start samba for {name}: {e}")))?;
        let ip = Self::addr(i);
        let probe = format!(
            "exec 3<>/dev/tcp/{ip}/389 && exec 4<>/dev/tcp/{ip}/53 && exec 5<>/dev/tcp/{ip}/88"
        );
        let socket = self.socket(name);
        let answers = || {
            if let Ok(Some(status)) = child.try_wait() {
                return std::ops::ControlFlow::Break(Err(status));
            }
            let ports = Command::new("ip")
                .args(["netns", "exec", &self.netns(name), "bash", "-c", &probe])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            match (
                ports,
                std::os::unix::net::UnixStream::connect(&socket).is_ok(),
            ) {
                (true, true) => std::ops::ControlFlow::Break(Ok(())),
                _ => std::ops::ControlFlow::Continue(()),
            }
        };
        match poll::within_blocking(Duration::from_secs(60), Duration::from_millis(100), answers) {
            Ok(Ok(())) => {}
            Ok(Err(status)) => {
                return Err(failed(format!(
                    "samba for {name} exited ({status}): see {}; its last lines:\n{}",
                    log_path.display(),
                    crate::lab::last_lines(&log_path, 15)
                )))
            }
            Err(()) => {
                return Err(failed(format!(
                "samba for {name} did not answer (LDAP, DNS, Kerberos, ldapi) within 60 s: see {}",
                log_path.display()
            )))
            }
        }
        self.pid(name)
            .ok_or_else(|| failed(format!("samba for {name} answered, then was gone")))
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.dc_dir(name).join("log/samba.stdout")
    }

    /// Signals every process of the DC and, for KILL and TERM, waits until none is left.
    pub(crate) fn signal(&self, name: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        self.index(name)?;
        let Some(main) = self.pid(name) else {
            return Ok(None);
        };
        for pid in self.pids(name) {
            let _ = crate::lab::process::send(pid, sig);
            if sig == Sig::Term {
                // A paused samba acts on SIGTERM only once it runs again.
                let _ = crate::lab::process::send(pid, Sig::Cont);
            }
        }
        if matches!(sig, Sig::Kill | Sig::Term) {
            let gone = || poll::holds(self.pids(name).is_empty());
            let wait = if sig == Sig::Kill { 10 } else { 20 };
            if poll::within_blocking(Duration::from_secs(wait), Duration::from_millis(50), gone)
                .is_err()
            {
                for pid in self.pids(name) {
                    let _ = crate::lab::process::send(pid, Sig::Kill);
                }
                let _ =
                    poll::within_blocking(Duration::from_secs(5), Duration::from_millis(50), gone);
            }
        }
        Ok(Some(main))
    }

    /// Starts DC1, joins and starts the others, settles replication and waits (up to
    /// `deadline`, at least 60 s) until every DC agrees on the role holders.
    pub(crate) async fn up(&mut self, deadline: Duration) -> Result<(), LabError> {
        let password = self.password()?;
        let first = self.nodes[0].clone();
        self.start(&first)?;
        for n in self.nodes.clone().iter().skip(1) {
            if !self.joined(n) {
                self.join(n, &first, &password)?;
            }
            self.start(n)?;
        }
        self.settle(&password)?;
        self.healthy(deadline).await
    }

    /// Starts every DC of a lab whose domain was built and settled, one after another as `up`
    /// does, and waits (up to `deadline`, at least 60 s) until every DC agrees on the role
    /// holders: a lab restored from a kept copy (`runbook::drill_pool`). Not all at once: three
    /// samba starts together take both cores for seconds, and the drills that run beside (a
    /// drnode switchover under writes) then miss their request timeouts (CI saw one fail).
    pub(crate) async fn resume(&self, deadline: Duration) -> Result<(), LabError> {
        for n in &self.nodes {
            self.start(n)?;
        }
        self.healthy(deadline).await
    }

    /// Stops every DC (TERM, all at once) and fails unless each is gone: what a copy of the
    /// lab's directory is taken after.
    pub(crate) fn stop_all(&self) -> Result<(), LabError> {
        for (_, r) in self.signal_all(Sig::Term) {
            r?;
        }
        match self.nodes.iter().find(|n| self.pid(n).is_some()) {
            Some(n) => Err(failed(format!("{n} did not stop"))),
            None => Ok(()),
        }
    }

    /// Signals every DC at once (`signal`: for KILL and TERM, until each is gone); what each
    /// said, by name.
    pub(crate) fn signal_all(&self, sig: Sig) -> Vec<(String, Result<Option<u32>, LabError>)> {
        std::thread::scope(|s| {
            let jobs: Vec<_> = self
                .nodes
                .iter()
                .map(|n| s.spawn(move || (n.clone(), self.signal(n, sig))))
                .collect();
            jobs.into_iter()
                .map(|j| j.join().expect("a DC's signal panicked"))
                .collect()
        })
    }

    /// Opens a lab whose directory was restored from a kept copy, and lays its network out
    /// again (a torn-down lab's namespaces are gone; its resolvers point at DC1 again).
    pub(crate) fn reopen(dir: &Path) -> Result<SambaLab, LabError> {
        let lab = SambaLab::open(dir)?;
        lab.net_down();
        if let Err(e) = lab.net_up() {
            lab.net_down();
            return Err(e);
        }
        Ok(lab)
    }

    /// Waits (up to `deadline`, at least 60 s) until every DC agrees on the role holders.
    async fn healthy(&self, deadline: Duration) -> Result<(), LabError> {
        let nodes = self.dc_nodes()?;
        poll::within(
            deadline.max(Duration::from_secs(60)),
            Duration::from_millis(200),
            || async {
                let dcs = super::assess::probe_all(&nodes, Duration::from_secs(2)).await;
                let a = super::assess::assess(&dcs);
                if a.healthy {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(a.problems)
                }
            },
        )
        .await
        .map_err(|problems| {
            failed(format!(
                "the samba-ad lab was not healthy in time: {}",
                problems.join("; ")
            ))
        })
    }

    /// The lab client's files, as its cluster file names them.
    pub(crate) fn clients(&self) -> Result<Option<super::ctx::ClientFiles>, LabError> {
        let inv = crate::engines::load_inventory(&self.cluster_file())
            .map_err(|e| failed(e.to_string()))?;
        Ok(super::ctx::ClientFiles::of(&inv))
    }

    pub(crate) fn dc_nodes(&self) -> Result<Vec<super::DcNode>, LabError> {
        let inv = crate::engines::load_inventory(&self.cluster_file())
            .map_err(|e| failed(e.to_string()))?;
        super::nodes_of(&inv).map_err(failed)
    }

    pub(crate) fn down(self, keep: bool) -> Result<Vec<String>, LabError> {
        let stopped: Vec<String> = self
            .signal_all(Sig::Term)
            .into_iter()
            .filter_map(|(name, r)| matches!(r, Ok(Some(_))).then_some(name))
            .collect();
        self.net_down();
        if !keep {
            std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))?;
        }
        Ok(stopped)
    }
}

/// The Samba lab as the registry knows it.
pub(crate) const LAB: LabKind = LabKind {
    state_file: STATE_FILE,
    unavailable: missing_tools,
    create: |dir: &Path, o: &LabOptions| Ok(Box::new(SambaLab::create(dir, o.nodes)?)),
    open: |dir: &Path| Ok(Box::new(SambaLab::open(dir)?)),
    tls: None,
    beside: false,
};

fn paused(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|st| st == "T"))
        })
        .unwrap_or(false)
}

impl Lab for SambaLab {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn cluster_file(&self) -> PathBuf {
        SambaLab::cluster_file(self)
    }

    fn rows(&self) -> Vec<LabRow> {
        self.nodes
            .iter()
            .map(|n| {
                let pid = self.pid(n);
                LabRow {
                    name: n.clone(),
                    pid,
                    state: match pid {
                        None => ProcState::Stopped,
                        Some(p) if paused(p) => ProcState::Paused,
                        Some(_) => ProcState::Running,
                    },
                    url: format!("ldapi://{}", self.socket(n).display()),
                }
            })
            .collect()
    }

    fn start(&mut self, node: &str) -> Result<u32, LabError> {
        SambaLab::start(self, node)
    }

    fn signal(&mut self, node: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        SambaLab::signal(self, node, sig)
    }

    fn up(&mut self, deadline: Duration) -> BoxFuture<'_, Result<(), LabError>> {
        Box::pin(SambaLab::up(self, deadline))
    }

    fn wait_up<'a>(
        &'a self,
        node: &'a str,
        deadline: Duration,
    ) -> BoxFuture<'a, Result<(), LabError>> {
        Box::pin(async move {
            let nodes = self.dc_nodes()?;
            let n = nodes
                .iter()
                .find(|n| n.name == node)
                .ok_or_else(|| LabError::UnknownNode {
                    name: node.to_string(),
                    known: self.nodes.join(", "),
                })?;
            poll::within(deadline, Duration::from_millis(50), || async {
                match super::probe::probe(n, Duration::from_secs(2)).await {
                    Ok(_) => std::ops::ControlFlow::Break(()),
                    Err(e) => std::ops::ControlFlow::Continue(e.to_string()),
                }
            })
            .await
            .map_err(|e| {
                failed(format!(
                    "{node} does not answer after {} s: {e}",
                    deadline.as_secs()
                ))
            })
        })
    }

    fn log_file(&self, node: &str) -> Option<PathBuf> {
        Some(self.log_path(node))
    }

    fn hints(&self) -> String {
        format!(
            "try:\n  export DRCTL_CLUSTER={}\n  drctl status\n  drctl candidates\n  \
             drctl lab kill dc1           # SIGKILL every process of the role holder\n  \
             drctl check                  # names its roles and the seize remedy\n  \
             drctl repoint --primary dc2  # point the client (dc1 only) at dc2, dc3\n  \
             drctl lab down",
            self.cluster_file().display()
        )
    }

    fn down(self: Box<Self>, keep: bool) -> Result<Vec<String>, LabError> {
        SambaLab::down(*self, keep)
    }
}
