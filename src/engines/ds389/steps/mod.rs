//! The steps 389ds procedures are made of: each an LDAP change to `cn=config` (or a restart by
//! the cluster file's host commands, or a wait) that knows from a fresh probe whether it is
//! done, how to do it and how to prove it took effect. Serializable for reports and journals;
//! never carries a credential (the replication password is read from the cluster at apply time).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use ldap3::Mod;
use serde::Serialize;

use super::assess::port_of;
use super::state::{identity_dn, mapping_tree_dn, one, replica_dn, DsState, ReplicaKind};
use super::DsCluster;
use crate::engine::{check_holds, verify_holds, Act, Check, ProcError};

mod promotion;
mod retirement;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum DsAction {
    /// `node` accepts replicated updates only from the identity of replica `rid`
    /// (`cn=repl-RID,cn=config`, added with the replication password if missing): the fence
    /// that keeps an old supplier's updates out.
    Accept { node: String, rid: u16 },
    /// The backend read-only (a supplier that hands over: client writes refused while its
    /// replication goes on); done once `node` is the writable supplier of `rid`.
    Freeze { node: String, rid: u16 },
    /// The backend writable again.
    Thaw { node: String },
    /// A hub: still read-only for clients (writes are referred), but logging changes, so the
    /// restart that follows opens its changelog before it takes a single write.
    Hub { node: String },
    /// A clean stop and a start by the host commands, so the hub opens its changelog; needed
    /// until `node` is the supplier with replica id `rid`.
    Restart { node: String, rid: u16 },
    /// The replica entry of a supplier with replica id `rid`: client writes taken from here on,
    /// into the changelog the restart opened.
    Promote { node: String, rid: u16 },
    /// An enabled agreement from the supplier `from` to `to`.
    Agreement { from: String, to: String, rid: u16 },
    /// A total update of `to` from `from`, needed while `to` lacks a change of an older
    /// replica that `from` holds (incremental updates cannot bring it: pitfall 2, 17).
    Init {
        from: String,
        to: String,
        /// Whatever the RUVs say: `to` took writes outside replication (its replica did not
        /// load), which no CSN shows.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        always: bool,
        /// What `to` holds that `from` lacks was exported by an earlier step: the update may
        /// drop it. Without this the step refuses to run over such changes (a switchover
        /// whose drain was wrong must not wipe the old supplier's acknowledged writes).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        exported: bool,
        /// One total update per run (`sync full`), whatever the RUVs say: the run that starts it
        /// marks it on the agreement (`description: drctl sync full RUN`; the times 389-ds
        /// keeps have one-second steps), and it is done once that update ended well.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<String>,
    },
    /// Every answering consumer accepts `supplier`, is fed by it and holds what it holds.
    Converged { supplier: String, rid: u16 },
    /// The same of a supplier made read-only for a switchover: every change it acknowledged
    /// has reached every answering consumer.
    Drained { supplier: String, rid: u16 },
    /// Client writes to `node` referred to `to` (`nsslapd-state: referral on update`).
    Refer { node: String, to: String },
    /// What `node` holds that `supplier` lacks, written to `path` as LDIF, each entry named.
    Export {
        node: String,
        supplier: String,
        path: PathBuf,
    },
    /// Every agreement of `node` deleted (before its demotion: pitfall 11).
    DropAgreements { node: String },
    /// The replica entry of a consumer accepting only replica `rid`'s identity (a plain
    /// modify: `dsconf replication demote` would start a CleanAllRUV).
    Demote { node: String, rid: u16 },
    /// A clean restart of a demoted `node`, so its CSN generator forgets its old replica id
    /// (pitfall 12: a crash before that turns replication off at the next start).
    Settle { node: String },
    /// The agreements of `from` to the instance `to` (gone for good) deleted.
    Forget { from: String, to: String },
    /// Every agreement of `supplier` disabled while replica `rid` is cleaned: CleanAllRUV sent
    /// to a consumer crashes it (pitfall 13, upstream #5751), and the task skips disabled
    /// agreements. Done once `supplier`'s RUV lacks `rid`.
    Pause { supplier: String, rid: u16 },
    /// CleanAllRUV of replica `rid` on `supplier` (forced: its instance is gone for good).
    CleanRuv { supplier: String, rid: u16 },
    /// Every agreement of `supplier` enabled again.
    Unpause { supplier: String },
}

