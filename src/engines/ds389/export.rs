//! What a server holds that the supplier never received, for the demotion of a restored old
//! supplier: every entry with a CSN (from `nscpentrywsi`, one on every value) of a replica id
//! whose newest change the supplier lacks, beyond what the supplier holds of that id, and every
//! delete (tombstone) beyond it; on a server whose replica did not load, every entry without a
//! CSN the supplier lacks; written as LDIF for `ldapmodify -a -c`, each entry named.

use ldap3::{Scope, SearchEntry};

use super::state::{first, read_state, values, DsState};
use super::DsCluster;
use crate::engine::ProcError;

async fn state(cl: &DsCluster, node: &str) -> Result<DsState, ProcError> {
    let n = cl.node(node)?;
    let mut s = cl.session(node).await?;
    let st = read_state(&mut s, &n.ldap.suffix)
        .await
        .map_err(|e| ProcError::failed(e.to_string()));
    s.close().await;
    st
}

/// One change `node` holds that the supplier never received.
pub(crate) struct Divergent {
    pub(crate) dn: String,
    /// The newest CSN of the old replica id in it.
    pub(crate) csn: String,
    /// None: a delete (a tombstone).
    pub(crate) entry: Option<SearchEntry>,
}

/// The replica id in a CSN (hex digits 13–16).
pub(crate) fn csn_rid(csn: &str) -> Option<u16> {
    u16::from_str_radix(csn.get(12..16)?, 16).ok()
}

/// Every CSN written in an `nscpentrywsi` value (`attr;adcsn-CSN;vucsn-CSN: value`).
pub(crate) fn csns(wsi: &str) -> Vec<String> {
    wsi.match_indices("csn-")
        .filter_map(|(i, _)| wsi.get(i + 4..i + 24))
        .filter(|c| c.chars().all(|ch| ch.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

/// Fails unless `entries` (a search for `nscpentrywsi`) carry it: only Directory Manager reads
/// it, and without it every entry would look as if it held no change at all.
pub(crate) fn wsi_readable(node: &str, entries: &[SearchEntry]) -> Result<(), ProcError> {
    let carried = |e: &SearchEntry| {
        e.attrs
            .keys()
            .chain(e.bin_attrs.keys())
            .any(|k| k.eq_ignore_ascii_case("nscpentrywsi"))
    };
    if entries.is_empty() || entries.iter().any(carried) {
        return Ok(());
    }
    Err(ProcError::failed(format!(
        "{node}: the entries' change state (nscpentrywsi) cannot be read: bind as Directory \
         Manager (bind_dn in the cluster file)"
    )))
}

/// The changes on `node` of every replica id whose newest change `supplier` lacks, beyond what
/// `supplier` holds of that id, sorted by DN.
pub(crate) async fn divergent(
    cl: &DsCluster,
    node: &str,
    supplier: &str,
) -> Result<Vec<Divergent>, ProcError> {
    let (n, s) = (state(cl, node).await?, state(cl, supplier).await?);
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
    // Replication off (its replica did not load): what it took carries no CSN at all. The adds
    // among it are the entries without any CSN that the supplier lacks (an entry loaded before
    // replication was enabled has none either, but the supplier has it too).
    let unlogged = !rn.loaded;
    if ahead.is_empty() && !unlogged {
        return Ok(Vec::new());
    }
    // Without its RUV (replication off) every CSN beyond what the supplier holds of its id.
    let newer = |c: &String| match csn_rid(c) {
        Some(r) if unlogged => rs.max(r).is_none_or(|b| c.as_str() > b),
        Some(r) => ahead
            .get(&r)
            .is_some_and(|b| b.as_deref().is_none_or(|b| c.as_str() > b)),
        None => false,
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
    wsi_readable(node, &live)?;
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
    let mut no_csn = Vec::new();
    for e in live {
        let all: Vec<String> = values(&e, "nscpentrywsi")
            .iter()
            .flat_map(|w| csns(w))
            .collect();
        if unlogged && all.is_empty() {
            no_csn.push(e);
            continue;
        }
        if let Some(csn) = all.into_iter().filter(newer).max() {
            out.push(Divergent {
                dn: e.dn.clone(),
                csn,
                entry: Some(e),
            });
        }
    }
    if !no_csn.is_empty() {
        let mut sup = cl.session(supplier).await?;
        for e in no_csn {
            if sup.read(&e.dn, &["1.1"]).await.map_err(fail)?.is_none() {
                out.push(Divergent {
                    dn: e.dn.clone(),
                    csn: "none (taken while replication was off)".into(),
                    entry: Some(e),
                });
            }
        }
        sup.close().await;
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
        crate::util::ldif::line(&mut out, "dn", d.dn.as_bytes());
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
                crate::util::ldif::line(&mut out, k, v.as_bytes());
            }
        }
        let mut bins: Vec<(&String, &Vec<Vec<u8>>)> = e.bin_attrs.iter().collect();
        bins.sort();
        for (k, vs) in bins {
            for v in vs {
                crate::util::ldif::line(&mut out, k, v);
            }
        }
        out.push('\n');
    }
    out
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
