//! The `drill:` section: lab size, faults to inject, variables, writes during the run, and what
//! must hold afterwards. Compiled with the same checks as the rest of the runbook.

use std::collections::BTreeMap;

use super::compiler::{join, Compiler};
use crate::api::SyncMode;
use crate::util::yaml::{Kind, Mark, Node};

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
                "waits on purpose until {node} gives up syncing (`sync.max_failures`, about 26 s \
                 with default settings) before recovery starts"
            )),
            _ => None,
        })
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
    /// Every reachable openldap node follows the provider with equal CSNs and fingerprints.
    pub converged: Option<bool>,
    /// Node → its services (running, stopped).
    pub services: BTreeMap<String, String>,
    /// Node → the package files it holds, comma-separated (exactly these).
    pub packages: BTreeMap<String, String>,
}

const DRILL: &[&str] = &[
    "nodes",
    "directory",
    "inject",
    "after",
    "vars",
    "writes",
    "expect",
    "kind",
];
const INJECT: &[&str] = &[
    "kill",
    "pause",
    "resume",
    "restart",
    "standalone",
    "wait_role",
    "wait_sync",
    "runbook",
    "vars",
    "writes",
    "set_setting",
    "package",
    "partition",
    "heal",
];
const EXPECT: &[&str] = &[
    "primary",
    "primary_not",
    "healthy",
    "no_write_lost",
    "roles",
    "ldap",
    "ldap_absent",
    "exported",
    "holders",
    "members",
    "converged",
    "services",
    "packages",
];

fn string_map(c: &mut Compiler, node: &Node, path: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Kind::Map(entries) = &node.kind else {
        c.problem(node.mark, path, "expected a mapping");
        return out;
    };
    for (k, v) in entries {
        if let Some(s) = c.string(v, &join(path, &k.text)) {
            out.insert(k.text.clone(), s);
        }
    }
    out
}

/// `drill.kind`: the kind of lab, drnode's by default. Named, even `drnode`, the drill says the
/// runbook is proven on that kind on purpose (a scenario of that engine).
fn lab_kind(c: &mut Compiler, v: &Node, path: &str) -> Option<String> {
    let name = c.string(v, path)?;
    let labs: Vec<&str> = crate::engines::registry::ENGINES
        .iter()
        .map(|e| e.kind)
        .filter(|k| {
            *k == crate::engines::registry::ENGINES[0].kind
                || crate::engines::registry::drill_runner(k).is_some()
        })
        .collect();
    if labs.contains(&name.as_str()) {
        return Some(name);
    }
    let msg = format!(
        "unknown lab kind '{name}' (the drills know: {})",
        labs.join(", ")
    );
    let near = super::error::nearest(&name, labs.iter().copied());
    c.suggest(v.mark, path, msg, near);
    None
}

/// `drill:` is one drill, or a list of drills, one per kind of lab (`kind:`) the runbook runs
/// on: the same runbook proven on every engine that supports its steps.
pub(super) fn compile_all(c: &mut Compiler, node: &Node) -> Vec<Drill> {
    let Kind::Seq(items) = &node.kind else {
        return compile(c, node).into_iter().collect();
    };
    let drills: Vec<Drill> = items.iter().filter_map(|d| compile(c, d)).collect();
    for (i, d) in drills.iter().enumerate() {
        if drills[..i].iter().any(|e| e.kind == d.kind) {
            c.problem(
                items[i].mark,
                &format!("drill[{i}].kind"),
                format!(
                    "a second drill for {}: one drill per kind",
                    d.kind
                        .as_deref()
                        .unwrap_or(crate::engines::registry::ENGINES[0].kind)
                ),
            );
        }
    }
    drills
}

