//! When is a node where a step wants it: following a provider, holding its data (judged
//! without being fooled by writes racing the probe), and the olcSyncrepl value to point a
//! node at a new provider.

use super::csn::{classify, CsnMap, Position};
use super::state::{syncrepl_param, LdapRole, NodeState};
use super::LdapCluster;
use crate::engine::ProcError;

pub(super) fn follows(st: &NodeState, url: &str) -> bool {
    st.role == LdapRole::Consumer
        && st.provider_urls == [url.to_string()]
        && st
            .update_ref
            .iter()
            .map(|u| u.trim_end_matches('/'))
            .eq([url])
        && !st.read_only
}

pub(super) fn is_provider(st: &NodeState) -> bool {
    st.role == LdapRole::Provider && st.update_ref.is_empty()
}

pub(super) fn same_data(a: &NodeState, b: &NodeState) -> bool {
    classify(&a.csn, &b.csn) == Position::InSync && a.fingerprint == b.fingerprint
}

/// The olcSyncrepl value pointing at `url`: the node's own (same rid), else another node's.
pub(super) async fn syncrepl_for(
    cl: &LdapCluster,
    st: &NodeState,
    node: &str,
    url: &str,
) -> Result<String, ProcError> {
    let mut template = st.syncrepl.first().cloned().or_else(|| cl.template());
    if template.is_none() {
        for n in cl.nodes.iter().filter(|n| n.name != node) {
            if let Ok(o) = cl.config(&n.name).await {
                if let Some(v) = o.syncrepl.first() {
                    template = Some(v.clone());
                    break;
                }
            }
        }
    }
    let t = template.ok_or_else(|| ProcError::failed(format!(
        "no node has an olcSyncrepl to copy for {node} (replicator bind DN and credentials): add one by hand")))?;
    let old = syncrepl_param(&t, "provider").unwrap_or_default();
    Ok(t.replacen(&format!("provider={old}"), &format!("provider={url}"), 1))
}

/// The provider's CSNs when a verification began, taken at its first attempt: a consumer that
/// holds them holds everything written before the step. Under a steady write load the
/// provider's CSNs move between any two reads; a consumer held to the CSNs of the moment has a
/// target that moves on (drnode's and 389-DS's waits timed out so). Here the reads of every
/// entry at each look cost more than the chase: under 4 ldapadd streams the repoint took as long
/// with the mark as without it.
#[derive(Default)]
pub(super) struct Mark(std::sync::Mutex<Option<CsnMap>>);

impl Mark {
    /// The CSNs taken first; `read` gives the provider's state at this attempt when none were
    /// taken yet (the provider is read only on the first attempt).
    pub(super) async fn csns<F>(&self, read: F) -> Result<Result<CsnMap, String>, ProcError>
    where
        F: std::future::Future<Output = Result<Result<CsnMap, String>, ProcError>>,
    {
        if let Some(c) = self.0.lock().expect("mark lock").clone() {
            return Ok(Ok(c));
        }
        let c = read.await?;
        if let Ok(c) = &c {
            *self.0.lock().expect("mark lock") = Some(c.clone());
        }
        Ok(c)
    }
}

/// Whether consumer `s` holds everything the provider had before `s` was read (`before`),
/// judged against the provider read after it (`after`) so that writes racing the probe never
/// look like divergence. Equal CSNs must also mean equal data (after kill -9 they may not).
pub(super) fn caught_up(
    name: &str,
    s: &NodeState,
    before: &CsnMap,
    after: &NodeState,
) -> Result<Result<(), String>, ProcError> {
    if let Position::Diverged(sids) = classify(&s.csn, &after.csn) {
        return Err(ProcError::failed(format!(
            "{name} diverged (newer CSN for serverID {} than the provider): run `drctl demote {name}`", sids.join(","))));
    }
    let behind: Vec<&String> = before
        .iter()
        .filter(|(sid, c)| s.csn.get(*sid).is_none_or(|m| m < *c))
        .map(|(sid, _)| sid)
        .collect();
    if !behind.is_empty() {
        return Ok(Err(format!(
            "{name} is behind for serverID {:?} ({} of {} entries)",
            behind, s.entries, after.entries
        )));
    }
    if s.csn == after.csn && s.fingerprint != after.fingerprint {
        return Ok(Err(format!(
            "{name} has the provider's CSNs but other data (fingerprint {} vs {})",
            s.fingerprint, after.fingerprint
        )));
    }
    Ok(Ok(()))
}

/// Ok(note) when every reachable node follows `provider` and holds what it had when the
/// verification began (`since`, set by its first attempt); old providers and stalled nodes are
/// named, not waited for.
pub(super) async fn converged(
    cl: &LdapCluster,
    provider: &str,
    require: &[String],
    stalled: &[String],
    since: &Mark,
) -> Result<Result<Option<String>, String>, ProcError> {
    let writable = |st: &NodeState| {
        if is_provider(st) && !st.read_only {
            Ok(())
        } else {
            Err(format!("{provider} is not a writable provider"))
        }
    };
    let before = match since
        .csns(async {
            let st = cl.state(provider).await?;
            Ok(writable(&st).map(|()| st.csn))
        })
        .await?
    {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let url = &cl.node(provider)?.url;
    // The probe's own reading of the provider serves as the one after the consumers: the probe
    // reads a provider again after any node that looks ahead of it, so a write racing the probe
    // never looks like divergence. A reading of its own cost one more read of every entry on
    // each look.
    let view = cl.probe().await;
    let Some(after) = view.state(provider) else {
        return Ok(Err(format!("{provider} does not answer")));
    };
    if let Err(why) = writable(after) {
        return Ok(Err(why));
    }
    let mut notes = Vec::new();
    for n in view.nodes.iter().filter(|n| n.name != provider) {
        let s = match &n.state {
            Err(_) if require.contains(&n.name) => {
                return Ok(Err(format!("{} does not answer", n.name)))
            }
            Err(_) => {
                notes.push(format!("{} does not answer", n.name));
                continue;
            }
            Ok(s) => s,
        };
        if s.role == LdapRole::Provider && !require.contains(&n.name) {
            notes.push(format!(
                "{} is an old provider: run `drctl demote {}`",
                n.name, n.name
            ));
            continue;
        }
        if !follows(s, url) {
            return Ok(Err(format!("{} is not a consumer of {provider}", n.name)));
        }
        if let Err(why) = caught_up(&n.name, s, &before, after)? {
            if stalled.contains(&n.name) && !require.contains(&n.name) {
                notes.push(format!(
                    "{} is stalled behind {provider} (found so before this run): run `drctl demote {} --to {provider}`",
                    n.name, n.name
                ));
                continue;
            }
            return Ok(Err(why));
        }
    }
    Ok(Ok(Some(if notes.is_empty() {
        format!("every node follows {provider} and holds its data")
    } else {
        notes.join("; ")
    })))
}

/// The entries (DN with its entryCSN) `a` holds that `b` does not hold in that version, sorted.
/// Both states must have been read with a scan.
pub(super) fn entries_missing_from(a: &NodeState, b: &NodeState) -> Vec<String> {
    a.entry_csns
        .iter()
        .filter(|(dn, c)| b.entry_csns.get(*dn) != Some(*c))
        .map(|(dn, c)| format!("{dn} ({c})"))
        .collect()
}
