//! Drills on a lab of real Samba AD DCs (`drill: {kind: samba-ad}`), run by
//! `runbook::drill_runner`: faults (SIGKILL, SIGSTOP, restarts, acknowledged writes, another
//! runbook), then `expect:` (the PDC emulator's holder as `primary`, health, each DC's role,
//! `holders`: the DC every DC that answers names for a role, `members`: whether they list a DC,
//! `clients`, and no acknowledged write lost: every user the write client added is on every DC
//! that answers and is a DC of the domain). Skipped, saying why, where Samba or network
//! namespaces are missing.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::assess::{assess, probe_all};
use super::ctx::ClientFiles;
use super::lab::SambaLab;
use super::probe::ROLES;
use super::writes::{self as sw, Acks};
use super::{engine::Samba, DcNode};
use crate::engine::Bound;
use crate::lab::{LabError, LabKind};
use crate::runbook::drill_hooks::DrillRun;
use crate::runbook::drill_model::{Drill, Inject};
use crate::runbook::drill_report::Checks;
use crate::runbook::drill_runner::{self, Acked, Batch, DrillLab, Writing};
use crate::runbook::front;
use crate::runbook::model::Compiler;
use crate::util::yaml::Node;

const DEADLINE: Duration = Duration::from_secs(90);
const CLUSTER: &str = "samba-ad-lab";

/// What a samba-ad drill cannot do, refused when the runbook loads.
pub(crate) fn validate(c: &mut Compiler, node: &Node, d: &Drill) {
    if d.kind.as_deref() != Some(super::KIND) {
        return;
    }
    crate::runbook::drill_model::check_engine_drill(c, node, d, "samba-ad", 2..=3, "DCs");
    let e = &d.expect;
    let says = "a samba-ad drill expects primary (the PDC emulator's holder), primary_not, \
                healthy, roles (fsmo, dc, unreachable), holders (role: DC), members (DC: \
                normal or removed), clients (the DCs its client uses, in order) and \
                no_write_lost";
    if !(e.ldap.is_empty()
        && e.ldap_absent.is_empty()
        && e.services.is_empty()
        && e.packages.is_empty()
        && e.exported.is_none()
        && e.converged.is_none())
    {
        c.problem(node.mark, "drill.expect", says);
    }
    for role in e.holders.keys() {
        if !ROLES.contains(&role.as_str()) {
            c.problem(
                node.mark,
                "drill.expect.holders",
                format!("{role}: not a samba-ad role ({})", ROLES.join(", ")),
            );
        }
    }
}

/// A lab's DCs and its client's files.
pub(crate) struct LabDcs {
    nodes: Vec<DcNode>,
    clients: Option<ClientFiles>,
}

impl std::ops::Deref for LabDcs {
    type Target = [DcNode];
    fn deref(&self) -> &[DcNode] {
        &self.nodes
    }
}

/// The drill as the registry hands it out.
pub(crate) const START: DrillRun = drill_runner::start::<SambaLab>;

impl Acked for Acks {
    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
    fn retried(&self) -> Option<u64> {
        Some(self.retried.load(Ordering::Relaxed))
    }
}

impl DrillLab for SambaLab {
    type Group = Arc<LabDcs>;
    type Acks = Acks;
    const NODES: &'static str = "samba-ad DCs";
    const DEADLINE: Duration = DEADLINE;
    const LAB: &'static LabKind = &super::lab::LAB;
    const LOOK_EVERY: Duration = Duration::from_millis(200);

    /// A domain takes about 50 s to build (provision, joins, replication settled); a copy of
    /// its stopped DCs' directories starts again in seconds.
    const REUSE: bool = true;

    fn create(dir: &Path, nodes: u16) -> Result<SambaLab, LabError> {
        SambaLab::create(dir, nodes)
    }

    fn stop_all(&mut self) -> Result<(), LabError> {
        SambaLab::stop_all(self)
    }

