//! The status fan-out part of `drctl lab bench`: how long `drctl status` takes to probe every
//! node of a lab of 3, 9 or 50 drnode processes, connection set-up included, and how long each
//! lab took to form.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cluster::Target;
use super::lab::{self, DrnodeLab};
use super::Cluster;
use crate::lab::LabError;

/// One lab size's samples, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fanout {
    pub(crate) nodes: u16,
    /// Each cold probe of every node (a new connection set, as a new `drctl status` has: TCP
    /// and TLS set-up included).
    pub(crate) cold_ms: Vec<f64>,
    /// Each second probe on the same connections: what the set-up costs is the difference.
    pub(crate) warm_ms: Vec<f64>,
    /// Lay-out, start, forming (node-1 primary, the rest replicas) and healthy, as `lab up`.
    pub(crate) lab_up_ms: u64,
}

/// For each size, on a fresh lab in `base_dir/fanout-N` (removed afterwards): `rounds` probes
/// of every node as `drctl status` probes them.
///
/// Measured per round: from the start of [`Cluster::probe`] to its judged view, on a client
/// set made for that round, so every node's TCP connect and TLS handshake, its `GET /v1/node`,
/// and the member list asked of the primary all count. Not measured: reading the cluster file
/// and the CA, and printing. A round whose view is not healthy with every node answering fails
/// the benchmark rather than report a figure of a broken lab.
pub(crate) async fn status_fanout(
    base_dir: &Path,
    sizes: &[u16],
    rounds: usize,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Fanout>, LabError> {
    let mut out = Vec::new();
    for &nodes in sizes {
        progress(&format!("status fan-out: a {nodes}-node lab"));
        let started = Instant::now();
        let mut lab = DrnodeLab::create(&base_dir.join(format!("fanout-{nodes}")), nodes, None)?;
        let result = async {
            lab.form_cluster(Duration::from_secs(60)).await?;
            let lab_up_ms = started.elapsed().as_millis() as u64;
            let (mut cold_ms, mut warm_ms) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                let (cluster, targets) = lab::targets(&lab.dir)?;
                let cl = Cluster::new(&cluster, &targets, "bench", Duration::from_secs(5));
                cold_ms.push(timed_probe(&cl, &targets).await?);
                warm_ms.push(timed_probe(&cl, &targets).await?);
            }
            Ok::<_, LabError>(Fanout {
                nodes,
                cold_ms,
                warm_ms,
                lab_up_ms,
            })
        }
        .await;
        let _ = lab.down(false);
        out.push(result?);
    }
    Ok(out)
}

async fn timed_probe(cl: &Cluster, targets: &[Target]) -> Result<f64, LabError> {
    let started = Instant::now();
    let view = cl.probe().await;
    let a = view.assess();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let answered = view.nodes.iter().filter(|n| n.ok().is_some()).count();
    if !a.healthy || answered != targets.len() {
        return Err(LabError::Failed(format!(
            "the lab was not healthy during the fan-out ({answered} of {} nodes answered): {}",
            targets.len(),
            a.problems.join("; ")
        )));
    }
    Ok(ms)
}
