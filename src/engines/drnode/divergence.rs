//! Which records of a node never reached the primary (the M-Vault "unpropagated updates"):
//! everything past the last position both logs share.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::ProcError;
use crate::api::logic::{common_point, holds, known_positions, snapshot_common};
use crate::api::{Entry, LogRecord, Op, Position};
use crate::engines::drnode::cluster::Target;

#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    /// The last position both logs share.
    pub common: Position,
    /// Records of the node past `common`: writes the primary never had.
    pub records: u64,
    pub node_head: u64,
    /// Where the node's log starts: its data below came by a full sync, as a snapshot.
    #[serde(skip)]
    pub base: u64,
}

/// Reads the node, then the primary, one after the other (never concurrently): the node's head
/// is the end of the very terms compared, and the primary's log only grows, so a replica merely
/// behind (or just caught up, under writes) can never look ahead of the primary (issue 10 item 6).
/// Records written since the node became standalone are the node's alone, whatever positions
/// they share with the primary's (a wiped node writes seq 1, 2, … again at the cluster epoch).
///
/// A primary whose log starts after a full sync (or a truncation) has no term for what lies
/// below: there the node's records are compared with the primary's data instead (chaos seeds
/// 6158, 6283, 6308 exported writes the primary held). A node whose own log starts after a full
/// sync holds a snapshot there: it is shared only if the primary holds its base, else its
/// entries tell which writes the primary never had (chaos seed 40242: a replica copied from the
/// old primary past the new one's promotion looked as if it shared everything).
pub async fn divergence(node: &Target, primary: &Target) -> Result<Divergence, ProcError> {
    let status = node.client.status().await?;
    let mine = node.client.terms().await?;
    let theirs = primary.client.terms().await?;
    // Where the primary's kept log starts: below it, it holds a snapshot, not records.
    let their_base = match theirs.first() {
        Some(first) => first.first_seq - 1,
        None => primary.client.status().await?.head_seq,
    };
    // The head of the reading compared: the terms' end (read after the status, so at or past
    // its head), or the status's head for a log that holds no record.
    let node_head = mine
        .iter()
        .map(|t| t.last_seq)
        .max()
        .unwrap_or(status.head_seq);
    let base = status.log_base;
    let mut common = if mine.is_empty() {
        base
    } else {
        common_point(&mine, &theirs, base)
    };
    let below = their_base.min(node_head);
    if below > common.seq && !mine.is_empty() {
        if let Some(held) = last_held(node, primary, common.seq, below).await? {
            common = held;
        }
    }
    let mut from_snapshot = 0;
    if common.seq <= base.seq && base.seq > 0 {
        (common, from_snapshot) = snapshot_shared(node, primary, &theirs, base).await?;
    }
    if let Some(at) = status.standalone_at {
        if node_head > at.seq && at.seq < common.seq {
            common = at;
        }
    }
    Ok(Divergence {
        common,
        records: if common.seq < base.seq {
            from_snapshot + node_head.saturating_sub(base.seq)
        } else {
            node_head.saturating_sub(common.seq)
        },
        node_head,
        base: base.seq,
    })
}

/// How much of the node's snapshot (its data at `base`, copied by a full sync) the primary
/// holds: all of it if the primary's history passes `base`, else up to the newest entry it
/// holds as the very same write. Returns that point and the count of entries past it. The
/// primary's entries are read only when its terms cannot tell.
async fn snapshot_shared(
    node: &Target,
    primary: &Target,
    theirs: &[crate::api::Term],
    base: Position,
) -> Result<(Position, u64), ProcError> {
    let known = known_positions(theirs, primary.client.status().await?.log_base);
    if holds(&known, base) {
        return Ok((base, 0));
    }
    let mut mine = snapshot_entries(node, 0, base.seq).await?;
    let theirs: HashMap<String, Entry> = primary
        .client
        .list_entries(None)
        .await?
        .into_iter()
        .map(|e| (e.key.clone(), e))
        .collect();
    let (common, past) = snapshot_common(&mut mine, |e| {
        holds(
            &known,
            Position {
                epoch: e.epoch,
                seq: e.seq,
            },
        ) || theirs.get(&e.key).is_some_and(|t| t == e)
    });
    Ok((common, past as u64))
}

/// The node's entries last written in `(after, upto]`, oldest first.
async fn snapshot_entries(node: &Target, after: u64, upto: u64) -> Result<Vec<Entry>, ProcError> {
    let mut entries: Vec<Entry> = node
        .client
        .list_entries(None)
        .await?
        .into_iter()
        .filter(|e| e.seq > after && e.seq <= upto)
        .collect();
    entries.sort_by_key(|e| e.seq);
    Ok(entries)
}

