//! The steps that retire a server or a replica id: referral, export, agreements dropped, the
//! demotion and the clean restart after it, forgetting a dead instance, CleanAllRUV with the
//! agreements paused around it.

use super::*;

/// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
pub(super) async fn holds(
    a: &DsAction,
    cl: &DsCluster,
) -> Result<Result<String, String>, ProcError> {
    match a {
        DsAction::Forget { from, to } => {
            let s = DsAction::state(cl, from).await?;
            let port = port_of(&cl.node(to)?.ldap.url);
            Ok(match s.agreement_to(port) {
                Some(a) => Err(format!("{from} still has agreement {}", a.cn)),
                None => Ok(format!("{from} has no agreement to {to}")),
            })
        }
        DsAction::Pause { supplier, rid } | DsAction::CleanRuv { supplier, rid } => {
            let s = DsAction::state(cl, supplier).await?;
            let has = s.replica.as_ref().is_some_and(|r| r.ruv.contains_key(rid));
            if !has {
                return Ok(Ok(format!("{supplier}'s RUV holds no replica id {rid}")));
            }
            Ok(match a {
                DsAction::Pause { .. } if s.agreements.iter().all(|a| !a.enabled) => {
                    Ok(format!("{supplier}'s agreements are disabled"))
                }
                _ => Err(format!("{supplier}'s RUV holds replica id {rid}")),
            })
        }
        DsAction::Unpause { supplier } => {
            let s = DsAction::state(cl, supplier).await?;
            Ok(if s.agreements.iter().all(|a| a.enabled) {
                Ok(format!("{supplier}'s agreements are enabled"))
            } else {
                Err(format!("{supplier} has disabled agreements"))
            })
        }
        DsAction::Refer { node, .. } => {
            let s = DsAction::state(cl, node).await?;
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
            let d = crate::engines::ds389::export::divergent(cl, node, supplier).await?;
            if d.is_empty() {
                return Ok(Ok(format!("{node} holds nothing {supplier} lacks")));
            }
            let text = crate::engines::ds389::export::to_ldif(node, supplier, &d);
            Ok(if std::fs::read(path).is_ok_and(|b| b == text.as_bytes()) {
                Ok(exported(&d, path))
            } else {
                Err(format!("{} change(s) not exported", d.len()))
            })
        }
        DsAction::DropAgreements { node } => {
            let s = DsAction::state(cl, node).await?;
            Ok(if s.agreements.is_empty() {
                Ok(format!("{node} has no agreement"))
            } else {
                Err(format!("{node} has {} agreement(s)", s.agreements.len()))
            })
        }
        DsAction::Demote { node, rid } => {
            let s = DsAction::state(cl, node).await?;
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
            let s = DsAction::state(cl, node).await?;
            Ok(match s.replica.and_then(|r| r.state_rid) {
                Some(r) if r != 65535 => {
                    Err(format!("{node}'s CSN generator still holds replica id {r}"))
                }
                _ => Ok(format!("{node}'s CSN generator holds no supplier's id")),
            })
        }
        _ => unreachable!("a promotion step is in promotion.rs"),
    }
}

pub(super) async fn run(a: &DsAction, cl: &DsCluster) -> Result<Option<String>, ProcError> {
    let fail = ProcError::from;
    match a {
        DsAction::Forget { from, to } => {
            let f = cl.node(from)?;
            let port = port_of(&cl.node(to)?.ldap.url);
            let (mut s, st) = open_with_state(cl, from).await?;
            for a in st.agreements.iter().filter(|a| a.port == port) {
                s.delete(&format!("cn={},{}", a.cn, replica_dn(&f.ldap.suffix)))
                    .await
                    .map_err(fail)?;
            }
            s.close().await;
            Ok(None)
        }
        DsAction::Pause { supplier, .. } | DsAction::Unpause { supplier } => {
            let on = matches!(a, DsAction::Unpause { .. });
            let f = cl.node(supplier)?;
            let (mut s, st) = open_with_state(cl, supplier).await?;
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
            let code =
                crate::util::poll::within(cl.step_timeout, Duration::from_millis(100), || async {
                    let read = match cl.session(supplier).await {
                        Ok(mut s) => {
                            let r = s.read(&dn, &["nsTaskExitCode", "nsTaskStatus"]).await;
                            s.close().await;
                            r
                        }
                        Err(_) => return std::ops::ControlFlow::Continue(()),
                    };
                    match read {
                        Ok(Some(e)) => {
                            match crate::engines::ds389::state::first(&e, "nsTaskExitCode") {
                                Some(c) => std::ops::ControlFlow::Break(Ok((
                                    c,
                                    crate::engines::ds389::state::first(&e, "nsTaskStatus")
                                        .unwrap_or_default(),
                                ))),
                                None => std::ops::ControlFlow::Continue(()),
                            }
                        }
                        // The server removes finished tasks after a while.
                        Ok(None) => std::ops::ControlFlow::Break(Ok(("0".into(), String::new()))),
                        Err(e) => std::ops::ControlFlow::Break(Err(e)),
                    }
                })
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
            let suffix =
                url::form_urlencoded::byte_serialize(n.ldap.suffix.as_bytes()).collect::<String>();
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
            let d = crate::engines::ds389::export::divergent(cl, node, supplier).await?;
            let text = crate::engines::ds389::export::to_ldif(node, supplier, &d);
            crate::export_file::write_new(path, text.as_bytes())
                .map_err(|e| ProcError::failed(e.to_string()))?;
            Ok(Some(exported(&d, path)))
        }
        DsAction::DropAgreements { node } => {
            let n = cl.node(node)?;
            let (mut s, st) = open_with_state(cl, node).await?;
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
            let (mut s, st) = open_with_state(cl, node).await?;
            ensure_identity(&mut s, *rid, n).await.map_err(fail)?;
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
            // The server refuses to "change" a type it has (rc 1: "replica type is already 2"):
            // a rerun after a stop, or a hub (type 2 already: a failover killed during its
            // target's restart leaves one, chaos seed 7001 in CI), gets only what is left.
            let mut mods = vec![Mod::Replace(
                "nsDS5ReplicaBindDN".into(),
                one(identity_dn(*rid)),
            )];
            match st.kind() {
                Some(ReplicaKind::Supplier) => mods.extend([
                    Mod::Replace("nsDS5ReplicaType".into(), one("2")),
                    Mod::Replace("nsDS5Flags".into(), one("0")),
                    Mod::Replace("nsDS5ReplicaId".into(), one("65535")),
                ]),
                Some(ReplicaKind::Hub) => mods.push(Mod::Replace("nsDS5Flags".into(), one("0"))),
                _ => {}
            }
            s.modify(&replica_dn(&n.ldap.suffix), mods)
                .await
                .map_err(fail)?;
            s.close().await;
            Ok(None)
        }
        DsAction::Settle { node } => restart(cl, node).await,
        _ => unreachable!("a promotion step is in promotion.rs"),
    }
}
