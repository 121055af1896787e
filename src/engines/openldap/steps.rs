//! The steps OpenLDAP procedures are made of: each a `cn=config` change (or a wait) that knows
//! whether it is done, how to do it and how to prove it took effect. Serializable, so a runbook
//! can name them; never carries credentials (olcSyncrepl is copied at apply time).

use std::ops::ControlFlow::{Break, Continue};
use std::path::PathBuf;
use std::time::Duration;

use ldap3::Mod;
use serde::Serialize;

use super::client::one;
use super::converge::{caught_up, converged, follows, is_provider, same_data, syncrepl_for, Mark};
use super::csn::classify;
use super::{export, LdapCluster};
use crate::engine::{Act, Check, ProcError};
use crate::util::poll;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum LdapAction {
    /// `olcReadOnly: TRUE` on the provider: writes stop, replication goes on.
    Freeze { node: String },
    /// Undo of `Freeze`, unless `unless_promoted` has become the provider meanwhile.
    Unfreeze {
        node: String,
        unless_promoted: Option<String>,
    },
    /// Wait until `node` holds every CSN and entry of `provider`.
    WaitCaughtUp { node: String, provider: String },
    /// Add the syncprov overlay (before the node takes writes, or they never replicate).
    AddSyncprov { node: String },
    /// Promote: delete olcUpdateRef and olcSyncrepl (syncprov must be there first).
    Unsync { node: String },
    /// Make `node` a consumer of `provider`: olcSyncrepl (same rid, new provider=), then
    /// olcUpdateRef, and clear olcReadOnly, in one modify.
    Follow { node: String, provider: String },
    /// Write the entries of `node` that `provider` never had to `path` (LDIF for ldapadd).
    ExportDivergent {
        node: String,
        provider: String,
        path: PathBuf,
    },
    /// Stop `node`, wipe its database, start it again: a full refresh from `provider`.
    Reseed { node: String, provider: String },
    /// Every reachable node follows `provider` with equal CSNs and fingerprints; the nodes in
    /// `require` must (an old provider elsewhere is only noted, and so is a node of `stalled`
    /// still behind: found stalled at plan time and left to its own demotion).
    Converged {
        provider: String,
        require: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        stalled: Vec<String>,
    },
}

