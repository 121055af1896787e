//! Drills on a lab of real 389 Directory Server instances (`drill: {kind: 389ds}`), run by
//! `runbook::drill_runner`: faults (SIGKILL, SIGSTOP, restarts, acknowledged writes, another
//! runbook), a write client, then `expect:` (supplier, health, roles, every acknowledged write on
//! the supplier and every answering consumer). Skipped, saying why, where 389-ds-base is missing.

use std::collections::BTreeSet;
use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::Scope;

use super::lab::{DsLab, SUFFIX};
use super::state::one;
use super::{Ds389, DsCluster};
use crate::engine::Bound;
use crate::lab::{LabError, LabKind};
use crate::runbook::drill_hooks::DrillRun;
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::{fail, Checks};
use crate::runbook::drill_runner::{self, Acked, Batch, DrillLab, Writing};
use crate::runbook::front;
use crate::runbook::model::Compiler;
use crate::util::poll;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(60);

/// What a 389ds drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "389ds", 2..=5, "instances");
    let says = "a 389ds drill expects primary (the supplier), primary_not, healthy, roles and no_write_lost";
    crate::runbook::drill_model::check_engine_expect(c, node, d, false, says);
}

/// The drill as the registry hands it out.
pub(crate) const START: DrillRun = drill_runner::start::<DsLab>;

impl DrillLab for DsLab {
    type Group = Arc<DsCluster>;
    type Acks = Acks;
    const NODES: &'static str = "389ds instances";
    const DEADLINE: Duration = DEADLINE;
    const LAB: &'static LabKind = &super::lab::LAB;
    const LOOK_EVERY: Duration = Duration::from_millis(100);
    /// The writer cannot write while the supplier is down (a consumer refers writes to it), and
    /// a failover drill kills it before the run.
    const WRITER_FIRST: bool = false;

    /// Setting replication up costs seconds (a total update has 2.5 s of fixed overhead); a
    /// copy of the stopped instances starts again without it.
    const REUSE: bool = true;

    fn create(dir: &Path, nodes: u16) -> Result<DsLab, LabError> {
        DsLab::create(dir, nodes)
    }

    fn stop_all(&mut self) -> Result<(), LabError> {
        DsLab::stop_all(self)
    }

    fn reopen(dir: &Path) -> Result<DsLab, LabError> {
        DsLab::open(dir)
    }

    async fn resume(&mut self) -> Result<Arc<DsCluster>, LabError> {
        Ok(Arc::new(DsLab::resume(self, DEADLINE).await?))
    }

    fn discard(self) -> Result<(), LabError> {
        DsLab::discard(self)
    }

    async fn group(&mut self) -> Result<Arc<DsCluster>, LabError> {
        Ok(Arc::new(self.up(DEADLINE).await?))
    }

    fn bind(cl: &Arc<DsCluster>) -> Bound {
        front::bind(
            Ds389::of(cl, "drill"),
            &cl.name,
            "drill",
            cl.nodes.iter().map(|n| &n.ldap.url),
        )
    }

    fn write(cl: &Arc<DsCluster>, acks: &Arc<Acks>, b: Batch) -> Writing {
        let (cl, acks) = (cl.clone(), acks.clone());
        Box::pin(async move { write(&cl, &b.prefix, b.count, b.rate, &acks).await })
    }

    /// Waits, after acknowledged writes, until every instance that answers holds every
    /// acknowledged write, or no supplier answers: what makes every write acknowledged before a
    /// fault held by the survivors (a supplier's RUV may trail the write it just acknowledged, so
    /// it is not what is waited on).
    async fn settle(cl: &Arc<DsCluster>, acks: &Acks, after: &Inject) -> Result<(), LabError> {
        if !matches!(after, Inject::Writes(_)) {
            return Ok(());
        }
        let acked = acks.uids.lock().expect("acks lock").clone();
        poll::within(DEADLINE, Duration::from_millis(50), || async {
            let view = cl.probe().await;
            if view.assess().supplier.is_none() {
                return Break(());
            }
            let mut short = Vec::new();
            for n in view.nodes.iter().filter(|n| n.state.is_ok()) {
                match uids(cl, &n.name).await {
                    Ok(have) => {
                        let missing = acked.difference(&have).count();
                        if missing > 0 {
                            short.push(format!("{} lacks {missing}", n.name));
                        }
                    }
                    Err(e) => short.push(e),
                }
            }
            if short.is_empty() {
                Break(())
            } else {
                Continue(short.join(", "))
            }
        })
        .await
        .map_err(|why| fail(format!("the lab did not settle within {DEADLINE:?}: {why}")))
    }

