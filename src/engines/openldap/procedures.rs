//! OpenLDAP procedures as plans of `LdapAction`s, built from one probe: forced failover,
//! managed switchover, repoint (demote is in `demote.rs`).
//! Preconditions refuse (exit 3) before anything changes.

use super::assess::LdapView;
use super::csn::{classify, sid_hex, Position};
use super::report::rank;
use super::state::{LdapRole, NodeState};
use super::steps::LdapAction as A;
use super::LdapCluster;
use crate::engine::{Plan, ProcError, Step};

pub(super) fn answering<'a>(view: &'a LdapView, name: &str) -> Result<&'a NodeState, ProcError> {
    let n = view
        .node(name)
        .ok_or_else(|| ProcError::usage(format!("unknown node '{name}'")))?;
    n.state
        .as_ref()
        .map_err(|e| ProcError::refused(format!("{name} does not answer ({e})")).unchanged())
}

/// Consumers other than `except` that should follow the new provider.
fn others<'a>(view: &'a LdapView, except: &[&str]) -> Vec<&'a str> {
    view.nodes
        .iter()
        .filter(|n| !except.contains(&n.name.as_str()))
        .filter(|n| n.state.as_ref().is_ok_and(|s| s.role == LdapRole::Consumer))
        .map(|n| n.name.as_str())
        .collect()
}

/// Makes `node` a provider. Its first step is the point of no return: once the target may be a
/// provider, nothing makes the old provider writable again (that would be two writers).
fn promote(plan: &mut Plan<A>, node: &str) {
    plan.step(Step::new(A::AddSyncprov { node: node.into() }).point_of_no_return());
    plan.step(Step::new(A::Unsync { node: node.into() }));
}

pub(super) fn single_provider_only(view: &LdapView) -> Result<(), ProcError> {
    if view.nodes.iter().any(|n| {
        n.state
            .as_ref()
            .is_ok_and(|s| s.role == LdapRole::MultiProvider)
    }) {
        return Err(ProcError::refused("multi-provider groups are not handled by these procedures (each provider already takes writes)").unchanged());
    }
    Ok(())
}

/// The serverID of the lost provider: the SID in the survivors' CSNs that no survivor owns,
/// with the newest CSN.
pub fn lost_sid(view: &LdapView) -> Option<String> {
    let states: Vec<&NodeState> = view
        .nodes
        .iter()
        .filter_map(|n| n.state.as_ref().ok())
        .collect();
    let own: Vec<String> = states.iter().map(|s| sid_hex(s.server_id)).collect();
    states
        .iter()
        .flat_map(|s| s.csn.iter())
        .filter(|(sid, _)| !own.contains(sid))
        .max_by(|a, b| a.1.cmp(b.1))
        .map(|(sid, _)| sid.clone())
}