impl LdapAction {
    fn db_mod(&self) -> bool {
        !matches!(
            self,
            LdapAction::WaitCaughtUp { .. } | LdapAction::Converged { .. }
        )
    }

    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet. `since` keeps what a
    /// verification's first attempt read of the provider (see [`Mark`]).
    async fn holds(
        &self,
        cl: &LdapCluster,
        since: &Mark,
    ) -> Result<Result<Option<String>, String>, ProcError> {
        let yes = |s: String| Ok(Ok(Some(s)));
        match self {
            LdapAction::Freeze { node } => {
                let st = cl.config(node).await?;
                if st.read_only {
                    yes(format!("{node} is read-only"))
                } else {
                    Ok(Err(format!("{node} takes writes")))
                }
            }
            LdapAction::Unfreeze {
                node,
                unless_promoted,
            } => {
                if let Some(t) = unless_promoted {
                    if cl.config(t).await.is_ok_and(|s| is_provider(&s)) {
                        return yes(format!(
                            "{t} was promoted: {node} stays read-only until demoted"
                        ));
                    }
                }
                let st = cl.config(node).await?;
                if st.read_only {
                    Ok(Err(format!("{node} is read-only")))
                } else {
                    yes(format!("{node} takes writes"))
                }
            }
            LdapAction::WaitCaughtUp { node, provider } => {
                let (s, p) = (cl.state(node).await?, cl.state(provider).await?);
                if same_data(&s, &p) && p.read_only {
                    yes(format!("{node} holds {} entries, CSNs equal", s.entries))
                } else {
                    Ok(Err(format!(
                        "{node} is {:?} of {provider} ({} of {} entries)",
                        classify(&s.csn, &p.csn),
                        s.entries,
                        p.entries
                    )))
                }
            }
            LdapAction::AddSyncprov { node } => {
                let st = cl.config(node).await?;
                if st.syncprov.is_some() {
                    yes(format!("{node} has syncprov"))
                } else {
                    Ok(Err(format!("{node} has no syncprov")))
                }
            }
            LdapAction::Unsync { node } => {
                let st = cl.config(node).await?;
                if is_provider(&st) {
                    yes(format!("{node} is a provider"))
                } else {
                    Ok(Err(format!("{node} is a {}", st.role)))
                }
            }
            LdapAction::Follow { node, provider } => {
                let url = &cl.node(provider)?.url;
                let st = cl.config(node).await?;
                if !follows(&st, url) {
                    return Ok(Err(format!(
                        "{node} is a {} of {:?}",
                        st.role, st.provider_urls
                    )));
                }
                if st.link_up != Some(true) {
                    return Ok(Err(format!(
                        "{node}'s syncrepl link to {provider} is not connected yet"
                    )));
                }
                yes(format!("{node} is a consumer of {provider}"))
            }
            LdapAction::ExportDivergent {
                node,
                provider,
                path,
            } => {
                let d = export::divergent(cl, node, provider).await?;
                if d.is_empty() {
                    yes(format!("{node} holds no entry {provider} lacks"))
                } else if export::exported(path, &d) {
                    yes(format!(
                        "{} holds {node}'s {} divergent entries",
                        path.display(),
                        d.len()
                    ))
                } else {
                    Ok(Err(format!(
                        "{} divergent entries not exported yet",
                        d.len()
                    )))
                }
            }
            LdapAction::Reseed { node, provider } => {
                let before = since
                    .csns(async { Ok(Ok(cl.state(provider).await?.csn)) })
                    .await?
                    .unwrap_or_default();
                let s = match cl.state(node).await {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                let after = cl.state(provider).await?;
                if !follows(&s, &cl.node(provider)?.url) {
                    return Ok(Err(format!("{node} is not a consumer of {provider}")));
                }
                match caught_up(node, &s, &before, &after) {
                    Ok(Ok(())) => yes(format!("{node} holds {provider}'s {} entries", s.entries)),
                    Ok(Err(why)) => Ok(Err(why)),
                    Err(e) => Ok(Err(e.to_string())),
                }
            }
            LdapAction::Converged {
                provider,
                require,
                stalled,
            } => converged(cl, provider, require, stalled, since).await,
        }
    }

    async fn run(&self, cl: &LdapCluster) -> Result<Option<String>, ProcError> {
        let fail = |e: super::LdapError| ProcError::failed(e.to_string());
        match self {
            LdapAction::WaitCaughtUp { .. } | LdapAction::Converged { .. } => Ok(None),
            LdapAction::ExportDivergent {
                node,
                provider,
                path,
            } => export::export(cl, node, provider, path).await.map(Some),
            LdapAction::Reseed { node, .. } => export::reseed(cl, node).await.map(Some),
            _ => {
                let node = match self {
                    LdapAction::Freeze { node }
                    | LdapAction::Unfreeze { node, .. }
                    | LdapAction::AddSyncprov { node }
                    | LdapAction::Unsync { node }
                    | LdapAction::Follow { node, .. } => node,
                    _ => unreachable!("handled above"),
                };
                let st = cl.config(node).await?;
                let mut s = cl.session(node).await?;
                let r = match self {
                    LdapAction::Freeze { .. } => {
                        s.modify(
                            &st.db_dn,
                            vec![Mod::Replace("olcReadOnly".into(), one("TRUE"))],
                        )
                        .await
                    }
                    LdapAction::Unfreeze {
                        unless_promoted, ..
                    } => {
                        // An undo runs without its check: never make the old provider writable
                        // beside a promoted one.
                        if let Some(t) = unless_promoted {
                            if cl.config(t).await.is_ok_and(|s| is_provider(&s)) {
                                s.close().await;
                                return Err(ProcError::failed(format!(
                                    "{t} was promoted: {node} stays read-only; rerun the switchover to finish"
                                )));
                            }
                        }
                        s.modify(
                            &st.db_dn,
                            vec![Mod::Replace("olcReadOnly".into(), Default::default())],
                        )
                        .await
                    }
                    LdapAction::AddSyncprov { .. } => {
                        let attrs = vec![
                            (
                                "objectClass".to_string(),
                                ["olcOverlayConfig", "olcSyncProvConfig"]
                                    .map(String::from)
                                    .into(),
                            ),
                            ("olcOverlay".into(), one("syncprov")),
                            ("olcSpCheckpoint".into(), one("1 1")),
                            ("olcSpSessionlog".into(), one("1000")),
                        ];
                        s.add(&format!("olcOverlay=syncprov,{}", st.db_dn), attrs)
                            .await
                    }
                    LdapAction::Unsync { .. } => {
                        if st.syncprov.is_none() {
                            return Err(ProcError::failed(format!("{node} has no syncprov overlay: promoting it now would lose the writes it takes; add it first")));
                        }
                        let mut mods = Vec::new();
                        if !st.update_ref.is_empty() {
                            mods.push(Mod::Delete("olcUpdateRef".into(), Default::default()));
                        }
                        if !st.syncrepl.is_empty() {
                            mods.push(Mod::Delete("olcSyncrepl".into(), Default::default()));
                        }
                        s.modify(&st.db_dn, mods).await
                    }
                    LdapAction::Follow { provider, .. } => {
                        let url = cl.node(provider)?.url.clone();
                        let value = syncrepl_for(cl, &st, node, &url).await?;
                        let mut mods = vec![
                            Mod::Replace("olcSyncrepl".to_string(), one(value)),
                            Mod::Replace("olcUpdateRef".to_string(), one(url)),
                        ];
                        if st.read_only {
                            mods.push(Mod::Replace("olcReadOnly".into(), Default::default()));
                        }
                        s.modify(&st.db_dn, mods).await
                    }
                    _ => unreachable!("handled above"),
                };
                s.close().await;
                r.map_err(fail)?;
                Ok(None)
            }
        }
    }
}

impl Act for LdapAction {
    type Ctx = LdapCluster;

