//! One probe of every instance and what it means: which instance is the supplier, whose
//! updates each consumer accepts, how far behind each one is, and the problems with their fix.

use std::time::Duration;

use super::state::{identity_dn, identity_rid, read_state, DsState, ReplicaKind};
use super::DsNode;

/// One instance as probed.
#[derive(Debug, Clone)]
pub(crate) struct NodeView {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) port: u16,
    pub(crate) promotable: bool,
    pub(crate) state: Result<DsState, String>,
    /// The instance did not answer at all (refused, timed out). False when it answered but
    /// could not be read (bind refused, certificate not trusted): such an instance may well be
    /// the supplier, taking writes.
    pub(crate) silent: bool,
    /// Silent, yet its port accepts connections: paused or wedged, not gone.
    pub(crate) hung: bool,
}

impl NodeView {
    /// It answers but cannot be read: its role is unknown.
    pub(crate) fn unreadable(&self) -> bool {
        self.state.is_err() && !self.silent
    }
}

/// Every instance, probed at once.
#[derive(Debug, Clone)]
pub(crate) struct DsView {
    pub(crate) cluster: String,
    pub(crate) nodes: Vec<NodeView>,
}

pub(crate) fn port_of(url: &str) -> u16 {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(389)
}

/// Whether the url's port completes a TCP handshake: the kernel does it for a process that
/// holds the port even while it is stopped (SIGSTOP) or wedged.
async fn accepts_connections(url: &str, timeout: Duration) -> bool {
    let Some(host) = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
    else {
        return false;
    };
    let connect = tokio::net::TcpStream::connect((host, port_of(url)));
    matches!(tokio::time::timeout(timeout, connect).await, Ok(Ok(_)))
}

pub(crate) async fn probe(cluster: &str, nodes: &[DsNode], timeout: Duration) -> DsView {
    let read = |n: &DsNode| {
        let n = n.clone();
        async move {
            let state = match n.ldap.connect(timeout).await {
                Ok(mut s) => {
                    let st = read_state(&mut s, &n.ldap.suffix).await;
                    s.close().await;
                    st
                }
                Err(e) => Err(e),
            };
            let silent = state.as_ref().is_err_and(|e| e.is_unreachable());
            let hung = silent && accepts_connections(&n.ldap.url, timeout).await;
            let state = state.map_err(|e| e.to_string());
            NodeView {
                name: n.ldap.name.clone(),
                url: n.ldap.url.clone(),
                port: port_of(&n.ldap.url),
                promotable: n.ldap.promotable,
                state,
                silent,
                hung,
            }
        }
    };
    DsView {
        cluster: cluster.to_string(),
        nodes: futures_util::future::join_all(nodes.iter().map(read)).await,
    }
}

/// The supplier that answers, with its replica id.
type Current<'a> = Option<(&'a NodeView, u16)>;