impl DsAction {
    /// The steps of `retirement.rs` (the others are in `promotion.rs`).
    fn retires(&self) -> bool {
        matches!(
            self,
            DsAction::Forget { .. }
                | DsAction::Pause { .. }
                | DsAction::CleanRuv { .. }
                | DsAction::Unpause { .. }
                | DsAction::Refer { .. }
                | DsAction::Export { .. }
                | DsAction::DropAgreements { .. }
                | DsAction::Demote { .. }
                | DsAction::Settle { .. }
        )
    }

    async fn state(cl: &DsCluster, node: &str) -> Result<DsState, ProcError> {
        let n = cl.node(node)?;
        let mut s = cl.session(node).await?;
        let st = super::state::read_state(&mut s, &n.ldap.suffix)
            .await
            .map_err(|e| ProcError::failed(e.to_string()));
        s.close().await;
        st
    }

    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, cl: &DsCluster) -> Result<Result<String, String>, ProcError> {
        if self.retires() {
            retirement::holds(self, cl).await
        } else {
            promotion::holds(self, cl).await
        }
    }

    async fn run(&self, cl: &DsCluster) -> Result<Option<String>, ProcError> {
        if self.retires() {
            retirement::run(self, cl).await
        } else {
            promotion::run(self, cl).await
        }
    }

    /// After an `Init`: the total update ended, and ended well (pitfall 8: the status text of
    /// an earlier update stays until the new one reports, so the end is the attribute's going).
    async fn init_result(&self, cl: &DsCluster) -> Result<Result<String, String>, ProcError> {
        let DsAction::Init {
            from,
            to,
            exported,
            run,
            ..
        } = self
        else {
            return self.holds(cl).await;
        };
        let sup = Self::state(cl, from).await?;
        let port = port_of(&cl.node(to)?.ldap.url);
        let Some(a) = sup.agreement_to(port) else {
            return Err(ProcError::failed(format!(
                "{from} has no agreement to {to}"
            )));
        };
        if a.init_running {
            return Ok(Err(format!("the total update of {to} runs")));
        }
        // An error text may be the last update's until this one reports: waited on, and named
        // when the wait ends.
        if !a.init_status.contains("succeeded") {
            return Ok(Err(format!(
                "the total update of {to} from {from} says: {}",
                if a.init_status.is_empty() {
                    "nothing yet"
                } else {
                    &a.init_status
                }
            )));
        }
        // Ended well: now the RUVs must agree too (a forced one was forced only before it ran).
        DsAction::Init {
            from: from.clone(),
            to: to.clone(),
            always: false,
            exported: *exported,
            run: run.clone(),
        }
        .holds(cl)
        .await
    }
}

/// A session to `node` and its state read through it: for a step that changes what it reads.
async fn open_with_state(
    cl: &DsCluster,
    node: &str,
) -> Result<(crate::engines::openldap::Session, DsState), ProcError> {
    let n = cl.node(node)?;
    let mut s = cl.session(node).await?;
    let st = super::state::read_state(&mut s, &n.ldap.suffix)
        .await
        .map_err(|e| ProcError::failed(e.to_string()))?;
    Ok((s, st))
}

/// Whether `node` holds the identity entry of replica `rid` (an agreement binding as it would
/// get "invalid credentials" without it).
async fn has_identity(cl: &DsCluster, node: &str, rid: u16) -> Result<bool, ProcError> {
    let mut s = cl.session(node).await?;
    let found = s.read(&identity_dn(rid), &["1.1"]).await;
    s.close().await;
    found
        .map(|e| e.is_some())
        .map_err(|e| ProcError::failed(e.to_string()))
}

/// The identity of replica `rid` on the server of `s` (added with the replication password if
/// missing): what its agreements bind as. Its DN.
async fn ensure_identity(
    s: &mut crate::engines::openldap::Session,
    rid: u16,
    n: &super::DsNode,
) -> Result<String, crate::engines::openldap::LdapError> {
    let id = identity_dn(rid);
    if s.read(&id, &["1.1"]).await?.is_none() {
        let attrs = vec![
            (
                "objectClass".to_string(),
                HashSet::from(["top", "netscapeServer", "nsAccount"].map(String::from)),
            ),
            ("cn".to_string(), one(format!("repl-{rid}"))),
            ("userPassword".to_string(), one(n.repl_password.expose())),
        ];
        s.add(&id, attrs).await?;
    }
    Ok(id)
}

