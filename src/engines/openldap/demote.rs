//! Demote an old provider that came back: live when it is merely behind (it keeps its data);
//! when it diverged, export the entries the provider never had, then reseed it (a live
//! demotion would silently merge them and never converge).

use std::path::PathBuf;

use super::assess::{stalled, LdapView, STALL_WINDOW};
use super::csn::{classify, Position};
use super::procedures::{answering, single_provider_only};
use super::state::LdapRole;
use super::steps::LdapAction as A;
use super::LdapCluster;
use crate::engine::{Plan, ProcError, Step};

pub async fn demote(
    cl: &LdapCluster,
    view: &LdapView,
    node: &str,
    to: Option<&str>,
    export: Option<PathBuf>,
) -> Result<Plan<A>, ProcError> {
    cl.node(node)?;
    single_provider_only(view)?;
    cl.remember_template(view);
    answering(view, node)?;
    let provider = match to {
        Some(t) => {
            cl.node(t)?;
            t.to_string()
        }
        None => {
            // The provider the consumers follow, other than the node being demoted.
            let followed = view.provider().filter(|p| p != node);
            followed.ok_or_else(|| ProcError::refused(format!(
                "no other provider is followed by the consumers: name it with --to (demoting {node} would leave no provider)")).unchanged())?
        }
    };
    if provider == node {
        return Err(ProcError::usage(format!(
            "--to {provider}: a node cannot follow itself"
        )));
    }
    let p = answering(view, &provider)?;
    if p.role != LdapRole::Provider {
        return Err(
            ProcError::refused(format!("{provider} is a {}, not a provider", p.role)).unchanged(),
        );
    }
    // Following a provider that lacks the authoritative provider's writes (a stale old
    // provider) would export and drop them from `node`: refuse.
    if let Some(auth) = view.provider().filter(|a| *a != provider) {
        if let Some(Position::Diverged(sids)) = view.state(&auth).map(|a| classify(&a.csn, &p.csn))
        {
            return Err(ProcError::refused(format!(
                "--to {provider}: {provider} lacks writes the provider {auth} holds (newer CSN for serverID {}); \
                 run `drctl demote {node}` to follow {auth}, and `drctl demote {provider}`",
                sids.join(","))).unchanged());
        }
    }
    // Consumers that follow `node` would be left following a consumer: they follow the
    // provider too; those holding writes it lacks (`node`'s, replicated to them) are exported
    // and reseeded with it. Every export is taken before anything is repointed or wiped.
    // A consumer of the provider that is behind and does not move with its link up missed
    // writes below its cookie: like other data at equal CSNs, only a reseed mends it.
    let stalled = stalled(view, &cl.nodes, &provider, cl.timeout, STALL_WINDOW).await;
    let mut targets: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for n in &view.nodes {
        let Ok(st) = &n.state else { continue };
        let follower = st.role == LdapRole::Consumer && view.follows(st) == Some(node);
        if n.name != node && (n.name == provider || !follower) {
            continue;
        }
        // At equal CSNs other data is divergence too (no serverID is newer: none named).
        let div = match classify(&st.csn, &p.csn) {
            Position::Diverged(sids) => Some(sids),
            _ if st.same_csns_other_data(p) || stalled.contains(&n.name) => Some(Vec::new()),
            _ => None,
        };
        if n.name == node {
            targets.insert(0, (n.name.clone(), div));
        } else {
            targets.push((n.name.clone(), div));
        }
    }
    let main_path = crate::util::words::absolute(
        &export.unwrap_or_else(|| PathBuf::from(format!("drctl-demote-{node}-{}.ldif", cl.run_id))),
    );
    let mut plan = Plan::new("openldap demote");
    let mut confirm = Vec::new();
    let mut exports = Vec::new();
    for (name, div) in &targets {
        let Some(sids) = div else {
            let pos = classify(&view.state(name).expect("answers").csn, &p.csn);
            plan.note(format!(
                "{name} is {} {provider}: a live demotion keeps its data",
                if pos == Position::InSync {
                    "in sync with"
                } else {
                    "behind"
                }
            ));
            continue;
        };
        let n = cl.node(name)?;
        let why = if stalled.contains(name) {
            format!("is behind {provider} and does not catch up though its syncrepl link is up (what it missed below its cookie is never resent)")
        } else if sids.is_empty() {
            format!("has the CSNs of {provider} but other data, which syncrepl never resends")
        } else {
            format!("diverged from {provider} (newer CSN for serverID {}) and a live demotion would silently merge", sids.join(","))
        };
        if n.data_dir.is_none() && n.reseed_command.is_none() {
            return Err(ProcError::refused(format!(
                "{name} {why}; reseeding needs `data_dir` or `reseed_command` for {name} in the cluster file")).unchanged());
        }
        let path = if name == node {
            main_path.clone()
        } else {
            main_path.with_file_name(format!("drctl-demote-{name}-{}.ldif", cl.run_id))
        };
        let d = super::export::divergent(cl, name, &provider).await?;
        plan.note(format!(
            "{name} {why}; {} entr{} {provider} does not hold (exported to {} before the reseed):",
            d.len(),
            if d.len() == 1 { "y" } else { "ies" },
            path.display()
        ));
        for e in &d {
            plan.note(format!(
                "  {}{}",
                e.entry.dn,
                if e.on_provider {
                    " (another version is on the provider)"
                } else {
                    ""
                }
            ));
        }
        confirm.push(format!("{name}'s database will be wiped and refreshed from {provider}; its {} divergent entries are dropped from it (exported to {}).", d.len(), path.display()));
        exports.push(name.clone());
        plan.step(Step::new(A::ExportDivergent {
            node: name.clone(),
            provider: provider.clone(),
            path,
        }));
    }
    if !confirm.is_empty() {
        plan.confirm = Some(confirm.join(" "));
    }
    for (name, _) in &targets {
        plan.step(Step::new(A::Follow {
            node: name.clone(),
            provider: provider.clone(),
        }));
        if exports.contains(name) {
            plan.step(Step::new(A::Reseed {
                node: name.clone(),
                provider: provider.clone(),
            }));
        }
    }
    let require: Vec<String> = targets.into_iter().map(|(n, _)| n).collect();
    // Other consumers stalled behind the provider never catch up by themselves: the
    // verification notes them (each is mended by its own demotion) instead of waiting for ever.
    let stalled: Vec<String> = stalled
        .into_iter()
        .filter(|n| !require.contains(n))
        .collect();
    for n in &stalled {
        plan.note(format!(
            "{n} is stalled behind {provider} too: run `drctl demote {n} --to {provider}` after this"
        ));
    }
    plan.step(Step::new(A::Converged {
        provider,
        require,
        stalled,
    }));
    Ok(plan)
}
