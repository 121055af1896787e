//! What `status --json` and `candidates` print for OpenLDAP: the status shape shared with
//! drnode, and the promotion ranking by CSN (the safety checks are part of the assessment).

use serde::Serialize;
use serde_json::json;

use super::assess::{Assessment, LdapView};
use super::csn::Position;
use super::state::{LdapRole, NodeState};

pub fn status_json(view: &LdapView, a: &Assessment) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = view.nodes.iter().zip(&a.nodes).map(|(n, na)| match &n.state {
        Ok(s) => json!({
            "name": n.name, "kind": "openldap", "host_id": null, "url": n.url, "reachable": true,
            "role": s.role, "epoch": null, "db_status": "up", "head_seq": null, "applied_seq": null,
            "owns": match na.position { Some(Position::InSync) => Some(100.0), _ => None },
            "lag": na.lag, "primary": na.primary, "roles_held": [], "entries": s.entries,
            "digest": s.fingerprint, "health": na.health, "reasons": na.reasons,
            "server_id": s.server_id, "csn": s.csn, "context_csn": s.context_csn,
            "link": s.link_up.map(|u| if u { "up" } else { "down" }), "position": na.position,
            "read_only": s.read_only, "syncprov": s.syncprov.is_some(), "update_ref": s.update_ref,
        }),
        Err(e) => json!({
            "name": n.name, "kind": "openldap", "host_id": null, "url": n.url, "reachable": false,
            "role": null, "epoch": null, "db_status": null, "head_seq": null, "applied_seq": null,
            "owns": null, "lag": null, "primary": null, "roles_held": [], "entries": null,
            "digest": null, "health": na.health, "reasons": na.reasons, "error": e.to_string(),
        }),
    }).collect();
    json!({"cluster": view.cluster, "kind": "openldap", "provider": a.provider, "healthy": a.healthy, "problems": a.problems, "nodes": nodes})
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