    fn reopen(dir: &Path) -> Result<SambaLab, LabError> {
        SambaLab::reopen(dir)
    }

    async fn resume(&mut self) -> Result<Arc<LabDcs>, LabError> {
        SambaLab::resume(self, DEADLINE).await?;
        Ok(Arc::new(LabDcs {
            nodes: self.dc_nodes()?,
            clients: self.clients()?,
        }))
    }

    /// SIGKILLs every DC, then removes the lab: a throwaway lab, whose clean stops would cost
    /// seconds (more with a paused DC).
    fn discard(self) -> Result<(), LabError> {
        self.signal_all(crate::lab::Sig::Kill);
        self.down(false).map(drop)
    }

    async fn group(&mut self) -> Result<Arc<LabDcs>, LabError> {
        self.up(DEADLINE).await?;
        Ok(Arc::new(LabDcs {
            nodes: self.dc_nodes()?,
            clients: self.clients()?,
        }))
    }

    fn bind(nodes: &Arc<LabDcs>) -> Bound {
        front::bind(
            Samba::of(CLUSTER, nodes.nodes.clone(), nodes.clients.clone(), "drill"),
            CLUSTER,
            "drill",
            nodes.iter().map(|n| &n.url),
        )
    }

    fn write(nodes: &Arc<LabDcs>, acks: &Arc<Acks>, b: Batch) -> Writing {
        let (nodes, acks) = (nodes.clone(), acks.clone());
        Box::pin(async move {
            sw::write(&nodes.nodes, &b.prefix, b.count, b.rate, DEADLINE, &acks).await
        })
    }

    /// After writes: until every DC has them. After a kill or a pause: until the DC is seen
    /// not to answer. As an operator finds the domain.
    async fn settle(nodes: &Arc<LabDcs>, acks: &Acks, after: &Inject) -> Result<(), LabError> {
        if let Inject::Writes(_) = after {
            return replicated(nodes, acks).await;
        }
        let (Inject::Kill(dc) | Inject::Pause(dc)) = after else {
            return Ok(());
        };
        crate::util::poll::within(DEADLINE, Duration::from_millis(100), || async {
            let dcs = probe_all(nodes, Duration::from_secs(1)).await;
            let silent = dcs.iter().any(|d| d.name == *dc && !d.answers());
            crate::util::poll::holds(silent)
        })
        .await
        .map_err(|()| crate::runbook::drill_report::fail(format!("{dc} still answers")))
    }

