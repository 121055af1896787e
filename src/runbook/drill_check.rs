//! What a drill waits for and checks: roles, replicas caught up, `expect:` (primary, health,
//! roles, no acknowledged write lost).

use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::time::Duration;

use super::directory::Directory;
use super::drill_model::{sync_word, Drill};
use super::drill_report::{fail, Checks, DrillReport, Expectation};
use crate::api::{Role, SyncMode};
use crate::engines::drnode::cluster::{probe, Health, Target};
use crate::engines::drnode::writer;
use crate::lab::LabError;
use crate::util::poll;

const DEADLINE: Duration = Duration::from_secs(30);

pub(super) async fn wait_role(targets: &[Target], node: &str, role: &str) -> Result<(), LabError> {
    let t = target(targets, node)?;
    poll::within(DEADLINE, Duration::from_millis(25), || async {
        let now = t.client.status().await.map(|s| s.role.to_string());
        if now.as_deref().ok() == Some(role) {
            Break(())
        } else {
            Continue(now)
        }
    })
    .await
    .map_err(|now| {
        fail(format!(
            "{node} did not become {role} within {DEADLINE:?} ({now:?})"
        ))
    })
}

/// Waits until the primary holds no open log request of any of `nodes`: a replica paused
/// while its long-poll waited is answered when the poll runs out (2 s by default), and reads
/// the answer once it runs again. Only after that does a write reach nobody but the primary.
/// The nodes named are not asked (they are paused).
pub(super) async fn wait_poll_ends(targets: &[Target], nodes: &[String]) -> Result<(), LabError> {
    for n in nodes {
        target(targets, n)?;
    }
    let others: Vec<&Target> = targets
        .iter()
        .filter(|t| !nodes.contains(&t.name))
        .collect();
    poll::within(DEADLINE, Duration::from_millis(25), || async {
        for t in &others {
            let Ok(s) = t.client.status().await else {
                continue;
            };
            if s.role != Role::Primary {
                continue;
            }
            return match s
                .replicas
                .values()
                .find(|r| r.polling && nodes.contains(&r.name))
            {
                Some(r) => Continue(format!(
                    "{}'s log request on {} is still open",
                    r.name, t.name
                )),
                None => Break(()),
            };
        }
        Continue("no primary answered".to_string())
    })
    .await
    .map_err(|why| fail(format!("{why} after {DEADLINE:?}")))
}

/// How long a replica may take to give up on a lost primary: the default `sync.max_failures`
/// (30 attempts, backing off to 1 s) takes about 26 s; a node configured for more takes longer.
const SYNC_DEADLINE: Duration = Duration::from_secs(120);

/// Waits until `node`'s automatic sync is in `state` (a replica's: on, off or suspended).
pub(super) async fn wait_sync(
    targets: &[Target],
    node: &str,
    state: SyncMode,
) -> Result<(), LabError> {
    let t = target(targets, node)?;
    poll::within(SYNC_DEADLINE, Duration::from_millis(100), || async {
        let now = t
            .client
            .status()
            .await
            .map(|s| (s.role, s.sync.mode(), s.sync.phase));
        if now
            .as_ref()
            .is_ok_and(|(role, mode, _)| *role == Role::Replica && *mode == state)
        {
            Break(())
        } else {
            Continue(now)
        }
    })
    .await
    .map_err(|now| {
        fail(format!(
            "{node}'s automatic sync was not {} within {SYNC_DEADLINE:?} ({now:?})",
            sync_word(state)
        ))
    })
}

/// Waits until every replica that answers holds the primary's last record.
pub(super) async fn wait_caught_up(cluster: &str, targets: &[Target]) -> Result<(), LabError> {
    poll::within(DEADLINE, Duration::from_millis(25), || async {
        let view = probe(cluster, targets).await;
        let head = view.primary().and_then(|p| p.ok()).map(|s| s.head_seq);
        let behind: Vec<String> = view
            .nodes
            .iter()
            .filter_map(|n| n.ok().map(|s| (n, s)))
            .filter(|(_, s)| s.role == Role::Replica && head.is_some_and(|h| s.head_seq < h))
            .map(|(n, _)| n.name.clone())
            .collect();
        if head.is_some() && behind.is_empty() {
            Break(())
        } else {
            Continue(behind)
        }
    })
    .await
    .map_err(|behind| fail(format!("replicas did not catch up: {}", behind.join(", "))))
}

