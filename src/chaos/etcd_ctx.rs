//! What an etcd chaos run (`--kind etcd`) acts on and observes: the run's context that plays
//! schedule steps and procedures, healing, and what the checker and policy are handed (which
//! `etcd_run.rs` calls, so they do not import it). After every step and procedure it looks at
//! the members: an identity a procedure retired (its data directory moved aside by a failover's
//! fence or a rejoin) must never answer again, and two members never lead at one raft term.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::drctl::{proc_args, Call, Drctl, Kill};
use super::etcd_writer::EtcdAck;
use super::operate::{self, nth_ack, paused, Operate, Tally};
use super::schedule::{Pick, Proc, Step};
use crate::engines::etcd::lab::EtcdLab;
use crate::engines::etcd::{Assessment, EtcdCluster, EtcdView, Role};
use crate::lab::{LabError, Sig};

/// A member identity a procedure retired: its data directory was moved aside.
#[derive(Debug, Clone)]
pub(crate) struct Retired {
    pub node: String,
    pub member: u64,
    /// The directory it was moved to (`data.fenced-RUN` by a failover, `data.removed-RUN` by
    /// a rejoin).
    pub aside: PathBuf,
    pub at_ms: u64,
}

/// A step or procedure during which a failover fenced members: the writes acknowledged before
/// it began and past what its survivor held were named at risk before it forced a new cluster.
#[derive(Debug, Clone)]
pub(crate) struct Forced {
    pub began_ms: u64,
    pub what: String,
}

/// What a run observed, for the checker.
pub(crate) struct EtcdObserved<'a> {
    pub acks: Vec<EtcdAck>,
    pub calls: Vec<Call>,
    pub converged: Result<(), String>,
    pub final_view: EtcdView,
    pub cl: &'a EtcdCluster,
    pub forced: Vec<Forced>,
    /// Retired identities that answered, and two leaders at one term, as seen during the run.
    pub served: Vec<String>,
    /// (member, etcd log) of every member.
    pub logs: Vec<(String, PathBuf)>,
    /// The lab's directory: no drctl of the run may still run on it at the end.
    pub dir: PathBuf,
    pub drctl: PathBuf,
}

pub(crate) struct ECtx<'a> {
    pub lab: &'a EtcdLab,
    pub cl: EtcdCluster,
    pub drctl: Drctl,
    pub tally: Tally,
    pub acks: Arc<Mutex<Vec<EtcdAck>>>,
    pub retired: Vec<Retired>,
    pub forced: Vec<Forced>,
    pub served: Vec<String>,
    /// Each member's id as last seen (answering, or listed in the membership), and the moved
    /// aside data directories then: what a procedure that follows retires.
    seen: BTreeMap<String, u64>,
    aside: BTreeSet<PathBuf>,
    seen_ms: u64,
}

/// Whether a member answers as a voting member of the cluster.
pub(super) fn votes(view: &EtcdView, a: &Assessment, name: &str) -> bool {
    view.nodes.iter().zip(&a.nodes).any(|(n, na)| {
        n.name == name && n.state.is_ok() && matches!(na.role, Some(Role::Leader | Role::Follower))
    })
}

/// SIGCONT to paused members (`cont`), start stopped ones (`start`): one line per member
/// touched. A removed or fenced member refuses to start: that is said, not an error.
pub(super) async fn heal(lab: &EtcdLab, start: bool, cont: bool) -> Vec<String> {
    let mut touched = Vec::new();
    for n in &lab.nodes {
        let name = n.name.clone();
        match lab.pid(&name) {
            Some(pid) if cont && paused(pid) => {
                let r = lab.signal(&name, Sig::Cont).map(drop);
                touched.push(format!("{name}: SIGCONT {}", fmt(r)));
            }
            None if start => {
                let (l, nm) = (lab.clone(), name.clone());
                let r = tokio::task::spawn_blocking(move || l.start(&nm).map(drop))
                    .await
                    .unwrap_or_else(|e| Err(LabError::Failed(e.to_string())));
                touched.push(format!("{name}: start {}", fmt(r)));
            }
            _ => {}
        }
    }
    touched
}

fn fmt(r: Result<(), LabError>) -> String {
    match r {
        Ok(()) => "done".into(),
        Err(e) => format!("refused: {e}"),
    }
}

