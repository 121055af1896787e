//! The registry: every engine, one line each, and the one place that looks a kind up. Nothing
//! else in drctl tests which kind a cluster is: it asks the registry for the engine and the
//! engine for what it supports.

use crate::engine::{Engine, Global, ProcError, Registration};
use crate::inventory::{Inventory, InventoryError, NodeEntry};
use crate::runbook::drill_hooks::{DrillCheck, DrillRun};

/// Every engine; the first is the default kind of a node that names none.
pub const ENGINES: &[&Registration] = &[
    &super::drnode::ENGINE,
    &super::openldap::ENGINE,
    &super::etcd::ENGINE,
    &super::ds389::ENGINE,
    &super::samba::ENGINE,
    &super::skeleton::ENGINE,
];

/// The labs of every engine that has one (what a sweep of stale drill labs takes down).
pub fn lab_kinds() -> Vec<&'static crate::lab::LabKind> {
    ENGINES.iter().filter_map(|e| e.lab).collect()
}

/// Every kind, as the cluster file and `--kind` spell them.
pub fn kinds() -> Vec<&'static str> {
    ENGINES.iter().map(|e| e.kind).collect()
}

/// The engine of a kind.
pub fn find(kind: &str) -> Result<&'static Registration, String> {
    ENGINES
        .iter()
        .copied()
        .find(|e| e.kind == kind)
        .ok_or_else(|| format!("unknown kind '{kind}' (kinds: {})", kinds().join(", ")))
}

/// The engine `--kind` names, or the default engine without it.
pub fn find_or_default(kind: Option<&str>) -> Result<&'static Registration, String> {
    kind.map_or(Ok(ENGINES[0]), find)
}

/// The kind of a node entry (the default when it names none).
pub fn kind_of(n: &NodeEntry) -> &str {
    n.kind.as_deref().unwrap_or(ENGINES[0].kind)
}

/// Checks a node entry: a known kind, only that engine's fields, then the engine's own check.
/// The error starts with the field it is about.
pub fn validate_entry(n: &NodeEntry) -> Result<(), String> {
    let kind = kind_of(n);
    let engine = find(kind).map_err(|e| format!("kind: {e}"))?;
    for f in n.setting_names() {
        if engine.fields.contains(&f.as_str()) {
            continue;
        }
        let owners: Vec<String> = ENGINES
            .iter()
            .filter(|e| e.fields.contains(&f.as_str()))
            .map(|e| format!("`kind: {}`", e.kind))
            .collect();
        return Err(if owners.is_empty() {
            format!(
                "{f}: unknown field `{f}` (`kind: {kind}` nodes take name, url, kind, promotable{})",
                engine.fields.iter().map(|f| format!(", {f}")).collect::<String>()
            )
        } else {
            format!("{f}: only for {} nodes", owners.join(" or "))
        });
    }
    if n.url.is_empty() {
        return Err("url: missing".into());
    }
    (engine.validate)(n)
}

/// Reads and checks a cluster file, each node by its engine.
pub fn load_inventory(path: &std::path::Path) -> Result<Inventory, InventoryError> {
    Inventory::load(path, validate_entry)
}

/// The kinds a cluster file lists, in registry order.
pub fn kinds_of(inv: &Inventory) -> Vec<&'static str> {
    ENGINES
        .iter()
        .filter(|e| inv.file.nodes.iter().any(|n| kind_of(n) == e.kind))
        .map(|e| e.kind)
        .collect()
}

/// Which engine a command acts on: `--kind`; else the only kind the file lists; else the kind
/// of the node the command names (a mixed file); else the default.
pub fn choose(
    explicit: Option<&str>,
    inv: Option<&Inventory>,
    named: Option<&str>,
) -> Result<&'static Registration, String> {
    if let Some(k) = explicit {
        return find(k);
    }
    let Some(inv) = inv else {
        return Ok(ENGINES[0]);
    };
    if let [only] = kinds_of(inv)[..] {
        return find(only);
    }
    let by_name = named.and_then(|name| inv.file.nodes.iter().find(|n| n.name == name));
    find(by_name.map(kind_of).unwrap_or(ENGINES[0].kind))
}

/// The engine whose lab is in `dir`, if there is one (each engine's lab leaves its own state
/// file).
pub fn lab_in(dir: &std::path::Path) -> Option<&'static Registration> {
    ENGINES
        .iter()
        .copied()
        .find(|e| e.lab.is_some_and(|l| l.is_in(dir)))
}

/// The drill runner of a kind whose labs are its own (None: the runbook's drnode lab).
pub fn drill_runner(kind: &str) -> Option<(DrillRun, DrillCheck)> {
    match kind {
        super::openldap::KIND => Some((
            super::openldap::drill::START,
            super::openldap::drill::validate,
        )),
        super::etcd::KIND => Some((super::etcd::drill::START, super::etcd::drill::validate)),
        super::ds389::KIND => Some((super::ds389::drill::START, super::ds389::drill::validate)),
        super::samba::KIND => Some((super::samba::drill::START, super::samba::drill::validate)),
        _ => None,
    }
}

/// Opens the cluster with the chosen engine.
pub async fn open(
    engine: &Registration,
    global: &Global,
    inv: Option<Inventory>,
) -> Result<Box<dyn Engine>, ProcError> {
    (engine.open)(global.clone(), inv).await
}
