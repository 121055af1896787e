//! `drctl lab bench --kind etcd`: move-leader timed on a fresh 3-member lab, through drctl
//! (the bundled `managed-switchover`: probe, checks, move-leader to the leader, verification)
//! and by hand with etcdctl, the sequence an operator scripts (`endpoint status -w json` to find
//! the leader and the ids, `move-leader` against the leader, `endpoint status` until the target
//! leads), each command to verified; and the ratio of the medians.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::lab::EtcdLab;
use super::EtcdCluster;
pub(crate) use crate::engines::bench::median;
use crate::engines::drnode::Cluster;
use crate::lab::LabError;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchReport {
    pub(crate) nodes: u16,
    /// `drctl switchover`, command to verified, each round.
    pub(crate) drctl_switchover_ms: Vec<u64>,
    /// etcdctl by hand, command to the new leader seen, each round (empty without etcdctl).
    pub(crate) etcdctl_switchover_ms: Vec<u64>,
    /// Median drctl / median etcdctl.
    pub(crate) ratio: Option<f64>,
}

fn fail(e: impl std::fmt::Display) -> LabError {
    LabError::Failed(e.to_string())
}

/// Runs the bench in a fresh lab in `dir`, removed afterwards.
pub(crate) async fn bench(
    dir: &Path,
    rounds: usize,
    say: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let mut lab = EtcdLab::create(dir, 3)?;
    let r = run(&mut lab, rounds, say).await;
    let _ = lab.discard();
    r
}

async fn run(
    lab: &mut EtcdLab,
    rounds: usize,
    say: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let cl = lab.up(Duration::from_secs(30)).await?;
    say(&format!(
        "{} etcd members up in {}",
        lab.nodes.len(),
        lab.dir.display()
    ));
    let http = super::client::plain_http().map_err(fail)?;
    let mut settings = crate::runbook::unattended(http, &lab.dir);
    settings.step_timeout = Duration::from_secs(30);
    settings.engine = Some(Arc::new(super::Etcd::of(&cl, "bench")));
    let mut drctl = Vec::new();
    let mut by_hand = Vec::new();
    let etcdctl = which("etcdctl");
    for i in 0..rounds {
        let to = follower(&cl).await?;
        let vars = BTreeMap::from([("to".to_string(), to.clone())]);
        let t0 = Instant::now();
        let run_cl = Cluster::new(&cl.name, &[], "bench", Duration::from_secs(30));
        let r = crate::runbook::run_bundled("managed-switchover", &vars, run_cl, &settings)
            .await
            .map_err(fail)?;
        if !r.ok() {
            return Err(fail(format!(
                "switchover to {to}: {}",
                r.error.unwrap_or_default()
            )));
        }
        drctl.push(t0.elapsed().as_millis() as u64);
        if etcdctl {
            by_hand.push(move_leader_by_hand(&cl).await?);
        }
        say(&format!(
            "round {}: drctl {} ms, etcdctl {}",
            i + 1,
            drctl[i],
            by_hand
                .get(i)
                .map_or("-".to_string(), |m| format!("{m} ms"))
        ));
    }
    let ratio =
        (!by_hand.is_empty()).then(|| median(&drctl) as f64 / median(&by_hand).max(1) as f64);
    Ok(BenchReport {
        nodes: lab.nodes.len() as u16,
        drctl_switchover_ms: drctl,
        etcdctl_switchover_ms: by_hand,
        ratio,
    })
}

pub(super) fn which(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// A voting follower that answers (the target of the next move).
async fn follower(cl: &EtcdCluster) -> Result<String, LabError> {
    let view = cl.probe().await;
    let a = view.assess();
    view.nodes
        .iter()
        .zip(&a.nodes)
        .find(|(_, na)| na.role == Some(super::assess::Role::Follower))
        .map(|(n, _)| n.name.clone())
        .ok_or_else(|| fail("no follower answers"))
}

/// `etcdctl endpoint status -w json` of every member: (endpoint, member id, leader id).
fn endpoint_status(eps: &str) -> Result<Vec<(String, u64, u64)>, LabError> {
    let out = Command::new("etcdctl")
        .args(["--endpoints", eps, "endpoint", "status", "-w", "json"])
        .output()
        .map_err(fail)?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(fail)?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let s = &e["Status"];
            (
                e["Endpoint"].as_str().unwrap_or_default().to_string(),
                s["header"]["member_id"].as_u64().unwrap_or_default(),
                s["leader"].as_u64().unwrap_or_default(),
            )
        })
        .collect())
}

/// The by-hand sequence: find the leader and a follower's id, move-leader against the leader,
/// poll until the follower leads. Milliseconds, command to verified.
async fn move_leader_by_hand(cl: &EtcdCluster) -> Result<u64, LabError> {
    let eps = cl
        .nodes
        .iter()
        .map(|n| n.url.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let t0 = Instant::now();
    let st = endpoint_status(&eps)?;
    let leader = st
        .iter()
        .find(|s| s.1 == s.2)
        .ok_or_else(|| fail("no leader"))?;
    let target = st
        .iter()
        .find(|s| s.1 != s.2)
        .ok_or_else(|| fail("no follower"))?;
    let out = Command::new("etcdctl")
        .args([
            "--endpoints",
            &leader.0,
            "move-leader",
            &format!("{:x}", target.1),
        ])
        .output()
        .map_err(fail)?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr)));
    }
    loop {
        if endpoint_status(&eps)?.iter().all(|s| s.2 == target.1) {
            return Ok(t0.elapsed().as_millis() as u64);
        }
        if t0.elapsed() > Duration::from_secs(30) {
            return Err(fail(
                "etcdctl move-leader: the target did not lead within 30 s",
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