    /// `expect:` in one look: the supplier, roles, health, and every acknowledged write on the
    /// supplier and on every consumer that answers.
    async fn look(d: &Drill, cl: &Arc<DsCluster>, acks: &Acks) -> (Checks, u64) {
        let mut out = Checks::default();
        let view = cl.probe().await;
        let a = view.assess();
        out.primary(&d.expect, "supplier", a.supplier.as_deref());
        out.roles(&d.expect, |node| match view.node(node).map(|n| &n.state) {
            Some(Ok(s)) => s
                .kind()
                .map(|k| format!("{k:?}").to_lowercase())
                .unwrap_or_else(|| "standalone".into()),
            _ => "unreachable".into(),
        });
        out.healthy(&d.expect, a.healthy, &a.problems);
        let mut lost = 0;
        if d.expect.no_write_lost {
            let acked = acks.uids.lock().expect("acks lock").clone();
            let mut missing: Vec<String> = Vec::new();
            let mut err = None;
            let holders = view
                .nodes
                .iter()
                .filter(|n| n.state.as_ref().is_ok_and(|s| s.replica.is_some()))
                .filter(|n| !a.stale_suppliers.contains(&n.name));
            for n in holders {
                match uids(cl, &n.name).await {
                    Ok(have) => missing.extend(
                        acked
                            .difference(&have)
                            .map(|u| format!("{u} on {}", n.name)),
                    ),
                    Err(e) => err = Some(e),
                }
            }
            lost = acked
                .iter()
                .filter(|u| missing.iter().any(|m| m.starts_with(&format!("{u} "))))
                .count() as u64;
            out.check(
                "no acknowledged write lost".into(),
                err.is_none() && missing.is_empty() && !acked.is_empty() && a.supplier.is_some(),
                err.unwrap_or_else(|| {
                    format!(
                        "{} acknowledged, {} missing{}",
                        acked.len(),
                        missing.len(),
                        missing
                            .first()
                            .map(|m| format!(" (e.g. {m})"))
                            .unwrap_or_default()
                    )
                }),
            );
        }
        (out, lost)
    }
}

/// What the writer got acknowledged.
#[derive(Debug, Default)]
pub(crate) struct Acks {
    pub(crate) count: AtomicU64,
    pub(crate) uids: Mutex<BTreeSet<String>>,
}

impl Acked for Acks {
    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Adds `count` entries `uid=PREFIX-N` (at `rate` per second if given), each to the first
/// instance that takes it (a consumer refers writes to its supplier: no acknowledgement), and
/// records each acknowledged one.
pub(crate) async fn write(
    cl: &DsCluster,
    prefix: &str,
    count: u64,
    rate: Option<f64>,
    acks: &Acks,
) -> Result<(), String> {
    let started = tokio::time::Instant::now();
    let mut at = 0usize;
    for i in 0..count {
        if let Some(r) = rate {
            tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / r)).await;
        }
        let uid = format!("{prefix}-{i:05}");
        let until = Instant::now() + DEADLINE;
        loop {
            let n = &cl.nodes[at % cl.nodes.len()];
            let attrs = vec![
                (
                    "objectClass".to_string(),
                    ["top", "account"].map(String::from).into(),
                ),
                ("uid".to_string(), one(uid.clone())),
            ];
            let added = match n.ldap.connect(Duration::from_secs(1)).await {
                Ok(mut s) => {
                    let r = s.add(&format!("uid={uid},{SUFFIX}"), attrs).await;
                    s.close().await;
                    r.map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            match added {
                Ok(()) => break,
                Err(e) if Instant::now() >= until => {
                    return Err(format!("{uid} not acknowledged within {DEADLINE:?}: {e}"))
                }
                Err(_) => {
                    at += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        acks.uids.lock().expect("acks lock").insert(uid);
        acks.count.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// The uids under the suffix that one instance holds.
async fn uids(cl: &DsCluster, node: &str) -> Result<BTreeSet<String>, String> {
    let mut s = cl.session(node).await.map_err(|e| e.to_string())?;
    let found = s
        .search(SUFFIX, Scope::OneLevel, "(uid=*)", &["uid"])
        .await
        .map_err(|e| e.to_string());
    s.close().await;
    Ok(found?
        .iter()
        .filter_map(|e| super::state::first(e, "uid"))
        .collect())
}
