//! `drctl lab bench --kind 389ds`: the forced failover and the managed switchover timed through
//! drctl (the bundled runbook `drctl failover` and `drctl switchover --to node-2` run, command to
//! verified) and by hand, the sequence an operator follows from the vendor lab notes
//! (`shared/engine-labs/389ds/README.md` §4, §7, §11; `lab.sh`, `lib.sh`) with dsconf for what
//! they do with dsconf, ldapsearch and ldapmodify for what they read and write that way, and the
//! lab's own stop (SIGTERM, waited for) and start; first command to a probe write seen on every
//! consumer. The ratio is by hand / drctl, of the medians: 3.0 reads "drctl is 3× faster".
//!
//! Every measurement runs on a lab of its own, made fresh (4 per round, made at once before the
//! round's first measurement and discarded one by one after theirs): a procedure leaves the lab
//! in another shape, and a fresh lab is cheaper and surer than undoing it. Each lab takes 10
//! acknowledged writes on node-1, seen on every consumer, before its measurement.
//!
//! By hand, the new supplier's agreements bind as `cn=repl-1,cn=config`, the identity the lab's
//! consumers already accept, as the notes do (one replication manager, the same on every
//! instance: pitfall 9); an operator following them creates no identity of the new supplier and
//! so does not fence the old one (drctl does, a few LDAP writes). The by-hand switchover ends as
//! §7 does, without the clean restart of the demoted supplier that drctl adds (pitfall 12).

use std::path::Path;
use std::time::{Duration, Instant};

use ldap3::Scope;
use serde::Serialize;

use super::lab::{DsLab, SUFFIX};
use super::{Ds389, DsCluster};
use crate::engine::{Verb, VerbArgs};
use crate::engines::bench::{fail, Procedure, Side, Timed};
use crate::lab::{LabError, Sig};
use by_hand::Hand;

mod by_hand;

/// What drctl should reach: by hand / drctl, of the medians.
pub(crate) const TARGET_RATIO: f64 = 3.0;
/// Labs per round: each procedure through drctl and by hand.
const LABS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(60);
const DSCONF: &str = "/usr/sbin/dsconf";
const SEED: u64 = 10;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchReport {
    pub(crate) nodes: u16,
    /// Each round, making its 4 fresh labs at once (create, up, seed writes): not measured in
    /// any procedure.
    pub(crate) labs_ready_ms: Vec<u64>,
    pub(crate) failover: Procedure,
    pub(crate) switchover: Procedure,
    pub(crate) target_ratio: f64,
}

/// Why the by-hand side cannot run here (the server's own check is `lab::missing_tools`).
pub(crate) fn missing_clients() -> Option<String> {
    let missing: Vec<&str> = [
        DSCONF,
        "/usr/bin/ldapsearch",
        "/usr/bin/ldapmodify",
        "/usr/bin/ldapadd",
    ]
    .into_iter()
    .filter(|p| !Path::new(p).is_file())
    .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the by-hand sequence needs {} (apt-get install 389-ds-base ldap-utils)",
            missing.join(", ")
        )
    })
}

/// Runs `rounds` rounds in fresh labs under `dir`, removed afterwards.
pub(crate) async fn bench(
    dir: &Path,
    rounds: usize,
    say: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let r = run(dir, rounds, say).await;
    let _ = std::fs::remove_dir_all(dir);
    r
}

async fn run(
    dir: &Path,
    rounds: usize,
    say: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let (mut fo, mut fo_hand, mut so, mut so_hand) = Default::default();
    let mut ready = Vec::new();
    for i in 0..rounds {
        let t0 = Instant::now();
        let mut labs = Labs::fresh(&dir.join(format!("round-{}", i + 1))).await?;
        ready.push(t0.elapsed().as_millis() as u64);
        say(&format!(
            "round {}: {LABS} fresh labs of 3 instances ready in {} ms",
            i + 1,
            ready[i]
        ));
        let (lab, cl) = labs.next();
        lab.signal("node-1", Sig::Kill)?;
        let a = Side::push(&mut fo, drctl(&lab, &cl, Verb::Failover, None).await?);
        lab.discard()?;
        let (lab, _) = labs.next();
        lab.signal("node-1", Sig::Kill)?;
        let b = Side::push(&mut fo_hand, Hand::new(&lab)?.failover()?);
        lab.discard()?;
        say(&format!(
            "round {}: failover: drctl {a} ms, by hand {b} ms",
            i + 1
        ));
        let (lab, cl) = labs.next();
        let a = Side::push(
            &mut so,
            drctl(&lab, &cl, Verb::Switchover, Some("node-2")).await?,
        );
        lab.discard()?;
        let (lab, _) = labs.next();
        let b = Side::push(&mut so_hand, Hand::new(&lab)?.switchover("node-2")?);
        lab.discard()?;
        say(&format!(
            "round {}: switchover: drctl {a} ms, by hand {b} ms",
            i + 1
        ));
    }
    Ok(BenchReport {
        nodes: 3,
        labs_ready_ms: ready,
        failover: Procedure::of(fo, fo_hand, Some(TARGET_RATIO)),
        switchover: Procedure::of(so, so_hand, Some(TARGET_RATIO)),
        target_ratio: TARGET_RATIO,
    })
}

