//! The steps 389ds procedures are made of: each an LDAP change to `cn=config` (or a restart by
//! the cluster file's host commands, or a wait) that knows from a fresh probe whether it is
//! done, how to do it and how to prove it took effect. Serializable for reports and journals;
//! never carries a credential (the replication password is read from the cluster at apply time).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use ldap3::Mod;
use serde::Serialize;

use super::assess::port_of;
use super::state::{identity_dn, mapping_tree_dn, one, replica_dn, DsState, ReplicaKind};
use super::DsCluster;
use crate::engine::{check_holds, verify_holds, Act, Check, ProcError};

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
        match self {
            DsAction::Accept { node, rid } => {
                let s = Self::state(cl, node).await?;
                let want = identity_dn(*rid);
                let bind = s.replica.map(|r| r.bind_dns).unwrap_or_default();
                if !has_identity(cl, node, *rid).await? {
                    return Ok(Err(format!("{node} has no entry {want}")));
                }
                Ok(if bind == [want.clone()] {
                    Ok(format!("{node} accepts only {want}"))
                } else {
                    Err(format!("{node} accepts {}", bind.join(", ")))
                })
            }
            DsAction::Freeze { node, rid } => {
                let s = Self::state(cl, node).await?;
                Ok(if promoted(&s, *rid) {
                    Ok(format!("{node} is the writable supplier already"))
                } else if s.read_only {
                    Ok(format!("{node} is read-only"))
                } else {
                    Err(format!("{node} takes writes"))
                })
            }
            DsAction::Thaw { node } => {
                let s = Self::state(cl, node).await?;
                Ok(if s.read_only {
                    Err(format!("{node} is read-only"))
                } else {
                    Ok(format!("{node} is writable"))
                })
            }
            DsAction::Promote { node, rid } => {
                let s = Self::state(cl, node).await?;
                let r = s.replica.as_ref();
                Ok(if s.is_supplier() && r.is_some_and(|r| r.rid == *rid) {
                    Ok(format!("{node} is a supplier with replica id {rid}"))
                } else {
                    Err(format!(
                        "{node} is a {} with replica id {}",
                        r.map(|r| format!("{:?}", r.kind).to_lowercase())
                            .unwrap_or_else(|| "server without replication".into()),
                        r.map(|r| r.rid).unwrap_or_default()
                    ))
                })
            }
            DsAction::Hub { node } => {
                let s = Self::state(cl, node).await?;
                Ok(match s.kind() {
                    Some(ReplicaKind::Hub | ReplicaKind::Supplier) => {
                        Ok(format!("{node} logs changes"))
                    }
                    _ => Err(format!("{node} logs no changes")),
                })
            }
            DsAction::Restart { node, rid } => {
                let s = Self::state(cl, node).await?;
                let r = s.replica.as_ref();
                Ok(if s.is_supplier() && r.is_some_and(|r| r.rid == *rid) {
                    Ok(format!("{node} is the supplier with replica id {rid}"))
                } else {
                    Err(format!(
                        "{node} waits for the restart that opens its changelog"
                    ))
                })
            }
            DsAction::Agreement { from, to, .. } => {
                let s = Self::state(cl, from).await?;
                let port = port_of(&cl.node(to)?.ldap.url);
                Ok(match s.agreement_to(port) {
                    Some(a) if a.enabled => Ok(format!("{from} feeds {to} ({})", a.cn)),
                    Some(a) => Err(format!("agreement {} is disabled", a.cn)),
                    None => Err(format!("{from} has no agreement to {to}")),
                })
            }
            DsAction::Init { from, to, always } => {
                let sup = Self::state(cl, from).await?;
                let port = port_of(&cl.node(to)?.ldap.url);
                if sup.agreement_to(port).is_some_and(|a| a.init_running) {
                    return Ok(Err(format!("a total update of {to} runs")));
                }
                if *always {
                    return Ok(Err(format!(
                        "{to} took writes while its replication was off"
                    )));
                }
                let con = Self::state(cl, to).await?;
                let generation =
                    |s: &DsState| s.replica.as_ref().and_then(|r| r.generation.clone());
                if generation(&con) != generation(&sup) {
                    return Ok(Err(format!(
                        "{to} holds another database generation than {from}"
                    )));
                }
                let extra = ahead(&con, &sup);
                if !extra.is_empty() {
                    return Ok(Err(format!(
                        "{to} holds changes of replica id {} that {from} lacks",
                        join(&extra)
                    )));
                }
                let lacks = lacking(&sup, &con);
                Ok(if lacks.is_empty() {
                    Ok(format!(
                        "{to} holds every change {from} holds of older replicas"
                    ))
                } else {
                    Err(format!("{to} lacks changes of replica id {}", join(&lacks)))
                })
            }
            DsAction::Converged { supplier, rid } => converged(cl, supplier, *rid, true).await,
            DsAction::Drained { supplier, rid } => converged(cl, supplier, *rid, false).await,
            DsAction::Forget { from, to } => {
                let s = Self::state(cl, from).await?;
                let port = port_of(&cl.node(to)?.ldap.url);
                Ok(match s.agreement_to(port) {
                    Some(a) => Err(format!("{from} still has agreement {}", a.cn)),
                    None => Ok(format!("{from} has no agreement to {to}")),
                })
            }
            DsAction::Pause { supplier, rid } | DsAction::CleanRuv { supplier, rid } => {
                let s = Self::state(cl, supplier).await?;
                let has = s.replica.as_ref().is_some_and(|r| r.ruv.contains_key(rid));
                if !has {
                    return Ok(Ok(format!("{supplier}'s RUV holds no replica id {rid}")));
                }
                Ok(match self {
                    DsAction::Pause { .. } if s.agreements.iter().all(|a| !a.enabled) => {
                        Ok(format!("{supplier}'s agreements are disabled"))
                    }
                    _ => Err(format!("{supplier}'s RUV holds replica id {rid}")),
                })
            }
            DsAction::Unpause { supplier } => {
                let s = Self::state(cl, supplier).await?;
                Ok(if s.agreements.iter().all(|a| a.enabled) {
                    Ok(format!("{supplier}'s agreements are enabled"))
                } else {
                    Err(format!("{supplier} has disabled agreements"))
                })
            }
            DsAction::Refer { node, .. } => {
                let s = Self::state(cl, node).await?;
                Ok(if s.mapping_state == "referral on update" {
                    Ok(format!("{node} refers client writes"))
                } else {
                    Err(format!("{node}'s suffix is in state {}", s.mapping_state))
                })
            }
            DsAction::Export {
                node,
                supplier,
                path,
            } => {
                let d = super::export::divergent(cl, node, supplier).await?;
                if d.is_empty() {
                    return Ok(Ok(format!("{node} holds nothing {supplier} lacks")));
                }
                let text = super::export::to_ldif(node, supplier, &d);
                Ok(if std::fs::read(path).is_ok_and(|b| b == text.as_bytes()) {
                    Ok(exported(&d, path))
                } else {
                    Err(format!("{} change(s) not exported", d.len()))
                })
            }
            DsAction::DropAgreements { node } => {
                let s = Self::state(cl, node).await?;
                Ok(if s.agreements.is_empty() {
                    Ok(format!("{node} has no agreement"))
                } else {
                    Err(format!("{node} has {} agreement(s)", s.agreements.len()))
                })
            }
            DsAction::Demote { node, rid } => {
                let s = Self::state(cl, node).await?;
                let ok = s.replica.as_ref().is_some_and(|r| {
                    r.kind == ReplicaKind::Consumer && r.bind_dns == [identity_dn(*rid)] && r.loaded
                }) && has_identity(cl, node, *rid).await?;
                Ok(if ok {
                    Ok(format!("{node} is a consumer accepting replica id {rid}"))
                } else {
                    Err(format!("{node} is no consumer of replica id {rid}"))
                })
            }
            DsAction::Settle { node } => {
                let s = Self::state(cl, node).await?;
                Ok(match s.replica.and_then(|r| r.state_rid) {
                    Some(r) if r != 65535 => {
                        Err(format!("{node}'s CSN generator still holds replica id {r}"))
                    }
                    _ => Ok(format!("{node}'s CSN generator holds no supplier's id")),
                })
            }
        }
    }

    async fn run(&self, cl: &DsCluster) -> Result<Option<String>, ProcError> {
        let fail = |e: crate::engines::openldap::LdapError| ProcError::failed(e.to_string());
        match self {
            DsAction::Accept { node, rid } => {
                let n = cl.node(node)?;
                let mut s = cl.session(node).await?;
                let id = ensure_identity(&mut s, *rid, n).await.map_err(fail)?;
                s.modify(
                    &replica_dn(&n.ldap.suffix),
                    vec![Mod::Replace("nsDS5ReplicaBindDN".into(), one(id))],
                )
                .await
                .map_err(fail)?;
                s.close().await;
                Ok(None)
            }
            DsAction::Freeze { node, .. } => set_read_only(cl, node, true).await,
            DsAction::Thaw { node } => set_read_only(cl, node, false).await,
            DsAction::Hub { node } => {
                let n = cl.node(node)?;
                let mut s = cl.session(node).await?;
                s.modify(
                    &replica_dn(&n.ldap.suffix),
                    vec![Mod::Replace("nsDS5Flags".into(), one("1"))],
                )
                .await
                .map_err(fail)?;
                s.close().await;
                Ok(None)
            }
            DsAction::Promote { node, rid } => {
                let n = cl.node(node)?;
                let mut s = cl.session(node).await?;
                s.modify(
                    &replica_dn(&n.ldap.suffix),
                    vec![
                        Mod::Replace("nsDS5ReplicaType".into(), one("3")),
                        Mod::Replace("nsDS5Flags".into(), one("1")),
                        Mod::Replace("nsDS5ReplicaId".into(), one(rid.to_string())),
                    ],
                )
                .await
                .map_err(fail)?;
                s.close().await;
                Ok(None)
            }
            DsAction::Restart { node, .. } => restart(cl, node).await,
            DsAction::Agreement { from, to, rid } => {
                let f = cl.node(from)?;
                let t = cl.node(to)?;
                let port = port_of(&t.ldap.url);
                let mut s = cl.session(from).await?;
                let st = super::state::read_state(&mut s, &f.ldap.suffix)
                    .await
                    .map_err(fail)?;
                let base = replica_dn(&f.ldap.suffix);
                if let Some(a) = st.agreement_to(port) {
                    s.modify(
                        &format!("cn={},{base}", a.cn),
                        vec![Mod::Replace("nsds5ReplicaEnabled".into(), one("on"))],
                    )
                    .await
                    .map_err(fail)?;
                } else {
                    let host = url::Url::parse(&t.ldap.url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .unwrap_or_else(|| "127.0.0.1".into());
                    let cn = format!("{from}-to-{to}");
                    let attr = |k: &str, v: String| (k.to_string(), one(v));
                    let attrs = vec![
                        (
                            "objectClass".to_string(),
                            HashSet::from(["top", "nsds5replicationagreement"].map(String::from)),
                        ),
                        attr("cn", cn.clone()),
                        attr("nsDS5ReplicaRoot", f.ldap.suffix.clone()),
                        attr("nsDS5ReplicaHost", host),
                        attr("nsDS5ReplicaPort", port.to_string()),
                        attr("nsDS5ReplicaBindDN", identity_dn(*rid)),
                        attr("nsDS5ReplicaBindMethod", "SIMPLE".into()),
                        attr("nsDS5ReplicaTransportInfo", "LDAP".into()),
                        attr("nsDS5ReplicaCredentials", f.repl_password.expose().into()),
                        // Pitfall 7: the default flow control makes a total update 4x slower.
                        attr("nsds5ReplicaFlowControlWindow", "20000".into()),
                        attr("nsds5ReplicaFlowControlPause", "100".into()),
                    ];
                    s.add(&format!("cn={cn},{base}"), attrs)
                        .await
                        .map_err(fail)?;
                }
                s.close().await;
                Ok(None)
            }
            DsAction::Init { from, to, .. } => {
                let f = cl.node(from)?;
                let port = port_of(&cl.node(to)?.ldap.url);
                let mut s = cl.session(from).await?;
                let st = super::state::read_state(&mut s, &f.ldap.suffix)
                    .await
                    .map_err(fail)?;
                let a = st
                    .agreement_to(port)
                    .ok_or_else(|| ProcError::failed(format!("{from} has no agreement to {to}")))?;
                if !a.init_running {
                    s.modify(
                        &format!("cn={},{}", a.cn, replica_dn(&f.ldap.suffix)),
                        vec![Mod::Replace(
                            "nsds5BeginReplicaRefresh".into(),
                            one("start"),
                        )],
                    )
                    .await
                    .map_err(fail)?;
                }
                s.close().await;
                Ok(None)
            }
            DsAction::Converged { .. } | DsAction::Drained { .. } => Ok(None),
            DsAction::Forget { from, to } => {
                let f = cl.node(from)?;
                let port = port_of(&cl.node(to)?.ldap.url);
                let mut s = cl.session(from).await?;
                let st = super::state::read_state(&mut s, &f.ldap.suffix)
                    .await
                    .map_err(fail)?;
                for a in st.agreements.iter().filter(|a| a.port == port) {
                    s.delete(&format!("cn={},{}", a.cn, replica_dn(&f.ldap.suffix)))
                        .await
                        .map_err(fail)?;
                }
                s.close().await;
                Ok(None)
            }
            DsAction::Pause { supplier, .. } | DsAction::Unpause { supplier } => {
                let on = matches!(self, DsAction::Unpause { .. });
                let f = cl.node(supplier)?;
                let mut s = cl.session(supplier).await?;
                let st = super::state::read_state(&mut s, &f.ldap.suffix)
                    .await
                    .map_err(fail)?;
                for a in st.agreements.iter().filter(|a| a.enabled != on) {
                    s.modify(
                        &format!("cn={},{}", a.cn, replica_dn(&f.ldap.suffix)),
                        vec![Mod::Replace(
                            "nsds5ReplicaEnabled".into(),
                            one(if on { "on" } else { "off" }),
                        )],
                    )
                    .await
                    .map_err(fail)?;
                }
                s.close().await;
                Ok(None)
            }
            DsAction::CleanRuv { supplier, rid } => {
                let f = cl.node(supplier)?;
                let mut s = cl.session(supplier).await?;
                let dn = format!(
                    "cn=drctl-clean-{rid}-{},cn=cleanallruv,cn=tasks,cn=config",
                    cl.run_id
                );
                if s.read(&dn, &["1.1"]).await.map_err(fail)?.is_none() {
                    let attr = |k: &str, v: String| (k.to_string(), one(v));
                    let attrs = vec![
                        (
                            "objectClass".to_string(),
                            HashSet::from(["top", "extensibleObject"].map(String::from)),
                        ),
                        attr("cn", format!("drctl-clean-{rid}-{}", cl.run_id)),
                        attr("replica-base-dn", f.ldap.suffix.clone()),
                        attr("replica-id", rid.to_string()),
                        attr("replica-force-cleaning", "yes".into()),
                    ];
                    s.add(&dn, attrs).await.map_err(fail)?;
                }
                s.close().await;
                // The task ends with an exit code (and reports success even when a consumer
                // crashed: the RUVs, not the code, are what the verification reads).
                let code = crate::util::poll::within(
                    cl.step_timeout,
                    Duration::from_millis(100),
                    || async {
                        let read = match cl.session(supplier).await {
                            Ok(mut s) => {
                                let r = s.read(&dn, &["nsTaskExitCode", "nsTaskStatus"]).await;
                                s.close().await;
                                r
                            }
                            Err(_) => return std::ops::ControlFlow::Continue(()),
                        };
                        match read {
                            Ok(Some(e)) => match super::state::first(&e, "nsTaskExitCode") {
                                Some(c) => std::ops::ControlFlow::Break(Ok((
                                    c,
                                    super::state::first(&e, "nsTaskStatus").unwrap_or_default(),
                                ))),
                                None => std::ops::ControlFlow::Continue(()),
                            },
                            // The server removes finished tasks after a while.
                            Ok(None) => {
                                std::ops::ControlFlow::Break(Ok(("0".into(), String::new())))
                            }
                            Err(e) => std::ops::ControlFlow::Break(Err(e)),
                        }
                    },
                )
                .await
                .map_err(|()| {
                    ProcError::timed_out(format!(
                        "the CleanAllRUV task of replica id {rid} did not end"
                    ))
                })?
                .map_err(fail)?;
                if code.0.trim() != "0" {
                    return Err(ProcError::failed(format!(
                        "the CleanAllRUV task of replica id {rid} failed ({}): {}",
                        code.0, code.1
                    )));
                }
                Ok(Some(format!("CleanAllRUV of replica id {rid}: {}", code.1)))
            }
            DsAction::Refer { node, to } => {
                let n = cl.node(node)?;
                let target = cl.node(to)?.ldap.url.clone();
                let suffix = url::form_urlencoded::byte_serialize(n.ldap.suffix.as_bytes())
                    .collect::<String>();
                let mut s = cl.session(node).await?;
                s.modify(
                    &mapping_tree_dn(&n.ldap.suffix),
                    vec![
                        Mod::Replace("nsslapd-state".into(), one("referral on update")),
                        Mod::Replace("nsslapd-referral".into(), one(format!("{target}/{suffix}"))),
                    ],
                )
                .await
                .map_err(fail)?;
                s.close().await;
                Ok(None)
            }
            DsAction::Export {
                node,
                supplier,
                path,
            } => {
                let d = super::export::divergent(cl, node, supplier).await?;
                let text = super::export::to_ldif(node, supplier, &d);
                crate::export_file::write_new(path, text.as_bytes())
                    .map_err(|e| ProcError::failed(e.to_string()))?;
                Ok(Some(exported(&d, path)))
            }
            DsAction::DropAgreements { node } => {
                let n = cl.node(node)?;
                let mut s = cl.session(node).await?;
                let st = super::state::read_state(&mut s, &n.ldap.suffix)
                    .await
                    .map_err(fail)?;
                for a in &st.agreements {
                    s.delete(&format!("cn={},{}", a.cn, replica_dn(&n.ldap.suffix)))
                        .await
                        .map_err(fail)?;
                }
                s.close().await;
                Ok(None)
            }
            DsAction::Demote { node, rid } => {
                let n = cl.node(node)?;
                let mut s = cl.session(node).await?;
                ensure_identity(&mut s, *rid, n).await.map_err(fail)?;
                let st = super::state::read_state(&mut s, &n.ldap.suffix)
                    .await
                    .map_err(fail)?;
                // A replica that did not load refuses every modify ("Replica does not
                // exist"): its entry is written again as a consumer's, without the `nsState`
                // that kept it from loading; the server loads it on the add.
                if st.replica.as_ref().is_some_and(|r| !r.loaded) {
                    let dn = replica_dn(&n.ldap.suffix);
                    s.delete(&dn).await.map_err(fail)?;
                    let attrs = [
                        ("objectClass", vec!["top", "nsds5Replica"]),
                        ("cn", vec!["replica"]),
                        ("nsDS5ReplicaRoot", vec![n.ldap.suffix.as_str()]),
                        ("nsDS5ReplicaType", vec!["2"]),
                        ("nsDS5Flags", vec!["0"]),
                        ("nsDS5ReplicaId", vec!["65535"]),
                    ];
                    let mut attrs: Vec<(String, HashSet<String>)> = attrs
                        .into_iter()
                        .map(|(a, v)| (a.to_string(), v.into_iter().map(str::to_string).collect()))
                        .collect();
                    attrs.push(("nsDS5ReplicaBindDN".into(), one(identity_dn(*rid))));
                    s.add(&dn, attrs).await.map_err(fail)?;
                    s.close().await;
                    return Ok(None);
                }
                // The server refuses to "change" a type it has (rc 1): a rerun after a stop
                // sets only what is left.
                let mut mods = vec![Mod::Replace(
                    "nsDS5ReplicaBindDN".into(),
                    one(identity_dn(*rid)),
                )];
                if st.kind() != Some(ReplicaKind::Consumer) {
                    mods.extend([
                        Mod::Replace("nsDS5ReplicaType".into(), one("2")),
                        Mod::Replace("nsDS5Flags".into(), one("0")),
                        Mod::Replace("nsDS5ReplicaId".into(), one("65535")),
                    ]);
                }
                s.modify(&replica_dn(&n.ldap.suffix), mods)
                    .await
                    .map_err(fail)?;
                s.close().await;
                Ok(None)
            }
            DsAction::Settle { node } => restart(cl, node).await,
        }
    }

    /// After an `Init`: the total update ended, and ended well (pitfall 8: the status text of
    /// an earlier update stays until the new one reports, so the end is the attribute's going).
    async fn init_result(&self, cl: &DsCluster) -> Result<Result<String, String>, ProcError> {
        let DsAction::Init { from, to, .. } = self else {
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
        }
        .holds(cl)
        .await
    }
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
    let fail = |e: crate::engines::openldap::LdapError| ProcError::failed(e.to_string());
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

/// Every answering instance but the supplier accepts it, is fed by an agreement that is not
/// failing, and holds what the supplier holds: the older replicas' changes, and the supplier's
/// own as its agreement replayed them (pitfall 16: not the consumer's RUV).
async fn converged(
    cl: &DsCluster,
    supplier: &str,
    rid: u16,
    writable: bool,
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
    let head = sup
        .replica
        .as_ref()
        .and_then(|r| r.max(rid))
        .map(str::to_string);
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
        if s.replica
            .as_ref()
            .is_none_or(|r| r.bind_dns != [identity_dn(rid)])
        {
            behind.push(format!("{}: does not accept {supplier}", n.name));
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
        } else if head.as_deref().is_some_and(|h| {
            // The agreement's replayed CSN (pitfall 16: a consumer's RUV can trail it), or,
            // right after a total update (no incremental session yet), the consumer's RUV.
            a.max_csn.as_deref().is_none_or(|m| m < h)
                && s.replica
                    .as_ref()
                    .and_then(|r| r.max(rid))
                    .is_none_or(|m| m < h)
        }) {
            behind.push(format!(
                "{}: replayed {} of {}",
                n.name,
                a.max_csn.as_deref().unwrap_or("nothing"),
                head.as_deref().unwrap_or_default()
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
            _ => verify_holds(cl.step_timeout, self.describe(), || self.holds(cl)).await,
        }
    }
}
