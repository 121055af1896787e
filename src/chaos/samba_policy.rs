//! The operator policy after healing a Samba AD domain, as the README's Samba AD section tells a
//! person, through the drctl binary: `check`; if unhealthy, one remedy (join again a DC that was
//! removed from the domain and runs as a zombie; seize the roles a DC that does not answer
//! holds; pull again where a pull fails; point the client at DCs that answer), and `check`
//! again, until healthy with every DC answering as a DC of the domain and holding the same chaos
//! users, or the deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::drctl::proc_args;
use super::operate::{problems, Tried, POLICY as OP};
use super::samba_ctx::{member, via, view, SCtx};
use super::samba_writer::PREFIX;
use crate::engines::samba::assess::{Assessment, Probed};

/// The least a Samba recovery is given: a join alone takes about 40 s.
pub(crate) const LEAST: Duration = Duration::from_secs(300);

/// The remedies for the domain as the DCs show it, most urgent first.
fn remedies(dcs: &[Probed], a: &Assessment) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // A zombie that answers, readable or not (17 s after its restart it pulls its own removal
    // and can no longer be read).
    for d in dcs {
        if d.answers() && a.removed(&d.name).is_some() {
            if let Some(through) = via(dcs, a, &d.name) {
                out.push(proc_args(&["join", &d.name, "--primary", &through]));
            }
        }
    }
    let lost_holder = a.roles.values().flatten().any(|h| !member(dcs, a, h));
    if lost_holder {
        if let Some(to) = via(dcs, a, "") {
            out.push(proc_args(&["seize-roles", "--to", &to]));
        }
    }
    for d in dcs {
        let Ok(v) = &d.view else { continue };
        let mut failing: BTreeSet<&str> = BTreeSet::new();
        for r in v.reps.iter().filter(|r| r.failures > 0) {
            failing.insert(&r.from);
        }
        for from in failing {
            if member(dcs, a, from) && member(dcs, a, &d.name) {
                out.push(proc_args(&[
                    "sync", "full", "--from", from, "--to", &d.name,
                ]));
            }
        }
    }
    if a.problems.iter().any(|p| p.contains("drctl repoint")) {
        if let Some(first) = via(dcs, a, "") {
            out.push(proc_args(&["repoint", "--primary", &first]));
        }
    }
    out
}

/// Recovers the domain; `Ok` once `drctl check` exits 0, every DC answers as a DC of the
/// domain and every one holds the same chaos users.
pub(crate) async fn recover(ctx: &mut SCtx<'_>, deadline: Duration) -> Result<(), String> {
    let deadline = deadline.max(LEAST);
    let until = Instant::now() + deadline;
    let mut tried = Tried::default();
    loop {
        // A restart or a join killed part-way can leave a DC stopped: the operator starts it.
        let lab = ctx.lab;
        tried.start_stopped(ctx, lab, "DCs");
        let check = ctx
            .drctl
            .call(OP, &["check".into(), "--json".into()], None)
            .await;
        let (dcs, a) = view(&ctx.nodes).await;
        let all_members = dcs.iter().all(|d| member(&dcs, &a, &d.name));
        let sets = user_sets(ctx).await;
        if check.exit == Some(0) && all_members && sets == 1 {
            ctx.note("policy: drctl check", "exit 0, the same users everywhere");
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(format!(
                "not converged after {} s: check exit {:?}: {}; {sets} distinct set(s) of \
                 chaos users{}",
                deadline.as_secs(),
                check.exit,
                problems(&check),
                if all_members {
                    ""
                } else {
                    "; a DC does not answer as a DC of the domain"
                }
            ));
        }
        tried.remedy(ctx, remedies(&dcs, &a), until).await;
    }
}

/// How many distinct sets of chaos users the DCs hold (a DC that cannot be read counts as a set
/// of its own).
async fn user_sets(ctx: &SCtx<'_>) -> usize {
    let mut sets: BTreeSet<Result<BTreeSet<String>, String>> = BTreeSet::new();
    for n in &ctx.nodes {
        let users = crate::engines::samba::writes::present(n, Duration::from_secs(2), PREFIX)
            .await
            .map_err(|e| format!("{}: {e}", n.name));
        sets.insert(users);
    }
    sets.len()
}
