//! A write client for drills: puts keys `drill/<prefix>/<n>` through whichever member takes
//! them (a follower forwards to the leader), records each acknowledged key, and retries a key
//! refused or cut off by a leader change on the next member, until a deadline.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::client::Client;

pub(crate) const PREFIX: &str = "drill/";

/// What the writer got acknowledged.
#[derive(Debug, Default)]
pub(crate) struct Acks {
    pub(crate) count: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) keys: Mutex<BTreeSet<String>>,
}

/// Writes `count` keys (at `rate` per second if given) through `urls`, with `client` (the
/// cluster's: its TLS and credentials).
pub(crate) async fn write(
    client: &Client,
    urls: &[String],
    prefix: &str,
    count: u64,
    rate: Option<f64>,
    deadline: Duration,
    acks: &Acks,
) -> Result<(), String> {
    let started = Instant::now();
    let mut at = 0usize;
    for i in 0..count {
        if let Some(r) = rate {
            tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / r)).await;
        }
        let key = format!("{PREFIX}{prefix}/{i:06}");
        let until = Instant::now() + deadline;
        loop {
            let url = &urls[at % urls.len()];
            match client.put(url, &key, "v").await {
                Ok(_) => break,
                Err(e) if Instant::now() >= until => {
                    return Err(format!("{key} not acknowledged within {deadline:?}: {e}"))
                }
                Err(_) => {
                    acks.retried.fetch_add(1, Ordering::Relaxed);
                    at += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        acks.keys.lock().expect("acks lock").insert(key);
        acks.count.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}
