//! The skeleton engine: it compiles, registers, opens a cluster file of `kind: skeleton` nodes
//! and claims no verb, so every command is refused naming it and nothing changes. Copy this
//! folder to add an engine, then claim verbs one by one (`Engine` has a refusing default for
//! each), and add one line to `engines::registry`.

use serde::Deserialize;

use crate::engine::{Engine, Global, ProcError, Registration, Verb};
use crate::inventory::{Inventory, NodeEntry};

pub const KIND: &str = "skeleton";

pub const ENGINE: Registration = Registration {
    kind: KIND,
    summary: "an engine that claims no verb: the folder to copy when adding one",
    fields: &[],
    verbs: &[],
    own_runbooks: &[],
    validate,
    open: |_global: Global, inv: Option<Inventory>| {
        Box::pin(async move {
            let inv = inv.ok_or_else(|| {
                ProcError::usage("skeleton nodes are listed in a cluster file: give --cluster FILE")
            })?;
            Ok(Box::new(Skeleton {
                _cluster: inv.file.cluster,
            }) as Box<dyn Engine>)
        })
    },
    lab: None,
};

/// The node fields of this engine (none): unknown ones are errors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {}

fn validate(n: &NodeEntry) -> Result<(), String> {
    url::Url::parse(&n.url).map_err(|e| format!("url: '{}': {e}", n.url))?;
    n.settings::<Fields>()?;
    Ok(())
}

struct Skeleton {
    _cluster: String,
}

impl Engine for Skeleton {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn verbs(&self) -> &'static [Verb] {
        &[]
    }
}
