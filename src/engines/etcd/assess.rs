//! One probe of every member (status, membership, alarms, whether it takes drctl's credentials)
//! and what it says about the cluster: the leader, each member's role and lag, and the problems
//! with their fix (a member that does not answer, one that answers but cannot be read (TLS or
//! auth refused), no leader, a learner not promoted, a member serving another cluster id than
//! the majority, a member that runs though it was removed, an alarm).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;

use super::client::{Alarm, Client, EtcdError, Member, MemberList, Status};
use super::EtcdNode;
use crate::engine::Health;

/// What one member answered.
#[derive(Debug, Clone)]
pub(crate) struct NodeState {
    pub(crate) status: Status,
    /// Empty for a learner, which does not serve the member list.
    pub(crate) members: MemberList,
    /// None when not asked: alarms go through raft, so a member without a leader cannot say.
    pub(crate) alarms: Option<Vec<Alarm>>,
}

#[derive(Debug, Clone)]
pub(crate) struct NodeProbe {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) peer_url: Option<String>,
    pub(crate) data_dir: Option<std::path::PathBuf>,
    pub(crate) promotable: bool,
    pub(crate) state: Result<NodeState, EtcdError>,
}

/// Every member as one probe saw it.
#[derive(Debug, Clone)]
pub(crate) struct EtcdView {
    pub(crate) cluster: String,
    pub(crate) nodes: Vec<NodeProbe>,
}

async fn probe_one(n: &EtcdNode, client: &Client) -> NodeProbe {
    {
        let state = async {
            let status = client.status(&n.url).await?;
            // A learner refuses the member list ("rpc not supported for learner").
            let members = if status.is_learner {
                MemberList::default()
            } else {
                client.members(&n.url).await?
            };
            // Bounded: a member that has just lost its quorum still names a leader, and the
            // alarm list goes through raft.
            let led = status.leader != 0 && status.errors.is_empty();
            // etcd reads status and membership without credentials: a member that refuses
            // them is found here (authenticating goes through raft, so only with a leader; a
            // slow answer is no refusal).
            if led {
                let auth =
                    tokio::time::timeout(Duration::from_millis(500), client.authenticated(&n.url));
                if let Ok(Err(e)) = auth.await {
                    if e.is_unreadable() {
                        return Err(e);
                    }
                }
            }
            let alarms = if led {
                tokio::time::timeout(Duration::from_millis(500), client.alarms(&n.url))
                    .await
                    .ok()
                    .and_then(Result::ok)
            } else {
                None
            };
            Ok(NodeState {
                status,
                members,
                alarms,
            })
        }
        .await;
        NodeProbe {
            name: n.name.clone(),
            url: n.url.clone(),
            peer_url: n.peer_url.clone(),
            data_dir: n.data_dir.clone(),
            promotable: n.promotable,
            state,
        }
    }
}

pub(super) async fn probe(cluster: &str, nodes: &[EtcdNode], client: &Client) -> EtcdView {
    EtcdView {
        cluster: cluster.to_string(),
        nodes: join_all(nodes.iter().map(|n| probe_one(n, client))).await,
    }
}

