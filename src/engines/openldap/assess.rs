//! The whole OpenLDAP group at once: every slapd probed concurrently, the authoritative
//! provider found, each node judged green / orange / red against it, and the safety checks
//! OpenLDAP itself does not make (each with its fix).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;

use super::client::LdapError;
use super::converge::entries_missing_from;
use super::csn::{classify, lag_ms, sid_hex, Position};
use super::state::{read_state, syncrepl_param, LdapRole, NodeState};
use super::LdapNode;
use crate::engine::Health;
use crate::util::words::entries_named;

pub struct LdapNodeView {
    pub name: String,
    pub url: String,
    pub promotable: bool,
    pub state: Result<NodeState, LdapError>,
}

pub struct LdapView {
    pub cluster: String,
    pub nodes: Vec<LdapNodeView>,
}

pub(super) async fn probe(cluster: &str, nodes: &[LdapNode], timeout: Duration) -> LdapView {
    let views = join_all(nodes.iter().map(|n| async move {
        LdapNodeView {
            name: n.name.clone(),
            url: n.url.clone(),
            promotable: n.promotable,
            state: read_node(n, timeout).await,
        }
    }))
    .await;
    let mut view = LdapView {
        cluster: cluster.to_string(),
        nodes: views,
    };
    // The nodes are read side by side: under a steady write load a consumer read a moment
    // after its provider holds the provider's newer writes and looks ahead of it, diverged (a
    // repoint toward the live provider was refused, telling the operator to demote it, and
    // `status` called the consumer red). A provider some node looks ahead of is read again,
    // after them: it then holds all they got from it, and what is still ahead is divergence.
    let ahead_of: Vec<usize> = (0..view.nodes.len())
        .filter(|&i| {
            view.nodes[i].state.as_ref().is_ok_and(|p| {
                p.role == LdapRole::Provider
                    && view.nodes.iter().any(|o| {
                        o.state.as_ref().is_ok_and(|s| {
                            matches!(classify(&s.csn, &p.csn), Position::Diverged(_))
                        })
                    })
            })
        })
        .collect();
    for i in ahead_of {
        if let Some(n) = nodes.iter().find(|n| n.name == view.nodes[i].name) {
            if let Ok(again) = read_node(n, timeout).await {
                view.nodes[i].state = Ok(again);
            }
        }
    }
    view
}

/// One node's whole state (configuration, contextCSN and entries), on a connection of its own.
async fn read_node(n: &LdapNode, timeout: Duration) -> Result<NodeState, LdapError> {
    let mut s = n.connect(timeout).await?;
    let st = read_state(&mut s, &n.suffix, true).await;
    s.close().await;
    st
}

