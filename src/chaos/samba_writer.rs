//! The Samba AD chaos client: adds one user at a steady rate through the DC that took the last
//! (every DC takes writes; one that refuses, times out or is gone hands the user to the next in
//! turn), and logs each add a DC acknowledged with the DC that acknowledged it. An add not
//! acknowledged within its budget is abandoned: only acknowledged adds are promised.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::writer::AckLog;

use crate::engines::samba::writes;
use crate::engines::samba::DcNode;

/// What every chaos user is named after (a sAMAccountName too: at most 20 characters).
pub(crate) const PREFIX: &str = "chaos-";

/// One acknowledged add.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SambaAck {
    /// The user's CN (`chaos-0000042`).
    pub cn: String,
    /// The DC that acknowledged it.
    pub node: String,
    /// Milliseconds since the run started: when the add was sent, and when it was acked.
    pub sent_ms: u64,
    pub acked_ms: u64,
}

/// Adds users until `stop` is set; appends each ack to `log` (JSON lines) and to `acks`.
pub(crate) async fn run(
    dcs: Vec<DcNode>,
    started: Instant,
    rate: f64,
    log: PathBuf,
    acks: Arc<Mutex<Vec<SambaAck>>>,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let mut file = AckLog::open(log)?;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut next_at = tokio::time::Instant::now();
    let mut prefer = 0usize;
    let mut attempts = 0u64;
    for i in 0u64.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep_until(next_at).await;
        // A hung DC costs an attempt's timeout: the rate is a target, not a promise.
        next_at = next_at.max(tokio::time::Instant::now()) + interval;
        let cn = format!("{PREFIX}{i:07}");
        let sent = started.elapsed().as_millis() as u64;
        let budget = Instant::now() + Duration::from_secs(4);
        let mut tried = false;
        'add: while Instant::now() < budget && !stop.load(Ordering::SeqCst) {
            for k in 0..dcs.len() {
                let idx = (prefer + k) % dcs.len();
                attempts += 1;
                if writes::add(&dcs[idx], &cn, tried).await.is_ok() {
                    prefer = idx;
                    let a = SambaAck {
                        cn: cn.clone(),
                        node: dcs[idx].name.clone(),
                        sent_ms: sent,
                        acked_ms: started.elapsed().as_millis() as u64,
                    };
                    file.append(&a)?;
                    acks.lock().expect("acks lock").push(a);
                    break 'add;
                }
                tried = true;
                if Instant::now() >= budget {
                    break 'add;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(attempts)
}
