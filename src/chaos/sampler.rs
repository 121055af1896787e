//! Samples every node's status during a run: the epoch each node reports (which must never go
//! down), which node was primary at which epoch and when it was first seen so, and two primaries
//! at one epoch seen at the same instant.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::api::Role;
use crate::engines::drnode::cluster::{probe, Target};

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Samples {
    pub count: u64,
    /// Per node: its wipe generation, highest epoch seen in that generation, and when.
    #[serde(skip)]
    pub high: BTreeMap<String, (u32, u64, u64)>,
    /// Epoch decreases: node, from, to, at ms.
    pub decreases: Vec<(String, u64, u64, u64)>,
    /// First time each epoch was seen held by a primary: epoch -> (node, ms).
    pub promotions: BTreeMap<u64, (String, u64)>,
    /// Two nodes primary at the same epoch in one sample: epoch, nodes, ms.
    pub twins: Vec<(u64, Vec<String>, u64)>,
}

/// Shared with the run: a wiped node starts a new generation, whose epoch may restart from 0.
#[derive(Debug, Default)]
pub(crate) struct Wipes(pub Mutex<BTreeMap<String, u32>>);

pub(crate) async fn run(
    cluster: String,
    targets: Vec<Target>,
    started: Instant,
    samples: Arc<Mutex<Samples>>,
    wipes: Arc<Wipes>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let view = probe(&cluster, &targets).await;
        let at = started.elapsed().as_millis() as u64;
        let gens = wipes.0.lock().expect("wipes lock").clone();
        record(&mut samples.lock().expect("samples lock"), &view, &gens, at);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn record(
    s: &mut Samples,
    view: &crate::engines::drnode::cluster::ClusterView,
    gens: &BTreeMap<String, u32>,
    at: u64,
) {
    {
        s.count += 1;
        let mut primaries: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for n in &view.nodes {
            let Some(st) = n.ok() else { continue };
            let gen = gens.get(&n.name).copied().unwrap_or(0);
            match s.high.get(&n.name).copied() {
                Some((g, high, _)) if g == gen && st.epoch < high => {
                    s.decreases.push((n.name.clone(), high, st.epoch, at));
                }
                Some((g, high, _)) if g == gen && st.epoch <= high => {}
                _ => {
                    s.high.insert(n.name.clone(), (gen, st.epoch, at));
                }
            }
            if st.role == Role::Primary {
                primaries.entry(st.epoch).or_default().push(n.name.clone());
                s.promotions
                    .entry(st.epoch)
                    .or_insert_with(|| (n.name.clone(), at));
            }
        }
        for (epoch, nodes) in primaries {
            if nodes.len() > 1 {
                s.twins.push((epoch, nodes, at));
            }
        }
    }
}
