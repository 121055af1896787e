//! What a drnode chaos run acts on and observes: the run's context (lab, targets, drctl, the
//! timeline) that plays schedule steps and procedures, healing, and the observations handed to
//! the checker, the policy and the report (which `run.rs` calls, so they do not import it).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::drctl::{proc_args, Call, Drctl, Kill};
use super::operate::Event;
use super::sampler::{Samples, Wipes};
use super::schedule::{Pick, Proc, Step, Then};
use super::writer::Ack;
use crate::api::Role;
use crate::engines::drnode::cluster::{probe, Target};
use crate::engines::drnode::lab::DrnodeLab as Lab;
use crate::lab::{LabError, ProcState, Sig};
use crate::util::poll;

/// What a run observed, for the checker.
pub(crate) struct Observed {
    pub acks: Vec<Ack>,
    pub samples: Samples,
    pub calls: Vec<Call>,
    pub dir: PathBuf,
    pub exports: PathBuf,
    pub converged: Result<(), String>,
    pub final_view: crate::engines::drnode::cluster::ClusterView,
    pub nodes: Vec<(String, PathBuf)>,
    pub targets: Vec<Target>,
    pub leaked_locks: Vec<String>,
    /// Refused procedures (exit 3) that changed something anyway.
    pub refusals_changed: Vec<String>,
}

pub(crate) struct Ctx<'a> {
    pub lab: &'a mut Lab,
    pub cluster: String,
    pub targets: Vec<Target>,
    pub drctl: Drctl,
    pub started: Instant,
    pub timeline: Vec<Event>,
    pub calls: Vec<Call>,
    pub acks: Arc<Mutex<Vec<Ack>>>,
    pub wipes: Arc<Wipes>,
    pub faults: u64,
    pub leaked_locks: Vec<String>,
    pub refusals_changed: Vec<String>,
    /// The nodes' tmpfs disks, when the run fills one.
    pub disks: &'a super::disk::Disks,
}

