//! The promotion ranking of OpenLDAP nodes by CSN, for `candidates` and `failover` (the status
//! shape is `engine.rs`'s; the safety checks are part of the assessment).

use serde::Serialize;

use super::assess::LdapView;
use super::converge::entries_missing_from;
use super::state::{LdapRole, NodeState};
use crate::util::words::entries_named;

#[derive(Debug, Clone, Serialize)]
pub struct LdapCandidate {
    pub name: String,
    pub rank: Option<usize>,
    pub role: Option<LdapRole>,
    /// The newest CSN for the (lost) provider's serverID.
    pub csn: Option<String>,
    pub reason: String,
    /// Entries (DN and entryCSN) another node with the same newest CSN holds and this one does
    /// not: promoting it would drop them (syncrepl never resends below a cookie).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lacks: Vec<String>,
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
                lacks: Vec::new(),
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
    // Equal newest CSNs do not prove equal data: among them, what each lacks of the others'
    // entries, and those lacking nothing first.
    let top: Vec<&NodeState> = out
        .iter()
        .filter(|(_, s)| s.is_some() && *s == best)
        .filter_map(|(c, _)| view.state(&c.name))
        .collect();
    for (c, s) in out.iter_mut() {
        if s.is_some() && *s == best {
            let me = view.state(&c.name).expect("ranked nodes answer");
            let mut lacks: Vec<String> = top
                .iter()
                .flat_map(|o| entries_missing_from(o, me))
                .collect();
            lacks.sort();
            lacks.dedup();
            c.lacks = lacks;
        }
    }
    out.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.lacks.is_empty().cmp(&b.0.lacks.is_empty()).reverse())
    });
    let mut r = 0;
    for (c, s) in out.iter_mut() {
        if let Some(s) = s {
            r += 1;
            c.rank = Some(r);
            c.reason = if !c.lacks.is_empty() {
                format!(
                    "newest CSN, but lacks {} another node holds: promoting it would lose them",
                    entries_named(&c.lacks, 2)
                )
            } else if Some(&*s) == best.as_ref() || r == 1 {
                "newest CSN for the provider's serverID".into()
            } else {
                "older CSN for the provider's serverID than the first: promoting it would lose writes".into()
            };
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}