impl<'a> ECtx<'a> {
    pub(crate) fn new(
        lab: &'a EtcdLab,
        cl: EtcdCluster,
        drctl: Drctl,
        started: Instant,
        acks: Arc<Mutex<Vec<EtcdAck>>>,
    ) -> ECtx<'a> {
        ECtx {
            lab,
            cl,
            drctl,
            tally: Tally::new(started),
            acks,
            retired: Vec::new(),
            forced: Vec::new(),
            served: Vec::new(),
            seen: BTreeMap::new(),
            aside: BTreeSet::new(),
            seen_ms: 0,
        }
    }

    fn ms(&self) -> u64 {
        self.tally.ms()
    }

    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        self.tally.note(what, result);
    }

    /// The data directories moved aside so far (`node-N/data.*`; a file there, such as the
    /// record of a failover forcing a new cluster, is no data directory).
    fn moved_aside(&self) -> BTreeSet<PathBuf> {
        self.lab
            .nodes
            .iter()
            .flat_map(|n| {
                std::fs::read_dir(self.lab.dir.join(&n.name))
                    .into_iter()
                    .flatten()
            })
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with("data."))
                    && p.is_dir()
            })
            .collect()
    }

    /// Looks at the members before a step or procedure: who is who, what was moved aside.
    pub(crate) async fn before(&mut self) {
        let view = self.cl.probe().await;
        let a = view.assess();
        for (n, na) in view.nodes.iter().zip(&a.nodes) {
            let id = n
                .state
                .as_ref()
                .ok()
                .map(|s| s.status.header.member_id)
                .or(na.member_id);
            if let Some(id) = id {
                self.seen.insert(n.name.clone(), id);
            }
        }
        self.aside = self.moved_aside();
        self.seen_ms = self.ms();
        self.watch(&view);
    }

    /// Looks at the members after one: the identities it retired, and whether one that was
    /// retired (by it or before) answers, or two members lead at one term.
    pub(crate) async fn after(&mut self, what: &str) {
        let now = self.moved_aside();
        for p in now.difference(&self.aside) {
            let node = p
                .parent()
                .and_then(|d| d.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let fenced = p.to_string_lossy().contains(".fenced-");
            if fenced && !self.forced.iter().any(|f| f.began_ms == self.seen_ms) {
                self.forced.push(Forced {
                    began_ms: self.seen_ms,
                    what: what.to_string(),
                });
            }
            if let Some(&member) = self.seen.get(&node) {
                self.retired.push(Retired {
                    node,
                    member,
                    aside: p.clone(),
                    at_ms: self.ms(),
                });
            }
        }
        self.aside = now;
        let view = self.cl.probe().await;
        self.watch(&view);
    }

    fn watch(&mut self, view: &EtcdView) {
        let at = self.ms();
        let mut leaders: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for n in &view.nodes {
            let Ok(s) = &n.state else { continue };
            let id = s.status.header.member_id;
            if let Some(r) = self.retired.iter().find(|r| r.member == id) {
                let who = format!("{} answers as member {id:x} ", n.name);
                if !self.served.iter().any(|l| l.starts_with(&who)) {
                    self.served.push(format!(
                        "{who}at {at} ms, the identity of {} whose data directory was moved to {} at {} ms",
                        r.node,
                        r.aside.display(),
                        r.at_ms
                    ));
                }
            }
            if s.status.leader == id && s.status.errors.is_empty() {
                leaders
                    .entry(s.status.raft_term)
                    .or_default()
                    .insert(n.name.clone());
            }
        }
        for (term, names) in leaders.into_iter().filter(|(_, n)| n.len() > 1) {
            self.served.push(format!(
                "{names:?} each lead at raft term {term} at {at} ms"
            ));
        }
    }

    /// Resolves a pick against the cluster as it is now: "the primary" is the leader.
    async fn resolve(&self, p: Pick) -> String {
        let leader = self.cl.probe().await.assess().leader;
        self.pick(p, leader)
    }

    fn pick(&self, p: Pick, leader: Option<String>) -> String {
        let names = self.lab.nodes.iter().map(|n| n.name.clone());
        let first = leader.unwrap_or_else(|| self.lab.nodes[0].name.clone());
        p.among(first, names, None)
    }

    /// The member a rejoin brings back: one that does not vote (removed, fenced, a learner,
    /// another cluster's), else the k-th other member (a rerun's "already done").
    async fn outsider(&self, p: Pick) -> String {
        let view = self.cl.probe().await;
        let a = view.assess();
        let out: Vec<&str> = view
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .filter(|n| !votes(&view, &a, n) && a.member_of(&view, n).is_none_or(|m| m.is_learner))
            .collect();
        match p {
            Pick::Other(k) | Pick::FencedOr(k) if !out.is_empty() => {
                out[k as usize % out.len()].to_string()
            }
            _ => self.pick(p, a.leader),
        }
    }

    /// Runs drctl and records the call, with what it retired.
    pub(crate) async fn drctl(
        &mut self,
        operator: &str,
        args: Vec<String>,
        kill: Option<Kill>,
    ) -> Call {
        self.before().await;
        let call = self.drctl.call(operator, &args, kill).await;
        self.tally.record(operator, call.clone(), "");
        self.after(&format!("drctl {}", args.join(" "))).await;
        call
    }

    /// Test only: deletes an acknowledged key through the leader, behind the tool's back.
    async fn drop_acked(&mut self, nth: u32) {
        let ack = nth_ack(&self.acks, nth);
        let what = format!("TEST: delete acknowledged write #{nth}");
        let Some(ack) = ack else {
            self.note(what, "skipped (nothing acknowledged yet)");
            return;
        };
        let view = self.cl.probe().await;
        let url = view
            .assess()
            .leader
            .and_then(|l| view.node(&l).map(|n| n.url.clone()));
        let r = match url {
            Some(u) => self
                .cl
                .client
                .delete(&u, &ack.key)
                .await
                .map_err(|e| e.to_string()),
            None => Err("no leader".into()),
        };
        self.note(format!("{what}: {}", ack.key), format!("{r:?}"));
    }
}