pub(super) fn compile(c: &mut Compiler, node: &Node) -> Option<Drill> {
    let entries = c.fields(node, "drill", DRILL)?;
    let mut d = Drill {
        nodes: 3,
        directory: None,
        inject: Vec::new(),
        after: Vec::new(),
        vars: BTreeMap::new(),
        writes: None,
        expect: Expect::default(),
        kind: None,
    };
    // Ends of partitions, checked against the lab size once it is known.
    let mut ends: Vec<(Mark, String, String)> = Vec::new();
    let mut after_mark: Option<Mark> = None;
    for (k, v) in entries {
        let path = join("drill", &k.text);
        match k.text.as_str() {
            "nodes" => match c.number(v, &path) {
                Some(n @ 0..=9) => d.nodes = n as u16,
                Some(_) => c.problem(v.mark, &path, "a lab has 0 to 9 nodes"),
                None => {}
            },
            "directory" => match c.string(v, &path).as_deref() {
                Some("adlds") => d.directory = Some("adlds".into()),
                Some(other) => c.suggest(
                    v.mark,
                    &path,
                    format!("unknown directory '{other}' (the drills know: adlds)"),
                    Some("adlds".into()),
                ),
                None => {}
            },
            "vars" => d.vars = string_map(c, v, &path),
            "kind" => d.kind = lab_kind(c, v, &path),
            "writes" => {
                let w = c.fields(v, &path, &["count", "rate"]).unwrap_or(&[]);
                let mut writes = Writes {
                    count: 600,
                    rate: 200.0,
                };
                for (wk, wv) in w {
                    let p = join(&path, &wk.text);
                    match wk.text.as_str() {
                        "count" => writes.count = c.number(wv, &p).unwrap_or(600),
                        _ => writes.rate = c.number(wv, &p).unwrap_or(200) as f64,
                    }
                }
                d.writes = Some(writes);
            }
            "expect" => {
                for (ek, ev) in c.fields(v, &path, EXPECT).unwrap_or(&[]) {
                    let p = join(&path, &ek.text);
                    match ek.text.as_str() {
                        "primary" => d.expect.primary = c.string(ev, &p),
                        "primary_not" => d.expect.primary_not = c.string(ev, &p),
                        "healthy" => d.expect.healthy = c.boolean(ev, &p),
                        "no_write_lost" => {
                            d.expect.no_write_lost = c.boolean(ev, &p).unwrap_or(false)
                        }
                        "exported" => d.expect.exported = c.number(ev, &p),
                        "converged" => d.expect.converged = c.boolean(ev, &p),
                        "ldap" => {
                            if let Kind::Map(entries) = &ev.kind {
                                for (dn, attrs) in entries {
                                    let m = string_map(c, attrs, &join(&p, &dn.text));
                                    d.expect.ldap.insert(dn.text.clone(), m);
                                }
                            } else {
                                c.problem(ev.mark, &p, "expected a mapping of DN to attributes");
                            }
                        }
                        "ldap_absent" => match &ev.kind {
                            Kind::Seq(items) => {
                                for (i, n) in items.iter().enumerate() {
                                    let ip = format!("{p}[{i}]");
                                    d.expect.ldap_absent.extend(c.string(n, &ip));
                                }
                            }
                            _ => c.problem(ev.mark, &p, "expected a list of DNs"),
                        },
                        "holders" => d.expect.holders = string_map(c, ev, &p),
                        "members" => d.expect.members = string_map(c, ev, &p),
                        "services" => d.expect.services = string_map(c, ev, &p),
                        "packages" => d.expect.packages = string_map(c, ev, &p),
                        _ => d.expect.roles = string_map(c, ev, &p),
                    }
                }
            }
            "inject" | "after" => {
                if k.text == "after" {
                    after_mark = Some(k.mark);
                }
                let Kind::Seq(items) = &v.kind else {
                    c.problem(v.mark, &path, "expected a list");
                    continue;
                };
                for (i, item) in items.iter().enumerate() {
                    let ip = format!("{path}[{i}]");
                    if let Some(x) = inject(c, item, &ip, &mut ends) {
                        if k.text == "after" {
                            d.after.push(x);
                        } else {
                            d.inject.push(x);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    check_ends(c, &d, &ends);
    if let (Some(mark), false) = (after_mark, d.drnode_lab()) {
        c.problem(
            mark,
            "drill.after",
            "an openldap drill has no faults after the run",
        );
    }
    if let Some((_, check)) = d
        .kind
        .as_deref()
        .and_then(crate::engines::registry::drill_runner)
    {
        check(c, node, &d);
    }
    if d.nodes == 0 && d.directory.is_none() && d.drnode_lab() {
        c.problem(
            node.mark,
            "drill.nodes",
            "a drill without nodes needs a directory",
        );
    }
    Some(d)
}

/// `partition:` / `heal:` names lab nodes (`node-1` .. `node-N`) or `drctl`.
fn check_ends(c: &mut Compiler, d: &Drill, ends: &[(Mark, String, String)]) {
    let nodes: Vec<String> = (1..=d.nodes).map(|i| format!("node-{i}")).collect();
    for (mark, path, name) in ends {
        if name == super::super::lab::netns::DRCTL || nodes.contains(name) {
            continue;
        }
        let known = if nodes.is_empty() {
            "the drill has no drnode lab (nodes: 0)".to_string()
        } else {
            format!("the lab has {} and drctl", nodes.join(", "))
        };
        let near = super::error::nearest(name, nodes.iter().map(String::as_str));
        c.suggest(*mark, path, format!("unknown node '{name}': {known}"), near);
    }
    if d.partitions() && !d.drnode_lab() {
        c.problem(
            ends.first().map(|e| e.0).unwrap_or_default(),
            "drill.kind",
            "partitions cut links between drnode nodes; an openldap drill cannot use them",
        );
    }
}

/// `node-1` (all its links), `[node-1, node-3]` (one link), and for `heal` also `all`.
fn link(
    c: &mut Compiler,
    v: &Node,
    path: &str,
    heal: bool,
    ends: &mut Vec<(Mark, String, String)>,
) -> Option<Link> {
    const SHAPE: &str = "expected a node (node-1: all its links), a list of two ends \
                         ([node-1, node-3], or [node-1, drctl]: that one link)";
    match &v.kind {
        Kind::Seq(items) if items.len() == 2 => {
            let mut names = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let name = c.string(item, &p)?;
                ends.push((item.mark, p, name.clone()));
                names.push(name);
            }
            if names[0] == names[1] {
                c.problem(
                    items[1].mark,
                    &format!("{path}[1]"),
                    format!("a link joins two different ends, not {} twice", names[0]),
                );
                return None;
            }
            Some(Link::Between(names[0].clone(), names[1].clone()))
        }
        Kind::Seq(items) => {
            c.problem(
                v.mark,
                path,
                format!("{SHAPE}; this list has {} entries", items.len()),
            );
            None
        }
        _ => match v.as_str() {
            Some("all") if heal => Some(Link::All),
            Some(super::super::lab::netns::DRCTL) => {
                c.problem(
                    v.mark,
                    path,
                    "name a node: to cut drctl from a node, give the link [node-1, drctl]",
                );
                None
            }
            Some(n) => {
                ends.push((v.mark, path.to_string(), n.to_string()));
                Some(Link::Node(n.to_string()))
            }
            None => {
                c.problem(
                    v.mark,
                    path,
                    format!(
                        "{SHAPE}{}, found {}",
                        if heal { ", or all" } else { "" },
                        v.kind_name()
                    ),
                );
                None
            }
        },
    }
}

fn inject(
    c: &mut Compiler,
    item: &Node,
    path: &str,
    ends: &mut Vec<(Mark, String, String)>,
) -> Option<Inject> {
    let entries = c.fields(item, path, INJECT)?;
    let (k, v) = entries.first()?;
    let p = join(path, &k.text);
    Some(match k.text.as_str() {
        "kill" => Inject::Kill(c.string(v, &p)?),
        "pause" => Inject::Pause(c.string(v, &p)?),
        "resume" => Inject::Resume(c.string(v, &p)?),
        "restart" => Inject::Restart(c.string(v, &p)?),
        "standalone" => Inject::Standalone(c.string(v, &p)?),
        "writes" => Inject::Writes(c.number(v, &p)?),
        "wait_role" => {
            let m = string_map(c, v, &p);
            match (m.get("node"), m.get("role")) {
                (Some(n), Some(r)) => Inject::WaitRole {
                    node: n.clone(),
                    role: r.clone(),
                },
                _ => {
                    c.problem(v.mark, &p, "wait_role needs node and role");
                    return None;
                }
            }
        }
        "wait_sync" => {
            let m = string_map(c, v, &p);
            let state = match m.get("state").map(String::as_str) {
                Some("on") => SyncMode::On,
                Some("off") => SyncMode::Off,
                Some("suspended") => SyncMode::Suspended,
                _ => {
                    c.problem(
                        v.mark,
                        &p,
                        "wait_sync needs node and state (one of: on, off, suspended)",
                    );
                    return None;
                }
            };
            match (m.get("node"), m.len()) {
                (Some(n), 2) => Inject::WaitSync {
                    node: n.clone(),
                    state,
                },
                _ => {
                    c.problem(v.mark, &p, "wait_sync needs node and state, nothing else");
                    return None;
                }
            }
        }
        "package" => {
            let m = string_map(c, v, &p);
            match (m.get("node"), m.get("name"), m.get("content")) {
                (Some(n), Some(f), Some(body)) if m.len() == 3 => Inject::Package {
                    node: n.clone(),
                    name: f.clone(),
                    content: body.clone(),
                },
                _ => {
                    c.problem(v.mark, &p, "package needs node, name and content");
                    return None;
                }
            }
        }
        "set_setting" => {
            let m = string_map(c, v, &p);
            match (m.get("name"), m.get("value")) {
                (Some(n), Some(v)) => Inject::SetSetting {
                    name: n.clone(),
                    value: v.clone(),
                },
                _ => {
                    c.problem(v.mark, &p, "set_setting needs name and value");
                    return None;
                }
            }
        }
        "runbook" => Inject::Runbook {
            name: c.string(v, &p)?,
            vars: entries
                .iter()
                .find(|(k, _)| k.text == "vars")
                .map(|(_, v)| string_map(c, v, &join(path, "vars")))
                .unwrap_or_default(),
        },
        "partition" => Inject::Partition(link(c, v, &p, false, ends)?),
        "heal" => Inject::Heal(link(c, v, &p, true, ends)?),
        other => {
            c.problem(k.mark, &p, format!("'{other}' must follow 'runbook'"));
            return None;
        }
    })
}

/// How `drctl status` words a sync mode.
pub(crate) fn sync_word(m: SyncMode) -> &'static str {
    match m {
        SyncMode::On => "on",
        SyncMode::Off => "off",
        SyncMode::Suspended => "suspended",
    }
}

/// What a drill on a lab of `kind` other than drnode's may hold: `nodes` in `sizes`, no
/// directory, and only the injections every engine's lab plays (kill, pause, resume, restart,
/// writes, runbook). Problems are reported on `node`.
pub(crate) fn check_engine_drill(
    c: &mut Compiler,
    node: &Node,
    d: &Drill,
    kind: &str,
    sizes: std::ops::RangeInclusive<u16>,
    members: &str,
) {
    if !sizes.contains(&d.nodes) {
        c.problem(
            node.mark,
            "drill.nodes",
            format!(
                "an {kind} lab has {} to {} {members}",
                sizes.start(),
                sizes.end()
            ),
        );
    }
    if d.directory.is_some() {
        c.problem(
            node.mark,
            "drill.directory",
            format!("an {kind} drill has no directory"),
        );
    }
    for (i, inj) in d.inject.iter().enumerate() {
        if !matches!(
            inj,
            Inject::Kill(_)
                | Inject::Pause(_)
                | Inject::Resume(_)
                | Inject::Restart(_)
                | Inject::Writes(_)
                | Inject::Runbook { .. }
        ) {
            c.problem(
                node.mark,
                &format!("drill.inject[{i}]"),
                format!(
                    "{}: an {kind} drill injects kill, pause, resume, restart, writes and runbook",
                    inj.describe()
                ),
            );
        }
    }
}

/// Refuses, on `node`, a drill whose `expect:` holds more than a lab without a directory, roles
/// of drnode's, services or exports can check: `primary`, `primary_not`, `healthy`, `roles`,
/// `no_write_lost`, and `members` where `members` is true. `says` what it may expect.
pub(crate) fn check_engine_expect(
    c: &mut Compiler,
    node: &Node,
    d: &Drill,
    members: bool,
    says: &str,
) {
    let e = &d.expect;
    if !(e.ldap.is_empty()
        && e.ldap_absent.is_empty()
        && e.holders.is_empty()
        && (members || e.members.is_empty())
        && e.services.is_empty()
        && e.packages.is_empty()
        && e.exported.is_none()
        && e.converged.is_none())
    {
        c.problem(node.mark, "drill.expect", says);
    }
}
