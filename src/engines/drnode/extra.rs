//! The actions of operation-master roles, membership, services, packages and upgrades: their
//! check, apply and verification (the enum lives in `step.rs`).

use std::collections::BTreeMap;

use super::step::Action;
use super::{Cluster, ProcError};
use crate::api::{Member, MemberState, PackageInfo, Role};
use crate::engine::Check;

type Verified = Result<Result<Option<String>, String>, ProcError>;

/// The member record as the node `via` (the primary) holds it.
async fn member(cl: &Cluster, via: &str, host_id: &str) -> Result<Member, ProcError> {
    cl.target(via)?
        .client
        .members()
        .await?
        .into_iter()
        .find(|m| m.host_id == host_id)
        .ok_or_else(|| ProcError::usage(format!("{host_id} is not a member of the cluster")))
}

async fn put_member(cl: &Cluster, via: &str, m: &Member) -> Result<(), ProcError> {
    cl.target(via)?.client.add_member(m).await?;
    Ok(())
}

/// The members that must acknowledge a removal: every other member in the normal state.
fn required_acks(members: &[Member], leaving: &str) -> Vec<Member> {
    members
        .iter()
        .filter(|m| m.host_id != leaving && m.state == MemberState::Normal)
        .cloned()
        .collect()
}

async fn packages(cl: &Cluster, node: &str) -> Result<BTreeMap<String, PackageInfo>, ProcError> {
    Ok(cl
        .target(node)?
        .client
        .packages()
        .await?
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect())
}

fn done(why: String) -> Result<Check, ProcError> {
    Ok(Check::Done(why))
}

pub(super) async fn check(a: &Action, cl: &Cluster) -> Result<Check, ProcError> {
    match a {
        Action::ReleaseRole { node, role } => {
            let roles = cl.probe().await.roles();
            let s = cl.status(node).await?;
            match roles.get(role) {
                Some(r) if r.holder == s.host_id => Ok(Check::ToDo),
                _ => done(format!("{node} does not hold {role}")),
            }
        }
        Action::SetRole { role, node, .. } => {
            let s = cl.status(node).await?;
            match cl.probe().await.roles().get(role) {
                Some(r) if r.holder == s.host_id => {
                    done(format!("{node} holds {role} (role epoch {})", r.epoch))
                }
                _ => Ok(Check::ToDo),
            }
        }
        Action::MarkLeaving { host_id, via } => {
            let m = member(cl, via, host_id).await?;
            if m.state == MemberState::Normal || m.state == MemberState::Joining {
                Ok(Check::ToDo)
            } else {
                done(format!("{} is {:?}", m.name, m.state).to_lowercase())
            }
        }
        Action::AckDrop { node, host_id, via } => {
            let m = member(cl, via, host_id).await?;
            let me = match cl.target(node)?.client.status().await {
                Ok(s) => s.host_id,
                Err(e) if e.is_unreachable() => return Ok(Check::ToDo),
                Err(e) => return Err(e.into()),
            };
            if m.state == MemberState::Removed || m.acks.contains(&me) {
                done(format!("{node} acknowledged"))
            } else {
                Ok(Check::ToDo)
            }
        }
        Action::CompleteRemoval { host_id, via, .. } | Action::Readmit { host_id, via } => {
            let m = member(cl, via, host_id).await?;
            let want_removed = matches!(a, Action::CompleteRemoval { .. });
            if (m.state == MemberState::Removed) == want_removed {
                done(format!("{} is {:?}", m.name, m.state).to_lowercase())
            } else {
                Ok(Check::ToDo)
            }
        }
        Action::Services { node, running } => {
            let s = cl.status(node).await?;
            if (s.services == "running") == *running {
                done(format!("services on {node} are {}", s.services))
            } else {
                Ok(Check::ToDo)
            }
        }
        Action::PackagesSync { from, to } => {
            if packages(cl, from).await? == packages(cl, to).await? {
                done(format!("{to} holds {from}'s package files"))
            } else {
                Ok(Check::ToDo)
            }
        }
        Action::Maintenance { node, maintenance } => {
            let s = cl.status(node).await?;
            if s.maintenance == *maintenance {
                done(format!("{node}'s maintenance is as wanted"))
            } else {
                Ok(Check::ToDo)
            }
        }
        Action::Exec { node, marker, .. } => {
            match cl
                .target(node)?
                .client
                .get_local(&format!("upgrade-{marker}"))
                .await
            {
                Ok(Some(at)) => done(format!("ran for {node} at {at}")),
                Ok(None) => Ok(Check::ToDo),
                // A node that does not answer may be what the command fixes.
                Err(e) if e.is_unreachable() => Ok(Check::ToDo),
                Err(e) => Err(e.into()),
            }
        }
        _ => unreachable!("not an extra action"),
    }
}

