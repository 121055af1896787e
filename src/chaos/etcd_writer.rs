//! The etcd chaos client: puts one key at a steady rate through the member that took the last
//! one (a follower forwards to the leader), the others in turn when it does not answer, and
//! logs each put etcd acknowledged with the member that answered and the store revision that
//! holds it. A put not acknowledged within its budget is abandoned: only acks are promised.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::engines::etcd::Client;

/// One acknowledged put.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EtcdAck {
    pub key: String,
    /// The member the put was sent to.
    pub node: String,
    /// The revision of the store that holds it, as the answer's header says.
    pub revision: u64,
    /// Milliseconds since the run started: when the put was sent, and when it was acked.
    pub sent_ms: u64,
    pub acked_ms: u64,
}

/// The prefix of every chaos key.
pub(crate) const PREFIX: &str = "chaos/";

fn key(i: u64) -> String {
    format!("{PREFIX}{i:07}")
}

/// Puts until `stop` is set; appends each ack to `log` (JSON lines) and to `acks`. `members`:
/// (name, client URL).
pub(crate) async fn run(
    members: Vec<(String, String)>,
    started: Instant,
    rate: f64,
    log: PathBuf,
    acks: Arc<Mutex<Vec<EtcdAck>>>,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let client = Client::new(Duration::from_millis(500));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut prefer, mut puts) = (0usize, 0u64);
    let since = |t: Instant| t.duration_since(started).as_millis() as u64;
    for i in 0u64.. {
        tick.tick().await;
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let k = key(i);
        let sent = Instant::now();
        let mut turn = 0usize;
        while sent.elapsed() < Duration::from_secs(2) && !stop.load(Ordering::SeqCst) {
            let at = (prefer + turn) % members.len();
            turn += 1;
            puts += 1;
            let (name, url) = &members[at];
            let put = tokio::time::timeout(Duration::from_millis(800), client.put(url, &k, "v"));
            let Ok(Ok(revision)) = put.await else {
                // Every member tried once: a leader election takes about a second.
                if turn % members.len() == 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            };
            prefer = at;
            let ack = EtcdAck {
                key: k,
                node: name.clone(),
                revision,
                sent_ms: since(sent),
                acked_ms: since(Instant::now()),
            };
            let line = serde_json::to_string(&ack).expect("acks serialize");
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot append to {}: {e}", log.display()))?;
            acks.lock().expect("acks lock").push(ack);
            break;
        }
    }
    Ok(puts)
}
