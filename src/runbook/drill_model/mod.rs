//! The `drill:` section: lab size, faults to inject, variables, writes during the run, and what
//! must hold afterwards. Compiled with the same checks as the rest of the runbook
//! (`compile.rs`, the faults in `inject.rs`); what an engine's own lab may hold, in `validate.rs`.

mod compile;
mod inject;
mod validate;

use std::collections::BTreeMap;

use crate::api::SyncMode;

pub(super) use compile::compile_all;
pub(crate) use validate::{check_engine_drill, check_engine_expect};

#[derive(Debug, Clone)]
pub struct Drill {
    /// drnode lab size; 0 for a runbook that only reaches a directory.
    pub nodes: u16,
    /// `adlds`: also start a directory shaped like an AD LDS configuration set (slapd).
    pub directory: Option<String>,
    pub inject: Vec<Inject>,
    /// Faults applied after the run, before the checks (e.g. heal a partition).
    pub after: Vec<Inject>,
    pub vars: BTreeMap<String, String>,
    /// Writes through the write checker while the runbook runs.
    pub writes: Option<Writes>,
    pub expect: Expect,
    /// `openldap`: the lab is `nodes` real slapd (node-1 the provider), not drnode.
    pub kind: Option<String>,
}

/// Failed pulls after which a drill lab's replicas give up, in drills that wait for it.
pub const GIVE_UP_AFTER: u32 = 5;

#[derive(Debug, Clone)]
pub enum Inject {
    /// SIGKILL.
    Kill(String),
    /// SIGSTOP.
    Pause(String),
    /// SIGCONT.
    Resume(String),
    /// Start again (after a kill), keeping its data.
    Restart(String),
    /// Take a node out of replication (it keeps its data, then falls behind).
    Standalone(String),
    /// Wait until a node reports a role.
    WaitRole { node: String, role: String },
    /// Wait until the primary holds no open log request of these (paused) replicas: their
    /// long-polls ran out, so nothing the primary writes from then on reaches them.
    WaitPollEnds(Vec<String>),
    /// Wait until a replica's automatic sync is `on`, `off` or `suspended` (e.g. it gave up on
    /// a lost primary after `sync.max_failures` failed attempts, seed 001).
    WaitSync { node: String, state: SyncMode },
    /// Run another runbook first (e.g. a failover before a demote).
    Runbook {
        name: String,
        vars: BTreeMap<String, String>,
    },
    /// N acknowledged writes before the runbook runs.
    Writes(u64),
    /// Write a replicated setting through the primary (drift an operator must repair).
    SetSetting { name: String, value: String },
    /// Cut links: packets between the ends are dropped silently (nodes in network namespaces).
    Partition(Link),
    /// Restore links a partition cut.
    Heal(Link),
    /// Upload a package file to a node (node-local, like an operator's `packages put`).
    Package {
        node: String,
        name: String,
        content: String,
    },
}

/// The links a `partition` or `heal` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// `partition: node-1`: every link of node-1 (to each other node and to drctl).
    Node(String),
    /// `partition: [node-1, node-3]`: the one link between two nodes, or a node and `drctl`.
    Between(String, String),
    /// `heal: all`: every cut link.
    All,
}

impl Link {
    fn describe(&self) -> String {
        match self {
            Link::Node(n) => format!("{n} from every other node and drctl"),
            Link::Between(a, b) => format!("the link {a} <-> {b}"),
            Link::All => "every cut link".into(),
        }
    }
}

impl Drill {
    /// Whether the drill runs in the runbook's own drnode lab: its kind (the default, or named)
    /// has no drill runner of its own.
    pub fn drnode_lab(&self) -> bool {
        self.kind
            .as_deref()
            .and_then(crate::engines::registry::drill_runner)
            .is_none()
    }

    /// Why the drill spends most of its time waiting on purpose (a timeout it must let run out),
    /// if it does: such drills run beside the others in `drill --all`, and their report says so.
    pub fn waits_on_purpose(&self) -> Option<String> {
        self.inject.iter().find_map(|i| match i {
            Inject::WaitSync {
                node,
                state: SyncMode::Suspended,
            } => Some(format!(
                "waits on purpose until {node} gives up syncing (this lab's `sync.max_failures` \
                 is {GIVE_UP_AFTER}: about 1 s; 30 by default, about 26 s) before recovery starts"
            )),
            _ => None,
        })
    }

    /// What the drill's report says of its length: a wait on purpose, or a write load it keeps
    /// up on purpose for a set time (`writes: {count, rate}`).
    pub fn takes_its_time(&self) -> Option<String> {
        self.waits_on_purpose()
            .or_else(|| {
                let w = self.writes.as_ref().filter(|w| w.rate > 0.0)?;
                let secs = w.count as f64 / w.rate;
                (secs >= 1.0).then(|| {
                    format!(
                        "writes {} at {}/s on purpose, throughout the run (about {secs:.0} s)",
                        w.count, w.rate
                    )
                })
            })
            .or_else(|| self.silent_in_a_run())
            .or_else(|| {
                self.inject.iter().find_map(|i| match i {
                    Inject::WaitPollEnds(nodes) => Some(format!(
                        "waits on purpose (up to a long-poll, 2 s) until the primary holds no \
                         open log request of {}, so that its next writes reach none of them",
                        nodes.join(", ")
                    )),
                    _ => None,
                })
            })
    }

