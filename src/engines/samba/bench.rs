//! `drctl lab bench --kind samba-ad`: what an operator runs after a DC died, timed through
//! drctl and by hand. dc1, which holds the 7 FSMO roles in a fresh lab, is SIGKILLed; then
//! `seize-roles --to dc2`, then `remove-instance dc1`, each the bundled runbook as the command
//! runs it (its front, journal and host lock), command to verified; by hand, the commands of the
//! lab notes (`shared/engine-labs/samba-ad/README.md` §5.3, §6.1, P8, P16, P17; `lab.sh`'s
//! `seize` and `cleanup`), in `by_hand.rs`. The ratio is by hand / drctl, of the medians.
//!
//! Both sides end on what drctl verifies:
//! - seize-roles: dc2's own database names dc2 the holder of the 7 roles, so does every other
//!   DC that answers (dc3), and the PDC's DNS SRV record (`_ldap._tcp.pdc._msdcs`) names dc2.
//!   drctl seizes the roles of a silent holder in one step (`fsmo seize --role=all --force`
//!   when they are all 7; it seized role by role before: 2.7 s against 0.4 s), has dc3 pull the naming contexts
//!   from dc2 into its own database and runs `samba_dnsupdate --use-samba-tool
//!   --no-credentials` on dc2; by hand, `fsmo seize --role=all --force` and `fsmo show` on dc2,
//!   `drs replicate dc3 dc2 NC` of the 5 naming contexts and `fsmo show` on dc3 until it names
//!   dc2, the SRV record asked of dc2's DNS server (`host -t SRV`), `samba_dnsupdate` if it does
//!   not name dc2 (P16), asked again until it does.
//! - remove-instance: no DC that answers (dc2, dc3) has dc1's computer account, server object
//!   or live DNS host record, and the PDC's SRV record names dc2. drctl also reads what only
//!   dc1 held from its disk and exports it before the cleanup (`salvage.rs`); by hand, nothing
//!   is read: `domain demote --remove-other-dead-server=DC1` on dc2 (on its own database, as
//!   the seize), ldapsearch on dc2's `ldap_priv/ldapi`, `drs replicate` to dc3 and ldapsearch
//!   there until it is clean, the SRV record as after the seize.
//!
//! Each side runs on a lab of its own (the seize, then the removal, on the same lab: the removal
//! is what follows the seize on a domain whose holder just died), discarded after its
//! measurements. A round's 2 labs are made at once: on 2 cores that took 49.5 s against 69.8 s
//! one after the other (provisions and joins wait on samba starting as much as they compute).
//! The lab measured second has waited through the first one's measurements, so drctl goes first
//! in odd rounds and by hand in even ones.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::engine::Samba;
use super::lab::SambaLab;
use crate::engine::{Verb, VerbArgs};
use crate::engines::bench::{fail, Procedure, Side, Timed};
use crate::lab::{LabError, Sig};
use by_hand::Hand;

mod by_hand;

const DEADLINE: Duration = Duration::from_secs(90);
/// The lab's cluster name (its cluster file's `cluster:`).
const CLUSTER: &str = "samba-ad-lab";
/// The DC that dies (it holds every role in a fresh lab), and the one that takes its roles and
/// removes it.
const DEAD: &str = "dc1";
const TO: &str = "dc2";
/// What the by-hand side runs beside samba-tool.
const CLIENTS: [&str; 3] = [
    "/usr/bin/ldapsearch",
    "/usr/bin/host",
    "/usr/sbin/samba_dnsupdate",
];

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchReport {
    pub(crate) nodes: u16,
    /// The DC SIGKILLed (the holder of every role in a fresh lab), and the DC that takes its
    /// roles and removes it from the domain.
    pub(crate) killed: &'static str,
    pub(crate) to: &'static str,
    /// Each round, making its 2 fresh labs of 3 DCs at once (create, up, replication settled):
    /// not measured in any procedure.
    pub(crate) labs_ready_ms: Vec<u64>,
    /// dc1 SIGKILLed, `seize-roles --to dc2`: until every DC that answers names dc2 the holder
    /// of the 7 roles, and the PDC's SRV record names dc2.
    pub(crate) seize_roles: Procedure,
    /// Then `remove-instance dc1`: until no DC that answers has dc1's objects, and the PDC's
    /// SRV record names dc2.
    pub(crate) remove_instance: Procedure,
}

/// How a bench says what it measured, as it goes.
type Say<'a> = dyn Fn(&str) + Sync + 'a;

/// Why the by-hand side cannot run here (the lab's own check is `lab::missing_tools`).
pub(crate) fn missing_clients() -> Option<String> {
    let absent = CLIENTS.into_iter().find(|p| !Path::new(p).is_file())?;
    Some(format!(
        "the by-hand sequence needs {absent} (apt-get install ldap-utils bind9-host)"
    ))
}

