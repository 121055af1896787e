//! drnode's Prometheus metrics (`GET /metrics`), encoded by `prometheus-client` in the
//! OpenMetrics text format. Counters and latency histograms are updated as requests are served;
//! the gauges (role, epoch, positions, lag, sync, members, lock) are read from the node at each
//! scrape, so they never go stale between two events.

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::error::ApiError;
use super::Node;
use crate::api::{MemberState, Role, WriteAck};

/// What a Prometheus scraper is told the body is.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const ROLES: [Role; 4] = [Role::Standalone, Role::Primary, Role::Replica, Role::Fenced];
/// Every phase `SyncState::phase` takes, so a state-set gauge shows each one, 0 or 1.
const SYNC_PHASES: [&str; 8] = [
    "idle",
    "partial",
    "full",
    "diverged",
    "failing",
    "removed",
    "off",
    "suspended",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    name: String,
    cluster: String,
    host_id: String,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabels {
    role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberLabels {
    member: String,
    host_id: String,
    state: String,
}

/// How a write sent to this node ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub(crate) enum WriteOutcome {
    /// Committed here (primary or standalone).
    committed,
    /// Forwarded by this replica to its primary, which committed it.
    forwarded,
    /// Refused by the write path (draining, fenced, maintenance, no primary ...).
    refused,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    op: &'static str,
    outcome: WriteOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    /// The route's template (`/v1/entries/*key`), never the raw path: bounded cardinality.
    route: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to ~8 s: a local write, a long-polled log request (2 s by default), a snapshot.
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

pub(crate) struct Metrics {
    registry: Registry,
    /// One scrape at a time: the member gauges are cleared and refilled before encoding.
    scrape: Mutex<()>,
    writes: Family<WriteLabels, Counter>,
    repl_requests: Family<ReplLabels, Counter>,
    auth_refused: Counter,
    latency: LatencyFamily,
    role: Family<RoleLabels, Gauge>,
    epoch: Gauge,
    head_seq: Gauge,
    applied_seq: Gauge,
    primary_head_seq: Gauge,
    lag: Gauge,
    sync_auto: Gauge,
    sync_phase: Family<PhaseLabels, Gauge>,
    sync_failures: Gauge,
    members: Family<MemberLabels, Gauge>,
    lock_held: Gauge,
    lock_expires: Gauge<f64, std::sync::atomic::AtomicU64>,
    draining: Gauge,
}

impl Metrics {
    pub(crate) fn new(name: &str, cluster: &str, host_id: &str) -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("drnode"),
            scrape: Mutex::new(()),
            writes: Family::default(),
            repl_requests: Family::default(),
            auth_refused: Counter::default(),
            latency: Family::new_with_constructor(latency_histogram),
            role: Family::default(),
            epoch: Gauge::default(),
            head_seq: Gauge::default(),
            applied_seq: Gauge::default(),
            primary_head_seq: Gauge::default(),
            lag: Gauge::default(),
            sync_auto: Gauge::default(),
            sync_phase: Family::default(),
            sync_failures: Gauge::default(),
            members: Family::default(),
            lock_held: Gauge::default(),
            lock_expires: Gauge::default(),
            draining: Gauge::default(),
        };
        let r = &mut m.registry;
        r.register(
            "node",
            "This node: name, cluster, host id and drnode version",
            Info::new(InfoLabels {
                name: name.to_string(),
                cluster: cluster.to_string(),
                host_id: host_id.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            }),
        );
        r.register(
            "role",
            "The node's role: 1 for the role it has, 0 for the others",
            m.role.clone(),
        );
        r.register(
            "epoch",
            "The highest cluster epoch this node has seen",
            m.epoch.clone(),
        );
        r.register(
            "head_seq",
            "Sequence number of the last record in this node's log",
            m.head_seq.clone(),
        );
        r.register(
            "applied_seq",
            "Sequence number of the last record applied to this node's store",
            m.applied_seq.clone(),
        );
        r.register(
            "primary_head_seq",
            "A replica's last known head of its primary (0 on a primary or standalone node)",
            m.primary_head_seq.clone(),
        );
        r.register(
            "replication_lag_records",
            "Records this replica is behind its primary, as of its last pull (0 on a primary)",
            m.lag.clone(),
        );
        r.register(
            "sync_auto",
            "Automatic sync as the operator set it: 1 on, 0 off",
            m.sync_auto.clone(),
        );
        r.register(
            "sync_phase",
            "What the replication loop is doing: 1 for the current phase, 0 for the others",
            m.sync_phase.clone(),
        );
        r.register(
            "sync_failures",
            "Consecutive failed sync attempts (automatic sync suspends itself at sync.max_failures)",
            m.sync_failures.clone(),
        );
        r.register(
            "member",
            "Members of the replicated member list, one series per member labelled with its state",
            m.members.clone(),
        );
        r.register(
            "lock_held",
            "1 while the cluster lock is held on this node",
            m.lock_held.clone(),
        );
        r.register(
            "lock_expires_seconds",
            "Seconds until the held cluster lock expires (0 when not held)",
            m.lock_expires.clone(),
        );
        r.register(
            "draining",
            "1 while this node refuses writes (a switchover's drain, or a new primary checking its peers)",
            m.draining.clone(),
        );
        r.register(
            "writes",
            "Writes of entries sent to this node, by operation and outcome",
            m.writes.clone(),
        );
        r.register(
            "replication_requests",
            "Replication requests this node answered (log pulls, terms, snapshots)",
            m.repl_requests.clone(),
        );
        r.register(
            "auth_refused",
            "Calls refused for a wrong or missing credential",
            m.auth_refused.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an admin API request, by method and route",
            m.latency.clone(),
        );
        m
    }

    /// Records a served request: its latency, and a replication request by kind.
    pub(crate) fn request(&self, method: &str, route: &str, took: Duration) {
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
        if let Some(kind) = route.strip_prefix("/v1/repl/") {
            self.repl_requests
                .get_or_create(&ReplLabels {
                    kind: kind.to_string(),
                })
                .inc();
        }
    }

    /// Records a write of an entry sent to this node named `me`.
    pub(crate) fn write(&self, op: &'static str, me: &str, result: &Result<WriteAck, ApiError>) {
        let outcome = match result {
            Ok(ack) if ack.node == me => WriteOutcome::committed,
            Ok(_) => WriteOutcome::forwarded,
            Err(_) => WriteOutcome::refused,
        };
        self.writes
            .get_or_create(&WriteLabels { op, outcome })
            .inc();
    }

    pub(crate) fn auth_refused(&self) {
        self.auth_refused.inc();
    }
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Node {
    /// Reads the node into the gauges and encodes every metric.
    pub(crate) fn scrape(&self) -> Result<String, ApiError> {
        let m = &self.metrics;
        let _one = m.scrape.lock().expect("scrape lock");
        let st = self.state();
        let head = self.store.head();
        let sync = self.sync.lock().expect("sync lock").clone();
        for role in ROLES {
            m.role
                .get_or_create(&RoleLabels {
                    role: role.to_string(),
                })
                .set(i64::from(st.role == role));
        }
        m.epoch.set(int(st.epoch));
        m.head_seq.set(int(head.seq));
        // drnode applies a record as it appends it: the applied position is the head.
        m.applied_seq.set(int(head.seq));
        let (primary_head, lag) = match st.role {
            Role::Replica => {
                let p = self.primary_head.load(Ordering::Relaxed);
                (p, p.saturating_sub(head.seq))
            }
            _ => (0, 0),
        };
        m.primary_head_seq.set(int(primary_head));
        m.lag.set(int(lag));
        m.sync_auto.set(i64::from(sync.auto));
        for phase in SYNC_PHASES {
            m.sync_phase
                .get_or_create(&PhaseLabels {
                    phase: phase.to_string(),
                })
                .set(i64::from(sync.phase == phase));
        }
        m.sync_failures.set(i64::from(sync.failures));
        m.members.clear();
        for member in self.members()? {
            let state = match member.state {
                MemberState::Joining => "joining",
                MemberState::Normal => "normal",
                MemberState::Leaving => "leaving",
                MemberState::Removed => "removed",
            };
            m.members
                .get_or_create(&MemberLabels {
                    member: member.name,
                    host_id: member.host_id,
                    state: state.to_string(),
                })
                .set(1);
        }
        let expires = self
            .lock
            .lock()
            .expect("lock lock")
            .as_ref()
            .map(|l| l.expires.saturating_duration_since(Instant::now()))
            .filter(|left| !left.is_zero());
        m.lock_held.set(i64::from(expires.is_some()));
        m.lock_expires
            .set(expires.map_or(0.0, |left| left.as_secs_f64()));
        m.draining.set(i64::from(
            self.draining()
                || (st.role == Role::Primary && !self.peers_checked.load(Ordering::SeqCst)),
        ));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry)
            .map_err(|e| ApiError::Internal(format!("cannot encode the metrics: {e}")))?;
        Ok(out)
    }
}