/// Checks `expect:`, waiting up to the deadline for it all to hold.
pub(super) async fn expect(
    d: &Drill,
    cluster: &str,
    targets: &[Target],
    acked: &Path,
    report: &mut DrillReport,
) -> Vec<Expectation> {
    let wait = poll::Deadline::within(DEADLINE, Duration::from_millis(100));
    loop {
        let mut out = Checks::default();
        let view = probe(cluster, targets).await;
        let primary = view.primary().map(|p| p.name.clone());
        out.primary(&d.expect, "primary", primary.as_deref());
        if d.expect.healthy.is_some() {
            // Nodes the drill killed and left down are not counted: all that answer are green.
            let a = view.assess();
            let bad: Vec<String> = view
                .nodes
                .iter()
                .zip(&a.nodes)
                .filter(|(n, x)| n.ok().is_some() && x.health != Health::Green)
                .map(|(n, x)| format!("{}: {}", n.name, x.reasons.join(", ")))
                .collect();
            out.healthy(&d.expect, primary.is_some() && bad.is_empty(), &bad);
        }
        let roles: BTreeMap<String, String> = view
            .nodes
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    n.ok()
                        .map(|s| s.role.to_string())
                        .unwrap_or_else(|| "unreachable".into()),
                )
            })
            .collect();
        out.roles(&d.expect, |node| {
            roles.get(node).cloned().unwrap_or_default()
        });
        let holders = view.roles();
        for (role, node) in &d.expect.holders {
            let have = holders
                .get(role)
                .and_then(|r| view.name_of_host(&r.holder))
                .unwrap_or_else(|| "nobody".into());
            out.check(
                format!("{node} holds {role}"),
                have == *node,
                format!("{have} holds it"),
            );
        }
        for (node, state) in &d.expect.members {
            let have = view
                .members
                .iter()
                .find(|m| m.name == *node)
                .map(|m| format!("{:?}", m.state).to_lowercase())
                .unwrap_or_else(|| "not a member".into());
            out.check(
                format!("{node} is {state}"),
                have == *state,
                format!("{node} is {have}"),
            );
        }
        for (node, want) in &d.expect.services {
            let have = view
                .nodes
                .iter()
                .find(|n| n.name == *node)
                .and_then(|n| n.ok())
                .map(|s| s.services.clone())
                .unwrap_or_else(|| "unreachable".into());
            out.check(
                format!("{node}'s services are {want}"),
                have == *want,
                format!("they are {have}"),
            );
        }
        // Names as listed; contents (sha256) equal wherever a name is held by several nodes.
        let mut held: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (node, want) in &d.expect.packages {
            let have = match targets.iter().find(|t| t.name == *node) {
                Some(t) => match t.client.packages().await {
                    Ok(list) => {
                        let mut names = Vec::new();
                        for p in list {
                            if let Some((other, sha)) = held.get(&p.name) {
                                out.check(
                                    format!("{} is the same on {other} and {node}", p.name),
                                    *sha == p.sha256,
                                    format!("sha256 {sha} on {other}, {} on {node}", p.sha256),
                                );
                            }
                            held.insert(p.name.clone(), (node.clone(), p.sha256));
                            names.push(p.name);
                        }
                        names.sort();
                        names.join(",")
                    }
                    Err(e) => format!("unreadable ({e})"),
                },
                None => "not in the lab".into(),
            };
            let mut want: Vec<&str> = want
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            want.sort();
            let want = want.join(",");
            out.check(
                format!("{node} holds packages [{want}]"),
                have == want,
                format!("it holds [{have}]"),
            );
        }
        if d.expect.no_write_lost {
            let present: HashSet<String> = match primary
                .as_ref()
                .and_then(|p| targets.iter().find(|t| t.name == *p))
            {
                Some(t) => t
                    .client
                    .list_entries(Some("drill/"))
                    .await
                    .map(|v| v.into_iter().map(|e| e.key).collect())
                    .unwrap_or_default(),
                None => HashSet::new(),
            };
            let text = std::fs::read_to_string(acked).unwrap_or_default();
            let (total, missing) = writer::missing_keys(&text, &present);
            report.writes_acknowledged = total;
            report.writes_lost = missing.len() as u64;
            out.check(
                "no acknowledged write lost".into(),
                missing.is_empty() && total > 0,
                format!(
                    "{total} acknowledged, {} missing{}",
                    missing.len(),
                    missing
                        .first()
                        .map(|m| format!(" (first: {m})"))
                        .unwrap_or_default()
                ),
            );
        }
        if let Some(want) = d.expect.exported {
            let dir = acked.parent().unwrap_or(Path::new("."));
            let have = exported_records(dir);
            out.check(
                format!("{want} divergent record(s) exported"),
                have == want,
                format!("{have} record(s) in {}/drctl-*.jsonl", dir.display()),
            );
        }
        if out.all_ok() || !wait.again().await {
            return out.0;
        }
    }
}

/// Lines of the export files (`drctl-demote-*.jsonl`, `drctl-failover-*.jsonl`) in `dir`.
fn exported_records(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.starts_with("drctl-") && name.ends_with(".jsonl")
                })
                .map(|p| {
                    std::fs::read_to_string(p)
                        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count() as u64)
                        .unwrap_or(0)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The directory entries `expect.ldap` names hold the values it gives (DNs compared without
/// regard to case), and those of `expect.ldap_absent` are gone.
pub(super) async fn expect_ldap(d: &Drill, dir: &Directory) -> Vec<Expectation> {
    let mut out = Vec::new();
    for (dn, attrs) in &d.expect.ldap {
        let entry = dir.read(dn).await;
        for (attr, want) in attrs {
            let have: Vec<String> = match &entry {
                Ok(Some(e)) => e
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(attr))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                Ok(None) => vec!["(no such entry)".into()],
                Err(e) => vec![e.to_string()],
            };
            out.push(Expectation {
                what: format!("{dn} {attr} is {want}"),
                ok: have.len() == 1 && have[0].eq_ignore_ascii_case(want),
                detail: have.join("; "),
            });
        }
    }
    for dn in &d.expect.ldap_absent {
        let entry = dir.read(dn).await;
        out.push(Expectation {
            what: format!("{dn} is gone"),
            ok: matches!(entry, Ok(None)),
            detail: match entry {
                Ok(Some(_)) => "it exists".into(),
                Ok(None) => "gone".into(),
                Err(e) => e.to_string(),
            },
        });
    }
    out
}

pub(crate) fn target<'a>(targets: &'a [Target], name: &str) -> Result<&'a Target, LabError> {
    crate::util::names::lookup(targets, name, |t| &t.name)
        .map_err(|_| fail(format!("no node {name}")))
}