impl Operate for ECtx<'_> {
    fn operators(&self) -> &Drctl {
        &self.drctl
    }

    fn tally(&mut self) -> &mut Tally {
        &mut self.tally
    }

    async fn args_of(&self, p: Proc) -> Option<Vec<String>> {
        Some(match p {
            Proc::Switchover { to } => proc_args(&["switchover", "--to", &self.resolve(to).await]),
            Proc::Failover => proc_args(&["failover"]),
            Proc::Removenode { node } => proc_args(&["removenode", &self.resolve(node).await]),
            Proc::Join { node } => proc_args(&[
                "run",
                "etcd-rejoin-member",
                "--var",
                &format!("node={}", self.outsider(node).await),
            ]),
            // Not etcd procedures (`--procedures` refuses them for this kind).
            Proc::Demote { .. }
            | Proc::Repoint
            | Proc::SyncOn { .. }
            | Proc::Standalone { .. }
            | Proc::SeizeRoles { .. }
            | Proc::Run { .. } => return None,
        })
    }

    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Kill>) -> Call {
        self.drctl(operator, args, kill).await
    }

    async fn step(&mut self, s: &Step) -> Result<(), LabError> {
        // Every drctl call looks before and after itself; racing ones run beside it. (A look
        // at a paused member waits out the client's timeout: only where it tells something.)
        let race = matches!(s, Step::Race { .. });
        if race {
            self.before().await;
        }
        if operate::play(self, s).await {
            if race {
                self.after(&s.to_string()).await;
            }
            return Ok(());
        }
        match s {
            Step::Kill { node } | Step::Pause { node } => {
                let name = self.resolve(*node).await;
                let pid = self.lab.pid(&name);
                let stop = matches!(s, Step::Pause { .. });
                if pid.is_none() || pid.is_some_and(|p| stop && paused(p)) {
                    self.note(format!("{s}: {name}"), "skipped (not running, or paused)");
                    return Ok(());
                }
                self.tally.faults += 1;
                self.lab
                    .signal(&name, if stop { Sig::Stop } else { Sig::Kill })?;
                self.note(format!("{s}: {name}"), "done");
            }
            Step::Resume | Step::Restart => {
                let restart = matches!(s, Step::Restart);
                let touched = heal(self.lab, restart, !restart).await;
                self.note(s.to_string(), format!("{touched:?}"));
                // What came back must not be an identity a procedure retired.
                if !touched.is_empty() {
                    self.after(&s.to_string()).await;
                }
            }
            Step::Wipe { .. }
            | Step::DiesOnPromotion { .. }
            | Step::Partition { .. }
            | Step::DiskFull { .. } => self.note(s.to_string(), "skipped (not an etcd fault)"),
            Step::DropAcked { nth } => self.drop_acked(*nth).await,
            // Played by `operate::play` above.
            Step::Delay { .. } | Step::Proc { .. } | Step::KillDrctl { .. } | Step::Race { .. } => {
            }
        }
        Ok(())
    }
}