/// A round's labs, discarded when dropped (a failed measurement leaves none running).
struct Labs(Vec<(DsLab, DsCluster)>);

impl Labs {
    /// `LABS` labs of 3 instances made at once in `dir`, up, with `SEED` writes on every
    /// instance.
    async fn fresh(dir: &Path) -> Result<Labs, LabError> {
        let made: Vec<Result<DsLab, LabError>> = std::thread::scope(|s| {
            let jobs: Vec<_> = (0..LABS)
                .map(|k| {
                    let d = dir.join(format!("lab-{}", k + 1));
                    s.spawn(move || DsLab::create(&d, 3))
                })
                .collect();
            jobs.into_iter()
                .map(|j| {
                    j.join()
                        .unwrap_or_else(|_| Err(fail("creating a lab panicked")))
                })
                .collect()
        });
        let mut labs = Vec::new();
        let mut first_err = None;
        for m in made {
            match m {
                Ok(l) => labs.push(l),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        let ups = futures_util::future::join_all(labs.iter_mut().map(|l| l.up(DEADLINE))).await;
        let mut out = Labs(Vec::new());
        for (lab, up) in labs.into_iter().zip(ups) {
            match up {
                Ok(cl) => out.0.push((lab, cl)),
                Err(e) => {
                    let _ = lab.discard();
                    first_err = first_err.or(Some(e));
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        for (_, cl) in &out.0 {
            seed(cl).await?;
        }
        Ok(out)
    }

    fn next(&mut self) -> (DsLab, DsCluster) {
        self.0.remove(0)
    }
}

impl Drop for Labs {
    fn drop(&mut self) {
        for (lab, _) in self.0.drain(..) {
            let _ = lab.discard();
        }
    }
}

/// `SEED` writes on node-1, waited for on every instance: a supplier that took writes, every
/// consumer in step (the common case of a crash: nothing to re-initialize).
async fn seed(cl: &DsCluster) -> Result<(), LabError> {
    let acks = super::drill::Acks::default();
    super::drill::write(cl, "seed", SEED, None, &acks)
        .await
        .map_err(fail)?;
    crate::util::poll::within(DEADLINE, Duration::from_millis(20), || async {
        for n in &cl.nodes {
            let Ok(mut s) = cl.session(n.name()).await else {
                return std::ops::ControlFlow::Continue(());
            };
            let found = s
                .search(SUFFIX, Scope::OneLevel, "(uid=seed-*)", &["1.1"])
                .await;
            s.close().await;
            if found.map_or(true, |f| (f.len() as u64) < SEED) {
                return std::ops::ControlFlow::Continue(());
            }
        }
        std::ops::ControlFlow::Break(())
    })
    .await
    .map_err(|()| fail("the seed writes did not reach every instance within 60 s"))
}

/// The bundled runbook of `verb`, as `drctl failover` / `drctl switchover --to TO` run it on the
/// lab's cluster file (the same front, journal and host lock), command to verified.
async fn drctl(
    lab: &DsLab,
    cl: &DsCluster,
    verb: Verb,
    to: Option<&str>,
) -> Result<Timed, LabError> {
    let engine = Ds389::of(cl, "bench");
    let mut args = VerbArgs::new();
    match to {
        Some(to) => {
            args.insert("to", to.to_string());
        }
        None => {
            args.insert("force", "false".into());
            args.insert("export_dir", lab.dir.display().to_string());
        }
    }
    crate::engines::bench::drctl(engine, verb, &args, &lab.dir, &cl.name, DEADLINE).await
}
