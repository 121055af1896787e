//! Compiles one entry of `drill.inject` / `drill.after` into an `Inject`, the links a
//! `partition` or `heal` names, and the `key: value` mappings the drill's fields are written as.

use std::collections::BTreeMap;

use super::super::compiler::{join, Compiler};
use super::{Inject, Link};
use crate::api::SyncMode;
use crate::util::yaml::{Kind, Mark, Node};

const INJECT: &[&str] = &[
    "kill",
    "pause",
    "resume",
    "restart",
    "standalone",
    "wait_role",
    "wait_poll_ends",
    "wait_sync",
    "runbook",
    "vars",
    "writes",
    "set_setting",
    "package",
    "partition",
    "heal",
];

pub(super) fn string_map(c: &mut Compiler, node: &Node, path: &str) -> BTreeMap<String, String> {
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
            Some(crate::lab::netns::DRCTL) => {
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

pub(super) fn inject(
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
        "wait_poll_ends" => {
            let Kind::Seq(items) = &v.kind else {
                c.problem(v.mark, &p, "expected a list of nodes ([node-2, node-3])");
                return None;
            };
            let nodes: Vec<String> = items
                .iter()
                .enumerate()
                .filter_map(|(i, n)| c.string(n, &format!("{p}[{i}]")))
                .collect();
            if nodes.len() != items.len() {
                return None;
            }
            if nodes.is_empty() {
                c.problem(v.mark, &p, "expected a list of one or more nodes");
                return None;
            }
            Inject::WaitPollEnds(nodes)
        }
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
