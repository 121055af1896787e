//! The invariants of an etcd run, under the drnode names where they apply: every acknowledged
//! put is on the final cluster, except the tail of the history a forced recovery named at risk
//! before it ran; one cluster id and one leader at the end; an identity a procedure retired
//! never serves again, and no two members lead at one term; every member converges; no drctl
//! of the run outlives it; no panic; exit codes match outcomes.

use std::collections::BTreeSet;
use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::time::Duration;

use super::checker::{exit_codes, panics, verdict, Verdict, INVARIANTS};
use super::etcd_ctx::EtcdObserved;
use super::etcd_writer::PREFIX;
use crate::util::poll;

/// The invariants an etcd run is judged by, in order.
pub(crate) const ETCD_INVARIANTS: &[&str] = &[
    "acked-writes-kept",
    "one-cluster-one-leader",
    "old-membership-never-serves",
    "converges",
    "no-lock-outlives-its-run",
    "no-panic",
    "exit-codes-match-outcomes",
];

/// etcd-io/etcd#21966: `Maintenance/Status` on a member while its removal is applied.
const KNOWN_ETCD_PANIC: &str = "failed to find local ID in cluster members";

pub(crate) struct EtcdVerdicts {
    pub verdicts: Vec<Verdict>,
    pub lost: u64,
    /// Acknowledged puts a forced recovery named at risk before it ran, and lost.
    pub at_risk: u64,
}

/// The drctl processes still running on the lab (`drctl ... --lab-dir DIR`, `--cluster
/// DIR/cluster.yaml`): a run, or a host command it started, that outlived its drctl.
fn leftover_drctl(dir: &Path, drctl: &Path) -> Vec<String> {
    let dir = dir.to_string_lossy();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<String> = raw
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let ours = args.first().is_some_and(|a| Path::new(a) == drctl)
                && args.iter().any(|a| a.contains(dir.as_ref()));
            ours.then(|| format!("pid {pid}: {}", args.join(" ")))
        })
        .collect()
}

/// The chaos keys, read through the leader (linearizable), asking again for up to 10 s when
/// leadership moves under the read.
async fn keys_on_leader(o: &EtcdObserved<'_>) -> Result<BTreeSet<String>, String> {
    poll::within(
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            let view = o.cl.probe().await;
            let a = view.assess();
            let Some(n) = a.leader.as_deref().and_then(|l| view.node(l)) else {
                return Continue("no leader at the end to hold the acknowledged puts".to_string());
            };
            match o.cl.client.keys(&n.url, PREFIX).await {
                Ok(keys) => Break(keys.into_iter().collect()),
                Err(e) => Continue(format!(
                    "cannot list the keys on the leader {}: {e}",
                    n.name
                )),
            }
        },
    )
    .await
}