/// Runs `rounds` rounds in fresh labs under `dir`, removed afterwards.
pub(crate) async fn bench(
    dir: &Path,
    rounds: usize,
    say: &Say<'_>,
) -> Result<BenchReport, LabError> {
    let out = measure(dir, rounds, say).await;
    // Each lab removed its own directory when discarded; this is what held them.
    let _ = std::fs::remove_dir_all(dir);
    out
}

async fn measure(dir: &Path, rounds: usize, say: &Say<'_>) -> Result<BenchReport, LabError> {
    // Each procedure's rounds through drctl [0] and by hand [1].
    let [mut seize, mut remove]: [[Side; 2]; 2] = Default::default();
    let mut labs_ready_ms = Vec::new();
    for i in 1..=rounds {
        let t0 = Instant::now();
        let labs = Fresh::pair(&dir.join(format!("round-{i}"))).await?;
        labs_ready_ms.push(t0.elapsed().as_millis() as u64);
        let order = if i % 2 == 1 { [0, 1] } else { [1, 0] };
        let mut took = [(0, 0); 2];
        for (lab, k) in labs.into_iter().zip(order) {
            let (s, r) = side(lab, k == 1).await?;
            took[k] = (seize[k].push(s), remove[k].push(r));
        }
        let [(a, b), (c, d)] = took;
        say(&format!(
            "round {i}: 2 fresh labs of 3 DCs ready in {} ms; seize-roles: drctl {a} ms, by hand \
             {c} ms; remove-instance: drctl {b} ms, by hand {d} ms",
            labs_ready_ms[i - 1]
        ));
    }
    let [seize_drctl, seize_hand] = seize;
    let [remove_drctl, remove_hand] = remove;
    Ok(BenchReport {
        nodes: 3,
        killed: DEAD,
        to: TO,
        labs_ready_ms,
        seize_roles: Procedure::of(seize_drctl, seize_hand, None),
        remove_instance: Procedure::of(remove_drctl, remove_hand, None),
    })
}

/// One side on its lab: dc1 SIGKILLed, its roles seized on dc2, then dc1 removed; the lab
/// discarded.
async fn side(lab: Fresh, by_hand: bool) -> Result<(Timed, Timed), LabError> {
    lab.signal(DEAD, Sig::Kill)?;
    if by_hand {
        let seized = Hand::new(&lab)?.seize(DEAD, TO)?;
        return Ok((seized, Hand::new(&lab)?.remove(DEAD, TO)?));
    }
    let engine = Samba::of(CLUSTER, lab.dc_nodes()?, lab.clients()?, "bench");
    let to = VerbArgs::from([("to", TO.to_string())]);
    let seized = drctl(&lab, &engine, Verb::SeizeRoles, &to).await?;
    let node = VerbArgs::from([("node", DEAD.to_string())]);
    Ok((
        seized,
        drctl(&lab, &engine, Verb::RemoveInstance, &node).await?,
    ))
}

/// Held while a lab is created.
static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A lab of 3 DCs, up; stopped and removed when dropped (a failed measurement leaves none
/// running).
struct Fresh(Option<SambaLab>);

impl Fresh {
    /// Two labs made at once in `dir` (created one after the other), each on a thread of its
    /// own (their provisions, joins and settles block).
    async fn pair(dir: &Path) -> Result<[Fresh; 2], LabError> {
        let made = |name: &str| {
            let d = dir.join(name);
            tokio::task::spawn_blocking(move || {
                // One create at a time: each probes `ip netns` with a namespace named after the
                // process, and two at once collide ("File exists").
                let lab = {
                    let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
                    SambaLab::create(&d, 3)?
                };
                let mut lab = Fresh(Some(lab));
                let up = lab.0.as_mut().expect("made").up(DEADLINE);
                tokio::runtime::Handle::current().block_on(up)?;
                Ok::<_, LabError>(lab)
            })
        };
        let (a, b) = tokio::join!(made("a"), made("b"));
        let joined = |r: Result<Result<Fresh, LabError>, _>| {
            r.unwrap_or_else(|e| Err(fail(format!("making a lab: {e}"))))
        };
        let (a, b) = (joined(a), joined(b));
        Ok([a?, b?])
    }
}

impl std::ops::Deref for Fresh {
    type Target = SambaLab;
    fn deref(&self) -> &SambaLab {
        self.0.as_ref().expect("a lab until dropped")
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take() {
            let _ = lab.down(false);
        }
    }
}

/// The bundled runbook of `verb` on the lab's DCs, as `drctl seize-roles --to dc2` /
/// `drctl remove-instance dc1` run it, command to verified.
async fn drctl(
    lab: &SambaLab,
    engine: &Samba,
    verb: Verb,
    args: &VerbArgs,
) -> Result<Timed, LabError> {
    crate::engines::bench::drctl(engine.clone(), verb, args, &lab.dir, CLUSTER, DEADLINE).await
}