/// One instance's problems, against the current supplier.
fn node_problems(n: &NodeView, current: Current<'_>, sup_state: Option<&DsState>) -> Vec<String> {
    let mut problems = Vec::new();
    let s = match &n.state {
        // The cluster file is the membership: an instance removed for good is deleted
        // from it (nothing on the survivors tells a removed one from a dead one).
        Err(e) if !n.silent => {
            let why = e.strip_prefix(&format!("{}: ", n.name)).unwrap_or(e);
            problems.push(format!(
                "{}: answers but cannot be read ({why}) → fix its bind_dn, password or \
                 ca_file in the cluster file; drctl cannot tell its role until then",
                n.name
            ));
            return problems;
        }
        Err(e) if n.hung => {
            let why = e.strip_prefix(&format!("{}: ", n.name)).unwrap_or(e);
            problems.push(format!(
                "{}: accepts connections but does not answer ({why}): paused or wedged, \
                 not gone → resume or restart it",
                n.name
            ));
            return problems;
        }
        Err(e) => {
            let why = e.strip_prefix(&format!("{}: ", n.name)).unwrap_or(e);
            problems.push(format!(
                "{}: does not answer ({why}) → start it; if it is gone for good, drctl \
                 remove-instance {} and delete it from the cluster file",
                n.name, n.name
            ));
            return problems;
        }
        Ok(s) => s,
    };
    let Some(r) = &s.replica else {
        problems.push(format!(
            "{}: replication is not enabled for the suffix",
            n.name
        ));
        return problems;
    };
    if !r.loaded {
        let remedy = match current {
            Some((c, _)) if c.name != n.name => format!("drctl demote {}", n.name),
            _ => format!("drctl failover, then drctl demote {}", n.name),
        };
        problems.push(format!(
            "{}: replication is off: its replica (id {}) did not load at the last start \
             (its CSN generator held id {}: an unclean stop soon after a promotion or \
             demotion); the writes it takes carry no CSN and reach no one → {remedy}",
            n.name,
            r.rid,
            r.state_rid
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into()),
        ));
        return problems;
    }
    if r.kind != ReplicaKind::Supplier && s.mapping_state == "backend" {
        problems.push(format!(
            "{}: a consumer that takes client writes (nsslapd-state: backend): they \
             would never replicate; it refers them to its supplier once one connects",
            n.name
        ));
    }
    if s.read_only {
        problems.push(format!(
            "{}: the backend is read-only: it refuses client and replicated writes (a \
             procedure stopped part-way? rerun it)",
            n.name
        ));
    }
    let Some((sup, rid)) = current else {
        return problems;
    };
    if n.name == sup.name {
        for a in &s.agreements {
            if a.enabled && a.state == "red" && !a.init_running {
                problems.push(format!("{}: agreement {}: {}", n.name, a.cn, a.status));
            }
        }
        return problems;
    }
    if r.kind == ReplicaKind::Supplier {
        return problems;
    }
    if !r.bind_dns.iter().any(|d| *d == identity_dn(rid)) {
        problems.push(format!(
            "{}: refuses the updates of the supplier {} (it accepts {}) → drctl repoint {}",
            n.name,
            sup.name,
            r.bind_dns.join(", "),
            sup.name
        ));
    } else if let Some(ss) = sup_state {
        match ss.agreement_to(n.port) {
            None => problems.push(format!(
                "{}: {} has no agreement to it: it gets no updates → drctl repoint {}",
                n.name, sup.name, sup.name
            )),
            Some(a) if !a.enabled => problems.push(format!(
                "{}: {}'s agreement {} to it is disabled: it gets no updates → drctl \
                 repoint {}",
                n.name, sup.name, a.cn, sup.name
            )),
            Some(_) => {}
        }
    }
    problems
}

/// Whether the instance runs the replica it configures (see `Replica::loaded`).
fn loaded(n: &NodeView) -> bool {
    n.state
        .as_ref()
        .is_ok_and(|s| s.replica.as_ref().is_some_and(|r| r.loaded))
}

/// The newest replica ids an answering instance knows of.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NewestRid {
    pub(crate) in_ruv: u16,
    pub(crate) accepted: u16,
}

/// What the probe means.
#[derive(Debug, Clone)]
pub(crate) struct Assessment {
    /// The supplier the consumers accept (or the only one that answers).
    pub(crate) supplier: Option<String>,
    /// Its replica id.
    pub(crate) rid: Option<u16>,
    /// Other instances that answer as suppliers: old ones the consumers refuse.
    pub(crate) stale_suppliers: Vec<String>,
    pub(crate) problems: Vec<String>,
    pub(crate) healthy: bool,
}

impl DsView {
    pub(crate) fn state(&self, name: &str) -> Option<&DsState> {
        self.node(name)?.state.as_ref().ok()
    }