    /// `expect:` in one look: the PDC holder, roles, health, and each role's holder as every DC
    /// that answers names it.
    async fn look(d: &Drill, nodes: &Arc<LabDcs>, acks: &Acks) -> (Checks, u64) {
        let mut out = Checks::default();
        let dcs = probe_all(nodes, Duration::from_secs(2)).await;
        let a = assess(&dcs);
        let pdc = a.roles.get("pdc").cloned().flatten();
        out.primary(&d.expect, "PDC emulator", pdc.as_deref());
        out.roles(&d.expect, |dc| match dcs.iter().find(|d| d.name == dc) {
            Some(p) if p.view.is_ok() && a.held_by(dc).is_empty() => "dc".into(),
            Some(p) if p.view.is_ok() => "fsmo".into(),
            _ => "unreachable".into(),
        });
        out.healthy(&d.expect, a.healthy, &a.problems);
        for (role, want) in &d.expect.holders {
            let seen: Vec<String> = dcs
                .iter()
                .filter_map(|p| {
                    let v = p.view.as_ref().ok()?;
                    let h = v.roles.get(role.as_str()).cloned().flatten();
                    Some(format!("{}: {}", p.name, h.as_deref().unwrap_or("nobody")))
                })
                .collect();
            let ok = !seen.is_empty() && seen.iter().all(|s| s.ends_with(&format!(": {want}")));
            out.check(
                format!("every DC that answers names {want} the {role} holder"),
                ok,
                seen.join(", "),
            );
        }
        // A member is normal when every DC that answers lists it, removed when none does.
        for (dc, want) in &d.expect.members {
            let listing: Vec<bool> = dcs
                .iter()
                .filter(|p| p.name != *dc)
                .filter_map(|p| p.view.as_ref().ok())
                .map(|v| v.dcs.iter().any(|x| x.eq_ignore_ascii_case(dc)))
                .collect();
            let have = if !listing.is_empty() && listing.iter().all(|l| *l) {
                "normal"
            } else if !listing.is_empty() && listing.iter().all(|l| !l) {
                "removed"
            } else {
                "listed by some DCs only"
            };
            out.check(
                format!("{dc} is {want}"),
                have == want,
                format!("{dc} is {have}"),
            );
        }
        if !d.expect.clients.is_empty() {
            let (ok, have) = client_dcs(nodes, &d.expect.clients);
            out.check(
                format!("the client uses {}", d.expect.clients.join(", ")),
                ok,
                have,
            );
        }
        let mut lost = 0;
        if d.expect.no_write_lost {
            let members: Vec<&DcNode> = nodes
                .iter()
                .filter(|n| {
                    let answers = dcs.iter().any(|p| p.name == n.name && p.view.is_ok());
                    answers && a.removed(&n.name).is_none()
                })
                .collect();
            let present = sw::held_by_all(&members, Duration::from_secs(2)).await;
            let acked = acks.users.lock().expect("acks lock").clone();
            let on = format!("on every DC that answers ({})", names(&members));
            lost = out.no_write_lost(&acked, present, &on);
        }
        (out, lost)
    }
}

fn names(dcs: &[&DcNode]) -> String {
    dcs.iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Waits until every DC that answers holds every acknowledged user (replication takes seconds).
async fn replicated(nodes: &LabDcs, acks: &Acks) -> Result<(), LabError> {
    let acked = acks.users.lock().expect("acks lock").clone();
    crate::util::poll::within(DEADLINE, Duration::from_millis(200), || async {
        let dcs = probe_all(nodes, Duration::from_secs(1)).await;
        let answering: Vec<&DcNode> = nodes
            .iter()
            .filter(|n| dcs.iter().any(|p| p.name == n.name && p.view.is_ok()))
            .collect();
        match sw::held_by_all(&answering, Duration::from_secs(2)).await {
            Ok(all) if acked.is_subset(&all) => Break(()),
            Ok(all) => Continue(format!(
                "{} of {} acknowledged users on every DC ({})",
                acked.intersection(&all).count(),
                acked.len(),
                names(&answering)
            )),
            Err(e) => Continue(e),
        }
    })
    .await
    .map_err(|why| {
        crate::runbook::drill_report::fail(format!(
            "the writes did not replicate within {DEADLINE:?}: {why}"
        ))
    })
}

/// Whether the lab client's files name exactly the DCs `want` (in order) and nothing else,
/// and what they name.
fn client_dcs(dcs: &LabDcs, want: &[String]) -> (bool, String) {
    let Some(c) = &dcs.clients else {
        return (false, "the lab has no client".into());
    };
    let name_of = |ip: &str| {
        dcs.nodes
            .iter()
            .find(|n| n.address.as_deref() == Some(ip))
            .map(|n| n.name.clone())
            .unwrap_or_else(|| ip.to_string())
    };
    let mut ok = true;
    let mut said = Vec::new();
    for (file, path) in super::clients::files(c) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let realm = dcs.nodes.first().map(|n| n.realm.as_str()).unwrap_or("");
        let have: Vec<String> = super::clients::listed(file, &text, realm)
            .iter()
            .map(|ip| name_of(ip))
            .collect();
        ok &= have == want;
        said.push(format!("{}: {}", path.display(), have.join(", ")));
    }
    (ok, said.join("; "))
}
