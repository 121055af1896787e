//! Full sync: a replica's whole replicated data replaced by a snapshot streamed from the
//! primary, read line by line, tallied as it arrives and committed in one transaction.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::super::nodedb::NewEvent;
use super::super::store::{SnapshotMsg, SnapshotTally};
use super::super::Node;
use super::{adopt_epoch, PullError};
use crate::api::{DbStatus, Entry, NodeClient, Position, Role, SnapshotLine};

/// Replaces this node's replicated data with a snapshot streamed from the primary.
pub(super) async fn full_sync(
    node: &Arc<Node>,
    client: &NodeClient,
    why: &str,
) -> Result<u64, PullError> {
    node.set_db_status(DbStatus::Initializing);
    node.update_sync(|s| s.phase = "full".into());
    node.full_sync_progress.store(0, Ordering::Relaxed);
    node.event(
        NewEvent::new(
            "sync",
            format!("full sync from {} started: {why}", client.url()),
        )
        .details(serde_json::json!({"mode": "full", "reason": why})),
    );
    let started = std::time::Instant::now();
    let result = stream_snapshot(node, client).await;
    match &result {
        Ok((count, position)) => {
            node.head_tx.send_replace(position.seq);
            // The writes it took alone are replaced (a join exported them first); unless it
            // went standalone meanwhile (the loop is aborted only at its next await).
            if let Err(e) = node.update_state(|s| {
                if s.role == Role::Replica {
                    s.standalone_at = None;
                }
            }) {
                tracing::warn!(error = %e, "cannot clear the standalone point");
            }
            node.set_db_status(DbStatus::Up);
            if node.config.start_services_after_sync {
                let _ = node.set_services(true, &super::super::Caller::default());
            }
            node.update_sync(|s| s.phase = "partial".into());
            node.event(
                NewEvent::new(
                    "sync",
                    format!(
                        "full sync from {} done: {count} entries at {position} in {} ms",
                        client.url(),
                        started.elapsed().as_millis()
                    ),
                )
                .success(true)
                .details(
                    serde_json::json!({"mode": "full", "entries": count, "position": position}),
                ),
            );
        }
        Err(e) => {
            // The store rolled back: the old data is intact and still valid.
            node.set_db_status(DbStatus::Up);
            node.event(
                NewEvent::new(
                    "sync",
                    format!("full sync from {} failed: {e}", client.url()),
                )
                .success(false)
                .details(serde_json::json!({"mode": "full"})),
            );
        }
    }
    result.map(|(c, _)| c).map_err(PullError::Failed)
}

async fn stream_snapshot(node: &Arc<Node>, client: &NodeClient) -> Result<(u64, Position), String> {
    let mut resp = client
        .snapshot(Duration::from_secs(600))
        .await
        .map_err(|e| e.to_string())?;
    let mut buf: Vec<u8> = Vec::new();
    let mut lines: std::collections::VecDeque<SnapshotLine> = std::collections::VecDeque::new();
    // Read up to the header to learn the position and size.
    let (epoch, position, count) = loop {
        if let Some(line) = lines.pop_front() {
            match line {
                SnapshotLine::Header {
                    epoch,
                    position,
                    count,
                } => break (epoch, position, count),
                _ => return Err("snapshot stream did not start with a header".into()),
            }
        }
        read_more(client, &mut resp, &mut buf, &mut lines, "before its header").await?;
    };
    adopt_epoch(node, epoch).await.map_err(|e| match e {
        PullError::Failed(m) | PullError::Removed(m) => m,
        PullError::Diverged { .. } => "diverged".into(),
    })?;
    node.full_sync_total.store(count, Ordering::Relaxed);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<SnapshotMsg>(8);
    let store = node.store.clone();
    let node2 = node.clone();
    let writer = tokio::task::spawn_blocking(move || {
        store.replace_all(position, || rx.blocking_recv(), &node2.full_sync_progress)
    });
    let feed = async {
        let mut batch = Vec::with_capacity(500);
        let mut tally = SnapshotTally::new();
        loop {
            while let Some(line) = lines.pop_front() {
                match line {
                    SnapshotLine::Entry {
                        key,
                        value,
                        epoch,
                        seq,
                    } => {
                        let e = Entry {
                            key,
                            value,
                            epoch,
                            seq,
                        };
                        tally.add(&e);
                        batch.push(e);
                        if batch.len() >= 500 {
                            tx.send(SnapshotMsg::Batch(std::mem::take(&mut batch)))
                                .await
                                .map_err(|_| "the store stopped the full sync".to_string())?;
                        }
                    }
                    SnapshotLine::End { count, digest } => {
                        if !batch.is_empty() {
                            tx.send(SnapshotMsg::Batch(std::mem::take(&mut batch)))
                                .await
                                .map_err(|_| "the store stopped the full sync".to_string())?;
                        }
                        tx.send(SnapshotMsg::End {
                            count,
                            digest,
                            tally,
                        })
                        .await
                        .map_err(|_| "the store stopped the full sync".to_string())?;
                        return Ok::<(), String>(());
                    }
                    SnapshotLine::Header { .. } => return Err("a second snapshot header".into()),
                }
            }
            read_more(client, &mut resp, &mut buf, &mut lines, "early").await?;
        }
    };
    let fed = feed.await;
    drop(tx);
    let stored = writer.await.map_err(|e| e.to_string())?;
    fed?;
    let count = stored.map_err(|e| e.to_string())?;
    Ok((count, position))
}