    /// Whether a runbook runs (an injected one, or the drill's own) while a node is paused or
    /// cut off from drctl: that run waits out its connect timeout on the node once, on purpose.
    fn silent_in_a_run(&self) -> Option<String> {
        let mut silent: Vec<&str> = Vec::new();
        let say = |silent: &[&str], run: &str| {
            Some(format!(
                "waits on purpose for one connect timeout: {} answers nothing (paused or cut \
                 off) while {run} runs",
                silent.join(", ")
            ))
        };
        for i in &self.inject {
            match i {
                Inject::Pause(n) | Inject::Partition(Link::Node(n)) => silent.push(n),
                Inject::Partition(Link::Between(a, b)) if a == "drctl" => silent.push(b),
                Inject::Partition(Link::Between(a, b)) if b == "drctl" => silent.push(a),
                Inject::Resume(n) | Inject::Kill(n) | Inject::Restart(n) => {
                    silent.retain(|s| s != n)
                }
                Inject::Heal(_) => silent.clear(),
                Inject::Runbook { name, .. } if !silent.is_empty() => {
                    return say(&silent, &format!("the injected {name}"));
                }
                _ => {}
            }
        }
        if silent.is_empty() {
            None
        } else {
            say(&silent, "the runbook")
        }
    }

    /// The lab's `sync.max_failures`: low for a drill that waits for replicas to give up on a
    /// lost primary (the scenario is "after the give-up", not "after 26 s"), else the default.
    pub fn sync_max_failures(&self) -> Option<u32> {
        self.waits_on_purpose().map(|_| GIVE_UP_AFTER)
    }

    /// Whether the drill cuts links (and so needs nodes in network namespaces).
    pub fn partitions(&self) -> bool {
        self.inject
            .iter()
            .chain(&self.after)
            .any(|i| matches!(i, Inject::Partition(_) | Inject::Heal(_)))
    }
}

impl Inject {
    pub fn describe(&self) -> String {
        match self {
            Inject::Kill(n) => format!("kill -9 {n}"),
            Inject::Pause(n) => format!("pause (SIGSTOP) {n}"),
            Inject::Resume(n) => format!("resume (SIGCONT) {n}"),
            Inject::Restart(n) => format!("restart {n}"),
            Inject::Standalone(n) => format!("make {n} standalone"),
            Inject::WaitRole { node, role } => format!("wait until {node} is {role}"),
            Inject::WaitPollEnds(nodes) => format!(
                "wait until the primary holds no open log request of {}",
                nodes.join(", ")
            ),
            Inject::WaitSync { node, state } => {
                format!(
                    "wait until {node}'s automatic sync is {}",
                    sync_word(*state)
                )
            }
            Inject::Runbook { name, vars } => format!(
                "run {name} ({})",
                vars.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Inject::Writes(n) => format!("{n} acknowledged writes"),
            Inject::SetSetting { name, value } => format!("set {name} = {value}"),
            Inject::Partition(l) => format!("partition {}", l.describe()),
            Inject::Heal(l) => format!("heal {}", l.describe()),
            Inject::Package { node, name, .. } => format!("package {name} on {node}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Writes {
    pub count: u64,
    pub rate: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub primary: Option<String>,
    pub primary_not: Option<String>,
    pub healthy: Option<bool>,
    /// Every acknowledged write is on the final primary.
    pub no_write_lost: bool,
    /// Node → role.
    pub roles: BTreeMap<String, String>,
    /// Directory entry → attribute → value it must hold.
    pub ldap: BTreeMap<String, BTreeMap<String, String>>,
    /// Directory entries that must not exist.
    pub ldap_absent: Vec<String>,
    /// Records the run exported (divergent writes, JSON lines in the export directory).
    pub exported: Option<u64>,
    /// Operation-master role → the node holding it (by the authoritative record).
    pub holders: BTreeMap<String, String>,
    /// Node → member state (normal, leaving, removed).
    pub members: BTreeMap<String, String>,
    /// The DCs the lab client's resolver and KDC list name, in order (samba-ad).
    pub clients: Vec<String>,
    /// Every reachable openldap node follows the provider with equal CSNs and fingerprints.
    pub converged: Option<bool>,
    /// Node → its services (running, stopped).
    pub services: BTreeMap<String, String>,
    /// Node → the package files it holds, comma-separated (exactly these).
    pub packages: BTreeMap<String, String>,
}

/// How `drctl status` words a sync mode.
pub(crate) fn sync_word(m: SyncMode) -> &'static str {
    match m {
        SyncMode::On => "on",
        SyncMode::Off => "off",
        SyncMode::Suspended => "suspended",
    }
}
