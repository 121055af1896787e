//! The chaos write client: one write at a steady rate, to whichever node answers (replicas
//! forward to the primary), each acknowledgement logged with the node, epoch and seq that
//! committed it. A write not acknowledged within its budget is abandoned: only acks are promised.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::engines::drnode::cluster::Target;

/// A run's acknowledged-write log (JSON lines): each ack is flushed before it is counted.
pub(crate) struct AckLog {
    file: std::fs::File,
    path: PathBuf,
}

impl AckLog {
    pub(crate) fn open(path: PathBuf) -> Result<AckLog, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok(AckLog { file, path })
    }

    pub(crate) fn append(&mut self, ack: &impl Serialize) -> Result<(), String> {
        use std::io::Write;
        let line = serde_json::to_string(ack).expect("acks serialize");
        writeln!(self.file, "{line}")
            .and_then(|_| self.file.flush())
            .map_err(|e| format!("cannot append to {}: {e}", self.path.display()))
    }
}

/// One acknowledged write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ack {
    pub key: String,
    pub value: String,
    pub node: String,
    pub epoch: u64,
    pub seq: u64,
    /// Milliseconds since the run started: when the write was sent, and when it was acked.
    pub sent_ms: u64,
    pub acked_ms: u64,
    /// Acked by a standalone node (outside the cluster's log).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub standalone: bool,
}

pub(crate) const PREFIX: &str = "chaos";

/// Writes until `stop` is set; appends each ack to `log` (JSON lines) and to `acks`.
pub(crate) async fn run(
    targets: Vec<Target>,
    started: Instant,
    rate: f64,
    log: PathBuf,
    acks: Arc<Mutex<Vec<Ack>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<u64, String> {
    let mut file = AckLog::open(log)?;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut next_at = tokio::time::Instant::now();
    let mut prefer = 0usize;
    let mut attempts = 0u64;
    for i in 0u64.. {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep_until(next_at).await;
        next_at += interval;
        let key = format!("{PREFIX}/{i:07}");
        let value = format!("v{i}");
        let sent = started.elapsed().as_millis() as u64;
        let budget = Instant::now() + Duration::from_secs(2);
        // Try the node that last acked first, then the others in turn, until the budget ends.
        'write: while Instant::now() < budget {
            for k in 0..targets.len() {
                let idx = (prefer + k) % targets.len();
                attempts += 1;
                // A client uses the cluster: a standalone node is outside it, and what it
                // takes is overwritten when it joins again.
                if k > 0 || i == 0 {
                    let st = tokio::time::timeout(
                        Duration::from_millis(500),
                        targets[idx].client.status(),
                    )
                    .await;
                    if !matches!(st, Ok(Ok(ref s)) if s.role != crate::api::Role::Standalone) {
                        continue;
                    }
                }
                let put = tokio::time::timeout(
                    Duration::from_millis(800),
                    targets[idx].client.put_entry(&key, &value),
                )
                .await;
                if let Ok(Ok(ack)) = put {
                    // Next time straight to the node that committed it (a replica forwards).
                    prefer = targets
                        .iter()
                        .position(|t| t.name == ack.node)
                        .unwrap_or(idx);
                    let a = Ack {
                        key: key.clone(),
                        value: value.clone(),
                        node: ack.node,
                        epoch: ack.epoch,
                        seq: ack.seq,
                        sent_ms: sent,
                        acked_ms: started.elapsed().as_millis() as u64,
                        standalone: ack.standalone,
                    };
                    file.append(&a)?;
                    acks.lock().expect("acks lock").push(a);
                    break 'write;
                }
                if Instant::now() >= budget || stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break 'write;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(attempts)
}

/// The local client: an application on a node's own host that writes to that node while it is
/// standalone, and to no other. Out of the cluster, a standalone node takes writes alone (the
/// M-Vault "unpropagated updates"); the join that brings it back must export them first (chaos
/// seed 1012), and the checker holds each of them to that as to any acknowledged write. Keys
/// `chaos/local-…`, one write per standalone node per tick, each ack in `log` and `acks`.
pub(crate) async fn run_local(
    targets: Vec<Target>,
    started: Instant,
    rate: f64,
    log: PathBuf,
    acks: Arc<Mutex<Vec<Ack>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<u64, String> {
    let mut file = AckLog::open(log)?;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut next_at = tokio::time::Instant::now();
    let mut i = 0u64;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::time::sleep_until(next_at).await;
        next_at += interval;
        let roles = futures_util::future::join_all(
            targets
                .iter()
                .map(|t| tokio::time::timeout(Duration::from_millis(300), t.client.status())),
        )
        .await;
        for (t, st) in targets.iter().zip(roles) {
            if !matches!(st, Ok(Ok(ref s)) if s.role == crate::api::Role::Standalone) {
                continue;
            }
            let key = format!("{PREFIX}/local-{i:07}");
            let value = format!("l{i}");
            i += 1;
            let sent = started.elapsed().as_millis() as u64;
            let put =
                tokio::time::timeout(Duration::from_millis(800), t.client.put_entry(&key, &value))
                    .await;
            if let Ok(Ok(ack)) = put {
                let a = Ack {
                    key,
                    value,
                    node: ack.node,
                    epoch: ack.epoch,
                    seq: ack.seq,
                    sent_ms: sent,
                    acked_ms: started.elapsed().as_millis() as u64,
                    standalone: ack.standalone,
                };
                file.append(&a)?;
                acks.lock().expect("acks lock").push(a);
            }
        }
    }
    Ok(i)
}
