//! Demoting a restored old supplier (`procedure.demote`, the bundled `demote-old-primary`):
//! the recipe of `shared/engine-labs/389ds/README.md` §5, with its order fixed so that nothing
//! it acknowledged is lost silently:
//!
//! 1. client writes referred to the current supplier (`referral on update`): from here on it
//!    takes none that would go nowhere (pitfall 15);
//! 2. what it holds that the current supplier lacks exported as LDIF, each entry named: every
//!    entry with a CSN of its replica id beyond the current supplier's RUV for that id
//!    (`nscpentrywsi` shows a CSN on every value), and every delete (tombstone) beyond it;
//! 3. its agreements deleted, then the replica entry made a consumer's by a plain modify
//!    (`dsconf replication demote` starts a CleanAllRUV: pitfall 11), accepting only the current
//!    supplier's identity;
//! 4. a clean restart, so its CSN generator forgets the old replica id (pitfall 12);
//! 5. an agreement from the current supplier and a total update (its RUV lost its old id, so
//!    incremental updates cannot reach it: pitfall 17), then verified.

use std::path::{Path, PathBuf};

use base64::Engine;
use ldap3::{Scope, SearchEntry};

use super::assess::DsView;
use super::state::{first, values};
use super::steps::DsAction;
use super::DsCluster;
use crate::engine::{Plan, ProcError, Step};

/// One change `node` holds that the supplier never received.
pub(crate) struct Divergent {
    pub(crate) dn: String,
    /// The newest CSN of the old replica id in it.
    pub(crate) csn: String,
    /// None: a delete (a tombstone).
    pub(crate) entry: Option<SearchEntry>,
}

/// The replica id in a CSN (hex digits 13–16).
fn csn_rid(csn: &str) -> Option<u16> {
    u16::from_str_radix(csn.get(12..16)?, 16).ok()
}