pub async fn failover(
    cl: &LdapCluster,
    view: &LdapView,
    to: Option<&str>,
    force: bool,
) -> Result<Plan<A>, ProcError> {
    if let Some(t) = to {
        cl.node(t)?;
    }
    single_provider_only(view)?;
    cl.remember_template(view);
    let mut plan = Plan::new("openldap failover");
    let current = view.provider();
    let lost = view.lost_provider();
    // A provider that answers and that the consumers follow: nothing was lost (or a previous
    // run finished). Same plan, every step already done; a different --to needs a switchover.
    if let (Some(p), None) = (&current, &lost) {
        if to.is_some_and(|t| t != p) {
            return Err(ProcError::refused(format!(
                "the provider {p} answers: use `drctl switchover --to {}`",
                to.unwrap_or_default()
            ))
            .unchanged());
        }
        for o in others(view, &[p]) {
            plan.step(follow(o, p.clone()));
        }
        plan.step(Step::new(A::Converged {
            provider: p.clone(),
            require: vec![],
            stalled: vec![],
        }));
        return Ok(plan);
    }
    let lost = lost.ok_or_else(|| ProcError::refused("no consumer follows a lost provider and no provider answers: nothing to fail over from").unchanged())?;
    // A provider that answers but refuses drctl (credentials, ACLs) is not lost.
    if let Some(Err(e)) = view.node(&lost).map(|n| &n.state) {
        if !e.is_unreachable() {
            return Err(ProcError::refused(format!(
                "{lost} answers but refuses drctl ({e}): it is not lost; fix the cluster file's bind_dn and password"
            )).unchanged());
        }
    }
    let sid = lost_sid(view);
    let ranked = rank(view, Some(&lost), sid.as_deref());
    let best = ranked.iter().find(|c| c.rank == Some(1)).ok_or_else(|| {
        ProcError::refused(format!(
            "no promotable node answers ({})",
            ranked
                .iter()
                .map(|c| format!("{}: {}", c.name, c.reason))
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .unchanged()
    })?;
    let lacking = |c: &super::report::LdapCandidate| {
        format!(
            "{} lacks {}",
            c.name,
            crate::util::words::entries_named(&c.lacks, 3)
        )
    };
    let target = match to {
        None if !best.lacks.is_empty() => {
            let all: Vec<String> = ranked
                .iter()
                .filter(|c| !c.lacks.is_empty())
                .map(lacking)
                .collect();
            return Err(ProcError::refused(format!(
                "the nodes with the newest CSN do not hold the same entries and none holds them all ({}):                  promoting any loses writes another holds; choose one with --to NODE --force                  (the others' entries are exported before they are reseeded)",
                all.join("; "))).unchanged());
        }
        None => best.name.clone(),
        Some(t) => {
            let c = ranked
                .iter()
                .find(|c| c.name == t)
                .expect("every node is ranked");
            if c.rank.is_none() {
                return Err(
                    ProcError::refused(format!("{t} cannot be promoted: {}", c.reason)).unchanged(),
                );
            }
            if !c.lacks.is_empty() && !force {
                return Err(ProcError::refused(format!(
                    "{}: promoting {t} would lose them; fail over to {} or add --force",
                    lacking(c),
                    best.name
                ))
                .unchanged());
            }
            if c.csn < best.csn && !force {
                return Err(ProcError::refused(format!(
                    "{} holds newer writes of {lost} than {t} ({} > {}): promoting {t} would leave them diverged; \
                     fail over to {} or add --force",
                    best.name, best.csn.clone().unwrap_or_default(), c.csn.clone().unwrap_or_default(), best.name)).unchanged());
            }
            t.to_string()
        }
    };
    plan.note(format!(
        "{lost} is lost; promoting {target} (CSN for serverID {}: {})",
        sid.clone().unwrap_or("-".into()),
        ranked
            .iter()
            .find(|c| c.name == target)
            .and_then(|c| c.csn.clone())
            .unwrap_or("-".into())
    ));
    plan.confirm = Some(format!(
        "{lost} does not answer: promote {target}? Writes {lost} took that never replicated are not on {target}; \
         if {lost} comes back, `drctl demote {lost}` exports them."
    ));
    // Survivors at the target's CSNs with other data: syncrepl would never mend them, so
    // their own entries are exported before anything changes, and they are reseeded.
    let t_state = view.state(&target).expect("the target answers");
    let mut reseed = Vec::new();
    for o in others(view, &[&target]) {
        let st = view.state(o).expect("others answer");
        if !st.same_csns_other_data(t_state) {
            continue;
        }
        let n = cl.node(o)?;
        if n.data_dir.is_none() && n.reseed_command.is_none() {
            return Err(ProcError::refused(format!(
                "{o} has {target}'s CSNs but other data and only a reseed mends it:                  add `data_dir` or `reseed_command` for {o} to the cluster file")).unchanged());
        }
        let path = crate::util::words::absolute(&std::path::PathBuf::from(format!(
            "drctl-failover-{o}-{}.ldif",
            cl.run_id
        )));
        plan.note(format!(
            "{o} has {target}'s CSNs but other data: its entries {target} lacks are exported to {}, then it is reseeded from {target}",
            path.display()
        ));
        plan.step(Step::new(A::ExportDivergent {
            node: o.into(),
            provider: target.clone(),
            path,
        }));
        reseed.push(o);
    }
    promote(&mut plan, &target);
    for o in others(view, &[&target]) {
        plan.step(follow(o, target.clone()));
        if reseed.contains(&o) {
            plan.step(Step::new(A::Reseed {
                node: o.into(),
                provider: target.clone(),
            }));
        }
    }
    plan.step(Step::new(A::Converged {
        provider: target,
        require: vec![],
        stalled: vec![],
    }));
    Ok(plan)
}

pub async fn switchover(cl: &LdapCluster, view: &LdapView, to: &str) -> Result<Plan<A>, ProcError> {
    cl.node(to)?;
    single_provider_only(view)?;
    cl.remember_template(view);
    let t = answering(view, to)?;
    let mut plan = Plan::new("openldap switchover");
    let p = view.provider().ok_or_else(|| ProcError::refused(
        "no provider answers: use `drctl failover` (a switchover needs the provider to finish its writes)").unchanged())?;
    answering(view, &p)?;
    if p == to {
        // Done, or stopped part-way: finish with the consumers and any old provider this
        // switchover left read-only (it holds nothing the target lacks).
        let frozen: Vec<&str> = view
            .nodes
            .iter()
            .filter(|n| n.name != to)
            .filter(|n| {
                n.state.as_ref().is_ok_and(|s| {
                    s.role == LdapRole::Provider
                        && s.read_only
                        && !matches!(classify(&s.csn, &t.csn), Position::Diverged(_))
                })
            })
            .map(|n| n.name.as_str())
            .collect();
        for o in others(view, &[to])
            .into_iter()
            .chain(frozen.iter().copied())
        {
            plan.step(follow(o, to));
        }
        plan.step(Step::new(A::Converged {
            provider: to.into(),
            require: frozen.iter().map(|s| s.to_string()).collect(),
            stalled: vec![],
        }));
        return Ok(plan);
    }
    if !cl.node(to)?.promotable {
        return Err(
            ProcError::refused(format!("{to} is `promotable: false` in the cluster file"))
                .unchanged(),
        );
    }
    if t.role != LdapRole::Consumer
        || view.follows(t) != Some(p.as_str())
        || t.link_up != Some(true)
    {
        return Err(ProcError::refused(format!(
            "{to} is not a connected consumer of the provider {p}"
        ))
        .unchanged());
    }
    plan.note(format!(
        "switchover {p} → {to}: {p} turns read-only until {to} holds all its writes"
    ));
    plan.step(Step::new(A::Freeze { node: p.clone() }).undo(A::Unfreeze {
        node: p.clone(),
        unless_promoted: Some(to.into()),
    }));
    plan.step(Step::new(A::WaitCaughtUp {
        node: to.into(),
        provider: p.clone(),
    }));
    promote(&mut plan, to);
    for o in others(view, &[to, &p]) {
        plan.step(follow(o, to));
    }
    plan.step(follow(p.clone(), to));
    plan.step(Step::new(A::Converged {
        provider: to.into(),
        require: vec![p.clone()],
        stalled: vec![],
    }));
    Ok(plan)
}

pub async fn repoint(
    cl: &LdapCluster,
    view: &LdapView,
    primary: &str,
) -> Result<Plan<A>, ProcError> {
    cl.node(primary)?;
    single_provider_only(view)?;
    cl.remember_template(view);
    let s = answering(view, primary)?;
    if s.role != LdapRole::Provider {
        return Err(ProcError::refused(format!(
            "{primary} is a {}, not a provider: use `drctl switchover --to {primary}` (or `drctl failover --to {primary}` if the provider is lost)", s.role)).unchanged());
    }
    // Repointing toward a provider that lacks writes another node holds (a stale old provider
    // that came back) leaves the repointed consumers diverged for good: refuse.
    let authority = view.provider().filter(|p| p != primary);
    let mut lacking: Vec<(String, Vec<String>)> = Vec::new();
    for o in others(view, &[primary])
        .into_iter()
        .map(str::to_string)
        .chain(authority.clone())
    {
        if let Some(os) = view.state(&o) {
            if let Position::Diverged(sids) = classify(&os.csn, &s.csn) {
                if !lacking.iter().any(|(n, _)| *n == o) {
                    lacking.push((o, sids));
                }
            }
        }
    }
    if let Some((first, sids)) = lacking.first() {
        let fix = match &authority {
            Some(p) => format!(
                "the provider is {p}: run `drctl repoint --primary {p}`, then `drctl demote {primary}`"
            ),
            None => format!("run `drctl demote {primary} --to {first}`"),
        };
        return Err(ProcError::refused(format!(
            "{primary} lacks writes that {} hold{} (newer CSN for serverID {} on {first}): \
             repointing toward it would leave them diverged; {fix}",
            lacking
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if lacking.len() == 1 { "s" } else { "" },
            sids.join(","),
        ))
        .unchanged());
    }
    let mut plan = Plan::new("openldap repoint");
    for o in others(view, &[primary]) {
        plan.step(follow(o, primary));
    }
    plan.step(Step::new(A::Converged {
        provider: primary.into(),
        require: vec![],
        stalled: vec![],
    }));
    Ok(plan)
}

/// `node` follows `provider`, at the same time as the follows next to it: each consumer is
/// repointed on its own (cn=config of that node), none waits on another.
fn follow(node: impl Into<String>, provider: impl Into<String>) -> Step<A> {
    Step::new(A::Follow {
        node: node.into(),
        provider: provider.into(),
    })
    .alongside()
}
