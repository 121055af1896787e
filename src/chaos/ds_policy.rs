//! The operator policy after healing a 389ds group, as the README's 389 Directory Server section
//! tells a person, through the drctl binary: `check`; if unhealthy, `status`, then one remedy
//! (fail over when no supplier answers; finish a switchover that left the supplier read-only;
//! demote an old supplier, an instance whose replica did not load, or one holding changes the
//! supplier lacks; repoint the consumers), and `check` again, until healthy with the same chaos
//! entries on every instance, or the deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::drctl::proc_args;
use super::ds_ctx::DsCtx;
use super::operate::{problems, Tried, POLICY as OP};
use crate::engines::ds389::DsView;

/// The remedies for the group as `view` shows it, most urgent first.
fn remedies(view: &DsView) -> Vec<Vec<String>> {
    let a = view.assess();
    let Some(sup) = a.supplier.clone() else {
        return vec![proc_args(&["failover"])];
    };
    let mut out = Vec::new();
    if view.state(&sup).is_some_and(|s| s.read_only) {
        out.push(proc_args(&["switchover", "--to", &sup]));
    }
    for n in &view.nodes {
        let Some(s) = view.state(&n.name) else {
            continue;
        };
        let unloaded = s.replica.as_ref().is_some_and(|r| !r.loaded);
        let ahead = n.name != sup && !view.ahead_of(&n.name, &sup).is_empty();
        if a.stale_suppliers.contains(&n.name) || unloaded || ahead {
            out.push(proc_args(&["demote", &n.name]));
        }
    }
    if !a.healthy {
        out.push(proc_args(&["repoint", "--primary", &sup]));
    }
    out
}

/// Recovers the group; `Ok` once `drctl check` exits 0, every instance answers and every one
/// holds the same chaos entries.
pub(crate) async fn recover(ctx: &mut DsCtx<'_>, deadline: Duration) -> Result<(), String> {
    let until = Instant::now() + deadline;
    let mut tried = Tried::default();
    loop {
        // A restart killed part-way can leave an instance stopped: the operator starts it.
        let lab = ctx.lab;
        tried.start_stopped(ctx, lab, "instances");
        let check = ctx
            .drctl
            .call(OP, &["check".into(), "--json".into()], None)
            .await;
        let view = ctx.cl.probe().await;
        let all_up = view.nodes.iter().all(|n| n.state.is_ok());
        let sets = entry_sets(ctx).await;
        if check.exit == Some(0) && all_up && sets == 1 {
            ctx.note("policy: drctl check", "exit 0, the same entries everywhere");
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(format!(
                "not converged after {} s: check exit {:?}: {}; {sets} distinct set(s) of \
                 chaos entries{}",
                deadline.as_secs(),
                check.exit,
                problems(&check),
                if all_up {
                    ""
                } else {
                    "; an instance does not answer"
                }
            ));
        }
        let status = ctx
            .drctl
            .call(OP, &["status".into(), "--json".into()], None)
            .await;
        if status.exit.is_none() {
            ctx.note("policy: drctl status --json", status.stderr.clone());
        }
        tried.remedy(ctx, remedies(&view), until).await;
    }
}

/// How many distinct sets of chaos entries the instances hold (an instance that cannot be read
/// counts as a set of its own).
async fn entry_sets(ctx: &DsCtx<'_>) -> usize {
    let base = crate::engines::ds389::lab::SUFFIX;
    let mut sets: BTreeSet<Result<BTreeSet<String>, String>> = BTreeSet::new();
    for n in &ctx.admins {
        sets.insert(super::ldap_writer::present(n, base).await);
    }
    sets.len()
}