/// Every CSN written in an `nscpentrywsi` value (`attr;adcsn-CSN;vucsn-CSN: value`).
fn csns(wsi: &str) -> Vec<String> {
    wsi.match_indices("csn-")
        .filter_map(|(i, _)| wsi.get(i + 4..i + 24))
        .filter(|c| c.chars().all(|ch| ch.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

/// The changes on `node` of every replica id whose newest change `supplier` lacks, beyond what
/// `supplier` holds of that id, sorted by DN.
pub(crate) async fn divergent(
    cl: &DsCluster,
    node: &str,
    supplier: &str,
) -> Result<Vec<Divergent>, ProcError> {
    let (n, s) = (
        DsAction::state(cl, node).await?,
        DsAction::state(cl, supplier).await?,
    );
    let (Some(rn), Some(rs)) = (&n.replica, &s.replica) else {
        return Ok(Vec::new());
    };
    // Replica id → the supplier's newest CSN of it, for the ids where the node is ahead.
    let ahead: std::collections::BTreeMap<u16, Option<String>> = rn
        .ruv
        .iter()
        .filter(|(rid, e)| {
            e.max
                .as_deref()
                .is_some_and(|m| rs.max(**rid).is_none_or(|o| m > o))
        })
        .map(|(rid, _)| (*rid, rs.max(*rid).map(str::to_string)))
        .collect();
    if ahead.is_empty() {
        return Ok(Vec::new());
    }
    let newer = |c: &String| {
        csn_rid(c)
            .and_then(|r| ahead.get(&r))
            .is_some_and(|b| b.as_deref().is_none_or(|b| c.as_str() > b))
    };
    let suffix = cl.node(node)?.ldap.suffix.clone();
    let fail = |e: crate::engines::openldap::LdapError| ProcError::failed(e.to_string());
    let mut s = cl.session(node).await?;
    let live = s
        .search(
            &suffix,
            Scope::Subtree,
            "(objectClass=*)",
            &["*", "nscpentrywsi"],
        )
        .await
        .map_err(fail)?;
    let gone = s
        .search(
            &suffix,
            Scope::Subtree,
            "(&(objectClass=nstombstone)(!(nsuniqueid=ffffffff-ffffffff-ffffffff-ffffffff)))",
            &["nsTombstoneCSN", "nscpentrydn"],
        )
        .await
        .map_err(fail)?;
    s.close().await;
    let mut out = Vec::new();
    for e in live {
        let newest = values(&e, "nscpentrywsi")
            .iter()
            .flat_map(|w| csns(w))
            .filter(newer)
            .max();
        if let Some(csn) = newest {
            out.push(Divergent {
                dn: e.dn.clone(),
                csn,
                entry: Some(e),
            });
        }
    }
    for e in gone {
        if let Some(csn) = first(&e, "nsTombstoneCSN").filter(newer) {
            out.push(Divergent {
                dn: first(&e, "nscpentrydn").unwrap_or(e.dn),
                csn,
                entry: None,
            });
        }
    }
    out.sort_by_key(|d| d.dn.to_lowercase());
    Ok(out)
}

fn ldif_line(out: &mut String, attr: &str, v: &[u8]) {
    let safe = std::str::from_utf8(v).ok().filter(|s| {
        !s.starts_with([' ', ':', '<'])
            && !s.ends_with(' ')
            && s.chars().all(|c| (' '..='~').contains(&c))
    });
    match safe {
        Some(s) => out.push_str(&format!("{attr}: {s}\n")),
        None => out.push_str(&format!(
            "{attr}:: {}\n",
            base64::engine::general_purpose::STANDARD.encode(v)
        )),
    }
}

/// The changes as LDIF for `ldapmodify -a -c` (adds with user attributes, deletes), parents
/// before children; deterministic, so a rerun finds the file it wrote.
pub(crate) fn to_ldif(node: &str, supplier: &str, changes: &[Divergent]) -> String {
    let mut out = format!(
        "# Changes {node} holds that {supplier} never received (written by drctl).\n\
         # Replay on {supplier} with: ldapmodify -a -c -x -H URL -D DN -W -f THIS_FILE\n\
         # An entry {supplier} holds in another version is refused as existing: merge it by hand.\n\n"
    );
    let mut sorted: Vec<&Divergent> = changes.iter().collect();
    sorted.sort_by_key(|d| (d.dn.matches(',').count(), d.dn.to_lowercase()));
    for d in sorted {
        out.push_str(&format!("# CSN {}\n", d.csn));
        ldif_line(&mut out, "dn", d.dn.as_bytes());
        let Some(e) = &d.entry else {
            out.push_str("changetype: delete\n\n");
            continue;
        };
        out.push_str("changetype: add\n");
        let mut attrs: Vec<(&String, &Vec<String>)> = e
            .attrs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("nscpentrywsi"))
            .collect();
        attrs.sort();
        for (k, vs) in attrs {
            let mut vs = vs.clone();
            vs.sort();
            for v in vs {
                ldif_line(&mut out, k, v.as_bytes());
            }
        }
        let mut bins: Vec<(&String, &Vec<Vec<u8>>)> = e.bin_attrs.iter().collect();
        bins.sort();
        for (k, vs) in bins {
            for v in vs {
                ldif_line(&mut out, k, v);
            }
        }
        out.push('\n');
    }
    out
}

/// The plan from one probe: demote `node` under the current supplier (`to`, when given, must
/// be it), its divergent changes exported to `path` (default: in `export_dir`).
pub(crate) fn plan(
    cl: &DsCluster,
    view: &DsView,
    node: &str,
    to: Option<&str>,
    path: Option<PathBuf>,
    export_dir: &Path,
) -> Result<Plan<DsAction>, ProcError> {
    cl.node(node)?;
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = view.assess();
    let (Some(sup), Some(rid)) = (a.supplier.clone(), a.rid) else {
        return refuse(format!(
            "no supplier answers to demote {node} under: fail over first (drctl failover)"
        ));
    };
    if let Some(t) = to.filter(|t| *t != sup) {
        return refuse(format!("--to {t}: the supplier is {sup}"));
    }
    if sup == node {
        return refuse(format!(
            "{node} is the current supplier: the consumers accept its updates (a 389ds \
             switchover is not automated yet)"
        ));
    }
    let Some(st) = view.state(node) else {
        return refuse(format!("{node} does not answer: start it first"));
    };
    if st.replica.is_none() {
        return refuse(format!("{node}: replication is not enabled for the suffix"));
    }
    let n = cl.node(node)?;
    if n.start_command.is_none() || n.stop_command.is_none() {
        return refuse(format!(
            "{node}: the cluster file gives no start_command and stop_command, and a demoted \
             389ds instance must restart cleanly to forget its replica id"
        ));
    }
    let path =
        path.unwrap_or_else(|| export_dir.join(format!("drctl-demote-{node}-{}.ldif", cl.run_id)));
    let mut plan = Plan::new("389ds demote");
    plan.note(format!(
        "{node} becomes a consumer of {sup} (replica id {rid}); what it holds that {sup} lacks \
         is exported to {} first",
        crate::util::words::absolute(&path).display()
    ));
    plan.step(Step::new(DsAction::Refer {
        node: node.into(),
        to: sup.clone(),
    }));
    plan.step(Step::new(DsAction::Export {
        node: node.into(),
        supplier: sup.clone(),
        path,
    }));
    plan.step(Step::new(DsAction::DropAgreements { node: node.into() }));
    plan.step(
        Step::new(DsAction::Demote {
            node: node.into(),
            rid,
        })
        .point_of_no_return(),
    );
    plan.step(Step::new(DsAction::Settle { node: node.into() }));
    plan.step(Step::new(DsAction::Agreement {
        from: sup.clone(),
        to: node.into(),
        rid,
    }));
    plan.step(Step::new(DsAction::Init {
        from: sup.clone(),
        to: node.into(),
    }));
    plan.step(Step::new(DsAction::Converged { supplier: sup, rid }));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    #[test]
    fn csns_and_their_replica_ids() {
        let w = "uid;adcsn-6b0f50f9000200020000;vucsn-6b0f50f9000200020000: x\ncn;vucsn-6b0f50dd000400010000: y";
        let c = super::csns(w);
        assert_eq!(
            c,
            [
                "6b0f50f9000200020000",
                "6b0f50f9000200020000",
                "6b0f50dd000400010000"
            ]
        );
        assert_eq!(super::csn_rid(&c[2]), Some(1));
        assert_eq!(super::csn_rid(&c[0]), Some(2));
    }
}