/// Reads the stream's next chunk and parses the lines it completes into `lines`; the stream
/// ending here is an error ("the snapshot stream ended {when}").
async fn read_more(
    client: &NodeClient,
    resp: &mut reqwest::Response,
    buf: &mut Vec<u8>,
    lines: &mut std::collections::VecDeque<SnapshotLine>,
    when: &str,
) -> Result<(), String> {
    let chunk = client
        .chunk(resp)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the snapshot stream ended {when}"))?;
    split_lines(buf, &chunk, lines)
}

/// Appends `chunk` to `buf` and reads every whole line in it into `out`, keeping the unfinished
/// tail; each line is parsed where it lies (no copy of it).
fn split_lines(
    buf: &mut Vec<u8>,
    chunk: &[u8],
    out: &mut std::collections::VecDeque<SnapshotLine>,
) -> Result<(), String> {
    buf.extend_from_slice(chunk);
    // One pass over the buffer, one move of the unfinished tail: splitting off each line moved
    // the rest of the buffer once per line (quadratic in the lines of a chunk).
    let mut start = 0;
    while let Some(i) = buf[start..].iter().position(|b| *b == b'\n') {
        let line = &buf[start..start + i];
        if !line.is_empty() {
            out.push_back(parse_line(line)?);
        }
        start += i + 1;
    }
    buf.drain(..start);
    Ok(())
}

/// Which line a [`WireLine`] is: its `t` field.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireTag {
    Header,
    Entry,
    End,
}

/// A snapshot line read field by field. [`SnapshotLine`] is tagged by its `t` field, and serde
/// reads such an enum by first copying every field of the line into a buffer of its own: that
/// took most of a replica's time for each entry of a full sync. The lines are the same.
#[derive(Deserialize)]
struct WireLine {
    t: WireTag,
    epoch: Option<u64>,
    position: Option<Position>,
    count: Option<u64>,
    key: Option<String>,
    value: Option<String>,
    seq: Option<u64>,
    digest: Option<String>,
}

fn parse_line(line: &[u8]) -> Result<SnapshotLine, String> {
    let bad = |e: &dyn std::fmt::Display| format!("bad snapshot line: {e}");
    let w: WireLine = serde_json::from_slice(line).map_err(|e| bad(&e))?;
    let missing = |field: &str| bad(&format!("missing field `{field}`"));
    Ok(match w.t {
        WireTag::Header => SnapshotLine::Header {
            epoch: w.epoch.ok_or_else(|| missing("epoch"))?,
            position: w.position.ok_or_else(|| missing("position"))?,
            count: w.count.ok_or_else(|| missing("count"))?,
        },
        WireTag::Entry => SnapshotLine::Entry {
            key: w.key.ok_or_else(|| missing("key"))?,
            value: w.value.ok_or_else(|| missing("value"))?,
            epoch: w.epoch.ok_or_else(|| missing("epoch"))?,
            seq: w.seq.ok_or_else(|| missing("seq"))?,
        },
        WireTag::End => SnapshotLine::End {
            count: w.count.ok_or_else(|| missing("count"))?,
            digest: w.digest.ok_or_else(|| missing("digest"))?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_line, split_lines};
    use crate::api::{Position, SnapshotLine};

    fn wire(l: &SnapshotLine) -> Vec<u8> {
        serde_json::to_vec(l).expect("serializes")
    }

    fn lines() -> [SnapshotLine; 3] {
        [
            SnapshotLine::Header {
                epoch: 3,
                position: Position { epoch: 2, seq: 41 },
                count: 2,
            },
            SnapshotLine::Entry {
                key: "a/\"quoted\"\n".into(),
                value: "ü".into(),
                epoch: 2,
                seq: 40,
            },
            SnapshotLine::End {
                count: 2,
                digest: "ab12".into(),
            },
        ]
    }

    #[test]
    fn lines_split_across_chunks_come_out_whole_and_in_order() {
        let mut stream = Vec::new();
        for l in lines() {
            stream.extend(wire(&l));
            stream.extend(b"\n\n");
        }
        let (mut buf, mut out) = (Vec::new(), std::collections::VecDeque::new());
        for chunk in stream.chunks(7) {
            split_lines(&mut buf, chunk, &mut out).expect("whole lines parse");
        }
        let got: Vec<Vec<u8>> = out.iter().map(wire).collect();
        assert_eq!(got, lines().iter().map(wire).collect::<Vec<_>>());
        assert!(buf.is_empty());
        split_lines(&mut buf, b"{\"t\":\"end\",", &mut out).expect("a part waits");
        assert_eq!(
            buf, b"{\"t\":\"end\",",
            "the unfinished line waits for the next chunk"
        );
    }

    #[test]
    fn every_snapshot_line_reads_back_as_the_primary_wrote_it() {
        for l in lines() {
            let back = parse_line(&wire(&l)).expect("parses");
            assert_eq!(wire(&back), wire(&l));
        }
    }

    #[test]
    fn a_snapshot_line_without_a_field_of_its_kind_is_refused_by_name() {
        let e = parse_line(br#"{"t":"entry","key":"k","epoch":1,"seq":2}"#).unwrap_err();
        assert!(e.contains("missing field `value`"), "{e}");
        let e = parse_line(br#"{"t":"middle","count":1}"#).unwrap_err();
        assert!(
            e.starts_with("bad snapshot line: unknown variant `middle`"),
            "{e}"
        );
        let e = parse_line(b"{\"t\":\"end\",\"count\":1,\"digest\":\"x\"").unwrap_err();
        assert!(e.starts_with("bad snapshot line: EOF"), "{e}");
    }
}