pub(crate) async fn check(o: &EtcdObserved<'_>) -> EtcdVerdicts {
    let mut out = Vec::new();
    let view = &o.final_view;
    let a = view.assess();

    // acked-writes-kept: read through the leader (linearizable). A missing put is at risk only
    // when a failover fenced members after it was acked and it is past every put acked before
    // that failover and kept: a forced recovery loses a tail of the history, never a hole.
    let mut lost = Vec::new();
    let present = match keys_on_leader(o).await {
        Ok(p) => p,
        Err(e) => {
            lost.push(e);
            BTreeSet::new()
        }
    };
    let mut at_risk = 0;
    let mut n_lost = 0;
    for ack in o.acks.iter().filter(|k| !present.contains(&k.key)) {
        let named = o.forced.iter().find(|f| {
            let kept_before = o
                .acks
                .iter()
                .filter(|k| k.acked_ms < f.began_ms && present.contains(&k.key))
                .map(|k| k.revision)
                .max()
                .unwrap_or(0);
            ack.acked_ms < f.began_ms && ack.revision > kept_before
        });
        if named.is_some() {
            at_risk += 1;
            continue;
        }
        n_lost += 1;
        lost.push(format!(
            "{} (acked by {} at revision {} at {} ms) is not on the final cluster{}",
            ack.key,
            ack.node,
            ack.revision,
            ack.acked_ms,
            if o.forced.is_empty() {
                String::new()
            } else {
                " and is no tail a failover named at risk".to_string()
            }
        ));
    }
    out.push(verdict(
        INVARIANTS[0],
        &lost,
        format!(
            "{} acked, {} present, {at_risk} lost past a failover's survivor (named at risk); failovers that forced a new cluster: {:?}",
            o.acks.len(),
            present.len(),
            o.forced.iter().map(|f| format!("{} at {} ms", f.what, f.began_ms)).collect::<Vec<_>>()
        ),
    ));

    // one-cluster-one-leader: at the end.
    let answering: Vec<_> = view
        .nodes
        .iter()
        .filter_map(|n| n.state.as_ref().ok().map(|s| (n.name.as_str(), s)))
        .collect();
    let ids: BTreeSet<u64> = answering
        .iter()
        .map(|(_, s)| s.status.header.cluster_id)
        .collect();
    let leaders: BTreeSet<&str> = answering
        .iter()
        .filter(|(_, s)| s.status.leader != 0 && s.status.leader == s.status.header.member_id)
        .map(|(n, _)| *n)
        .collect();
    let followed: BTreeSet<u64> = answering.iter().map(|(_, s)| s.status.leader).collect();
    let mut two = Vec::new();
    if ids.len() != 1 {
        two.push(format!("{} cluster ids at the end: {ids:x?}", ids.len()));
    }
    if leaders.len() != 1 || followed.len() != 1 {
        two.push(format!(
            "{} member(s) lead at the end ({leaders:?}); the members follow {} leader id(s)",
            leaders.len(),
            followed.len()
        ));
    }
    out.push(verdict(
        ETCD_INVARIANTS[1],
        &two,
        format!("cluster {ids:x?}, leader {leaders:?}"),
    ));

    // old-membership-never-serves: during the run, and at the end no member answers outside
    // the majority's membership or cluster.
    let mut served = o.served.clone();
    for (n, na) in view.nodes.iter().zip(&a.nodes) {
        use crate::engines::etcd::Role;
        if n.state.is_ok() && matches!(na.role, Some(Role::Removed | Role::OtherCluster)) {
            served.push(format!("{} answers at the end as {:?}", n.name, na.role));
        }
    }
    out.push(verdict(
        ETCD_INVARIANTS[2],
        &served,
        "no retired identity answered; never two leaders at one term".into(),
    ));

    let conv: Vec<String> = o.converged.clone().err().into_iter().collect();
    out.push(verdict(
        INVARIANTS[3],
        &conv,
        "check exit 0; every member votes at one raft index and revision".into(),
    ));

    out.push(verdict(
        INVARIANTS[5],
        &leftover_drctl(&o.dir, &o.drctl),
        "no drctl of the run still runs".into(),
    ));

    // A Go panic in an etcd log; zap's "panic" level. etcd 3.4 panics in a member being
    // removed when a status call lands during its removal (etcd-io/etcd#21966): etcd's bug, and
    // the member was leaving anyway, so it is said but not held against the run.
    let (known, panics): (Vec<String>, Vec<String>) =
        panics(&o.calls, &o.logs, &["\"level\":\"panic\"", "panic: "])
            .into_iter()
            .partition(|l| l.contains(KNOWN_ETCD_PANIC));
    out.push(verdict(
        INVARIANTS[6],
        &panics,
        format!(
            "{} drctl call(s) and {} etcd logs read; {} known etcd panic(s) of a member being removed (etcd-io/etcd#21966)",
            o.calls.len(),
            o.logs.len(),
            known.len()
        ),
    ));

    out.push(exit_codes(&o.calls));
    EtcdVerdicts {
        verdicts: out,
        lost: n_lost,
        at_risk,
    }
}
