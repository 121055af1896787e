//! What `check`, `status --json` and `candidates` print for OpenLDAP: the safety checks
//! OpenLDAP itself does not make (each with its fix), the status shape shared with drnode, and
//! the promotion ranking by CSN.

use std::collections::BTreeMap;

use serde::Serialize;

use super::assess::{LdapNodeView, LdapView};
use super::csn::sid_hex;
use super::state::{syncrepl_param, LdapRole, NodeState};

/// The checks OpenLDAP itself does not make, each with its fix.
pub fn safety(view: &LdapView) -> Vec<String> {
    let mut out = Vec::new();
    let up: Vec<(&LdapNodeView, &NodeState)> = view
        .nodes
        .iter()
        .filter_map(|n| n.state.as_ref().ok().map(|s| (n, s)))
        .collect();
    let mut by_sid: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    let binddns: Vec<String> = up
        .iter()
        .flat_map(|(_, s)| {
            s.syncrepl
                .iter()
                .filter_map(|v| syncrepl_param(v, "binddn"))
        })
        .collect();
    for (n, s) in &up {
        by_sid.entry(s.server_id).or_default().push(&n.name);
        if s.server_id == 0 {
            out.push(format!("{}: olcServerID is 0; fix: give every server a distinct nonzero olcServerID (ldapmodify cn=config: replace olcServerID)", n.name));
        }
        if s.syncrepl
            .iter()
            .any(|v| syncrepl_param(v, "timeout").is_some())
        {
            out.push(format!("{}: olcSyncrepl has timeout=, which stalls every cn=config write; fix: replace olcSyncrepl without timeout= (network-timeout= is fine)", n.name));
        }
        if let Some((dn, None)) = &s.syncprov {
            out.push(format!("{}: syncprov has no olcSpCheckpoint (contextCSN is lost on kill -9); fix: ldapmodify {dn}: add olcSpCheckpoint: 1 1", n.name));
        }
        if n.promotable && s.role != LdapRole::Provider {
            for b in &binddns {
                let ok = s.limits.iter().any(|l| {
                    l.to_ascii_lowercase().contains(&b.to_ascii_lowercase())
                        && (l.contains("size.hard=unlimited") || l.contains("size=unlimited"))
                });
                if !ok {
                    out.push(format!("{}: no unlimited size limit for the replicator {b} (limits are not replicated: once promoted it would stop replication at 500 entries); fix: ldapmodify {}: add olcLimits: dn.exact=\"{b}\" size.hard=unlimited size.soft=unlimited time.hard=unlimited time.soft=unlimited", n.name, s.db_dn));
                    break;
                }
            }
        }
    }
    for (sid, names) in by_sid {
        if names.len() > 1 && sid != 0 {
            out.push(format!("{} share olcServerID {sid} (SID {} in CSNs); fix: give each a distinct nonzero olcServerID", names.join(", "), sid_hex(sid)));
        }
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct LdapCandidate {
    pub name: String,
    pub rank: Option<usize>,
    pub role: Option<LdapRole>,
    /// The newest CSN for the (lost) provider's serverID.
    pub csn: Option<String>,
    pub reason: String,
}

/// Ranks every node for promotion over `provider`: newest CSN for its SID first; an
/// existing provider wins a tie (a failover that stopped part-way resumes on it).
pub fn rank(
    view: &LdapView,
    provider: Option<&str>,
    provider_sid: Option<&str>,
) -> Vec<LdapCandidate> {
    let key = |s: &NodeState| -> String {
        provider_sid
            .and_then(|sid| s.csn.get(sid).cloned())
            .unwrap_or_default()
    };
    let mut out: Vec<(LdapCandidate, Option<(String, bool)>)> = view
        .nodes
        .iter()
        .map(|n| {
            let mut c = LdapCandidate {
                name: n.name.clone(),
                rank: None,
                role: None,
                csn: None,
                reason: String::new(),
            };
            let sort = match &n.state {
                Err(_) => {
                    c.reason = "does not answer".into();
                    None
                }
                Ok(s) => {
                    c.role = Some(s.role);
                    c.csn = provider_sid.and_then(|sid| s.csn.get(sid).cloned());
                    if Some(n.name.as_str()) == provider {
                        c.reason = "the current provider".into();
                        None
                    } else if !n.promotable {
                        c.reason = "promotable: false in the cluster file".into();
                        None
                    } else if s.role == LdapRole::Standalone {
                        c.reason = "replicates nothing".into();
                        None
                    } else {
                        Some((key(s), s.role == LdapRole::Provider))
                    }
                }
            };
            (c, sort)
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1));
    let best = out.first().and_then(|(_, s)| s.clone());
    let mut r = 0;
    for (c, s) in out.iter_mut() {
        if let Some(s) = s {
            r += 1;
            c.rank = Some(r);
            c.reason = if Some(&*s) == best.as_ref() || r == 1 {
                "newest CSN for the provider's serverID".into()
            } else {
                "older CSN for the provider's serverID than the first: promoting it would lose writes".into()
            };
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}
