//! What an openldap drill checks afterwards (`expect:`): the provider, roles, converged data
//! (every answering node follows the provider with equal CSNs and fingerprints) and that every
//! acknowledged write is on the provider. Waits up to a deadline for it all to hold.

use std::collections::BTreeSet;
use std::time::Duration;

use super::writes::{self as lw, Acks};
use crate::engines::openldap::lab_up::as_admin;
use crate::engines::openldap::{LdapCluster, LdapRole};
use crate::runbook::drill_model::Drill;
use crate::runbook::drill_report::{DrillReport, Expectation};
use crate::util::poll;

const DEADLINE: Duration = Duration::from_secs(30);

pub(crate) async fn expect(
    d: &Drill,
    cl: &LdapCluster,
    acks: &Acks,
    report: &mut DrillReport,
) -> Vec<Expectation> {
    let acked: BTreeSet<String> = acks
        .dns
        .lock()
        .expect("acks lock")
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let wait = poll::Deadline::within(DEADLINE, Duration::from_millis(50));
    loop {
        let mut out = Vec::new();
        let mut check =
            |what: String, ok: bool, detail: String| out.push(Expectation { what, ok, detail });
        let view = cl.probe().await;
        let provider = view.provider();
        if let Some(p) = &d.expect.primary {
            check(
                format!("provider is {p}"),
                provider.as_deref() == Some(p),
                format!("provider: {provider:?}"),
            );
        }
        if let Some(p) = &d.expect.primary_not {
            check(
                format!("provider is not {p}"),
                provider.is_some() && provider.as_deref() != Some(p),
                format!("provider: {provider:?}"),
            );
        }
        for (node, role) in &d.expect.roles {
            let have = view
                .state(node)
                .map(|s| s.role.to_string())
                .unwrap_or_else(|| "unreachable".into());
            check(
                format!("{node} is {role}"),
                have == *role,
                format!("{node} is {have}"),
            );
        }
        if let Some(want) = d.expect.healthy {
            let a = view.assess();
            check(
                format!("healthy is {want}"),
                a.healthy == want,
                a.problems.join("; "),
            );
        }
        if d.expect.converged == Some(true) {
            let p = provider.as_deref().and_then(|p| view.state(p));
            let mut wrong = Vec::new();
            let mut fps = BTreeSet::new();
            match p {
                None => wrong.push("no provider answers".to_string()),
                Some(ps) if ps.read_only => wrong.push("the provider is read-only".into()),
                Some(_) => {}
            }
            for n in &view.nodes {
                let Ok(s) = &n.state else { continue };
                fps.insert(s.fingerprint.clone());
                if Some(n.name.as_str()) == provider.as_deref() {
                    continue;
                }
                if s.role != LdapRole::Consumer || view.follows(s) != provider.as_deref() {
                    wrong.push(format!(
                        "{} is a {} of {:?}",
                        n.name,
                        s.role,
                        view.follows(s)
                    ));
                }
                if let Some(ps) = p.filter(|ps| ps.csn != s.csn) {
                    wrong.push(format!("{} CSNs {:?} vs {:?}", n.name, s.csn, ps.csn));
                }
            }
            if fps.len() > 1 {
                wrong.push(format!("{} different fingerprints", fps.len()));
            }
            check(
                "converged: every answering node follows the provider with equal data".into(),
                wrong.is_empty(),
                if wrong.is_empty() {
                    format!("fingerprint {}", fps.into_iter().next().unwrap_or_default())
                } else {
                    wrong.join("; ")
                },
            );
        }
        if d.expect.no_write_lost {
            let node = provider.as_deref().and_then(|p| cl.node(p).ok());
            let present = match node {
                Some(n) => lw::present(&as_admin(n)).await,
                None => Err("no provider answers".into()),
            };
            match present {
                Ok(present) => {
                    let lost: Vec<&String> = acked.difference(&present).collect();
                    report.writes_lost = lost.len() as u64;
                    check(
                        "no acknowledged write lost".into(),
                        lost.is_empty() && !acked.is_empty(),
                        format!(
                            "{} acknowledged, {} on the provider, {} lost{}",
                            acked.len(),
                            present.len(),
                            lost.len(),
                            lost.first()
                                .map(|l| format!(" (e.g. {l})"))
                                .unwrap_or_default()
                        ),
                    );
                }
                Err(e) => check("no acknowledged write lost".into(), false, e),
            }
        }
        if out.iter().all(|x| x.ok) || !wait.again().await {
            return out;
        }
    }
}