/// A clean stop and a start by the cluster file's host commands.
async fn restart(cl: &DsCluster, node: &str) -> Result<Option<String>, ProcError> {
    let n = cl.node(node)?;
    let (Some(stop), Some(start)) = (&n.stop_command, &n.start_command) else {
        return Err(ProcError::refused(format!(
            "{node}: the cluster file gives no stop_command and start_command"
        )));
    };
    let bound = Duration::from_secs(60).max(cl.step_timeout);
    let host = crate::engines::etcd::rejoin::host;
    host(&format!("{node}: stop_command"), stop, &[], bound).await?;
    host(&format!("{node}: start_command"), start, &[], bound).await?;
    Ok(Some(format!("{node} restarted")))
}

fn exported(d: &[super::export::Divergent], path: &std::path::Path) -> String {
    format!(
        "exported {} change(s) to {}: {}",
        d.len(),
        crate::util::words::absolute(path).display(),
        d.iter()
            .map(|d| d.dn.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// `node` is the supplier with replica id `rid` and takes writes: its promotion is complete.
fn promoted(s: &DsState, rid: u16) -> bool {
    s.is_supplier() && s.replica.as_ref().is_some_and(|r| r.rid == rid) && !s.read_only
}

/// The replica ids (other than the supplier's own) whose newest change `sup` holds and `con`
/// does not.
fn lacking(sup: &DsState, con: &DsState) -> Vec<u16> {
    let (Some(rs), Some(rc)) = (&sup.replica, &con.replica) else {
        return Vec::new();
    };
    rs.ruv
        .iter()
        .filter(|(rid, e)| {
            **rid != rs.rid
                && e.max
                    .as_deref()
                    .is_some_and(|m| rc.max(**rid).is_none_or(|o| o < m))
        })
        .map(|(rid, _)| *rid)
        .collect()
}

/// The replica ids (its own included) whose newest change `a` holds and `b` does not.
fn ahead(a: &DsState, b: &DsState) -> Vec<u16> {
    let (Some(ra), Some(rb)) = (&a.replica, &b.replica) else {
        return Vec::new();
    };
    ra.ruv
        .iter()
        .filter(|(rid, e)| {
            e.max
                .as_deref()
                .is_some_and(|m| rb.max(**rid).is_none_or(|o| o < m))
        })
        .map(|(rid, _)| *rid)
        .collect()
}

fn join(rids: &[u16]) -> String {
    rids.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn set_read_only(cl: &DsCluster, node: &str, on: bool) -> Result<Option<String>, ProcError> {
    let n = cl.node(node)?;
    let fail = ProcError::from;
    let mut s = cl.session(node).await?;
    let be = super::state::backend_dn(&mut s, &n.ldap.suffix)
        .await
        .map_err(fail)?;
    s.modify(
        &be,
        vec![Mod::Replace(
            "nsslapd-readonly".into(),
            one(if on { "on" } else { "off" }),
        )],
    )
    .await
    .map_err(fail)?;
    s.close().await;
    Ok(None)
}

/// What a verification keeps from one attempt to the next.
///
/// The supplier's newest change of its replica id, taken at the first attempt: a consumer that
/// holds it holds everything written before the step. Under a steady write load the supplier's
/// RUV moves between any two probes, and a consumer held to the newest change of the moment is
/// nearly always a few changes behind (the chase drnode's and OpenLDAP's verifications had).
///
/// Each consumer's RUV at the attempt before: one whose RUV moved since is replaying, and is
/// waited for by its RUV alone. The proof by data (a whole read of supplier and consumer) is for
/// an RUV that stays behind (pitfall 16); under 4 `ldapadd` streams each such read took seconds.
#[derive(Default)]
pub(super) struct HeadMark(std::sync::Mutex<MarkSeen>);

#[derive(Default)]
struct MarkSeen {
    head: Option<Option<String>>,
    ruv: HashMap<String, Option<String>>,
}

impl HeadMark {
    /// The head taken first; `now` is the supplier's head at this attempt.
    fn head(&self, now: Option<String>) -> Option<String> {
        self.0
            .lock()
            .expect("mark lock")
            .head
            .get_or_insert(now)
            .clone()
    }

    /// Whether `node`'s RUV moved since the attempt before (`now` is kept for the next one).
    fn moved(&self, node: &str, now: Option<&str>) -> bool {
        let before = self
            .0
            .lock()
            .expect("mark lock")
            .ruv
            .insert(node.to_string(), now.map(str::to_string));
        before.is_some_and(|b| b.as_deref() != now)
    }
}

/// Every answering instance but the supplier accepts it, is fed by an agreement that is not
/// failing, and holds what the supplier held when the verification began (`mark`): by its
/// RUV, or where that trails and stays put, by its data (`replayed.rs`).
async fn converged(
    cl: &DsCluster,
    supplier: &str,
    rid: u16,
    writable: bool,
    mark: &HeadMark,
) -> Result<Result<String, String>, ProcError> {
    let view = cl.probe().await;
    let Some(sup) = view.state(supplier) else {
        return Ok(Err(format!("{supplier} does not answer")));
    };
    if writable && !promoted(sup, rid) {
        return Ok(Err(format!(
            "{supplier} is not the writable supplier {rid}"
        )));
    }
    let head = mark.head(
        sup.replica
            .as_ref()
            .and_then(|r| r.max(rid))
            .map(str::to_string),
    );
    let mut behind = Vec::new();
    let mut fed = 0;
    for n in view.nodes.iter().filter(|n| n.name != supplier) {
        // An old supplier is no consumer to wait for: status names it, its updates are refused.
        let Some(s) = n.state.as_ref().ok().filter(|s| !s.is_supplier()) else {
            continue;
        };
        let Some(a) = sup.agreement_to(n.port) else {
            behind.push(format!("{}: no agreement from {supplier}", n.name));
            continue;
        };
        // A switchover's fence moves the consumers to the new id only once they were drained,
        // and the frozen supplier takes no write since: a rerun of a stopped one (`run
        // --resume`) finds them fenced past it, and what they hold is all that counts.
        let fenced_past = !writable
            && sup.read_only
            && s.replica.as_ref().is_some_and(|r| {
                r.bind_dns
                    .iter()
                    .filter_map(|d| super::state::identity_rid(d))
                    .any(|r| r > rid)
            });
        if !fenced_past
            && s.replica
                .as_ref()
                .is_none_or(|r| r.bind_dns != [identity_dn(rid)])
        {
            behind.push(format!("{}: does not accept {supplier}", n.name));
        } else if !a.enabled {
            behind.push(format!("{}: agreement {} is disabled", n.name, a.cn));
        } else if a.init_running {
            behind.push(format!("{}: a total update runs", n.name));
        } else if s.replica.as_ref().map(|r| &r.generation)
            != sup.replica.as_ref().map(|r| &r.generation)
        {
            behind.push(format!("{}: another database generation", n.name));
        } else if !ahead(s, sup).is_empty() {
            behind.push(format!(
                "{}: holds changes of replica id {} that {supplier} lacks",
                n.name,
                join(&ahead(s, sup))
            ));
        } else if !lacking(sup, s).is_empty() {
            behind.push(format!(
                "{}: lacks changes of replica id {}",
                n.name,
                join(&lacking(sup, s))
            ));
        } else if let Some(h) = head.as_deref().filter(|h| {
            s.replica
                .as_ref()
                .and_then(|r| r.max(rid))
                .is_none_or(|m| m < *h)
        }) {
            // Its RUV trails: caught up only if the data proves it (pitfall 16), unless it is
            // replaying (then its RUV will say so).
            let since = s.replica.as_ref().and_then(|r| r.max(rid));
            if mark.moved(&n.name, since) {
                behind.push(format!(
                    "{}: replays, its RUV holds {} of {h}",
                    n.name,
                    since.unwrap_or("nothing")
                ));
                continue;
            }
            // A read that failed (a server restarting) is waited on like a lag, and named.
            let missing =
                match super::replayed::unreplayed(cl, supplier, &n.name, rid, since, h).await {
                    Ok(m) => m,
                    Err(e) => {
                        behind.push(format!("{}: {e}", n.name));
                        continue;
                    }
                };
            if missing.is_empty() {
                fed += 1;
                continue;
            }
            behind.push(format!(
                "{}: its RUV holds {} of {h}, and it lacks {}",
                n.name,
                since.unwrap_or("nothing"),
                crate::util::words::entries_named(&missing, 3)
            ));
        } else {
            fed += 1;
        }
    }
    Ok(if behind.is_empty() {
        Ok(format!(
            "{fed} answering consumer(s) accept {supplier} and hold what it holds"
        ))
    } else {
        Err(behind.join("; "))
    })
}

impl Act for DsAction {
    type Ctx = DsCluster;
    fn describe(&self) -> String {
        match self {
            DsAction::Accept { node, rid } => {
                format!(
                    "make {node} accept updates only from replica id {rid} ({})",
                    identity_dn(*rid)
                )
            }
            DsAction::Freeze { node, .. } => format!("make {node}'s backend read-only"),
            DsAction::Thaw { node } => format!("make {node}'s backend writable"),
            DsAction::Promote { node, rid } => {
                format!("promote {node} to supplier with replica id {rid}")
            }
            DsAction::Hub { node } => {
                format!("make {node} a hub (it logs changes, clients are still referred)")
            }
            DsAction::Restart { node, .. } => {
                format!("restart {node} so that it opens its changelog")
            }
            DsAction::Agreement { from, to, .. } => {
                format!("make {from} replicate to {to} (agreement {from}-to-{to})")
            }
            DsAction::Init { from, to, .. } => {
                format!("re-initialize {to} from {from} (total update)")
            }
            DsAction::Converged { supplier, .. } => format!(
                "verify every answering consumer accepts {supplier} and holds what it holds"
            ),
            DsAction::Drained { supplier, .. } => format!(
                "wait until every answering consumer holds every change {supplier} acknowledged"
            ),
            DsAction::Refer { node, to } => format!("make {node} refer client writes to {to}"),
            DsAction::Forget { from, to } => format!("delete {from}'s agreements to {to}"),
            DsAction::Pause { supplier, rid } => format!(
                "disable {supplier}'s agreements while replica id {rid} is cleaned (CleanAllRUV \
                 sent to a consumer crashes it)"
            ),
            DsAction::CleanRuv { supplier, rid } => {
                format!("clean replica id {rid} from {supplier}'s RUV (CleanAllRUV, forced)")
            }
            DsAction::Unpause { supplier } => format!("enable {supplier}'s agreements again"),
            DsAction::Export {
                node,
                supplier,
                path,
            } => format!(
                "export what {node} holds that {supplier} lacks to {}",
                crate::util::words::absolute(path).display()
            ),
            DsAction::DropAgreements { node } => format!("delete {node}'s agreements"),
            DsAction::Demote { node, rid } => format!(
                "make {node} a consumer accepting only replica id {rid} ({})",
                identity_dn(*rid)
            ),
            DsAction::Settle { node } => {
                format!("restart {node} so that it forgets its old replica id")
            }
        }
    }
    fn changes(&self) -> bool {
        !matches!(self, DsAction::Converged { .. } | DsAction::Drained { .. })
    }
    async fn check(&self, cl: &DsCluster) -> Result<Check, ProcError> {
        check_holds(self.holds(cl).await)
    }
    async fn apply(&self, cl: &DsCluster) -> Result<Option<String>, ProcError> {
        self.run(cl).await
    }
    async fn verify(&self, cl: &DsCluster) -> Result<Option<String>, ProcError> {
        match self {
            // Answers again: its promotion is the step that follows.
            DsAction::Restart { node, .. } => {
                verify_holds(cl.step_timeout, self.describe(), || async {
                    Ok(match Self::state(cl, node).await {
                        Ok(_) => Ok(format!("{node} answers")),
                        Err(e) => Err(e.to_string()),
                    })
                })
                .await
            }
            DsAction::Settle { .. } => {
                verify_holds(cl.step_timeout, self.describe(), || async {
                    match self.holds(cl).await {
                        Err(e) => Ok(Err(e.to_string())),
                        ok => ok,
                    }
                })
                .await
            }
            DsAction::Init { .. } => {
                verify_holds(cl.step_timeout, self.describe(), || self.init_result(cl)).await
            }
            DsAction::Converged { supplier, rid } | DsAction::Drained { supplier, rid } => {
                let writable = matches!(self, DsAction::Converged { .. });
                let mark = HeadMark::default();
                verify_holds(cl.step_timeout, self.describe(), || {
                    converged(cl, supplier, *rid, writable, &mark)
                })
                .await
            }
            _ => verify_holds(cl.step_timeout, self.describe(), || self.holds(cl)).await,
        }
    }
}
