//! Drills on a lab of real Samba AD DCs (`drill: {kind: samba-ad}`), run by
//! `runbook::drill_runner`: faults (SIGKILL, SIGSTOP, restarts, another runbook), then
//! `expect:` (the PDC emulator's holder as `primary`, health, each DC's role, `holders`: the DC
//! every DC that answers names for a role, and `members`: whether they list a DC). No write client: the lab's DCs take writes only
//! over LDAPS inside the lab's network, and a seize moves no data. Skipped, saying why, where
//! Samba or network namespaces are missing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::assess::{assess, probe_all};
use super::ctx::ClientFiles;
use super::lab::SambaLab;
use super::probe::ROLES;
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
    for (i, inj) in d.inject.iter().enumerate() {
        if matches!(inj, Inject::Writes(_)) {
            c.problem(
                node.mark,
                &format!("drill.inject[{i}]"),
                "writes: a samba-ad drill has no write client",
            );
        }
    }
    if d.writes.is_some() {
        c.problem(
            node.mark,
            "drill.writes",
            "a samba-ad drill has no write client",
        );
    }
    let e = &d.expect;
    let says = "a samba-ad drill expects primary (the PDC emulator's holder), primary_not, \
                healthy, roles (fsmo, dc, unreachable), holders (role: DC), members (DC: \
                normal or removed) and clients (the DCs its client uses, in order)";
    if !(e.ldap.is_empty()
        && e.ldap_absent.is_empty()
        && e.services.is_empty()
        && e.packages.is_empty()
        && e.exported.is_none()
        && e.converged.is_none()
        && !e.no_write_lost)
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

/// No write client: nothing is ever acknowledged.
#[derive(Debug, Default)]
pub(crate) struct NoWrites;

impl Acked for NoWrites {
    fn count(&self) -> u64 {
        0
    }
}

impl DrillLab for SambaLab {
    type Group = Arc<LabDcs>;
    type Acks = NoWrites;
    const NODES: &'static str = "samba-ad DCs";
    const DEADLINE: Duration = DEADLINE;
    const LAB: &'static LabKind = &super::lab::LAB;
    const LOOK_EVERY: Duration = Duration::from_millis(200);
    const WRITER_FIRST: bool = false;

    fn create(dir: &Path, nodes: u16) -> Result<SambaLab, LabError> {
        SambaLab::create(dir, nodes)
    }

    fn discard(self) -> Result<(), LabError> {
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

    fn write(_: &Arc<LabDcs>, _: &Arc<NoWrites>, _: Batch) -> Writing {
        Box::pin(async { Err("a samba-ad drill has no write client".to_string()) })
    }

    /// After a kill or a pause: until the DC is seen not to answer, as an operator finds it.
    async fn settle(nodes: &Arc<LabDcs>, _: &NoWrites, after: &Inject) -> Result<(), LabError> {
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
    async fn look(d: &Drill, nodes: &Arc<LabDcs>, _: &NoWrites) -> (Checks, u64) {
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
        (out, 0)
    }
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
