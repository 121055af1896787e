//! Whether a consumer holds a supplier's changes, proven from the data when its RUV does not
//! say so. The RUV is the evidence first: a consumer's RUV moves only with what it applied.
//! The agreement's `nsds5agmtmaxcsn` is no evidence at all: the supplier sets it when it logs a
//! change the agreement is to send (`write_changelog_and_ruv`), so it reaches the supplier's
//! head while the consumer is down (chaos seed 7012: a switchover drained into a consumer that
//! had been killed, and lost 106 acknowledged writes). Pitfall 16 is the one case where the RUV
//! trails what the consumer holds: right after a total update the keep-alive entry arrives in
//! the update and its incremental replay moves nothing. So, when the RUV trails, every entry
//! and delete the supplier holds with a change of the replica id newer than the consumer's RUV
//! is looked for on the consumer at that change.

use std::collections::HashMap;

use ldap3::{Scope, SearchEntry};

use super::export::{csn_rid, csns};
use super::state::{first, values};
use super::DsCluster;
use crate::engine::ProcError;

/// Subentries (the keep-alive entry is one) answer a subtree search only when the filter names
/// them.
const EVERY_ENTRY: &str = "(|(objectClass=*)(objectClass=ldapsubentry))";

/// How far a CSN's time may run ahead of the clock that stamped `modifyTimestamp` (the CSN
/// generator adopts the newest time it has seen from any replica): the search looks this far
/// back.
const CLOCK_MARGIN_S: i64 = 3600;

/// The newest CSN of replica `rid` in an entry (`nscpentrywsi` carries one on every value).
fn newest_of(e: &SearchEntry, rid: u16) -> Option<String> {
    values(e, "nscpentrywsi")
        .iter()
        .flat_map(|w| csns(w))
        .filter(|c| csn_rid(c) == Some(rid))
        .max()
}

/// The changes of replica `rid` newer than `since` and up to `until` that `supplier` holds and
/// `consumer` does not hold at that change: entries (by DN, newest CSN of `rid` in them) and
/// deletes (by unique id). Empty: the consumer holds every one of them. An entry changed again
/// after `until` is not asked for: 389 replays a replica id's changes in CSN order, so a
/// consumer that lacks its earlier change lacks the later one, and the RUV says so.
pub(crate) async fn unreplayed(
    cl: &DsCluster,
    supplier: &str,
    consumer: &str,
    rid: u16,
    since: Option<&str>,
    until: &str,
) -> Result<Vec<String>, ProcError> {
    let suffix = cl.node(supplier)?.ldap.suffix.clone();
    let filter = match since.and_then(|c| i64::from_str_radix(c.get(..8)?, 16).ok()) {
        Some(t) => {
            let from = time::OffsetDateTime::from_unix_timestamp(t - CLOCK_MARGIN_S)
                .map_err(|e| ProcError::failed(format!("CSN time {since:?}: {e}")))?;
            format!(
                "(&{EVERY_ENTRY}(modifyTimestamp>={:04}{:02}{:02}{:02}{:02}{:02}Z))",
                from.year(),
                u8::from(from.month()),
                from.day(),
                from.hour(),
                from.minute(),
                from.second()
            )
        }
        None => EVERY_ENTRY.to_string(),
    };
    let newer = |c: &String| since.is_none_or(|s| c.as_str() > s) && c.as_str() <= until;
    let (live, gone) = read(cl, supplier, &suffix, &filter).await?;
    super::export::wsi_readable(supplier, &live)?;
    let wanted: Vec<(String, String)> = live
        .iter()
        .filter_map(|e| Some((e.dn.to_lowercase(), newest_of(e, rid).filter(newer)?)))
        .collect();
    let deleted: Vec<(String, String)> = gone
        .iter()
        .filter_map(|e| {
            let csn = first(e, "nsTombstoneCSN").filter(|c| csn_rid(c) == Some(rid))?;
            Some((first(e, "nsuniqueid")?.to_lowercase(), csn)).filter(|(_, c)| newer(c))
        })
        .collect();
    if wanted.is_empty() && deleted.is_empty() {
        return Ok(Vec::new());
    }
    let (live, gone) = read(cl, consumer, &suffix, &filter).await?;
    let held: HashMap<String, Option<String>> = live
        .iter()
        .map(|e| (e.dn.to_lowercase(), newest_of(e, rid)))
        .collect();
    let tombs: HashMap<String, ()> = gone
        .iter()
        .filter_map(|e| Some((first(e, "nsuniqueid")?.to_lowercase(), ())))
        .collect();
    let mut out: Vec<String> = wanted
        .into_iter()
        .filter(|(dn, csn)| {
            held.get(dn)
                .is_none_or(|h| h.as_deref().is_none_or(|h| h < csn.as_str()))
        })
        .map(|(dn, csn)| format!("{dn} ({csn})"))
        .collect();
    out.extend(
        deleted
            .into_iter()
            .filter(|(id, _)| !tombs.contains_key(id))
            .map(|(id, csn)| format!("the delete of nsuniqueid={id} ({csn})")),
    );
    Ok(out)
}

/// The live entries changed since the filter's time and every tombstone of `node`.
async fn read(
    cl: &DsCluster,
    node: &str,
    suffix: &str,
    filter: &str,
) -> Result<(Vec<SearchEntry>, Vec<SearchEntry>), ProcError> {
    let fail = |e: crate::engines::openldap::LdapError| ProcError::failed(e.to_string());
    let mut s = cl.session(node).await?;
    let live = s
        .search(suffix, Scope::Subtree, filter, &["nscpentrywsi"])
        .await
        .map_err(fail);
    let gone = s
        .search(
            suffix,
            Scope::Subtree,
            "(&(objectClass=nstombstone)(!(nsuniqueid=ffffffff-ffffffff-ffffffff-ffffffff)))",
            &["nsuniqueid", "nsTombstoneCSN"],
        )
        .await
        .map_err(fail);
    s.close().await;
    Ok((live?, gone?))
}