impl Ctx<'_> {
    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.timeline.push(Event {
            at_ms: self.started.elapsed().as_millis() as u64,
            what: what.into(),
            result: result.into(),
        });
    }

    /// Resolves a pick against the cluster as it is now.
    pub(crate) async fn resolve(&self, p: Pick) -> String {
        let view = probe(&self.cluster, &self.targets).await;
        let primary = view
            .nodes
            .iter()
            .filter(|n| n.ok().is_some_and(|s| s.role == Role::Primary))
            .max_by_key(|n| n.ok().map(|s| s.epoch))
            .map(|n| n.name.clone())
            .unwrap_or_else(|| self.targets[0].name.clone());
        let fenced = view
            .nodes
            .iter()
            .find(|n| n.ok().is_some_and(|s| s.role == Role::Fenced))
            .map(|n| n.name.clone());
        p.among(primary, self.targets.iter().map(|t| t.name.clone()), fenced)
    }

    async fn args_of(&self, p: Proc) -> Vec<String> {
        match p {
            Proc::Switchover { to } => proc_args(&["switchover", "--to", &self.resolve(to).await]),
            Proc::Failover => proc_args(&["failover"]),
            Proc::Demote { node } => proc_args(&["demote", &self.resolve(node).await]),
            Proc::Repoint => {
                proc_args(&["repoint", "--primary", &self.resolve(Pick::Primary).await])
            }
            Proc::SyncOn { node } => proc_args(&["sync", "auto", "on", &self.resolve(node).await]),
            Proc::Standalone { node } => proc_args(&["standalone", &self.resolve(node).await]),
            Proc::Join { node } => {
                let primary = self.resolve(Pick::Primary).await;
                proc_args(&["join", &self.resolve(node).await, "--primary", &primary])
            }
            Proc::SeizeRoles { to } => proc_args(&["seize-roles", "--to", &self.resolve(to).await]),
            Proc::Removenode { node } => proc_args(&["removenode", &self.resolve(node).await]),
            Proc::Run { to } => proc_args(&[
                "run",
                "managed-switchover",
                "--var",
                &format!("to={}", self.resolve(to).await),
            ]),
        }
    }

    /// Runs drctl and records the call in the timeline.
    pub(crate) async fn drctl(
        &mut self,
        operator: &str,
        args: Vec<String>,
        kill: Option<Kill>,
    ) -> Call {
        let before = fingerprint(&probe(&self.cluster, &self.targets).await);
        let call = self.drctl.call(operator, &args, kill).await;
        if call.exit == Some(3) && !call.killed {
            let after = fingerprint(&probe(&self.cluster, &self.targets).await);
            let changed: Vec<String> = before
                .iter()
                .filter_map(|(n, b)| {
                    let a = after.get(n)?;
                    (a != b).then(|| format!("{n}: {b} -> {a}"))
                })
                .collect();
            if !changed.is_empty() {
                self.refusals_changed.push(format!(
                    "drctl {} refused (exit 3) yet changed {}",
                    args.join(" "),
                    changed.join("; ")
                ));
            }
        }
        self.record(&call).await;
        call
    }

    /// Records a finished drctl call in the timeline and checks it released its lock.
    async fn record(&mut self, call: &Call) {
        let (operator, args) = (call.operator.clone(), &call.args);
        let result = super::operate::ended(call);
        self.note(format!("{operator}: drctl {}", args.join(" ")), result);
        self.lock_released(call).await;
        self.calls.push(call.clone());
    }

    /// A finished procedure must not leave its cluster lock behind.
    async fn lock_released(&mut self, call: &Call) {
        let (false, Some(id)) = (call.killed, call.run_id.as_ref()) else {
            return;
        };
        let view = probe(&self.cluster, &self.targets).await;
        for n in &view.nodes {
            if let Some(l) = n
                .ok()
                .and_then(|s| s.lock.as_ref())
                .filter(|l| &l.run_id == id)
            {
                self.leaked_locks.push(format!(
                    "{} still holds the lock of finished run {id} (holder {}, {}; drctl {})",
                    n.name,
                    l.holder,
                    l.reason,
                    call.args.join(" ")
                ));
            }
        }
    }

    pub(super) async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        match s {
            Step::Kill { node } | Step::Pause { node } | Step::Wipe { node } => {
                let name = self.resolve(*node).await;
                let st = self.lab.proc_state(self.lab.node(&name)?);
                if st != ProcState::Running {
                    self.note(format!("{s}: {name}"), format!("skipped ({st})"));
                    return Ok(());
                }
                // A wiped disk loses what only that node held: that is the fault, not a bug the
                // checker should report, so only a replica (whose data the primary has) is wiped.
                if matches!(s, Step::Wipe { .. }) {
                    let t = self
                        .targets
                        .iter()
                        .find(|t| t.name == name)
                        .expect("a lab node");
                    let role = t.client.status().await.map(|st| st.role).ok();
                    if role != Some(Role::Replica) {
                        self.note(format!("{s}: {name}"), format!("skipped (role {role:?})"));
                        return Ok(());
                    }
                }
                self.faults += 1;
                match s {
                    Step::Kill { .. } => self.lab.signal(&name, Sig::Kill)?,
                    Step::Pause { .. } => self.lab.signal(&name, Sig::Stop)?,
                    _ => {
                        self.lab.signal(&name, Sig::Kill)?;
                        let dir = self.lab.node(&name)?.data_dir.clone();
                        for f in ["store.db", "store.db-wal", "store.db-shm"] {
                            let _ = std::fs::remove_file(dir.join(f));
                        }
                        *self
                            .wipes
                            .0
                            .lock()
                            .expect("wipes")
                            .entry(name.clone())
                            .or_default() += 1;
                        self.lab.start(&name)?;
                    }
                }
                self.note(format!("{s}: {name}"), "done");
            }
            Step::Partition { node } => {
                let name = self.resolve(*node).await;
                let Some(net) = &self.lab.state.net else {
                    self.note(
                        format!("{s}: {name}"),
                        "skipped (the lab has no network namespaces)",
                    );
                    return Ok(());
                };
                self.faults += 1;
                for other in net.others(&name) {
                    self.lab.link(&name, &other, true)?;
                }
                self.note(format!("{s}: {name}"), "done");
            }
            Step::DiskFull { node } => {
                let name = self.resolve(*node).await;
                match self.disks.fill(&name) {
                    None => self.note(
                        format!("{s}: {name}"),
                        "skipped (its data directory is not on a tmpfs: needs root)",
                    ),
                    Some(r) => {
                        r?;
                        self.faults += 1;
                        self.note(format!("{s}: {name}"), "done");
                    }
                }
            }
            Step::Resume | Step::Restart => {
                if matches!(s, Step::Resume) {
                    let disks = self.disks.heal()?;
                    if !disks.is_empty() {
                        self.note("give every full disk its room back", format!("{disks:?}"));
                    }
                }
                let names = heal(
                    self.lab,
                    matches!(s, Step::Restart),
                    !matches!(s, Step::Restart),
                )
                .await?;
                self.note(s.to_string(), format!("{names:?}"));
            }
            Step::Delay { ms } => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                self.note(s.to_string(), "done");
            }
            Step::Proc { proc } => {
                let args = self.args_of(*proc).await;
                self.drctl("chaos-a", args, None).await;
            }
            Step::KillDrctl {
                proc,
                after_ms,
                then,
                on_change,
            } => {
                self.faults += 1;
                let args = self.args_of(*proc).await;
                let before = self.drctl.journal_ids();
                let c = self
                    .drctl(
                        "chaos-a",
                        args.clone(),
                        Some(Kill::of(*after_ms, *on_change)),
                    )
                    .await;
                if !c.killed {
                    return Ok(());
                }
                let new: Vec<String> = self
                    .drctl
                    .journal_ids()
                    .into_iter()
                    .filter(|id| !before.contains(id))
                    .collect();
                match (then, new.first()) {
                    (Then::Resume, Some(id)) => {
                        let a = proc_args(&["run", "--resume", id]);
                        // `run --resume` takes no --wait of its own beyond the runbook's.
                        self.drctl("chaos-a", a, None).await;
                    }
                    _ => {
                        self.drctl("chaos-a", args, None).await;
                    }
                }
            }
            Step::DiesOnPromotion { proc, pause } => {
                let args = self.args_of(*proc).await;
                let above = probe(&self.cluster, &self.targets).await.epoch();
                let (d, targets) = (self.drctl.clone(), self.targets.clone());
                let call = d.call("chaos-a", &args, None);
                tokio::pin!(call);
                let mut victim = None;
                let call = loop {
                    tokio::select! {
                        c = &mut call => break c,
                        name = super::mid::promoted(&targets, above), if victim.is_none() => {
                            let sig = if *pause { Sig::Stop } else { Sig::Kill };
                            let r = self.lab.signal(&name, sig);
                            self.faults += 1;
                            self.note(format!("{s}: {name}"), format!("{r:?}"));
                            victim = Some(name);
                        }
                    }
                };
                self.record(&call).await;
            }
            Step::Race {
                a,
                b,
                same_operator,
            } => {
                self.faults += 1;
                let (aa, ba) = (self.args_of(*a).await, self.args_of(*b).await);
                let (d, d2) = (self.drctl.clone(), self.drctl.clone());
                let second = if *same_operator { "chaos-a" } else { "chaos-b" };
                let (ca, cb) =
                    tokio::join!(d.call("chaos-a", &aa, None), d2.call(second, &ba, None));
                for (op, c) in [("chaos-a", ca), (second, cb)] {
                    self.note(
                        format!("{op} (racing): drctl {}", c.args.join(" ")),
                        format!(
                            "exit {:?} {}",
                            c.exit,
                            c.outcome.map(|o| o.to_string()).unwrap_or_default()
                        ),
                    );
                    self.lock_released(&c).await;
                    self.calls.push(c);
                }
            }
            Step::DropAcked { nth } => {
                let Some(ack) = super::operate::nth_ack(&self.acks, *nth) else {
                    self.note(s.to_string(), "skipped (nothing acknowledged yet)");
                    return Ok(());
                };
                let name = self.resolve(Pick::Primary).await;
                let t = self
                    .targets
                    .iter()
                    .find(|t| t.name == name)
                    .expect("a lab node");
                let r = t.client.delete_entry(&ack.key).await;
                self.note(
                    format!("{s}: {}", ack.key),
                    format!("{:?}", r.map(|_| "deleted")),
                );
            }
        }
        Ok(())
    }
}