/// A member's place in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Role {
    Leader,
    Follower,
    /// A non-voting member catching up.
    Learner,
    /// Not in the majority's membership (removed, or never added).
    Removed,
    /// Serves another cluster id than the majority.
    OtherCluster,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::engine::serde_name(self).unwrap_or_default())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct NodeAssessment {
    pub(crate) role: Option<Role>,
    pub(crate) member_id: Option<u64>,
    /// Raft entries behind the leader.
    pub(crate) lag: Option<u64>,
    pub(crate) health: Health,
    pub(crate) reasons: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Assessment {
    pub(crate) healthy: bool,
    pub(crate) problems: Vec<String>,
    pub(crate) nodes: Vec<NodeAssessment>,
    /// The cluster id most answering members serve.
    pub(crate) cluster_id: Option<u64>,
    /// The membership as the majority's leader (or best-placed member) lists it.
    pub(crate) members: Vec<Member>,
    pub(crate) leader_id: Option<u64>,
    /// The leader's name in the cluster file.
    pub(crate) leader: Option<String>,
}

impl Assessment {
    /// The voting members, and how many of them answer in the majority's cluster.
    pub(crate) fn voters(&self, view: &EtcdView) -> (usize, usize) {
        let voters: Vec<u64> = self
            .members
            .iter()
            .filter(|m| !m.is_learner)
            .map(|m| m.id)
            .collect();
        let live = view
            .nodes
            .iter()
            .zip(&self.nodes)
            .filter(|(n, a)| {
                n.state.is_ok()
                    && a.member_id.is_some_and(|id| voters.contains(&id))
                    && a.role != Some(Role::OtherCluster)
            })
            .count();
        (voters.len(), live)
    }

    /// The membership entry of a node of the cluster file (by its id, name or peer URL).
    pub(crate) fn member_of(&self, view: &EtcdView, name: &str) -> Option<&Member> {
        let i = view.nodes.iter().position(|n| n.name == name)?;
        let (n, a) = (&view.nodes[i], &self.nodes[i]);
        if let Some(id) = a.member_id.filter(|_| a.role != Some(Role::OtherCluster)) {
            return self.members.iter().find(|m| m.id == id);
        }
        self.members.iter().find(|m| matches_node(m, n))
    }
}

/// Whether a membership entry is this node: its name, else its peer or client URL.
fn matches_node(m: &Member, n: &NodeProbe) -> bool {
    let url = |u: &String| u.trim_end_matches('/').to_string();
    (!m.name.is_empty() && m.name == n.name)
        || n.peer_url
            .as_ref()
            .is_some_and(|p| m.peer_urls.iter().map(url).any(|u| &u == p))
        || m.client_urls.iter().map(url).any(|u| u == n.url)
}

pub(crate) fn quorum(voters: usize) -> usize {
    voters / 2 + 1
}

impl EtcdView {
    pub(crate) fn node(&self, name: &str) -> Option<&NodeProbe> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The members that answer but cannot be read (TLS or auth refused): alive, roles unknown.
    pub(crate) fn unreadable(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| n.state.as_ref().is_err_and(|e| e.is_unreadable()))
            .map(|n| n.name.as_str())
            .collect()
    }

    pub(crate) fn state(&self, name: &str) -> Option<&NodeState> {
        self.node(name).and_then(|n| n.state.as_ref().ok())
    }

    pub(crate) fn assess(&self) -> Assessment {
        let seen = self.seen();
        let mut problems = Vec::new();
        let mut nodes = Vec::new();
        let mut leader = None;
        for n in &self.nodes {
            let (na, leads) = node_assessment(n, &seen, &mut problems);
            if leads {
                leader = Some(n.name.clone());
            }
            nodes.push(na);
        }
        let mut a = Assessment {
            healthy: false,
            problems: Vec::new(),
            nodes,
            cluster_id: seen.cluster_id,
            members: seen.members.clone(),
            leader_id: seen.leader_id,
            leader,
        };
        if let Some(p) = self.leaderless(&a, &seen) {
            problems.insert(0, p);
        }
        if let Some(p) = self.split_brain() {
            problems.insert(0, p);
        }
        problems.extend(self.unlisted(&a));
        a.healthy = problems.is_empty();
        a.problems = problems;
        a
    }

    /// The cluster id most members serve (a tie goes to the side that has a leader), its
    /// leader, and the membership as the leader (else the most advanced voter) lists it.
    fn seen(&self) -> Seen<'_> {
        let answering: Vec<&NodeState> = self
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok())
            .collect();
        // The cluster id most members serve; a tie goes to the side that has a leader.
        let mut by_id: BTreeMap<u64, (usize, bool)> = BTreeMap::new();
        for s in &answering {
            let e = by_id.entry(s.status.header.cluster_id).or_default();
            e.0 += 1;
            e.1 |= s.status.leader != 0;
        }
        let cluster_id = by_id
            .iter()
            .max_by_key(|(id, (n, led))| (*n, *led, std::cmp::Reverse(**id)))
            .map(|(id, _)| *id);
        let ours: Vec<&NodeState> = answering
            .iter()
            .copied()
            .filter(|s| Some(s.status.header.cluster_id) == cluster_id)
            .collect();
        let leader_id = ours
            .iter()
            .map(|s| s.status.leader)
            .find(|l| *l != 0 && ours.iter().any(|s| s.status.header.member_id == *l));
        let listing = ours
            .iter()
            .find(|s| Some(s.status.header.member_id) == leader_id)
            .or_else(|| {
                ours.iter()
                    .filter(|s| !s.status.is_learner)
                    .max_by_key(|s| s.status.raft_index)
            });
        let members: Vec<Member> = listing
            .map(|s| s.members.members.clone())
            .unwrap_or_default();
        let leader_state = listing.filter(|s| Some(s.status.header.member_id) == leader_id);
        Seen {
            cluster_id,
            leader_id,
            listing: listing.copied(),
            members,
            leader_state: leader_state.copied(),
        }
    }

    /// Why no leader is seen, when none is.
    fn leaderless(&self, a: &Assessment, seen: &Seen<'_>) -> Option<String> {
        let (listing, leader_id, cluster_id) = (seen.listing, seen.leader_id, seen.cluster_id);
        let unreadable = self.unreadable();
        if listing.is_some() && leader_id.is_none() && !unreadable.is_empty() {
            let (voters, live) = a.voters(self);
            return Some(format!(
                "no leader drctl can read: {live} of {voters} voting members can be read, and {} answer(s) but cannot be read (one may lead a quorum): fix the cluster file first; `drctl failover` is refused until then",
                unreadable.join(", ")
            ));
        } else if listing.is_some() && leader_id.is_none() {
            let (voters, live) = a.voters(self);
            let best = self
                .nodes
                .iter()
                .filter_map(|n| n.state.as_ref().ok().map(|s| (n, s)))
                .filter(|(_, s)| Some(s.status.header.cluster_id) == cluster_id)
                .max_by_key(|(_, s)| s.status.raft_index)
                .map(|(n, s)| format!("{} (raft index {})", n.name, s.status.raft_index))
                .unwrap_or_default();
            return Some(if live >= quorum(voters) {
                format!(
                    "no leader yet: {live} of {voters} voting members answer, enough to elect one (an election takes about a second after a leader is lost): look again"
                )
            } else {
                format!(
                    "no leader: {live} of {voters} voting members answer and a quorum is {}: start the lost members; if they are lost for good, `drctl failover` fences them and forces a new cluster from the member with the highest raft index, {best}",
                    quorum(voters)
                )
            });
        } else if listing.is_none() && !unreadable.is_empty() {
            return Some(format!(
                "no member can be read: {} answer(s) but cannot be read",
                unreadable.join(", ")
            ));
        } else if listing.is_none() {
            return Some("no member answers".into());
        }
        None
    }

    /// Two members that each lead: an old membership that elected its own leader beside the
    /// one a forced recovery made (same cluster id: the recovery keeps it).
    fn split_brain(&self) -> Option<String> {
        let leaders: Vec<(&str, &NodeState)> = self
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| (n.name.as_str(), s)))
            .filter(|(_, s)| s.status.leader != 0 && s.status.leader == s.status.header.member_id)
            .collect();
        if leaders.len() > 1 {
            let each: Vec<String> = leaders
                .iter()
                .map(|(n, s)| {
                    format!(
                        "{n} (raft term {}, a membership of {})",
                        s.status.raft_term,
                        s.members.members.len()
                    )
                })
                .collect();
            return Some(format!(
                "split brain: {} each lead: an old membership came back beside a forced recovery; keep the recovered side (the smaller membership, the members rejoined since), stop every member of the other side and move its data directory aside, then rejoin it",
                each.join(" and ")
            ));
        }
        None
    }

    /// The members the membership lists that the cluster file does not.
    fn unlisted(&self, a: &Assessment) -> Vec<String> {
        let mut problems = Vec::new();
        for m in &a.members {
            if self.nodes.iter().any(|n| matches_node(m, n))
                || a.nodes.iter().any(|na| na.member_id == Some(m.id))
            {
                continue;
            }
            problems.push(format!(
                "member {:x} ({}) is in the membership but not in the cluster file{}: add it to the cluster file, or remove it (`etcdctl member remove {:x}`)",
                m.id,
                if m.name.is_empty() { m.peer_urls.join(",") } else { m.name.clone() },
                if m.name.is_empty() { ", and it was added but never started" } else { "" },
                m.id
            ));
        }
        problems
    }
}

