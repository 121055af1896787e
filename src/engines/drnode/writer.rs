//! The write checker: writes N entries through the cluster, retrying through failovers, and
//! appends each acknowledged key to a log. Later checks prove no acknowledged write was lost.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engines::drnode::cluster::{probe, Target};
use crate::util::poll;

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub count: u64,
    pub rate: Option<f64>,
    pub acked_log: Option<PathBuf>,
    pub prefix: String,
    pub write_timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct WriteReport {
    pub prefix: String,
    pub requested: u64,
    pub acknowledged: u64,
    pub retries: u64,
    pub elapsed_ms: u64,
    /// The longest a single write waited for its acknowledgement: the unavailability window.
    pub max_write_ms: u64,
    pub error: Option<String>,
}

async fn pick(cluster: &str, targets: &[Target]) -> Option<Target> {
    let view = probe(cluster, targets).await;
    let name = view
        .primary()
        .or_else(|| view.nodes.iter().find(|n| n.ok().is_some()))
        .map(|n| n.name.clone())?;
    targets.iter().find(|t| t.name == name).cloned()
}

pub async fn run(
    cluster: &str,
    targets: &[Target],
    opts: &WriteOptions,
    on_ack: impl Fn(u64),
) -> WriteReport {
    let started = Instant::now();
    let mut report = WriteReport {
        prefix: opts.prefix.clone(),
        requested: opts.count,
        acknowledged: 0,
        retries: 0,
        elapsed_ms: 0,
        max_write_ms: 0,
        error: None,
    };
    let mut log = match &opts.acked_log {
        Some(p) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Some(f),
            Err(e) => {
                report.error = Some(format!("cannot open {}: {e}", p.display()));
                return report;
            }
        },
        None => None,
    };
    let interval = opts
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(1.0 / r));
    let mut next_at = tokio::time::Instant::now();
    let mut target: Option<Target> = None;
    for i in 0..opts.count {
        if let Some(iv) = interval {
            tokio::time::sleep_until(next_at).await;
            next_at += iv;
        }
        let key = format!("{}/{i:07}", opts.prefix);
        let value = format!("{i}");
        let write_started = Instant::now();
        let wait = poll::Deadline::eager(opts.write_timeout, Duration::from_millis(10));
        loop {
            if target.is_none() {
                target = pick(cluster, targets).await;
            }
            let result = match &target {
                Some(t) => t
                    .client
                    .put_entry(&key, &value)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("no node answered".to_string()),
            };
            match result {
                Ok(_) => break,
                Err(e) => {
                    report.retries += 1;
                    target = None;
                    if !wait.again().await {
                        report.error = Some(format!(
                            "write {key} not acknowledged within {} ms: {e}",
                            opts.write_timeout.as_millis()
                        ));
                        report.elapsed_ms = started.elapsed().as_millis() as u64;
                        return report;
                    }
                }
            }
        }
        report.max_write_ms = report
            .max_write_ms
            .max(write_started.elapsed().as_millis() as u64);
        if let Some(f) = log.as_mut() {
            // One write of the whole line: writers beside each other append to the same log.
            if let Err(e) = f.write_all(format!("{key}\n").as_bytes()) {
                report.error = Some(format!("cannot append to the acked log: {e}"));
                break;
            }
        }
        report.acknowledged += 1;
        on_ack(report.acknowledged);
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// `opts.count` writes as `clients` writers at once (no rate: as fast as they are
/// acknowledged), writer `c` under the prefix `PREFIX/c`, all appending to the one acked log;
/// their reports as one (the first error, the longest wait, wall time).
pub async fn run_beside(
    cluster: &str,
    targets: &[Target],
    opts: &WriteOptions,
    clients: u64,
) -> WriteReport {
    let started = Instant::now();
    let clients = clients.clamp(1, opts.count.max(1));
    let writers = (0..clients).map(|c| {
        let mut o = opts.clone();
        o.count = opts.count / clients + u64::from(c < opts.count % clients);
        o.prefix = format!("{}/{c}", opts.prefix);
        o.rate = None;
        async move { run(cluster, targets, &o, |_| {}).await }
    });
    let reports = futures_util::future::join_all(writers).await;
    WriteReport {
        prefix: opts.prefix.clone(),
        requested: opts.count,
        acknowledged: reports.iter().map(|r| r.acknowledged).sum(),
        retries: reports.iter().map(|r| r.retries).sum(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        max_write_ms: reports.iter().map(|r| r.max_write_ms).max().unwrap_or(0),
        error: reports.into_iter().find_map(|r| r.error),
    }
}

/// Keys of an acked log that `present` does not hold.
pub fn missing_keys(
    acked: &str,
    present: &std::collections::HashSet<String>,
) -> (u64, Vec<String>) {
    let mut total = 0;
    let mut missing = Vec::new();
    for key in acked.lines().map(str::trim).filter(|l| !l.is_empty()) {
        total += 1;
        if !present.contains(key) {
            missing.push(key.to_string());
        }
    }
    (total, missing)
}
