//! What an openldap drill checks afterwards (`expect:`): the provider, roles, converged data
//! (every answering node follows the provider with equal CSNs and fingerprints) and that every
//! acknowledged write is on the provider, in one look (the drill runner looks again until it all
//! holds or its deadline passes).

use std::collections::BTreeSet;

use super::writes::{self as lw, Acks};
use crate::engines::openldap::lab_up::as_admin;
use crate::engines::openldap::{LdapCluster, LdapRole};
use crate::runbook::drill_model::Drill;
use crate::runbook::drill_report::Checks;

/// One look at the lab: the expectations, and how many acknowledged writes are lost.
pub(crate) async fn look(d: &Drill, cl: &LdapCluster, acks: &Acks) -> (Checks, u64) {
    let mut out = Checks::default();
    let mut lost = 0;
    let view = cl.probe().await;
    let provider = view.provider();
    out.primary(&d.expect, "provider", provider.as_deref());
    out.roles(&d.expect, |node| {
        view.state(node)
            .map(|s| s.role.to_string())
            .unwrap_or_else(|| "unreachable".into())
    });
    if d.expect.healthy.is_some() {
        let a = view.assess();
        out.healthy(&d.expect, a.healthy, &a.problems);
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
        out.check(
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
        let acked: BTreeSet<String> = acks
            .dns
            .lock()
            .expect("acks lock")
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        lost = out.no_write_lost(&acked, present, "on the provider");
    }
    (out, lost)
}
