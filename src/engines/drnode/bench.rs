//! `drctl lab bench`: the recovery procedures' speed, measured on a fresh 3-node lab in one
//! run — switchover wall time and the write-unavailability window under a steady write load
//! (with zero acknowledged writes lost, checked), and forced failover from command to verified.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cluster::Target;
use super::lab::DrnodeLab;
use super::writer::{self, WriteOptions};
use crate::engine::{Plan, ProcError, RunOptions};
use crate::engines::drnode::{self, Cluster};
use crate::lab::{LabError, Sig};

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub nodes: u16,
    pub write_rate: f64,
    /// Wall time of each switchover, command to verified.
    pub switchover_ms: Vec<u64>,
    /// Longest a single write waited while switchovers ran: the unavailability window.
    pub write_unavailable_ms: u64,
    pub writes_acknowledged: u64,
    pub writes_lost: u64,
    /// Forced failover after kill -9 of the primary, command to verified.
    pub failover_ms: u64,
    /// Acknowledged writes per second on the primary, one client writing one key at a time.
    pub writes_per_s_1_client: f64,
    /// The same with 8 clients at once (group commit: one fsync for writes that arrive
    /// together, each still durable before its acknowledgement).
    pub writes_per_s_8_clients: f64,
}

/// Acknowledged writes per second to `t` with `clients` concurrent writers of `total` keys.
async fn throughput(t: &Target, clients: usize, total: usize, tag: &str) -> Result<f64, LabError> {
    let started = Instant::now();
    let per = total / clients;
    let tasks = (0..clients).map(|c| {
        let t = t.clone();
        let tag = tag.to_string();
        async move {
            for i in 0..per {
                t.client
                    .put_entry(&format!("throughput/{tag}/{c}/{i:06}"), "x")
                    .await
                    .map_err(|e| LabError::Failed(format!("throughput write: {e}")))?;
            }
            Ok::<_, LabError>(())
        }
    });
    for r in futures_util::future::join_all(tasks).await {
        r?;
    }
    Ok((per * clients) as f64 / started.elapsed().as_secs_f64())
}

fn no_confirm(_: &str) -> Result<bool, ProcError> {
    Ok(true)
}

async fn run_plan(cl: &Cluster, plan: Plan<drnode::Action>) -> Result<u64, LabError> {
    let opts = RunOptions {
        dry_run: false,
        break_lock: false,
        lock_ttl: Duration::from_secs(60),
        confirm: &no_confirm,
        progress: false,
    };
    let started = Instant::now();
    let report = crate::engine::execute(cl, plan, &opts).await;
    let ms = started.elapsed().as_millis() as u64;
    match report.error {
        None => Ok(ms),
        Some(e) => Err(LabError::Failed(format!(
            "{} {}: {e}",
            report.procedure, report.outcome
        ))),
    }
}

/// Runs the benchmark on a fresh lab in `dir` (removed afterwards).
pub async fn bench(
    dir: &std::path::Path,
    rounds: usize,
    write_rate: f64,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let nodes = 3u16;
    let mut lab = DrnodeLab::create(dir, nodes, None)?;
    let result = async {
        let (cluster, targets) = lab.form_cluster(Duration::from_secs(30)).await?;
        measure(&mut lab, &cluster, &targets, rounds, write_rate, progress).await
    }
    .await;
    let _ = lab.down(false);
    result
}

async fn measure(
    lab: &mut DrnodeLab,
    cluster: &str,
    targets: &[Target],
    rounds: usize,
    write_rate: f64,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let cl = Cluster::new(cluster, targets, "bench", Duration::from_secs(30));
    let acked_path = lab.dir.join("bench-acked.log");
    let opts = WriteOptions {
        // Enough writes to cover the switchovers with a second of margin on each side.
        count: (write_rate * (2.0 + rounds as f64 * 1.0)) as u64,
        rate: Some(write_rate),
        acked_log: Some(acked_path.clone()),
        prefix: "bench".into(),
        write_timeout: Duration::from_secs(10),
    };
    let (wc, wt) = (cluster.to_string(), targets.to_vec());
    let writer = tokio::spawn(async move { writer::run(&wc, &wt, &opts, |_| {}).await });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut switchover_ms = Vec::new();
    for round in 0..rounds {
        let view = cl.probe().await;
        let current = view
            .primary()
            .map(|p| p.name.clone())
            .ok_or_else(|| LabError::Failed("no primary".into()))?;
        let to = targets
            .iter()
            .map(|t| t.name.clone())
            .cycle()
            .skip_while(|n| *n != current)
            .nth(1)
            .expect("a next node");
        progress(&format!(
            "switchover {} of {rounds}: {current} -> {to}",
            round + 1
        ));
        let started = Instant::now();
        let view = cl.probe().await;
        let plan = drnode::switchover(&cl, &view, &to)
            .await
            .map_err(|e| LabError::Failed(e.to_string()))?;
        run_plan(&cl, plan).await?;
        switchover_ms.push(started.elapsed().as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let report = writer.await.map_err(|e| LabError::Failed(e.to_string()))?;
    if let Some(e) = &report.error {
        return Err(LabError::Failed(format!("the writer failed: {e}")));
    }
    // Every acknowledged write is on the final primary.
    let view = cl.probe().await;
    let primary = view
        .primary()
        .ok_or_else(|| LabError::Failed("no primary after the switchovers".into()))?;
    let present: HashSet<String> = cl
        .target(&primary.name)
        .map_err(|e| LabError::Failed(e.to_string()))?
        .client
        .list_entries(Some("bench/"))
        .await
        .map_err(|e| LabError::Failed(e.to_string()))?
        .into_iter()
        .map(|e| e.key)
        .collect();
    let acked = std::fs::read_to_string(&acked_path).unwrap_or_default();
    let (total, missing) = writer::missing_keys(&acked, &present);

    progress("write throughput, 1 and 8 clients");
    let pt = cl
        .target(&primary.name)
        .map_err(|e| LabError::Failed(e.to_string()))?;
    let writes_per_s_1_client = throughput(pt, 1, 1000, "one").await?;
    let writes_per_s_8_clients = throughput(pt, 8, 4000, "eight").await?;

    progress("failover after kill -9 of the primary");
    let dead = primary.name.clone();
    lab.signal(&dead, Sig::Kill)?;
    let started = Instant::now();
    let view = cl.probe().await;
    let plan = drnode::failover(&cl, &view, None, false, &lab.dir)
        .await
        .map_err(|e| LabError::Failed(e.to_string()))?;
    run_plan(&cl, plan).await?;
    let failover_ms = started.elapsed().as_millis() as u64;
    Ok(BenchReport {
        nodes: targets.len() as u16,
        write_rate,
        switchover_ms,
        write_unavailable_ms: report.max_write_ms,
        writes_acknowledged: total,
        writes_lost: missing.len() as u64,
        failover_ms,
        writes_per_s_1_client,
        writes_per_s_8_clients,
    })
}