    pub(crate) fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The highest replica ids in the answering instances' RUVs and accepted by the answering
    /// consumers (0 when none).
    pub(crate) fn newest_rid_seen(&self) -> NewestRid {
        let mut out = NewestRid::default();
        for r in self
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok()?.replica.as_ref())
        {
            // Only an id with changes: a supplier that took none proves nothing (a demoted
            // instance keeps its own empty element).
            let ruv = r
                .ruv
                .iter()
                .filter(|(id, e)| **id != 65535 && e.max.is_some())
                .map(|(id, _)| *id)
                .max();
            out.in_ruv = out.in_ruv.max(ruv.unwrap_or(0));
            if r.kind != ReplicaKind::Supplier {
                let acc = r.bind_dns.iter().filter_map(|d| identity_rid(d)).max();
                out.accepted = out.accepted.max(acc.unwrap_or(0));
            }
        }
        out
    }

    /// The replica id whose identity most answering consumers accept.
    pub(crate) fn accepted_rid(&self) -> Option<u16> {
        let mut votes: std::collections::BTreeMap<u16, usize> = Default::default();
        for s in self.nodes.iter().filter_map(|n| n.state.as_ref().ok()) {
            if let Some(r) = s
                .replica
                .as_ref()
                .filter(|r| r.kind != ReplicaKind::Supplier)
            {
                for rid in r.bind_dns.iter().filter_map(|d| identity_rid(d)) {
                    *votes.entry(rid).or_default() += 1;
                }
            }
        }
        votes
            .into_iter()
            .max_by_key(|(rid, n)| (*n, *rid))
            .map(|(rid, _)| rid)
    }

    pub(crate) fn assess(&self) -> Assessment {
        let mut problems = Vec::new();
        let (current, stale) = self.current_supplier(&mut problems);
        self.missing_supplier(current, &mut problems);
        let sup_state = current.and_then(|(n, _)| n.state.as_ref().ok());
        for n in &self.nodes {
            problems.extend(node_problems(n, current, sup_state));
        }
        let healthy = problems.is_empty();
        Assessment {
            supplier: current.map(|(n, _)| n.name.clone()),
            rid: current.map(|(_, r)| r),
            stale_suppliers: stale,
            problems,
            healthy,
        }
    }

    /// The supplier, if one answers and the group has not moved past it, and the old suppliers
    /// beside it (each a problem).
    fn current_supplier(&self, problems: &mut Vec<String>) -> (Current<'_>, Vec<String>) {
        let suppliers: Vec<(&NodeView, u16)> = self
            .nodes
            .iter()
            .filter_map(|n| {
                let r = n.state.as_ref().ok()?.replica.as_ref()?;
                (r.kind == ReplicaKind::Supplier).then_some((n, r.rid))
            })
            .collect();
        // Two suppliers with one replica id (a supplier's backup started as another instance)
        // write CSNs that collide: neither is the supplier until one is demoted.
        let mut by_rid: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
        for (n, rid) in &suppliers {
            by_rid.entry(*rid).or_default().push(n.name.as_str());
        }
        let shared: Vec<u16> = by_rid
            .iter()
            .filter(|(_, names)| names.len() > 1)
            .map(|(rid, _)| *rid)
            .collect();
        for rid in &shared {
            let names = &by_rid[rid];
            problems.push(format!(
                "{} are suppliers with one replica id {rid}: their changes collide (the same \
                 CSNs from two servers), so neither is the supplier → drctl failover (a fresh \
                 id), then drctl demote each of them (what only it holds is exported)",
                names.join(" and ")
            ));
        }
        // The supplier is the newest that answers: every promotion takes a replica id above
        // every one seen (and the consumers are fenced to it before it is promoted), so an old
        // supplier that comes back has a lower one, and a consumer that slept through the
        // failover (still accepting the lost supplier) does not hide the new one. An answering
        // supplier is no supplier at all once the group has moved past it while the newest one
        // is down: a higher id in an answering RUV (a newer supplier's changes), or a higher id
        // the consumers accept while it is writable (a failover's fence; a switchover's fence
        // leaves it read-only until its target is promoted). Taking it for the supplier would
        // re-initialize the consumers from it and drop the newer writes.
        let newer = self.newest_rid_seen();
        // A supplier whose replica did not load supplies nothing: it is no supplier either.
        let superseded = |n: &NodeView, rid: u16| {
            let writable = n.state.as_ref().is_ok_and(|s| !s.read_only);
            !loaded(n)
                || shared.contains(&rid)
                || newer.in_ruv > rid
                || (newer.accepted > rid && writable)
        };
        let current = suppliers
            .iter()
            .filter(|(n, r)| !superseded(n, *r))
            .max_by_key(|(_, r)| *r)
            .copied();
        let stale: Vec<String> = suppliers
            .iter()
            .filter(|(n, _)| current.is_none_or(|(c, _)| c.name != n.name))
            .map(|(n, _)| n.name.clone())
            .collect();
        for (n, rid) in &suppliers {
            if !stale.contains(&n.name) || !loaded(n) {
                continue;
            }
            problems.push(match current {
                Some(_) => format!(
                    "{}: an old supplier (replica id {rid}) is back: the consumers refuse its \
                     updates, and the writes it takes go nowhere → drctl demote {}",
                    n.name, n.name
                ),
                None => format!(
                    "{}: an old supplier (replica id {rid}): the group moved on to replica id {} \
                     and the writes it takes go nowhere → drctl failover, then drctl demote {}",
                    n.name,
                    newer.in_ruv.max(newer.accepted),
                    n.name
                ),
            });
        }
        (current, stale)
    }

    /// The answering instance holding replica id `rid` whose replica did not load.
    fn unloaded_with(&self, rid: u16) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| {
                !loaded(n)
                    && n.state
                        .as_ref()
                        .is_ok_and(|s| s.replica.as_ref().is_some_and(|r| r.rid == rid))
            })
            .map(|n| n.name.as_str())
    }

    /// Why no supplier is the supplier, when none is.
    fn missing_supplier(&self, current: Current<'_>, problems: &mut Vec<String>) {
        let accepted = self.accepted_rid();
        let unreadable: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.unreadable())
            .map(|n| n.name.as_str())
            .collect();
        match (current, accepted) {
            (None, _) if !unreadable.is_empty() => problems.push(format!(
                "no supplier can be read, and {} answer(s) but cannot be read: one may be the \
                 supplier → fix the cluster file for it first, not a failover",
                unreadable.join(", ")
            )),
            (None, Some(rid)) => problems.push(match self.unloaded_with(rid) {
                // Its own line says why; this one must not call it silent.
                Some(name) => format!(
                    "no supplier answers: the consumers accept replica id {rid}'s updates and \
                     its instance {name} answers, but its replica did not load → drctl failover"
                ),
                None => format!(
                    "no supplier answers: the consumers accept replica id {rid}'s updates and \
                     its instance does not answer → drctl failover"
                ),
            }),
            (None, None) => problems.push("no supplier answers → drctl failover".into()),
            _ => {}
        }
    }

    /// How many seconds of the supplier's changes `node` lacks by its RUV (CSN times), when both
    /// answer. Right after a total update it can show a lag the data does not have (pitfall
    /// 16); the procedures' waits look at the data then.
    pub(crate) fn lag_seconds(&self, node: &str, supplier: &str) -> Option<u64> {
        let sup_state = self.state(supplier)?;
        let sup = sup_state.replica.as_ref()?;
        let me = self.state(node)?.replica.as_ref()?;
        let time = |c: &str| u64::from_str_radix(c.get(..8)?, 16).ok();
        let mut lag = 0;
        for (rid, e) in &sup.ruv {
            let Some(theirs) = e.max.as_deref().and_then(time) else {
                continue;
            };
            lag = lag.max(theirs.saturating_sub(me.max(*rid).and_then(time)?));
        }
        Some(lag)
    }

    /// The rids of `a`'s RUV whose newest change `b` lacks (a CSN of `a` beyond `b`'s).
    pub(crate) fn ahead_of(&self, a: &str, b: &str) -> Vec<u16> {
        let (Some(ra), Some(rb)) = (
            self.state(a).and_then(|s| s.replica.as_ref()),
            self.state(b).and_then(|s| s.replica.as_ref()),
        ) else {
            return Vec::new();
        };
        ra.ruv
            .iter()
            .filter(|(rid, e)| {
                e.max
                    .as_deref()
                    .is_some_and(|m| rb.max(**rid).is_none_or(|o| m > o))
            })
            .map(|(rid, _)| *rid)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::ds389::state::{Replica, RuvElement};

    fn answering(name: &str, kind: ReplicaKind, rid: u16, accepts: u16, loaded: bool) -> NodeView {
        let ruv = if loaded {
            [(
                rid,
                RuvElement {
                    url: String::new(),
                    min: None,
                    max: None,
                },
            )]
            .into()
        } else {
            Default::default()
        };
        NodeView {
            name: name.into(),
            url: String::new(),
            port: 0,
            promotable: true,
            state: Ok(DsState {
                replica: Some(Replica {
                    kind,
                    rid,
                    bind_dns: vec![format!("cn=repl-{accepts},cn=config")],
                    generation: None,
                    ruv,
                    state_rid: None,
                    loaded,
                }),
                mapping_state: "backend".into(),
                read_only: false,
                agreements: Vec::new(),
            }),
            silent: false,
            hung: false,
        }
    }

    fn silent(name: &str) -> NodeView {
        NodeView {
            name: name.into(),
            url: String::new(),
            port: 0,
            promotable: true,
            state: Err(format!("{name}: connection refused")),
            silent: true,
            hung: false,
        }
    }

    /// CI (`ds389_new_supplier_killed_right_after_…`): the supplier the consumers accept
    /// answered, but its replica had not loaded; the group's line called it silent.
    #[test]
    fn a_supplier_whose_replica_did_not_load_is_named_as_answering() {
        let consumer = answering("node-2", ReplicaKind::Consumer, 65535, 3, true);
        let unloaded = answering("node-3", ReplicaKind::Supplier, 3, 3, false);
        let view = DsView {
            cluster: "c".into(),
            nodes: vec![consumer.clone(), unloaded],
        };
        let a = view.assess();
        assert_eq!(a.supplier, None);
        assert!(
            a.problems.iter().any(|p| p.contains(
                "replica id 3's updates and its instance node-3 answers, but its replica did \
                 not load"
            )),
            "{:?}",
            a.problems
        );
        let view = DsView {
            cluster: "c".into(),
            nodes: vec![consumer, silent("node-3")],
        };
        let a = view.assess();
        assert!(
            a.problems
                .iter()
                .any(|p| p.contains("replica id 3's updates and its instance does not answer")),
            "{:?}",
            a.problems
        );
    }
}