impl LdapView {
    pub fn node(&self, name: &str) -> Option<&LdapNodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }
    pub fn state(&self, name: &str) -> Option<&NodeState> {
        self.node(name).and_then(|n| n.state.as_ref().ok())
    }
    pub fn name_of(&self, url: &str) -> Option<&str> {
        let url = url.trim_end_matches('/');
        self.nodes
            .iter()
            .find(|n| n.url == url)
            .map(|n| n.name.as_str())
    }
    /// The node a consumer follows (by its first provider URL), if it is in the cluster file.
    pub fn follows(&self, st: &NodeState) -> Option<&str> {
        st.provider_urls.first().and_then(|u| self.name_of(u))
    }
    /// Reachable consumers' provider names, counted.
    fn followed(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for n in &self.nodes {
            if let Ok(st) = &n.state {
                if st.role == LdapRole::Consumer {
                    if let Some(f) = self.follows(st) {
                        *m.entry(f.to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
        m
    }
    /// The unreachable node the consumers follow (a lost provider), if any.
    pub fn lost_provider(&self) -> Option<String> {
        self.followed()
            .into_iter()
            .filter(|(n, _)| self.state(n).is_none())
            .max_by_key(|(_, c)| *c)
            .map(|(n, _)| n)
    }
    /// The authoritative provider: the only reachable writable provider; among several, the one
    /// made provider last (newest change to its database's cn=config entry: a promotion deletes
    /// olcSyncrepl there, while an old provider that comes back keeps its old configuration);
    /// only when that cannot tell, the one most consumers follow. Counting followers alone
    /// chose the stale old provider whenever a consumer that was down during the failover came
    /// back still following it.
    pub fn provider(&self) -> Option<String> {
        let mut providers: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.state.as_ref().is_ok_and(|s| s.role == LdapRole::Provider))
            .map(|n| n.name.as_str())
            .collect();
        // A read-only provider beside a writable one is being switched away from.
        let writable: Vec<&str> = providers
            .iter()
            .copied()
            .filter(|p| self.state(p).is_some_and(|s| !s.read_only))
            .collect();
        if !writable.is_empty() {
            providers = writable;
        }
        match providers.as_slice() {
            [] => None,
            [one] => Some(one.to_string()),
            many => {
                let promoted = |p: &str| {
                    self.state(p)
                        .and_then(|s| s.config_csn.as_deref())
                        .map(|c| c.split('#').next().unwrap_or(c).to_string())
                };
                let mut by_config: Vec<(Option<String>, &str)> =
                    many.iter().map(|p| (promoted(p), *p)).collect();
                by_config.sort();
                let (top, name) = &by_config[by_config.len() - 1];
                if top.is_some() && by_config[by_config.len() - 2].0 < *top {
                    return Some(name.to_string());
                }
                let f = self.followed();
                let mut best: Vec<(usize, &str)> = many
                    .iter()
                    .map(|p| (f.get(*p).copied().unwrap_or(0), *p))
                    .collect();
                best.sort();
                let (top, name) = best[best.len() - 1];
                (top > 0 && best[best.len() - 2].0 < top).then(|| name.to_string())
            }
        }
    }

    pub fn assess(&self) -> Assessment {
        assess(self)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeAssessment {
    pub health: Health,
    pub reasons: Vec<String>,
    pub lag: Option<u64>,
    pub primary: Option<String>,
    pub position: Option<Position>,
}

pub struct Assessment {
    pub healthy: bool,
    pub provider: Option<String>,
    pub problems: Vec<String>,
    pub nodes: Vec<NodeAssessment>,
}

fn judge(view: &LdapView, n: &LdapNodeView, provider: Option<&str>) -> NodeAssessment {
    let mut a = NodeAssessment {
        health: Health::Green,
        reasons: Vec::new(),
        lag: None,
        primary: None,
        position: None,
    };
    let flag = |a: &mut NodeAssessment, h: Health, why: String| {
        if h == Health::Red || a.health == Health::Green {
            a.health = h;
        }
        a.reasons.push(why);
    };
    let st = match &n.state {
        Ok(st) => st,
        Err(e) => {
            flag(&mut a, Health::Red, format!("does not answer: {e}"));
            return a;
        }
    };
    let pstate = provider.and_then(|p| view.state(p));
    if let Some(ps) = pstate {
        let pos = classify(&st.csn, &ps.csn);
        a.lag = lag_ms(&st.csn, &ps.csn);
        if let Position::Diverged(sids) = &pos {
            flag(&mut a, Health::Red, format!(
                "diverged: newer CSN than {} for serverID(s) {} (writes it never saw); run `drctl demote {}`",
                provider.unwrap_or("-"), sids.join(","), n.name));
        }
        if pos == Position::InSync
            && provider != Some(n.name.as_str())
            && st.fingerprint != ps.fingerprint
        {
            let lacks = entries_missing_from(ps, st);
            let extra = entries_missing_from(st, ps);
            let mut what = Vec::new();
            if !lacks.is_empty() {
                what.push(format!("lacks {}", entries_named(&lacks, 3)));
            }
            if !extra.is_empty() {
                what.push(format!(
                    "holds {} the provider has not",
                    entries_named(&extra, 3)
                ));
            }
            flag(&mut a, Health::Red, format!(
                "same CSNs as {} but other data: {}; syncrepl will not resend it: run `drctl demote {}` (exports, then reseeds)",
                provider.unwrap_or("-"), what.join("; "), n.name));
        }
        a.position = Some(pos);
    }
    match st.role {
        LdapRole::Provider if Some(n.name.as_str()) == provider => {
            a.primary = Some(n.name.clone());
            a.lag = Some(0);
            if st.read_only {
                flag(
                    &mut a,
                    Health::Orange,
                    "read-only (olcReadOnly: TRUE): a switchover stopped part-way? rerun it".into(),
                );
            }
        }
        LdapRole::Provider => {
            a.primary = Some(n.name.clone());
            flag(
                &mut a,
                Health::Red,
                format!(
                    "a second provider: its writes never reach {}; run `drctl demote {}`",
                    provider.unwrap_or("the provider"),
                    n.name
                ),
            );
        }
        LdapRole::Consumer | LdapRole::MultiProvider => {
            let f = view.follows(st).map(str::to_string);
            a.primary = f.clone();
            match (&f, provider) {
                (None, _) => flag(
                    &mut a,
                    Health::Orange,
                    format!(
                        "follows {}, which the cluster file does not list",
                        st.provider_urls.first().cloned().unwrap_or_default()
                    ),
                ),
                (Some(f), Some(p)) if f != p && st.role == LdapRole::Consumer => flag(
                    &mut a,
                    Health::Red,
                    format!(
                    "consumer of {f}, not of the provider {p}: run `drctl repoint --primary {p}`"),
                ),
                _ => {}
            }
            if st.link_up == Some(false) {
                flag(
                    &mut a,
                    Health::Red,
                    format!(
                        "syncrepl link to {} is down (cn=Monitor: no olmSRConnection)",
                        f.as_deref().unwrap_or("its provider")
                    ),
                );
            }
        }
        LdapRole::Standalone => flag(
            &mut a,
            Health::Orange,
            "replicates nothing (no syncprov, no olcSyncrepl)".into(),
        ),
    }
    a
}

pub(super) fn assess(view: &LdapView) -> Assessment {
    let provider = view.provider();
    let nodes: Vec<NodeAssessment> = view
        .nodes
        .iter()
        .map(|n| judge(view, n, provider.as_deref()))
        .collect();
    let mut problems: Vec<String> = view
        .nodes
        .iter()
        .zip(&nodes)
        .flat_map(|(n, a)| a.reasons.iter().map(move |r| format!("{}: {r}", n.name)))
        .collect();
    if provider.is_none() {
        problems.insert(
            0,
            match view.lost_provider() {
                Some(p) => format!("no provider answers ({p} is lost): run `drctl failover`"),
                None => "no single provider answers".into(),
            },
        );
    }
    problems.extend(safety(view));
    Assessment {
        healthy: problems.is_empty(),
        provider,
        problems,
        nodes,
    }
}

/// The checks OpenLDAP itself does not make, each with its fix.
fn safety(view: &LdapView) -> Vec<String> {
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

/// How long `status` and `check` watch a consumer that is behind with its link up before
/// calling it stalled. A live link delivers a write within milliseconds.
pub(crate) const STALL_WINDOW: Duration = Duration::from_secs(2);

/// Consumers of `provider` that are behind it with their syncrepl link up and do not move:
/// read again for up to `window` (25 ms, then doubling), a consumer that caught up, whose
/// CSNs or data changed, whose link dropped or that stopped answering is let go; the rest are
/// returned. Syncrepl does not resend what a consumer missed below its cookie (a provider
/// restarted after `kill -9` with a contextCSN older than its data answers a reconnecting
/// consumer "nothing new"), so such a consumer would wait for ever with every link up.
/// Costs nothing when no consumer is behind.
pub(crate) async fn stalled(
    view: &LdapView,
    nodes: &[LdapNode],
    provider: &str,
    timeout: Duration,
    window: Duration,
) -> Vec<String> {
    let p = provider;
    let Some(ps) = view.state(p) else {
        return Vec::new();
    };
    let mut watched: Vec<(&LdapNode, &NodeState)> = nodes
        .iter()
        .filter_map(|n| view.state(&n.name).map(|s| (n, s)))
        .filter(|(n, s)| {
            n.name != p
                && s.role == LdapRole::Consumer
                && view.follows(s) == Some(p)
                && s.link_up == Some(true)
                && classify(&s.csn, &ps.csn) == Position::Behind
        })
        .collect();
    let until = tokio::time::Instant::now() + window;
    let mut pause = Duration::from_millis(25);
    while !watched.is_empty() {
        let now = tokio::time::Instant::now();
        if now >= until {
            break;
        }
        tokio::time::sleep(pause.min(until - now)).await;
        pause *= 2;
        let again = join_all(watched.iter().map(|(n, _)| async move {
            let mut s = n.connect(timeout).await?;
            let st = read_state(&mut s, &n.suffix, true).await;
            s.close().await;
            st
        }))
        .await;
        watched = watched
            .into_iter()
            .zip(again)
            .filter(|((_, before), now)| {
                now.as_ref().is_ok_and(|now| {
                    now.link_up == Some(true)
                        && now.csn == before.csn
                        && now.fingerprint == before.fingerprint
                        && classify(&now.csn, &ps.csn) == Position::Behind
                })
            })
            .map(|(w, _)| w)
            .collect();
    }
    watched.into_iter().map(|(n, _)| n.name.clone()).collect()
}

impl Assessment {
    /// Flags each stalled consumer (see [`stalled`]) red, with its fix.
    pub(crate) fn flag_stalled(&mut self, view: &LdapView, names: &[String], window: Duration) {
        let p = self
            .provider
            .clone()
            .unwrap_or_else(|| "the provider".into());
        for name in names {
            let Some(i) = view.nodes.iter().position(|n| &n.name == name) else {
                continue;
            };
            let why = format!(
                "behind {p} and not catching up though its syncrepl link is up (read again for \
                 {} s): syncrepl will not resend what it missed; run `drctl demote {name} --to \
                 {p}` (exports, then reseeds)",
                window.as_secs_f32()
            );
            let a = &mut self.nodes[i];
            a.health = Health::Red;
            a.reasons.push(why.clone());
            self.problems.push(format!("{name}: {why}"));
            self.healthy = false;
        }
    }
}
