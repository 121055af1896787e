//! Drills on a lab of real slapd (`drill: {kind: openldap}`), run by `runbook::drill_runner`:
//! faults (SIGKILL, SIGSTOP, restarts, acknowledged writes, another runbook), a write client
//! that follows the provider, then `expect:` (provider, converged data, no acknowledged write
//! lost; `drill_check.rs`). Skipped, saying why, where slapd is not installed.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::writes::{self as lw, Acks};
use crate::engine::Bound;
use crate::engines::openldap::lab::LdapLab;
use crate::engines::openldap::lab_up::{self as up, as_admin};
use crate::engines::openldap::{LdapCluster, LdapNode};
use crate::lab::{LabError, LabKind};
use crate::runbook::drill_hooks::DrillRun;
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::{fail, Checks};
use crate::runbook::drill_runner::{self, Acked, Batch, DrillLab, Writing};
use crate::runbook::front;
use crate::runbook::model::Compiler;
use crate::util::poll;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(30);

/// What an openldap drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "openldap", 2..=9, "slapd");
}

/// The drill as the registry hands it out.
pub(crate) const START: DrillRun = drill_runner::start::<LdapLab>;

impl Acked for Acks {
    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn retried(&self) -> Option<u64> {
        Some(self.retried.load(Ordering::Relaxed))
    }
}

impl DrillLab for LdapLab {
    type Group = LdapCluster;
    type Acks = Acks;
    const NODES: &'static str = "slapd";
    const DEADLINE: Duration = DEADLINE;
    const LAB: &'static LabKind = &super::lab_up::LAB;

    fn create(dir: &Path, nodes: u16) -> Result<LdapLab, LabError> {
        LdapLab::create(dir, nodes)
    }

    fn discard(self) -> Result<(), LabError> {
        self.down(false).map(drop)
    }

    async fn group(&mut self) -> Result<LdapCluster, LabError> {
        up::up(self, DEADLINE).await
    }

    fn bind(cl: &LdapCluster) -> Bound {
        front::bind(
            super::Openldap::of(cl, "drill"),
            &cl.name,
            "drill",
            cl.nodes.iter().map(|n| &n.url),
        )
    }

    fn write(cl: &LdapCluster, acks: &Arc<Acks>, b: Batch) -> Writing {
        let (nodes, acks) = (admins(cl), acks.clone());
        Box::pin(async move { lw::write(&nodes, &b.prefix, b.count, b.rate, DEADLINE, acks).await })
    }

    async fn look(d: &Drill, cl: &LdapCluster, acks: &Acks) -> (Checks, u64) {
        super::drill_check::look(d, cl, acks).await
    }

    /// Waits, after acknowledged writes, until every answering node holds the provider's data.
    async fn settle(cl: &LdapCluster, _: &Acks, after: &Inject) -> Result<(), LabError> {
        if !matches!(after, Inject::Writes(_)) {
            return Ok(());
        }
        poll::within(DEADLINE, Duration::from_millis(20), || async {
            let view = cl.probe().await;
            let p = view.provider();
            let fps: std::collections::HashSet<&str> = view
                .nodes
                .iter()
                .filter_map(|n| n.state.as_ref().ok().map(|s| s.fingerprint.as_str()))
                .collect();
            if p.is_some() && fps.len() == 1 {
                Break(())
            } else {
                Continue((p, fps.len()))
            }
        })
        .await
        .map_err(|(p, fps)| {
            fail(format!(
                "the lab did not converge within {} s (provider {p:?}, {fps} fingerprints)",
                DEADLINE.as_secs(),
            ))
        })
    }
}

fn admins(cl: &LdapCluster) -> Vec<LdapNode> {
    cl.nodes.iter().map(as_admin).collect()
}
