//! The paused-node part of `drctl lab bench`: what a node that is SIGSTOPped costs a command.
//! A stopped process keeps accepting connections (the kernel completes them) and answers
//! nothing, so each request to it runs until a timeout: drctl's connect timeout, once per
//! command (its clients do not ask a node again right after it let a request time out).
//!
//! Measured on the benchmark's own lab, last (it leaves it broken): `drctl status` with a
//! replica paused, on a new connection set each round, then one forced failover with the
//! primary killed and that replica still paused.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::bench_run::{command, primary_of};
use super::cluster::Target;
use super::lab::{self, DrnodeLab};
use super::Cluster;
use crate::engines::bench::{fail, Phase};
use crate::lab::{LabError, Sig};

/// What a paused replica cost.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Paused {
    /// The replica paused.
    pub(crate) node: String,
    /// Each `drctl status` (a new connection set each) with it paused, in milliseconds.
    pub(crate) status_ms: Vec<f64>,
    /// The forced failover beside it, command to verified.
    pub(crate) failover_ms: u64,
    pub(crate) failover_phases: Vec<Phase>,
}

/// Pauses a replica of the lab's primary; times `rounds` statuses, then kills the primary and
/// times `drctl failover`. The replica stays paused and the old primary dead: the caller tears
/// the lab down.
pub(crate) async fn paused(
    lab: &mut DrnodeLab,
    cl: &Cluster,
    targets: &[Target],
    rounds: usize,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Paused, LabError> {
    let primary = primary_of(cl).await?;
    let node = targets
        .iter()
        .map(|t| t.name.clone())
        .find(|n| *n != primary)
        .ok_or_else(|| fail("no replica to pause"))?;
    progress(&format!("a paused node: SIGSTOP of {node}"));
    lab.signal(&node, Sig::Stop)?;
    let mut status_ms = Vec::new();
    for _ in 0..rounds {
        let (cluster, targets) = lab::targets(&lab.dir)?;
        let fresh = Cluster::new(&cluster, &targets, "bench", Duration::from_secs(30));
        let started = Instant::now();
        let view = fresh.probe().await;
        status_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let silent = view.silent();
        if silent != [node.as_str()] {
            return Err(fail(format!(
                "with {node} paused, the nodes that did not answer were {silent:?}"
            )));
        }
    }
    progress(&format!(
        "a paused node: kill -9 of {primary}, failover beside {node}"
    ));
    lab.signal(&primary, Sig::Kill)?;
    let (failover_ms, failover_phases) = command(lab, "forced-failover", &[]).await?;
    Ok(Paused {
        node,
        status_ms,
        failover_ms,
        failover_phases,
    })
}