    fn describe(&self) -> String {
        match self {
            LdapAction::Freeze { node } => format!("make {node} read-only (olcReadOnly: TRUE)"),
            LdapAction::Unfreeze { node, .. } => format!("make {node} writable again"),
            LdapAction::WaitCaughtUp { node, provider } => {
                format!("wait until {node} holds {provider}'s every CSN")
            }
            LdapAction::AddSyncprov { node } => format!("add the syncprov overlay on {node}"),
            LdapAction::Unsync { node } => {
                format!("promote {node}: delete olcUpdateRef and olcSyncrepl")
            }
            LdapAction::Follow { node, provider } => {
                format!("make {node} a consumer of {provider} (olcSyncrepl, olcUpdateRef)")
            }
            LdapAction::ExportDivergent {
                node,
                provider,
                path,
            } => format!(
                "export {node}'s entries that {provider} never had to {}",
                path.display()
            ),
            LdapAction::Reseed { node, provider } => {
                format!("reseed {node} from {provider} (stop, wipe its database, full refresh)")
            }
            LdapAction::Converged { provider, .. } => {
                format!("verify every reachable node follows {provider} with equal data")
            }
        }
    }
    fn changes(&self) -> bool {
        self.db_mod()
    }
    async fn check(&self, cl: &LdapCluster) -> Result<Check, ProcError> {
        Ok(match self.holds(cl, &Mark::default()).await {
            Ok(Ok(note)) => Check::Done(note.unwrap_or_default()),
            Ok(Err(_)) => Check::ToDo,
            // A diverged node is what the steps before this one (export, reseed) are there to
            // fix: the run must reach them. Only the verification, after they ran, fails on it.
            Err(e)
                if e.exit == crate::util::exit::Exit::Failed
                    && matches!(self, LdapAction::Converged { .. }) =>
            {
                Check::ToDo
            }
            Err(e) => return Err(e),
        })
    }
    async fn apply(&self, cl: &LdapCluster) -> Result<Option<String>, ProcError> {
        self.run(cl).await
    }
    async fn verify(&self, cl: &LdapCluster) -> Result<Option<String>, ProcError> {
        let mark = Mark::default();
        poll::within(cl.step_timeout, Duration::from_millis(20), || async {
            match self.holds(cl, &mark).await {
                Ok(Ok(note)) => Break(Ok(note)),
                Ok(Err(why)) => Continue(why),
                Err(e)
                    if e.exit == crate::util::exit::Exit::Failed
                        && !matches!(self, LdapAction::Converged { .. }) =>
                {
                    Continue(e.to_string())
                }
                Err(e) => Break(Err(e)),
            }
        })
        .await
        .unwrap_or_else(|last| {
            Err(ProcError::timed_out(format!(
                "{} did not take effect within {} ms: {last}",
                self.describe(),
                cl.step_timeout.as_millis()
            )))
        })
    }
}
