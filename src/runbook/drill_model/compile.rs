//! Compiles `drill:` (one drill, or one per kind of lab) into a `Drill`: its fields, its
//! expectations, and the ends of its partitions checked against the lab size.

use std::collections::BTreeMap;

use super::super::compiler::{join, Compiler};
use super::inject::{inject, string_map};
use super::{Drill, Expect, Writes};
use crate::util::yaml::{Kind, Mark, Node};

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
    "clients",
    "converged",
    "services",
    "packages",
];
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
    let near = super::super::error::nearest(&name, labs.iter().copied());
    c.suggest(v.mark, path, msg, near);
    None
}

/// `drill:` is one drill, or a list of drills, one per kind of lab (`kind:`) the runbook runs
/// on: the same runbook proven on every engine that supports its steps.
pub(crate) fn compile_all(c: &mut Compiler, node: &Node) -> Vec<Drill> {
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

fn compile(c: &mut Compiler, node: &Node) -> Option<Drill> {
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
                        "clients" => match &ev.kind {
                            Kind::Seq(items) => {
                                for (i, n) in items.iter().enumerate() {
                                    let ip = format!("{p}[{i}]");
                                    d.expect.clients.extend(c.string(n, &ip));
                                }
                            }
                            _ => c.problem(ev.mark, &p, "expected a list of DCs, in order"),
                        },
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
    if !d.expect.clients.is_empty() && d.kind.as_deref() != Some("samba-ad") {
        c.problem(
            node.mark,
            "drill.expect.clients",
            "only a samba-ad drill has a client whose files list DCs",
        );
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
        if name == crate::lab::netns::DRCTL || nodes.contains(name) {
            continue;
        }
        let known = if nodes.is_empty() {
            "the drill has no drnode lab (nodes: 0)".to_string()
        } else {
            format!("the lab has {} and drctl", nodes.join(", "))
        };
        let near = super::super::error::nearest(name, nodes.iter().map(String::as_str));
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
