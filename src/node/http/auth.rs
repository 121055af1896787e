//! Refused calls (wrong or missing passphrase), recorded without letting an unauthenticated
//! caller grow `node.db` at will: one `auth_failed` event per source address per minute, whose
//! count is brought up to date at most once a second. 4,000 bad requests once added 69 MB.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::node::nodedb::NewEvent;
use crate::node::Node;

/// One event per source for this long.
const WINDOW: Duration = Duration::from_secs(60);
/// An event's count is rewritten at most this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Sources tracked at once; failures from any further source share one event.
const MAX_SOURCES: usize = 1024;
/// The longest path kept in an event.
const MAX_PATH: usize = 200;

/// The open event of one source.
struct Window {
    opened: Instant,
    event_id: u64,
    first_ts: String,
    count: u64,
    last: String,
    flush_scheduled: bool,
}

#[derive(Default)]
pub(crate) struct AuthFailures {
    sources: Mutex<BTreeMap<Option<IpAddr>, Window>>,
}

fn describe(count: u64, source: Option<IpAddr>, last: &str) -> String {
    let from = source.map_or("further sources".to_string(), |ip| ip.to_string());
    format!("refused {count} call(s) from {from}: wrong or missing passphrase (last: {last})")
}

fn details(source: Option<IpAddr>, w: &Window) -> serde_json::Value {
    serde_json::json!({
        "peer": source.map(|ip| ip.to_string()),
        "count": w.count,
        "first": w.first_ts,
        "last": w.last,
    })
}

/// Records a refused call from `peer`.
pub(crate) fn refused(node: &Arc<Node>, peer: SocketAddr, method: &str, path: &str) {
    node.metrics.auth_refused();
    let path: String = path.chars().take(MAX_PATH).collect();
    let last = format!("{method} {path} from {peer}");
    let mut sources = node.auth_failures.sources.lock().expect("auth lock");
    let mut key = Some(peer.ip());
    if !sources.contains_key(&key) && sources.len() >= MAX_SOURCES {
        // Forget closed windows first; only then share the overflow event.
        sources.retain(|_, w| w.opened.elapsed() < WINDOW);
        if sources.len() >= MAX_SOURCES {
            key = None;
        }
    }
    if let Some(w) = sources
        .get_mut(&key)
        .filter(|w| w.opened.elapsed() < WINDOW)
    {
        w.count += 1;
        w.last = last;
        if !w.flush_scheduled {
            w.flush_scheduled = true;
            let node = node.clone();
            tokio::spawn(async move {
                tokio::time::sleep(FLUSH_EVERY).await;
                flush(&node, key);
            });
        }
        return;
    }
    let count = 1;
    let event = NewEvent::new("auth_failed", describe(count, key, &last)).success(false);
    let mut w = Window {
        opened: Instant::now(),
        event_id: 0,
        first_ts: crate::util::clock::now_rfc3339(),
        count,
        last,
        flush_scheduled: false,
    };
    match node.db.record(event.details(details(key, &w))) {
        Ok(id) => {
            w.event_id = id;
            sources.insert(key, w);
        }
        Err(err) => tracing::error!(%err, "cannot record a refused call"),
    }
}

/// Writes a source's current count into its event.
fn flush(node: &Node, key: Option<IpAddr>) {
    let mut sources = node.auth_failures.sources.lock().expect("auth lock");
    let Some(w) = sources.get_mut(&key) else {
        return;
    };
    w.flush_scheduled = false;
    if let Err(err) = node.db.update_event(
        w.event_id,
        &describe(w.count, key, &w.last),
        &details(key, w),
    ) {
        tracing::error!(%err, "cannot update a refused-calls event");
    }
}
