//! A runbook step's plan, and what it outputs for later steps.

use std::collections::BTreeMap;

use super::action::RunbookAction as R;
use crate::engine::{Plan, Step};

/// A step's plan, and what it outputs for later steps.
pub(crate) struct Expansion {
    pub plan: Plan<R>,
    pub outputs: BTreeMap<String, String>,
}

pub(crate) fn one(name: &str, action: R) -> Plan<R> {
    let mut p = Plan::new(name);
    p.step(Step::new(action));
    p
}
