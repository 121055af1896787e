//! How an engine registers itself: its kind, its own node fields, its verbs, how to check a
//! node entry and how to open a cluster. `engines::registry` lists one of these per engine.

use futures_util::future::BoxFuture;

use super::{Engine, Global, ProcError, Verb};
use crate::inventory::{Inventory, NodeEntry};
use crate::lab::LabKind;

/// Opens a cluster of this engine from the command line and the cluster file (if any).
pub(crate) type Open =
    fn(Global, Option<Inventory>) -> BoxFuture<'static, Result<Box<dyn Engine>, ProcError>>;

pub struct Registration {
    /// As the cluster file's `kind:` spells it.
    pub kind: &'static str,
    /// One line for `--help` and errors.
    pub summary: &'static str,
    /// The node fields of this engine beyond `name`, `url`, `kind`, `promotable`.
    pub fields: &'static [&'static str],
    pub verbs: &'static [Verb],
    /// Verbs it performs with a bundled runbook of its own instead of the one every engine
    /// shares (Samba AD's `repoint` points clients, not replicas): the conformance rule asks
    /// for its drill in that runbook.
    pub own_runbooks: &'static [(Verb, &'static str)],
    /// Checks a node entry of this kind; the error starts with the field it is about.
    pub validate: fn(&NodeEntry) -> Result<(), String>,
    pub open: Open,
    /// Its local lab (`drctl lab up --kind K`, its drills and chaos), if it has one.
    pub lab: Option<&'static LabKind>,
}

impl Registration {
    pub fn supports(&self, verb: Verb) -> bool {
        self.verbs.contains(&verb)
    }
}