/// What the members that answer agree on.
struct Seen<'a> {
    cluster_id: Option<u64>,
    leader_id: Option<u64>,
    /// The member whose membership list counts: the leader, else the most advanced voter.
    listing: Option<&'a NodeState>,
    members: Vec<Member>,
    leader_state: Option<&'a NodeState>,
}

/// One member's role, lag and health against what the others agree on; whether it leads.
fn node_assessment(
    n: &NodeProbe,
    seen: &Seen<'_>,
    problems: &mut Vec<String>,
) -> (NodeAssessment, bool) {
    let mut leads = false;
    let mut na = NodeAssessment {
        role: None,
        member_id: None,
        lag: None,
        health: Health::Green,
        reasons: Vec::new(),
    };
    match &n.state {
        Err(e) if e.is_unreadable() => {
            // Alive, and perhaps the leader: never taken for a removed or dead member.
            na.member_id = seen
                .members
                .iter()
                .find(|m| matches_node(m, n))
                .map(|m| m.id);
            na.health = Health::Red;
            na.reasons.push(e.to_string());
            problems.push(format!(
                    "{} {e}; until then drctl cannot tell its role, and a failover is refused while it answers",
                    n.name
                ));
        }
        Err(e) => {
            let member = seen.members.iter().find(|m| matches_node(m, n));
            if member.is_none() && seen.listing.is_some() {
                // Gone and out of the membership: what a removal leaves.
                na.role = Some(Role::Removed);
                na.health = Health::Orange;
                na.reasons.push(format!(
                        "not in the membership and {e}: take it out of the cluster file, or rejoin it as a new member"
                    ));
            } else {
                na.member_id = member.map(|m| m.id);
                na.health = Health::Red;
                na.reasons.push(e.to_string());
                problems.push(if e.is_unreachable() && seen.leader_id.is_none() {
                        format!("{} {e}: start it again (the quorum needs it)", n.name)
                    } else if e.is_unreachable() {
                        format!(
                            "{} {e}: start it again; if it is lost for good, remove it from the membership with `drctl removenode {}`",
                            n.name, n.name
                        )
                    } else {
                        format!("{} answers with an error ({e}): read its log", n.name)
                    });
            }
        }
        Ok(s) => {
            let id = s.status.header.member_id;
            na.member_id = Some(id);
            let member = seen.members.iter().find(|m| m.id == id);
            if Some(s.status.header.cluster_id) != seen.cluster_id {
                na.role = Some(Role::OtherCluster);
                na.health = Health::Red;
                let why = format!(
                    "serves cluster {:x}, the majority serves {:x}",
                    s.status.header.cluster_id,
                    seen.cluster_id.unwrap_or_default()
                );
                problems.push(format!(
                        "{} {why}{}: another cluster, or an old membership after a forced recovery (a split brain): stop it and move its data directory aside before it rejoins",
                        n.name,
                        if s.status.leader != 0 { ", and it has a leader of its own" } else { "" }
                    ));
                na.reasons.push(why);
            } else if member.is_none() && seen.listing.is_some() {
                na.role = Some(Role::Removed);
                na.health = Health::Red;
                na.reasons
                    .push(format!("member {id:x} is not in the membership"));
                problems.push(format!(
                        "{} runs but member {id:x} is not in the membership (it was removed): stop it, move its data directory aside and rejoin it as a new member",
                        n.name
                    ));
            } else if member.is_some_and(|m| m.is_learner) || s.status.is_learner {
                na.role = Some(Role::Learner);
                na.health = Health::Orange;
                na.reasons.push("a learner: it does not vote".into());
                problems.push(format!(
                        "{} is a learner (member {id:x}, not voting): promote it once it has caught up (`etcdctl member promote {id:x}`)",
                        n.name
                    ));
            } else if Some(id) == seen.leader_id {
                na.role = Some(Role::Leader);
                leads = true;
            } else {
                na.role = Some(Role::Follower);
            }
            if s.status.leader == 0 || !s.status.errors.is_empty() {
                na.health = Health::Red;
                na.reasons.push(if s.status.errors.is_empty() {
                    "knows no leader".to_string()
                } else {
                    s.status.errors.join("; ")
                });
            }
            if let Some(l) = seen.leader_state {
                na.lag = Some(l.status.raft_index.saturating_sub(s.status.raft_index));
            }
            for a in s.alarms.iter().flatten() {
                na.health = Health::Red;
                na.reasons.push(format!("alarm {}", a.alarm));
                if a.member_id == id {
                    problems.push(format!(
                            "alarm {} on {}: for NOSPACE compact and defragment it (or raise --quota-backend-bytes), then `etcdctl alarm disarm`",
                            a.alarm, n.name
                        ));
                }
            }
        }
    }
    (na, leads)
}
