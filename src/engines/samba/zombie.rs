//! What a removed DC took that the domain never received, exported before `join` moves its
//! databases aside (the lab's zombie: restarted with its old disk after the cleanup, it takes
//! client writes for a while, and they go nowhere).
//!
//! A DC's own changes carry its USNs; every other DC's `replUpToDateVector` says up to which USN
//! of that DC's invocation it took them. So the changes the domain lacks are the entries (and
//! deletions: tombstones, read with the Show Deleted control) of each naming context whose
//! `uSNChanged` is above the highest USN any DC that answers took from it. An entry it pulled
//! from another DC after that point is included too: named and exported, never dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ldap3::SearchEntry;

use super::ctx::SambaCtx;
use super::probe::{self, ProbeError};
use crate::engine::ProcError;

/// One change the domain lacks.
#[derive(Debug, Clone)]
pub(crate) struct Taken {
    pub(crate) dn: String,
    pub(crate) usn: u64,
    pub(crate) deleted: bool,
    pub(crate) entry: SearchEntry,
}

fn failed(dc: &str, e: ProbeError) -> ProcError {
    ProcError::failed(format!("cannot read what {dc} took: {e}"))
}

/// The changes `dc` holds that no DC that answers took from it, by DN.
pub(crate) async fn taken(ctx: &SambaCtx, dc: &str) -> Result<Vec<Taken>, ProcError> {
    let n = ctx.node(dc)?;
    let view = probe::probe(n, ctx.timeout)
        .await
        .map_err(|e| failed(dc, e))?;
    let ncs = view.all_ncs();
    let invocation = probe::invocation_id(n, ctx.timeout)
        .await
        .map_err(|e| failed(dc, e))?;
    // The highest USN of its invocation each NC's partners took.
    let mut floor: BTreeMap<&String, u64> = ncs.iter().map(|nc| (nc, 0)).collect();
    for p in ctx.nodes.iter().filter(|p| p.name != n.name) {
        for nc in &ncs {
            if let Ok(Some(usn)) = probe::utd_of(p, ctx.timeout, nc, &invocation).await {
                let f = floor.get_mut(nc).expect("every nc");
                *f = (*f).max(usn);
            }
        }
    }
    let mut out = Vec::new();
    for nc in &ncs {
        let from = floor[nc] + 1;
        let entries = probe::changed_since(n, ctx.timeout, nc, from)
            .await
            .map_err(|e| failed(dc, e))?;
        for e in entries {
            // A subtree search of a naming context also walks the ones below it.
            let own = ncs
                .iter()
                .filter(|x| e.dn.to_ascii_lowercase().ends_with(&x.to_ascii_lowercase()))
                .max_by_key(|x| x.len());
            if own != Some(nc) {
                continue;
            }
            let first = |a: &str| {
                e.attrs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(a))
                    .and_then(|(_, v)| v.first().cloned())
            };
            let usn = first("uSNChanged")
                .and_then(|u| u.parse().ok())
                .unwrap_or(0);
            let deleted = first("isDeleted").is_some_and(|d| d.eq_ignore_ascii_case("TRUE"));
            out.push(Taken {
                dn: e.dn.clone(),
                usn,
                deleted,
                entry: e,
            });
        }
    }
    out.sort_by_key(|t| t.usn);
    Ok(out)
}

/// The changes as LDIF, in the order the DC made them; deterministic, so a rerun finds the file
/// it wrote.
pub(crate) fn to_ldif(dc: &str, taken: &[Taken]) -> String {
    let mut out = format!(
        "# Changes {dc} made that no other DC of the domain received (written by drctl before\n\
         # `join` moved its databases aside). Entries as {dc} held them: drop objectGUID,\n\
         # objectSid, uSN*, when*, instanceType and the other attributes the directory sets\n\
         # before adding one again (ldapadd over LDAPS); a deletion is a tombstone.\n\n"
    );
    for t in taken {
        out.push_str(&format!(
            "# uSNChanged {}{}\n",
            t.usn,
            if t.deleted { " (deleted)" } else { "" }
        ));
        let mut text = String::new();
        crate::util::ldif::line(&mut text, "dn", t.dn.as_bytes());
        let mut attrs: Vec<(&String, &Vec<String>)> = t.entry.attrs.iter().collect();
        attrs.sort();
        for (k, vs) in attrs {
            for v in vs {
                crate::util::ldif::line(&mut text, k, v.as_bytes());
            }
        }
        let mut bins: Vec<(&String, &Vec<Vec<u8>>)> = t.entry.bin_attrs.iter().collect();
        bins.sort();
        for (k, vs) in bins {
            for v in vs {
                crate::util::ldif::line(&mut text, k, v);
            }
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// What the export says: how many changes, where, and each DN.
pub(crate) fn said(taken: &[Taken], path: &Path) -> String {
    let dns: Vec<&str> = taken.iter().map(|t| t.dn.as_str()).collect();
    format!(
        "exported {} change(s) to {}: {}",
        taken.len(),
        crate::util::words::absolute(path).display(),
        dns.join("; ")
    )
}

/// The default export file of a join.
pub(crate) fn default_path(dir: &Path, dc: &str, run_id: &str) -> PathBuf {
    dir.join(format!("drctl-join-{dc}-{run_id}.ldif"))
}

/// Ok(Ok(note)) when exported (or nothing to export); Ok(Err(why)) when not yet.
pub(crate) async fn holds(
    ctx: &SambaCtx,
    dc: &str,
    path: &Path,
) -> Result<Result<String, String>, ProcError> {
    let t = taken(ctx, dc).await?;
    if t.is_empty() {
        return Ok(Ok(format!("{dc} holds no change the domain lacks")));
    }
    let text = to_ldif(dc, &t);
    Ok(if std::fs::read(path).is_ok_and(|b| b == text.as_bytes()) {
        Ok(said(&t, path))
    } else {
        Err(format!("{} change(s) of {dc} not exported", t.len()))
    })
}

pub(crate) async fn apply(
    ctx: &SambaCtx,
    dc: &str,
    path: &Path,
) -> Result<Option<String>, ProcError> {
    let t = taken(ctx, dc).await?;
    if t.is_empty() {
        return Ok(None);
    }
    crate::export_file::write_new(path, to_ldif(dc, &t).as_bytes())?;
    Ok(Some(said(&t, path)))
}