/// Starts a killed node once its port is free again: a SIGKILLed process can read as gone
/// (its command line is emptied) a moment before the kernel has closed its listening socket.
pub(super) async fn start(lab: &mut Lab, name: &str) -> Result<(), LabError> {
    let url = lab.node(name)?.url.clone();
    let addr = url.trim_start_matches("https://").to_string();
    // Only a port in use waits: in a lab of network namespaces the address is not this host's.
    let free = || async {
        poll::holds(!matches!(
            std::net::TcpListener::bind(&addr),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
        ))
    };
    let _ = poll::within(Duration::from_secs(10), Duration::from_millis(20), free).await;
    lab.start(name).map(|_| ())
}

/// SIGCONT to paused nodes and restore cut links (`cont`), start killed ones (`start`);
/// returns the names touched (a restored link as `a-b`).
pub(super) async fn heal(lab: &mut Lab, start: bool, cont: bool) -> Result<Vec<String>, LabError> {
    let mut touched = Vec::new();
    let cuts: Vec<(String, String)> = match &lab.state.net {
        Some(net) if cont => net.cuts.iter().cloned().collect(),
        _ => Vec::new(),
    };
    for (a, b) in cuts {
        lab.link(&a, &b, false)?;
        touched.push(format!("{a}-{b}"));
    }
    let names: Vec<String> = lab.state.nodes.iter().map(|n| n.name.clone()).collect();
    for n in names {
        match lab.proc_state(lab.node(&n)?) {
            ProcState::Paused if cont => lab.signal(&n, Sig::Cont)?,
            ProcState::Stopped if start => self::start(lab, &n).await?,
            _ => continue,
        }
        touched.push(n);
    }
    Ok(touched)
}