pub(super) async fn apply(a: &Action, cl: &Cluster) -> Result<Option<String>, ProcError> {
    match a {
        Action::ReleaseRole { node, role } => {
            cl.target(node)?.client.release_role(role).await?;
            Ok(None)
        }
        Action::SetRole {
            role,
            node,
            epoch,
            via,
        } => {
            let holder = cl.status(node).await?.host_id;
            cl.target(via)?
                .client
                .set_role(role, &holder, *epoch)
                .await?;
            Ok(None)
        }
        Action::MarkLeaving { host_id, via } => {
            let mut m = member(cl, via, host_id).await?;
            m.state = MemberState::Leaving;
            m.acks.clear();
            put_member(cl, via, &m).await?;
            Ok(None)
        }
        Action::AckDrop { node, host_id, via } => {
            let t = cl.target(node)?;
            match t.client.drop_member(host_id).await {
                Ok(ack) => {
                    let by = ack["by"].as_str().unwrap_or_default().to_string();
                    let mut m = member(cl, via, host_id).await?;
                    if !m.acks.contains(&by) {
                        m.acks.push(by);
                        put_member(cl, via, &m).await?;
                    }
                    Ok(None)
                }
                Err(e) if e.is_unreachable() => Ok(Some(format!(
                    "{node} does not answer: the member stays leaving until it acknowledges \
                     (or `drctl removenode --force {host_id}`)"
                ))),
                Err(e) => Err(e.into()),
            }
        }
        Action::CompleteRemoval {
            host_id,
            via,
            force,
        } => {
            let members = cl.target(via)?.client.members().await?;
            let mut m = member(cl, via, host_id).await?;
            let missing: Vec<String> = required_acks(&members, host_id)
                .into_iter()
                .filter(|r| !m.acks.contains(&r.host_id))
                .map(|r| r.name)
                .collect();
            if !missing.is_empty() && !force {
                return Err(ProcError::failed(format!(
                    "{} stays leaving: {} did not acknowledge; see `drctl removenode status`, or \
                     complete it without them: `drctl removenode --force {host_id}`",
                    m.name,
                    missing.join(", ")
                )));
            }
            m.state = MemberState::Removed;
            m.removed_at = Some(crate::util::clock::now_rfc3339());
            put_member(cl, via, &m).await?;
            Ok((!missing.is_empty())
                .then(|| format!("forced: {} had not acknowledged", missing.join(", "))))
        }
        Action::Readmit { host_id, via } => {
            let mut m = member(cl, via, host_id).await?;
            m.state = MemberState::Normal;
            m.acks.clear();
            m.removed_at = None;
            put_member(cl, via, &m).await?;
            Ok(None)
        }
        Action::Services { node, running } => {
            cl.target(node)?.client.set_services(*running).await?;
            Ok(None)
        }
        Action::PackagesSync { from, to } => {
            let (src, dst) = (packages(cl, from).await?, packages(cl, to).await?);
            let (f, t) = (&cl.target(from)?.client, &cl.target(to)?.client);
            let mut copied = 0;
            let mut removed = 0;
            for (name, p) in &src {
                if dst.get(name) != Some(p) {
                    let body = f.download_package(name).await?;
                    t.upload_package(name, body).await?;
                    copied += 1;
                }
            }
            for name in dst.keys().filter(|n| !src.contains_key(*n)) {
                t.delete_package(name).await?;
                removed += 1;
            }
            Ok(Some(format!("{copied} copied, {removed} removed")))
        }
        Action::Maintenance { node, maintenance } => {
            cl.target(node)?
                .client
                .set_maintenance(maintenance.clone())
                .await?;
            Ok(None)
        }
        Action::Exec {
            node,
            command,
            marker,
        } => super::upgrade::exec(cl, node, command, marker).await,
        _ => unreachable!("not an extra action"),
    }
}

pub(super) async fn verify_once(a: &Action, cl: &Cluster) -> Verified {
    if matches!(a, Action::ReleaseRole { .. }) {
        // The holder's answer is the release; it holds the role until the new record lands.
        return Ok(Ok(None));
    }
    Ok(match check(a, cl).await? {
        Check::Done(_) => Ok(None),
        Check::ToDo => match a {
            // An acknowledgement a node could not give is reported, not waited for.
            Action::AckDrop { node, .. }
                if cl
                    .target(node)?
                    .client
                    .status()
                    .await
                    .is_err_and(|e| e.is_unreachable()) =>
            {
                Ok(None)
            }
            Action::Services { node, .. } if cl.status(node).await?.role == Role::Primary => {
                Err(format!("{node}'s services did not change yet"))
            }
            _ => Err(format!("{} has not taken effect yet", a.describe())),
        },
    })
}
