//! The operator policy after healing a slapd group, as the README's OpenLDAP section tells a
//! person, through the drctl binary: `check`; if unhealthy, `status`, then one remedy (finish a
//! switchover that left the provider read-only, demote a second provider or a diverged node
//! toward the provider, repoint consumers that follow another node, fail over when no provider
//! answers), and `check` again, until healthy or the deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::drctl::proc_args;
use super::ldap_ctx::LCtx;
use super::operate::{problems, Tried, POLICY as OP};
use crate::engines::openldap::csn::{classify, Position};
use crate::engines::openldap::{stalled, LdapRole, LdapView, NodeState, STALL_WINDOW};

/// The remedies for the group as `view` shows it (`stalled`: consumers of the provider that
/// stay behind with their link up), most urgent first.
fn remedies(view: &LdapView, stalled: &[String]) -> Vec<Vec<String>> {
    let up: Vec<(&str, &NodeState)> = view
        .nodes
        .iter()
        .filter_map(|n| n.state.as_ref().ok().map(|s| (n.name.as_str(), s)))
        .collect();
    let mut out = Vec::new();
    let Some(p) = view.provider() else {
        let providers: Vec<&(&str, &NodeState)> = up
            .iter()
            .filter(|(_, s)| s.role == LdapRole::Provider)
            .collect();
        if providers.is_empty() {
            out.push(proc_args(&["failover"]));
            // Failover refused twice (no consumer follows the lost provider): name the most
            // advanced node, as `drctl candidates` ranks them.
            if let Some((n, _)) = up
                .iter()
                .max_by_key(|(n, s)| (s.csn.values().max().cloned(), std::cmp::Reverse(*n)))
            {
                let mut a = proc_args(&["failover", "--to", n]);
                a.push("--force".into());
                out.push(a);
            }
            return out;
        }
        // Several providers and none the consumers prefer: keep the one with the most
        // followers (then the newest data), demote the others toward it.
        let followers = |name: &str| {
            up.iter()
                .filter(|(_, s)| s.role == LdapRole::Consumer && view.follows(s) == Some(name))
                .count()
        };
        let keep = providers
            .iter()
            .max_by_key(|(n, s)| {
                (
                    followers(n),
                    !s.read_only,
                    s.csn.values().max().cloned(),
                    std::cmp::Reverse(*n),
                )
            })
            .map(|(n, _)| n.to_string())
            .expect("not empty");
        for (n, _) in providers.iter().filter(|(n, _)| *n != keep) {
            out.push(proc_args(&["demote", n, "--to", &keep]));
        }
        return out;
    };
    let ps = view.state(&p).expect("the provider answers");
    if ps.read_only {
        // "read-only: a switchover stopped part-way? rerun it".
        out.push(proc_args(&["switchover", "--to", &p]));
    }
    // Diverged nodes and second providers first: a repoint leaves them alone.
    let mut bad: Vec<(&str, bool)> = up
        .iter()
        .filter(|(n, _)| *n != p)
        .filter_map(|(n, s)| {
            // Equal CSNs with other data too: `check` names it and `demote` reseeds it.
            let diverged = matches!(classify(&s.csn, &ps.csn), Position::Diverged(_))
                || s.same_csns_other_data(ps)
                || stalled.iter().any(|x| x == n);
            (diverged || s.role != LdapRole::Consumer).then_some((*n, diverged))
        })
        .collect();
    bad.sort_by_key(|(_, d)| !d);
    for (n, _) in bad {
        out.push(proc_args(&["demote", n, "--to", &p]));
    }
    if up
        .iter()
        .any(|(n, s)| *n != p && s.role == LdapRole::Consumer && view.follows(s) != Some(&p))
    {
        out.push(proc_args(&["repoint", "--primary", &p]));
    }
    out
}

/// Recovers the group; `Ok` once `drctl check` exits 0, every slapd answers and every
/// fingerprint is equal.
pub(crate) async fn recover(ctx: &mut LCtx<'_>, deadline: Duration) -> Result<(), String> {
    let until = Instant::now() + deadline;
    let mut tried = Tried::default();
    loop {
        // A reseed killed part-way can leave a slapd stopped: the operator starts it again.
        let lab = ctx.lab;
        tried.start_stopped(ctx, lab, "slapd");
        let check = ctx
            .drctl
            .call(OP, &["check".into(), "--json".into()], None)
            .await;
        let view = ctx.cl.probe().await;
        let fps: BTreeSet<&str> = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| s.fingerprint.as_str()))
            .collect();
        let all_up = view.nodes.iter().all(|n| n.state.is_ok());
        if check.exit == Some(0) && fps.len() == 1 && all_up {
            ctx.note("policy: drctl check", "exit 0, fingerprints equal");
            return Ok(());
        }
        if Instant::now() >= until {
            let problems = problems(&check);
            // Each node's data and link: which one differs, and whether it still replicates.
            let nodes: Vec<String> = view
                .nodes
                .iter()
                .map(|n| match &n.state {
                    Ok(s) => format!(
                        "{} {} {} entries {} link {}",
                        n.name,
                        s.role,
                        s.entries,
                        s.fingerprint,
                        s.link_up.map_or("-", |up| if up { "up" } else { "down" })
                    ),
                    Err(e) => format!("{} does not answer: {e}", n.name),
                })
                .collect();
            return Err(format!(
                "not converged after {} s: check exit {:?}: {problems}; {} distinct \
                 fingerprint(s) ({})",
                deadline.as_secs(),
                check.exit,
                fps.len(),
                nodes.join("; ")
            ));
        }
        let status = ctx
            .drctl
            .call(OP, &["status".into(), "--json".into()], None)
            .await;
        if status.exit.is_none() {
            ctx.note("policy: drctl status --json", status.stderr.clone());
        }
        let stalled = match view.provider() {
            Some(p) => stalled(&view, &ctx.cl.nodes, &p, ctx.cl.timeout, STALL_WINDOW).await,
            None => Vec::new(),
        };
        if !stalled.is_empty() {
            ctx.note("policy: stalled consumers", format!("{stalled:?}"));
        }
        tried.remedy(ctx, remedies(&view, &stalled), until).await;
    }
}