/// What only an operator's procedure changes, per answering node: its role (a primary that
/// fences itself on meeting a newer epoch counts as unchanged), the primary it follows, the
/// operator's sync setting, maintenance, and the epoch of its last promotion.
fn fingerprint(
    view: &crate::engines::drnode::cluster::ClusterView,
) -> std::collections::BTreeMap<String, String> {
    view.nodes
        .iter()
        .filter_map(|n| {
            let s = n.ok()?;
            let role = match s.role {
                Role::Primary | Role::Fenced => "primary or fenced".to_string(),
                r => r.to_string(),
            };
            Some((
                n.name.clone(),
                format!(
                    "{role}, follows {}, sync {}, maintenance {}, promoted at {}",
                    s.following.as_ref().map(|f| f.url.as_str()).unwrap_or("-"),
                    if s.sync.auto { "on" } else { "off" },
                    s.maintenance.as_ref().map(|m| m.id.as_str()).unwrap_or("-"),
                    s.promotion.as_ref().map(|p| p.epoch).unwrap_or(0)
                ),
            ))
        })
        .collect()
}

/// Sets `sync.max_failures` in every node's configuration, before the nodes start.
pub(super) fn set_sync_give_up(lab: &Lab, max_failures: u32) -> Result<(), LabError> {
    for n in &lab.state.nodes {
        let path = n.data_dir.join("drnode.yaml");
        let edit = || -> Result<(), String> {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let mut cfg: serde_yaml::Value =
                serde_yaml::from_str(&text).map_err(|e| e.to_string())?;
            let sync = cfg
                .as_mapping_mut()
                .ok_or("not a mapping")?
                .entry("sync".into())
                .or_insert_with(|| serde_yaml::Mapping::new().into());
            sync.as_mapping_mut()
                .ok_or("sync is not a mapping")?
                .insert("max_failures".into(), max_failures.into());
            let text = serde_yaml::to_string(&cfg).map_err(|e| e.to_string())?;
            std::fs::write(&path, text).map_err(|e| e.to_string())
        };
        edit().map_err(|e| LabError::Failed(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}
