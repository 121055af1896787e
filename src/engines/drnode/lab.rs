//! drnode's lab: real `drnode` processes on loopback (or each in a network namespace, for the
//! drills that partition), for trying drctl, tests, drills and chaos: start, kill (SIGKILL),
//! pause (SIGSTOP), resume, restart, and stop only what the lab started.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use futures_util::future::BoxFuture;

use super::cluster::Target;
use crate::inventory::{ClusterFile, NodeEntry, TlsTrust};
use crate::lab::{io, netns, process, Lab, LabError, LabKind, LabRow, Owner};
use crate::lab::{ProcState, Sig};
use crate::util::names::lookup;

pub use super::lab_clients::{form, operator_targets, targets, wait_healthy, wait_up};

pub const LAB_FILE: &str = "lab.json";
pub const CLUSTER_NAME: &str = "lab";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub cluster: String,
    pub drnode: PathBuf,
    pub nodes: Vec<LabNode>,
    /// A drill's lab belongs to the drill's process: its nodes exit when that process is gone
    /// (`drnode serve --exit-with-pid`). `drctl lab up` labs have none and outlive drctl.
    #[serde(default)]
    pub owner: Option<Owner>,
    /// Each node in its own network namespace, so that links can be cut.
    #[serde(default)]
    pub net: Option<netns::Net>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabNode {
    pub name: String,
    pub port: u16,
    pub url: String,
    pub data_dir: PathBuf,
    pub pid: Option<u32>,
}

/// The drnode binary: `$DRCTL_DRNODE`, else beside this executable, else on `PATH`.
pub fn drnode_binary() -> Result<PathBuf, LabError> {
    if let Some(p) = std::env::var_os("DRCTL_DRNODE") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| LabError::NoDrnode(e.to_string()))?;
    let mut candidates = vec![];
    if let Some(dir) = exe.parent() {
        candidates.push(dir.join("drnode"));
        // Integration tests run from target/debug/deps.
        if let Some(up) = dir.parent() {
            candidates.push(up.join("drnode"));
        }
    }
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    if let Some(built) = build_with_cargo(&exe, &candidates)? {
        return Ok(built);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("drnode"))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| {
            LabError::NoDrnode(
                "not beside drctl and not on PATH; build it (`cargo build`) or set DRCTL_DRNODE"
                    .into(),
            )
        })
}

/// Under `cargo run`, which builds only drctl, builds drnode with the same profile.
fn build_with_cargo(exe: &Path, candidates: &[PathBuf]) -> Result<Option<PathBuf>, LabError> {
    let (Some(cargo), Some(manifest_dir)) = (
        std::env::var_os("CARGO"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) else {
        return Ok(None);
    };
    let manifest = PathBuf::from(manifest_dir).join("Cargo.toml");
    let release = exe
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|n| n == "release");
    eprintln!(
        "drnode is not built yet: running cargo build{} --bin drnode",
        if release { " --release" } else { "" }
    );
    let mut cmd = std::process::Command::new(cargo);
    // The variables `cargo run` sets for its child would make build scripts rerun.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k);
        }
    }
    cmd.args(["build", "--bin", "drnode", "--manifest-path"])
        .arg(&manifest);
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .map_err(|e| LabError::NoDrnode(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(LabError::NoDrnode("cargo build --bin drnode failed".into()));
    }
    Ok(candidates.iter().find(|p| p.is_file()).cloned())
}

pub struct DrnodeLab {
    pub dir: PathBuf,
    pub state: LabState,
}

/// What a lab's nodes are initialised with beyond the defaults.
#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    log_keep: Option<u64>,
    sync_max_failures: Option<u32>,
}