/// The node's last record in `(after, upto]` that the primary holds as the very same write (its
/// entry for the key carries the record's epoch, seq and value): by log matching, the node's
/// history up to it is the primary's. Read from the top down, a page at a time; a record the
/// primary superseded or deleted proves nothing, so the search goes on below it.
async fn last_held(
    node: &Target,
    primary: &Target,
    after: u64,
    mut upto: u64,
) -> Result<Option<Position>, ProcError> {
    const PAGE: u64 = 1_000;
    // A key written again and again is asked for once.
    let mut theirs: HashMap<String, Option<Entry>> = HashMap::new();
    while upto > after {
        let from = upto.saturating_sub(PAGE).max(after);
        let page = node.client.read_log(from, upto - from).await?;
        for r in page.iter().rev().filter(|r| r.seq <= upto) {
            // A deletion leaves nothing to compare; system records are not served.
            if r.op != Op::Put || r.key.starts_with(crate::api::SYS_PREFIX) {
                continue;
            }
            let entry = match theirs.get(&r.key) {
                Some(e) => e.clone(),
                None => {
                    let e = primary.client.get_entry(&r.key).await?;
                    theirs.insert(r.key.clone(), e.clone());
                    e
                }
            };
            if entry.is_some_and(|e| {
                e.epoch == r.epoch && e.seq == r.seq && Some(&e.value) == r.value.as_ref()
            }) {
                return Ok(Some(Position {
                    epoch: r.epoch,
                    seq: r.seq,
                }));
            }
        }
        upto = from;
    }
    Ok(None)
}

/// One exported record (a JSON line).
#[derive(Serialize)]
struct Exported<'a> {
    key: &'a str,
    value: Option<&'a str>,
    op: Op,
    epoch: u64,
    seq: u64,
}

/// Writes the node's records after the common point to `path` as JSON lines; returns the count.
pub(super) async fn export_records(
    node: &Target,
    d: &Divergence,
    path: &Path,
) -> Result<u64, ProcError> {
    // Writes the node's snapshot holds past the common point: its keys' last writes there.
    let mut records: Vec<LogRecord> = if d.common.seq < d.base {
        snapshot_entries(node, d.common.seq, d.base)
            .await?
            .into_iter()
            .map(|e| LogRecord {
                epoch: e.epoch,
                seq: e.seq,
                op: Op::Put,
                key: e.key,
                value: Some(e.value),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut after = d.common.seq.max(d.base);
    loop {
        let page = node.client.read_log(after, 10_000).await?;
        let done = page.len() < 10_000;
        after = page.last().map(|r| r.seq).unwrap_or(after);
        records.extend(page);
        if done {
            break;
        }
    }
    let mut text = String::new();
    for r in &records {
        let line = serde_json::to_string(&Exported {
            key: &r.key,
            value: r.value.as_deref(),
            op: r.op,
            epoch: r.epoch,
            seq: r.seq,
        })
        .expect("records serialize");
        text.push_str(&line);
        text.push('\n');
    }
    // Nothing to export writes no file (a standalone node joined with nothing of its own).
    if !records.is_empty() {
        crate::export_file::write_extending(path, text.as_bytes())?;
    }
    Ok(records.len() as u64)
}

/// Exports `node`'s records that `primary` never had. A standalone node takes writes while they
/// are exported (an application on its host): its writes are drained first (in-flight ones
/// finish; the drain runs out by itself if drctl dies), then it follows `primary` by full sync
/// in the same step, only if its head is still the one exported, else the export is made again
/// (chaos seed 30038: a write acknowledged between the export and the full sync was lost; seed
/// 704 at 400 writes/s on a loaded CI machine: without the drain no export round won the race).
/// A fenced or restored old primary takes no write: its export stands alone.
pub(super) async fn export_divergent(
    cl: &super::Cluster,
    node: &str,
    primary: &str,
    path: &std::path::Path,
) -> Result<Option<String>, ProcError> {
    const ATTEMPTS: u32 = 5;
    let (n, p) = (cl.target(node)?, cl.target(primary)?);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let standalone = n.client.status().await?.role == crate::api::Role::Standalone;
        if standalone {
            n.client.drain(super::step::DRAIN_TTL_MS).await?;
        }
        let d = divergence(n, p).await?;
        let count = export_records(n, &d, path).await?;
        let exported = if count == 0 {
            format!("{node} held nothing {primary} lacks: nothing exported, no file written")
        } else {
            format!(
                "exported {} of {node} that {primary} never had to {}",
                crate::util::words::count(count, "record"),
                crate::util::words::absolute(path).display()
            )
        };
        if !standalone {
            return Ok(Some(exported));
        }
        let primary_url = cl.status(primary).await?.url;
        let req = crate::api::FollowRequest {
            primary_url,
            full_sync: true,
            sync_on: true,
            if_head: Some(d.node_head),
        };
        match n.client.follow(&req).await {
            Ok(_) => {
                // A replica now: its writes go to the primary; the drain is of no more use.
                let _ = n.client.undrain().await;
                return Ok(Some(format!(
                    "{exported}; then, its writes drained and its head unchanged since, it \
                     follows {primary} by full sync{}",
                    if attempt > 1 {
                        format!(" (exported {attempt} times: it took writes meanwhile)")
                    } else {
                        String::new()
                    }
                )));
            }
            Err(crate::api::client::ClientError::Api { status: 409, .. }) if attempt < ATTEMPTS => {
            }
            Err(e) => {
                // It stays standalone: it takes writes again at once, not when the drain ends.
                let _ = n.client.undrain().await;
                return Err(e.into());
            }
        }
    }
}
