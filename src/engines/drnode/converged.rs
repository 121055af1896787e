//! The final verification of most procedures: every reachable node follows the primary and
//! holds what it had; old primaries and diverged replicas awaiting demotion, replicas of another
//! node, silent nodes and nodes whose automatic sync is off or suspended, and a primary setting
//! naming another node, are named, not waited for.

use super::{Cluster, ProcError};
use crate::api::{Role, SyncMode};

/// The primary's head when a verification began, taken at its first attempt: a replica that
/// holds it has caught up with everything written before the step. Under a steady write load
/// the head moves on every poll; waiting for a replica to equal the head of the moment chased
/// it.
#[derive(Default)]
pub(super) struct Mark(std::sync::Mutex<Option<u64>>);

impl Mark {
    /// The head taken first; `now` is the primary's head at this attempt.
    pub(super) fn head(&self, now: u64) -> u64 {
        *self.0.lock().expect("mark lock").get_or_insert(now)
    }
}

/// Ok(note) when every reachable node follows `primary` and holds everything `primary` had
/// before the check; nodes that do not answer, and old primaries awaiting demotion, are named.
/// `verifying`: the check after the steps ran, when a superseded `primary` fails at once; before
/// them (the check that skips a done step, a dry run) it is only not done yet: a forced failover
/// promotes a fenced node in an earlier step (chaos seed 42020).
///
/// `since` holds the primary's head at the first attempt of a verification (set by it): a
/// replica that holds it holds everything written before the verification began. Under a
/// steady write load the head moves between any two probes; a replica compared with the head
/// of the moment is nearly always a few records behind, so a repoint under 1,400 writes/s
/// timed out with both replicas replicating.
pub(super) async fn converged(
    cl: &Cluster,
    primary: &str,
    verifying: bool,
    since: &Mark,
) -> Result<Result<String, String>, ProcError> {
    let (view, p) = cl.probe_with_status(primary).await?;
    let epoch = view.epoch();
    // Fenced, or primary at an epoch another promotion superseded: that never undoes itself, so
    // waiting would only time out (chaos seed 42052: a resumed switchover waited 60 s for the
    // node a later failover had fenced).
    if verifying && (p.role == Role::Fenced || (p.role == Role::Primary && p.epoch < epoch)) {
        return Err(ProcError::failed(format!(
            "{primary} is {} at epoch {} and the cluster is at epoch {epoch}: a later promotion \
             superseded it; see `drctl status`",
            p.role, p.epoch
        )));
    }
    // A replica or standalone node while another is the primary: only another procedure makes
    // it primary again (chaos seed 46116: a resumed switchover's last wait spent 60 s on its
    // target, a replica since a later switchover, and the policy's deadline ran out).
    if let Some(other) = view
        .primary()
        .filter(|q| verifying && q.name != primary)
        .filter(|_| matches!(p.role, Role::Replica | Role::Standalone))
    {
        return Err(ProcError::failed(format!(
            "{primary} is {} and {} is the primary at epoch {epoch}: a later procedure \
             superseded this one; see `drctl status`",
            p.role, other.name
        )));
    }
    if p.role != Role::Primary || p.epoch < epoch {
        return Ok(Err(format!(
            "{primary} is {} at epoch {} (cluster epoch {epoch})",
            p.role, p.epoch
        )));
    }
    let head = since.head(p.head_seq);
    let mut notes = Vec::new();
    // Named, never waited for: no verification changes the setting (the procedures that set it
    // verify it in their own step). A rejoin's last wait after a switchover stopped before
    // its setting waited 60 s for it and ended "timed out" (chaos seeds 6025, 6081).
    if p.primary_setting.as_deref() != Some(primary) {
        notes.push(format!(
            "the primary setting is {}, not {primary}: run `drctl repoint --primary {primary}`",
            p.primary_setting.as_deref().unwrap_or("unset")
        ));
    }
    for n in &view.nodes {
        if n.name == primary {
            continue;
        }
        // A removed member is out of the group: named, never waited for.
        if view.is_removed(n) {
            notes.push(format!(
                "{} is a removed member: `drctl run rejoin-removed-node --var node={}` brings it back",
                n.name, n.name
            ));
            continue;
        }
        let s = match &n.status {
            Ok(s) => s,
            Err(_) => {
                notes.push(format!("{} does not answer", n.name));
                continue;
            }
        };
        match s.role {
            Role::Fenced => {
                notes.push(format!(
                    "{} is fenced: run `drctl demote {}`",
                    n.name, n.name
                ));
                continue;
            }
            Role::Primary if s.epoch < epoch => {
                notes.push(format!(
                    "{} is an old primary (epoch {}): run `drctl demote {}`",
                    n.name, s.epoch, n.name
                ));
                continue;
            }
            Role::Standalone => {
                notes.push(format!("{} is standalone", n.name));
                continue;
            }
            _ => {}
        }
        let follows =
            s.role == Role::Replica && s.following.as_ref().is_some_and(|f| f.url == p.url);
        if !follows {
            // Left to `demote` by the plan: it holds writes the primary never had, so following
            // would drop them (chaos seed 40242). Named, never waited for.
            if s.role == Role::Replica {
                let d = super::divergence(cl.target(&n.name)?, cl.target(primary)?).await?;
                if d.records > 0 {
                    notes.push(format!(
                        "{} holds {} {primary} never had: run `drctl demote {}`",
                        n.name,
                        crate::util::words::count(d.records, "record"),
                        n.name
                    ));
                    continue;
                }
            }
            // A replica of another node: nothing repoints it but a procedure, and this one's
            // steps are behind it, so waiting would only time out (chaos seeds 46284, 46295: a
            // replica of a fenced node, its sync suspended, held a rejoin's last wait for 60 s).
            if s.role == Role::Replica {
                let of = s
                    .following
                    .as_ref()
                    .map(|f| {
                        view.nodes
                            .iter()
                            .find(|m| m.ok().is_some_and(|m| m.url == f.url))
                            .map(|m| m.name.clone())
                            .unwrap_or_else(|| f.url.clone())
                    })
                    .unwrap_or_else(|| "no node".into());
                notes.push(format!(
                    "{} replicates from {of}, not {primary}: run `drctl repoint --primary {primary}`",
                    n.name
                ));
                continue;
            }
            return Ok(Err(format!(
                "{} is {} and does not follow {primary}",
                n.name, s.role
            )));
        }
        // Its history split from the primary's: it never catches up by itself, waiting for it
        // would only time out (chaos seed 40242). `demote` exports what the primary lacks.
        if s.sync.phase == "diverged" {
            notes.push(format!(
                "{} diverged from {primary}{}: run `drctl demote {}` to export them and resync it",
                n.name,
                s.sync
                    .divergent_records
                    .map(|r| format!(" ({} it never had)", crate::util::words::count(r, "record")))
                    .unwrap_or_default(),
                n.name
            ));
            continue;
        }
        match s.sync.mode() {
            // The operator's choice, on a node this procedure did not make follow (a procedure
            // that does turns it on): named, not waited for, like a standalone node.
            SyncMode::Off => {
                notes.push(format!(
                    "{}'s automatic sync is off by operator command: it does not replicate \
                     (`drctl sync auto on {}`)",
                    n.name, n.name
                ));
                continue;
            }
            // Suspended after failures, on a node this procedure did not make follow (following
            // lifts a suspension): it resumes only on a command, so waiting for it would only
            // time out (chaos seed 4246: a rejoin of another node waited 60 s on it). Named.
            SyncMode::Suspended => {
                notes.push(format!(
                    "{}'s automatic sync suspended itself after failures: it does not replicate \
                     until `drctl sync auto on {}`",
                    n.name, n.name
                ));
                continue;
            }
            SyncMode::On => {}
        }
        // Holding the records is not enough: a replica that does not pull would not hold the
        // next one.
        if s.head_seq < head || !s.sync.replicating() {
            return Ok(Err(format!(
                "{} holds seq {} of {head} (sync {})",
                n.name, s.head_seq, s.sync.phase
            )));
        }
        if s.head_seq == p.head_seq && s.digest != p.digest {
            // Same position, different data: never call that converged.
            return Err(ProcError::failed(format!(
                "{} holds seq {} like {primary} but different data (digest {} vs {})",
                n.name,
                s.head_seq,
                &s.digest[..12.min(s.digest.len())],
                &p.digest[..12.min(p.digest.len())]
            )));
        }
    }
    Ok(Ok(if notes.is_empty() {
        format!("every node follows {primary}")
    } else {
        notes.join("; ")
    }))
}