impl DrnodeLab {
    pub fn open(dir: &Path) -> Result<DrnodeLab, LabError> {
        let path = dir.join(LAB_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LabError::NoLab(dir.to_path_buf()))
            }
            Err(e) => return Err(io("read", &path)(e)),
        };
        let state = serde_json::from_slice(&bytes)
            .map_err(|e| LabError::Failed(format!("{} is corrupt: {e}", path.display())))?;
        Ok(DrnodeLab {
            dir: dir.to_path_buf(),
            state,
        })
    }

    pub fn save(&self) -> Result<(), LabError> {
        // A temporary file of its own, renamed over the state: never a torn or shared one.
        use std::io::Write;
        let path = self.dir.join(LAB_FILE);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io("write", &path))?;
        tmp.write_all(&serde_json::to_vec_pretty(&self.state).expect("lab state serializes"))
            .map_err(io("write", &path))?;
        tmp.persist(&path)
            .map(|_| ())
            .map_err(|e| e.error)
            .map_err(io("write", &path))
    }

    pub fn cluster_file(&self) -> PathBuf {
        self.dir.join(super::lab_clients::CLUSTER_FILE)
    }

    /// Lays out a new lab: CA and node certificates, passphrase, `drnode init` per node, and the
    /// cluster file. Refuses if a lab is running in `dir`; clears a stopped one.
    pub fn create(dir: &Path, nodes: u16, log_keep: Option<u64>) -> Result<DrnodeLab, LabError> {
        Self::create_with(
            dir,
            nodes,
            Settings {
                log_keep,
                ..Settings::default()
            },
            None,
            false,
        )
    }

    /// A drill's lab: owned by this process and, with `netns`, each node in its own network
    /// namespace. The network is removed again if the rest of the lab cannot be made.
    /// `sync_max_failures`: a drill that waits for replicas to give up on a lost primary
    /// lets them give up after a few pulls instead of 30.
    pub fn create_for_drill(
        dir: &Path,
        nodes: u16,
        netns: bool,
        sync_max_failures: Option<u32>,
    ) -> Result<DrnodeLab, LabError> {
        let settings = Settings {
            sync_max_failures,
            ..Settings::default()
        };
        Self::create_with(dir, nodes, settings, Some(Owner::me()), netns)
    }

    fn create_with(
        dir: &Path,
        nodes: u16,
        settings: Settings,
        owner: Option<Owner>,
        netns: bool,
    ) -> Result<DrnodeLab, LabError> {
        let net = if netns {
            let names: Vec<String> = (1..=nodes).map(|i| format!("node-{i}")).collect();
            Some(netns::Net::create(owner.unwrap_or_else(Owner::me), &names)?)
        } else {
            None
        };
        let made = Self::lay_out(dir, nodes, settings, owner, net.clone());
        if let (Err(_), Some(net)) = (&made, &net) {
            let _ = net.delete();
        }
        made
    }

    fn lay_out(
        dir: &Path,
        nodes: u16,
        settings: Settings,
        owner: Option<Owner>,
        net: Option<netns::Net>,
    ) -> Result<DrnodeLab, LabError> {
        if let Ok(old) = DrnodeLab::open(dir) {
            let running: Vec<String> = old
                .state
                .nodes
                .iter()
                .filter(|n| old.proc_state(n) != ProcState::Stopped)
                .map(|n| format!("{} pid {}", n.name, n.pid.unwrap_or(0)))
                .collect();
            if !running.is_empty() {
                return Err(LabError::Running {
                    dir: dir.to_path_buf(),
                    running: running.join(", "),
                });
            }
            std::fs::remove_dir_all(dir).map_err(io("remove", dir))?;
        } else if dir.exists()
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            return Err(LabError::Failed(format!(
                "{} exists and is not a lab directory; choose another --lab-dir",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let dir = std::path::absolute(dir).map_err(io("resolve", dir))?;
        let drnode = drnode_binary()?;
        let certs = dir.join("certs");
        crate::certs::init_ca(&certs, CLUSTER_NAME)?;
        let pass_path = dir.join("passphrase");
        crate::util::secret::write_private_file(
            &pass_path,
            crate::util::secret::Passphrase::random()
                .expose()
                .as_bytes(),
        )
        .map_err(io("write", &pass_path))?;
        let ports = match &net {
            Some(_) => vec![netns::PORT; nodes as usize],
            None => process::free_ports(nodes as usize)
                .map_err(io("pick ports on", Path::new("127.0.0.1")))?,
        };
        let mut lab_nodes = Vec::new();
        for (i, port) in ports.into_iter().enumerate() {
            let name = format!("node-{}", i + 1);
            // In a namespaced lab the node's own address on the lab network; else loopback.
            let host = match net.as_ref().and_then(|n| n.node(&name)) {
                Some(n) => n.addr.to_string(),
                None => "127.0.0.1".to_string(),
            };
            crate::certs::issue(
                &certs,
                &name,
                CLUSTER_NAME,
                &["localhost".to_string(), host.clone()],
            )?;
            let data_dir = dir.join(&name);
            let mut cmd = std::process::Command::new(&drnode);
            cmd.args(["init", "--name", &name, "--cluster", CLUSTER_NAME])
                .arg("--data-dir")
                .arg(&data_dir)
                .args(["--listen", &format!("{host}:{port}")])
                .arg("--certs-dir")
                .arg(&certs)
                .arg("--passphrase-file")
                .arg(&pass_path);
            if let Some(k) = settings.log_keep {
                cmd.args(["--log-keep", &k.to_string()]);
            }
            if let Some(n) = settings.sync_max_failures {
                cmd.args(["--sync-max-failures", &n.to_string()]);
            }
            let out = cmd.output().map_err(io("run", &drnode))?;
            if !out.status.success() {
                return Err(LabError::Failed(format!(
                    "drnode init {name} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            lab_nodes.push(LabNode {
                url: format!("https://{host}:{port}"),
                name,
                port,
                data_dir,
                pid: None,
            });
        }
        let lab = DrnodeLab {
            dir: dir.clone(),
            state: LabState {
                cluster: CLUSTER_NAME.into(),
                drnode,
                nodes: lab_nodes,
                owner,
                net,
            },
        };
        let cluster = ClusterFile {
            cluster: CLUSTER_NAME.into(),
            passphrase_file: Some("passphrase".into()),
            tls: TlsTrust {
                ca: Some("certs/ca.pem".into()),
                trust_dir: None,
            },
            alias: None,
            alias_port: None,
            clients: None,
            nodes: lab
                .state
                .nodes
                .iter()
                .map(|n| NodeEntry {
                    name: n.name.clone(),
                    url: n.url.clone(),
                    promotable: true,
                    ..Default::default()
                })
                .collect(),
        };
        let yaml = format!(
            "# Written by `drctl lab up`. Use it with: export DRCTL_CLUSTER={}\n{}",
            lab.cluster_file().display(),
            serde_yaml::to_string(&cluster).expect("cluster file serializes")
        );
        std::fs::write(lab.cluster_file(), yaml).map_err(io("write", &lab.cluster_file()))?;
        lab.save()?;
        Ok(lab)
    }

    pub fn node(&self, name: &str) -> Result<&LabNode, LabError> {
        lookup(&self.state.nodes, name, |n| &n.name).map_err(|known| LabError::UnknownNode {
            name: name.to_string(),
            known,
        })
    }

    fn node_mut(&mut self, name: &str) -> Result<&mut LabNode, LabError> {
        self.node(name)?;
        Ok(self
            .state
            .nodes
            .iter_mut()
            .find(|n| n.name == name)
            .expect("checked"))
    }

    /// Whether the node's recorded process is ours and alive, paused, or gone.
    pub fn proc_state(&self, node: &LabNode) -> ProcState {
        match node.pid {
            Some(pid) => process::state(pid, &node.data_dir),
            None => ProcState::Stopped,
        }
    }

    /// Starts a stopped node's drnode process in its own process group, logging to its dir.
    pub fn start(&mut self, name: &str) -> Result<u32, LabError> {
        let node = self.node(name)?.clone();
        if self.proc_state(&node) != ProcState::Stopped {
            return Ok(node.pid.expect("running nodes have a pid"));
        }
        let prefix = self
            .state
            .net
            .as_ref()
            .and_then(|n| n.exec_prefix(name))
            .unwrap_or_default();
        let exit_with = self.state.owner.map(|o| o.pid);
        let pid = process::spawn(&self.state.drnode, &node.data_dir, &prefix, exit_with)
            .map_err(io("start drnode for", &node.data_dir))?;
        self.node_mut(name)?.pid = Some(pid);
        self.save()?;
        Ok(pid)
    }

    /// Starts every node, forms the cluster (node-1 primary at epoch 1) and waits until it is
    /// healthy; the cluster's name and a client per node.
    pub async fn form_cluster(
        &mut self,
        deadline: Duration,
    ) -> Result<(String, Vec<Target>), LabError> {
        self.start_all()?;
        let (cluster, targets) = targets(&self.dir)?;
        wait_up(&targets, deadline).await?;
        form(&targets).await?;
        wait_healthy(&cluster, &targets, deadline).await?;
        Ok((cluster, targets))
    }

    pub fn start_all(&mut self) -> Result<(), LabError> {
        let names: Vec<String> = self.state.nodes.iter().map(|n| n.name.clone()).collect();
        for n in names {
            self.start(&n)?;
        }
        Ok(())
    }

    /// Sends a signal to a node's process, if it is ours and alive; refuses a stopped node.
    pub fn signal(&mut self, name: &str, sig: Sig) -> Result<(), LabError> {
        let node = self.node(name)?.clone();
        if self.proc_state(&node) == ProcState::Stopped {
            return Err(LabError::Failed(format!("{name} is not running")));
        }
        let pid = node.pid.expect("running nodes have a pid");
        let started = process::start_time(pid);
        process::send(pid, sig).map_err(|e| LabError::Failed(format!("signal {name}: {e}")))?;
        if sig == Sig::Kill {
            // A killed node still in an fsync holds its directory until it ends: a loaded
            // disk can take seconds.
            if !process::wait_gone(pid, started, Duration::from_secs(30)) {
                return Err(LabError::Failed(format!(
                    "{name} (pid {pid}) was sent SIGKILL and has not ended after 30 s"
                )));
            }
            self.node_mut(name)?.pid = None;
            self.save()?;
        }
        Ok(())
    }

    /// Stops a node gracefully (SIGTERM, then SIGKILL after a grace period).
    pub fn stop(&mut self, name: &str) -> Result<(), LabError> {
        let node = self.node(name)?.clone();
        if let (Some(pid), true) = (node.pid, self.proc_state(&node) != ProcState::Stopped) {
            let started = process::start_time(pid);
            let _ = process::send(pid, Sig::Cont);
            let _ = process::send(pid, Sig::Term);
            if !process::wait_gone(pid, started, Duration::from_secs(5)) {
                let _ = process::send(pid, Sig::Kill);
                process::wait_gone(pid, started, Duration::from_secs(5));
            }
        }
        self.node_mut(name)?.pid = None;
        self.save()
    }

    pub fn down(mut self, keep: bool) -> Result<Vec<String>, LabError> {
        let mut stopped = Vec::new();
        let names: Vec<String> = self.state.nodes.iter().map(|n| n.name.clone()).collect();
        for n in names {
            let was = self.proc_state(self.node(&n)?);
            self.stop(&n)?;
            if was != ProcState::Stopped {
                stopped.push(n);
            }
        }
        // The network goes even if the directory is kept: namespaces are not files to look at.
        let net = match self.state.net.take() {
            Some(net) => {
                let r = net.delete();
                self.save()?;
                r
            }
            None => Ok(()),
        };
        if !keep {
            std::fs::remove_dir_all(&self.dir).map_err(io("remove", &self.dir))?;
        }
        net.map(|_| stopped)
    }

    /// Cuts (or with `cut` false, restores) the link between `a` and `b`: lab nodes, or
    /// [`netns::DRCTL`] for drctl itself. Only a namespaced lab can.
    pub fn link(&mut self, a: &str, b: &str, cut: bool) -> Result<(), LabError> {
        let net = self.state.net.as_mut().ok_or_else(|| {
            LabError::Failed(
                "this lab runs on loopback and cannot cut links; a drill that partitions runs \
                 each node in a network namespace"
                    .into(),
            )
        })?;
        if cut {
            net.cut(a, b)?;
        } else {
            net.heal(a, b)?;
        }
        self.save()
    }
}

/// drnode's lab as the registry knows it.
pub const LAB: LabKind = LabKind {
    state_file: LAB_FILE,
    unavailable: || None,
    create: |dir, o| Ok(Box::new(DrnodeLab::create(dir, o.nodes, o.log_keep)?)),
    open: |dir| Ok(Box::new(DrnodeLab::open(dir)?)),
    tls: None,
    beside: true,
};

impl Lab for DrnodeLab {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn cluster_file(&self) -> PathBuf {
        DrnodeLab::cluster_file(self)
    }

    fn rows(&self) -> Vec<LabRow> {
        self.state
            .nodes
            .iter()
            .map(|n| {
                let state = self.proc_state(n);
                LabRow {
                    name: n.name.clone(),
                    pid: n.pid.filter(|_| state != ProcState::Stopped),
                    state,
                    url: n.url.clone(),
                }
            })
            .collect()
    }

    fn start(&mut self, node: &str) -> Result<u32, LabError> {
        DrnodeLab::start(self, node)
    }

    fn signal(&mut self, node: &str, sig: Sig) -> Result<Option<u32>, LabError> {
        let pid = self.node(node)?.pid;
        DrnodeLab::signal(self, node, sig).map(|()| pid)
    }

    fn stop(&mut self, node: &str) -> Result<(), LabError> {
        DrnodeLab::stop(self, node)
    }

    fn link(&mut self, a: &str, b: &str, cut: bool) -> Result<(), LabError> {
        DrnodeLab::link(self, a, b, cut)
    }

    fn up(&mut self, deadline: Duration) -> BoxFuture<'_, Result<(), LabError>> {
        Box::pin(async move { self.form_cluster(deadline).await.map(|_| ()) })
    }

    fn wait_up<'a>(
        &'a self,
        node: &'a str,
        deadline: Duration,
    ) -> BoxFuture<'a, Result<(), LabError>> {
        Box::pin(async move {
            let (_, targets) = targets(&self.dir)?;
            let t: Vec<Target> = targets.into_iter().filter(|t| t.name == node).collect();
            wait_up(&t, deadline).await
        })
    }

    fn log_tails(&self) -> String {
        let mut tails = String::new();
        for n in &self.state.nodes {
            let last = crate::lab::last_lines(&n.data_dir.join("drnode.log"), 5);
            if !last.is_empty() {
                tails.push_str(&format!("\n--- {} log (last lines):\n{last}", n.name));
            }
        }
        tails
    }

    fn hints(&self) -> String {
        format!(
            "try:\n  export DRCTL_CLUSTER={}\n  drctl status\n  drctl entry put greeting hello\n  \
             drctl entry get greeting --node node-3\n  drctl lab kill node-3        # SIGKILL\n  \
             drctl lab write --count 500   # writes through the cluster\n  \
             drctl lab restart node-3     # catches up by partial sync\n  drctl status\n  \
             drctl lab down",
            self.cluster_file().display()
        )
    }

    fn down(self: Box<Self>, keep: bool) -> Result<Vec<String>, LabError> {
        DrnodeLab::down(*self, keep)
    }
}
