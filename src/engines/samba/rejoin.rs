//! Joining a DC again under its old name (`drctl join DC --primary VIA`) after it was removed
//! from the domain (`remove-instance`), and the remedy for a zombie (a removed DC started again
//! with its old disk): stop it, move its databases aside (never deleted: they are what it held),
//! `samba-tool domain join` it through VIA with the smb.conf it has, start it, then settle
//! replication both ways between every two DCs that answer.
//!
//! P14 (measured): the DCs that answer keep Kerberos tickets for the old machine key in their
//! replication service, so every pull from the new DC fails `WERR_GEN_FAILURE` until their
//! samba restarts (or the tickets expire, 10 h). A partner whose pull fails is restarted (its
//! `stop_command`, `start_command`), one at a time, and pulls again. Done is read from each
//! DC's own `repsFrom`: a pull of every naming context that worked, from the new DC's NTDS
//! Settings (a new objectGUID), never from an exit status.
//!
//! Refused, changing nothing, while VIA does not answer or is itself removed, while the DC is
//! still a DC of the domain and does not answer (it was never removed: start it, or remove it
//! first), and where the cluster file lacks a command or directory the steps need.

use std::path::PathBuf;
use std::time::Duration;

use super::assess::{assess, Probed};
use super::ctx::{SambaAction, SambaCtx};
use crate::engine::{Plan, ProcError, Step};

pub(crate) fn plan(
    ctx: &SambaCtx,
    dcs: &[Probed],
    node: &str,
    via: &str,
    export: Option<PathBuf>,
) -> Result<Plan<SambaAction>, ProcError> {
    let n = ctx.node(node)?;
    let dc = n.name.clone();
    let via = ctx.node(via)?.name.clone();
    if dc == via {
        return Err(ProcError::usage(format!(
            "--primary {via}: the DC joined through must be another DC"
        )));
    }
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = assess(dcs);
    let removed = |name: &str| a.removed(name).is_some();
    let via_view = match dcs.iter().find(|d| d.name == via).map(|d| &d.view) {
        Some(Ok(v)) => v,
        Some(Err(e)) => return refuse(format!("{dc} cannot join through {via}: {e}")),
        None => return refuse(format!("{via} was not probed")),
    };
    if removed(&via) {
        return refuse(format!(
            "{dc} cannot join through {via}: {via} is not a DC of the domain"
        ));
    }
    let probed = dcs.iter().find(|d| d.name == dc);
    let answers = probed.is_some_and(Probed::answers);
    let listed = via_view.dcs.iter().any(|x| x.eq_ignore_ascii_case(&dc));
    let partners: Vec<&Probed> = dcs
        .iter()
        .filter(|d| d.name != dc && d.view.is_ok() && !removed(&d.name))
        .collect();
    let mut plan = Plan::new("samba-ad join");
    // Every pair of the DC and a partner that answers: pulls that work both ways; then every
    // pair of partners, whose first pull after a partner's restart fails (P15, measured:
    // WERR_NETNAME_DELETED left standing until the next periodic pull, 300 s).
    let pulls = |plan: &mut Plan<SambaAction>| {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for p in &partners {
            pairs.push((&p.name, &dc));
            pairs.push((&dc, &p.name));
        }
        for x in &partners {
            for y in partners.iter().filter(|y| y.name != x.name) {
                pairs.push((&x.name, &y.name));
            }
        }
        for (dst, src) in pairs {
            plan.step(Step::new(SambaAction::Pulls {
                dst: dst.to_string(),
                src: src.to_string(),
                since: None,
            }));
        }
    };
    if listed && answers && !removed(&dc) {
        // Joined already (a rerun): what is left is replication, and the server object a join
        // that stopped part-way left on a DC that was silent until now.
        pulls(&mut plan);
        plan.step(Step::new(SambaAction::Conflicts { dc: dc.clone() }));
        plan.step(Step::new(SambaAction::Settled { dc: dc.clone() }));
        return Ok(plan);
    }
    if listed {
        return refuse(format!(
            "{dc} is a DC of the domain ({via} lists it) and does not answer: start it (its \
             start_command) if its disk is intact (it was never removed, or a join stopped \
             after `samba-tool domain join` had finished); if a join stopped part-way (the DC \
             it joined through died, say) or its disk is lost, remove it (`drctl \
             remove-instance {dc}`, which exports first what only it holds) and join it again"
        ));
    }
    // What the steps need from the cluster file.
    let mut missing = Vec::new();
    for (field, absent) in [
        ("start_command", n.start_command.is_none()),
        ("stop_command", n.stop_command.is_none()),
        ("data_dirs", n.data_dirs.is_empty()),
        (
            "join_password_file (or join_password_env)",
            n.join_password.is_none(),
        ),
    ] {
        if absent {
            missing.push(format!("{dc}: {field}"));
        }
    }
    for p in &partners {
        let pn = ctx.node(&p.name)?;
        if pn.start_command.is_none() || pn.stop_command.is_none() {
            missing.push(format!(
                "{}: start_command and stop_command (a partner that keeps the old DC's \
                 Kerberos tickets is restarted, P14)",
                p.name
            ));
        }
    }
    if !missing.is_empty() {
        return Err(ProcError::usage(format!(
            "a join needs in the cluster file: {}",
            missing.join("; ")
        )));
    }
    let suffix = format!("removed-{}", ctx.run_id);
    plan.confirm = Some(format!(
        "Stop {dc}, move its databases aside and join it to the domain again through {via}?"
    ));
    plan.note(format!(
        "{dc}'s databases are moved aside (to *.{suffix}), not deleted: {}",
        n.data_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let export = export
        .unwrap_or_else(|| super::salvage::default_path(&ctx.export_dir, "join", &dc, &ctx.run_id));
    if answers {
        plan.note(format!(
            "{dc} answers as a DC the domain no longer has (a zombie): what it took that no \
             other DC received is read from its databases once it is stopped and exported, each \
             entry named"
        ));
    }
    if !partners.is_empty() {
        plan.note(format!(
            "a partner whose pull from the new {dc} fails is restarted (P14): {}",
            partners
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    plan.step(Step::new(SambaAction::Stop { dc: dc.clone() }));
    plan.step(Step::new(SambaAction::Salvage {
        dc: dc.clone(),
        path: export,
        via: Some(via.clone()),
    }));
    plan.step(
        Step::new(SambaAction::MoveAside {
            dc: dc.clone(),
            via: via.clone(),
            dirs: n.data_dirs.clone(),
            suffix,
        })
        .point_of_no_return(),
    );
    plan.step(Step::new(SambaAction::Join {
        dc: dc.clone(),
        via: via.clone(),
    }));
    plan.step(Step::new(SambaAction::Start { dc: dc.clone() }));
    pulls(&mut plan);
    plan.step(Step::new(SambaAction::Conflicts { dc: dc.clone() }));
    plan.step(Step::new(SambaAction::Settled { dc }));
    Ok(plan)
}

/// `sync full --from SRC --to DST`: DST pulls every naming context from SRC now (done when its
/// repsFrom shows a pull of each from SRC that worked since the plan was made). Refused, changing nothing, when either
/// does not answer as a DC of the domain.
pub(crate) async fn replicate_plan(
    ctx: &SambaCtx,
    dcs: &[Probed],
    from: &str,
    to: &str,
) -> Result<Plan<SambaAction>, ProcError> {
    let find = |dc: &str| {
        dcs.iter()
            .find(|d| d.name.eq_ignore_ascii_case(dc))
            .ok_or_else(|| ProcError::usage(format!("unknown DC '{dc}': not in the cluster file")))
    };
    let (src, dst) = (find(from)?, find(to)?);
    if src.name == dst.name {
        return Err(ProcError::usage(format!(
            "--from and --to name the same DC ({from})"
        )));
    }
    let a = super::assess::assess(dcs);
    for d in [src, dst] {
        let why = match &d.view {
            Err(e) => Some(format!("{} gives no view: {e}", d.name)),
            Ok(_) => a.removed(&d.name).cloned(),
        };
        if let Some(why) = why {
            return Err(ProcError::refused(why).unchanged());
        }
    }
    // A pull is asked for now: done by one that works from now on, on DST's own clock.
    let since = super::probe::current_time(ctx.node(&dst.name)?, ctx.timeout)
        .await
        .map_err(|e| ProcError::failed(format!("{}: {e}", dst.name)))?;
    // Each must list the other: a DC one of them no longer lists was removed (a zombie when it
    // answers; the majority may not have learned it yet), and a pull would restart it (P14).
    let lists = |p: &Probed, x: &str| {
        p.view
            .as_ref()
            .is_ok_and(|v| v.dcs.iter().any(|d| d.eq_ignore_ascii_case(x)))
    };
    for (a, b) in [(src, dst), (dst, src)] {
        if !lists(a, &b.name) {
            return Err(ProcError::refused(format!(
                "{} does not list {} as a DC of the domain: it was removed from it; `drctl join \
                 {} --primary DC` joins it again",
                a.name, b.name, b.name
            ))
            .unchanged());
        }
    }
    let mut plan = Plan::new("samba-ad sync full");
    plan.step(Step::new(SambaAction::Pulls {
        dst: dst.name.clone(),
        src: src.name.clone(),
        since: Some(since),
    }));
    Ok(plan)
}

/// Whether `via`'s own database has the DC `dc` (nTDSDSA).
async fn lists(ctx: &SambaCtx, via: &str, dc: &str) -> Result<bool, ProcError> {
    let v = super::probe::probe(ctx.node(via)?, ctx.timeout)
        .await
        .map_err(|e| ProcError::failed(format!("{via}: {e}")))?;
    Ok(v.dcs.iter().any(|x| x.eq_ignore_ascii_case(dc)))
}

/// Why `dc` is not a DC of the domain that answers as itself, if it is not.
async fn zombie(ctx: &SambaCtx, dc: &str) -> Option<String> {
    let dcs = ctx.probe().await;
    let me = dcs.iter().find(|d| d.name == dc)?;
    match &me.view {
        Err(e) => return Some(format!("{dc}: {e}")),
        Ok(v) if !v.dsa.eq_ignore_ascii_case(dc) => {
            return Some(format!("{dc} answers as {}", v.dsa))
        }
        Ok(_) => {}
    }
    assess(&dcs).removed(dc).cloned()
}

/// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
pub(super) async fn holds(
    ctx: &SambaCtx,
    a: &SambaAction,
) -> Result<Result<String, String>, ProcError> {
    Ok(match a {
        // Never done beforehand: a DC that does not answer may be hung (SIGSTOP), not stopped,
        // and its databases must not move under it. Its stop_command makes sure (a no-op on a
        // stopped DC); `verify` then finds it silent.
        SambaAction::Stop { dc } => Err(format!("{dc} is stopped by its stop_command")),
        // Read without running anything on the DC's host (a dry run runs nothing): done once
        // the join it is for is; `verify` looks at the host.
        SambaAction::MoveAside { dc, via, .. } | SambaAction::Join { dc, via } => {
            if lists(ctx, via, dc).await? {
                Ok(format!("{via} has the DC {dc}"))
            } else {
                Err(format!("{via} does not have the DC {dc}"))
            }
        }
        // A zombie answers too: it must answer as a DC the domain has.
        SambaAction::Start { dc } => match zombie(ctx, dc).await {
            Some(why) => Err(why),
            None => Ok(format!("{dc} answers as a DC of the domain")),
        },
        SambaAction::Pulls { dst, src, since } => {
            for dc in [dst, src] {
                if let Some(why) = zombie(ctx, dc).await {
                    return Ok(Err(why));
                }
            }
            let v = match super::probe::probe(ctx.node(dst)?, ctx.timeout).await {
                Ok(v) => v,
                Err(e) => return Ok(Err(format!("{dst}: {e}"))),
            };
            let mut lacking = Vec::new();
            for nc in v.all_ncs() {
                let ok = v.reps.iter().any(|r| {
                    r.nc == nc
                        && r.from.eq_ignore_ascii_case(src)
                        && r.failures == 0
                        && r.last_success.is_some_and(|t| since.is_none_or(|s| t >= s))
                });
                if !ok {
                    lacking.push(nc);
                }
            }
            if lacking.is_empty() {
                Ok(format!(
                    "{dst} pulled every naming context from {src} (repsFrom)"
                ))
            } else {
                Err(format!(
                    "{dst} has no working pull from {src} of {}",
                    lacking.join("; ")
                ))
            }
        }
        SambaAction::Settled { .. } => {
            let failing = assess(&ctx.probe().await).failing_pulls;
            if failing.is_empty() {
                Ok("no DC that answers has a failing pull from another that answers".into())
            } else {
                Err(format!("failing pulls: {}", pairs(&failing)))
            }
        }
        _ => unreachable!("not a join step"),
    })
}

/// "DST from SRC, …".
fn pairs(failing: &[(String, String)]) -> String {
    failing
        .iter()
        .map(|(dst, src)| format!("{dst} from {src}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The shell command that moves `dirs` aside on the DC's host, skipping those already gone,
/// and fails while any is still there.
fn move_aside_command(dirs: &[PathBuf], suffix: &str) -> String {
    dirs.iter()
        .map(|d| {
            let d = d.display().to_string();
            let (from, to) = (quote(&d), quote(&format!("{d}.{suffix}")));
            format!("{{ [ ! -e {from} ] || mv {from} {to}; }} && [ ! -e {from} ]")
        })
        .collect::<Vec<_>>()
        .join(" && ")
}

pub(super) async fn apply(ctx: &SambaCtx, a: &SambaAction) -> Result<Option<String>, ProcError> {
    match a {
        SambaAction::Stop { dc } => {
            let c = ctx
                .node(dc)?
                .stop_command
                .clone()
                .expect("planned with one");
            super::host::host_command(ctx, dc, "stop_command", &c, None).await
        }
        SambaAction::MoveAside {
            dc, dirs, suffix, ..
        } => {
            // Never under a DC that runs: that is what Stop was for.
            if super::probe::probe(ctx.node(dc)?, ctx.timeout)
                .await
                .is_ok()
            {
                return Err(ProcError::refused(format!(
                    "{dc} answers: its databases are not moved while it runs"
                )));
            }
            let c = super::host::on_host(ctx.node(dc)?, &move_aside_command(dirs, suffix));
            super::host::host_command(ctx, dc, "move aside", &c, None).await?;
            Ok(Some(format!("moved aside to *.{suffix}")))
        }
        SambaAction::Join { dc, via } => {
            let n = ctx.node(dc)?;
            let password = n.join_password.as_ref().expect("planned with one");
            let server = format!("{via}.{}", n.realm.to_ascii_lowercase());
            // The password goes on stdin (PASSWD_FD=0), never on a command line.
            let args = format!(
                "env PASSWD_FD=0 samba-tool domain join {} DC -U {} --server={} \
                 --dns-backend=SAMBA_INTERNAL",
                quote(&n.realm),
                quote(&n.join_user),
                quote(&server)
            );
            let c = super::host::command_on(n, &args);
            super::host::host_command(ctx, dc, "samba-tool domain join", &c, Some(password)).await
        }
        SambaAction::Start { dc } => {
            let c = ctx
                .node(dc)?
                .start_command
                .clone()
                .expect("planned with one");
            super::host::host_command(ctx, dc, "start_command", &c, None).await
        }
        SambaAction::Pulls { dst, src, .. } => pull_from(ctx, dst, src).await,
        // A pull done again can restart its DC (P14), and pulls from that one can then fail
        // once (P15): read again, a few rounds.
        SambaAction::Settled { .. } => {
            let mut again = Vec::new();
            for _ in 0..3 {
                let failing = assess(&ctx.probe().await).failing_pulls;
                if failing.is_empty() {
                    break;
                }
                for (dst, src) in &failing {
                    pull_from(ctx, dst, src).await?;
                }
                again.push(pairs(&failing));
            }
            Ok((!again.is_empty()).then(|| format!("pulled again: {}", again.join("; then "))))
        }
        _ => unreachable!("not a join step"),
    }
}

/// `dst` pulls every naming context from `src` through its own replication service (`samba-tool
/// drs replicate`, with ADD_REF so that `src` notifies it of changes), after a KCC run (P7: the
/// connection may not exist yet). A failure restarts `dst` once (P14) and pulls again; a first
/// failure right after a restart is retried (P15).
async fn pull_from(ctx: &SambaCtx, dst: &str, src: &str) -> Result<Option<String>, ProcError> {
    let n = ctx.node(dst)?;
    let ncs = super::probe::probe(n, ctx.timeout)
        .await
        .map_err(|e| ProcError::failed(format!("{dst}: {e}")))?
        .all_ncs();
    let attempt = || async {
        // P12: a KCC run that meets the startup one blocks for 60 s; bounded and retried.
        for _ in 0..3 {
            let kcc = super::host::command_on(n, &format!("timeout 10 samba-tool drs kcc {dst}"));
            if super::host::host_command(ctx, dst, "drs kcc", &kcc, None)
                .await
                .is_ok()
            {
                break;
            }
        }
        for nc in &ncs {
            let args = format!(
                "samba-tool drs replicate --add-ref {dst} {src} {}",
                quote(nc)
            );
            let c = super::host::command_on(n, &args);
            // A partner that has just started answers LDAP before its DRS server takes
            // connections (measured: "DRS connection to dc3 failed" right after its restart,
            // while its own pulls worked): that is waited out (up to about 19 s); any other
            // failure is tried twice, then the restart below (P14).
            let mut tries = 0;
            loop {
                tries += 1;
                match super::host::host_command(ctx, dst, "drs replicate", &c, None).await {
                    Ok(_) => break,
                    Err(e) => {
                        let connecting = partner_not_ready(&e.to_string());
                        if tries >= if connecting { 10 } else { 2 } {
                            return Err(e);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(if tries == 1 { 1 } else { 2 })).await;
            }
        }
        Ok::<_, ProcError>(())
    };
    if attempt().await.is_ok() {
        return Ok(Some(format!(
            "{dst} pulled {} naming contexts from {src}",
            ncs.len()
        )));
    }
    // P14: its replication service holds tickets for the old machine key of `src`.
    let (stop, start) = (
        n.stop_command.clone().ok_or_else(|| {
            ProcError::failed(format!(
                "{dst} cannot pull from {src} and has no stop_command"
            ))
        })?,
        n.start_command.clone().ok_or_else(|| {
            ProcError::failed(format!(
                "{dst} cannot pull from {src} and has no start_command"
            ))
        })?,
    );
    super::host::host_command(ctx, dst, "stop_command", &stop, None).await?;
    super::host::host_command(ctx, dst, "start_command", &start, None).await?;
    crate::util::poll::within(ctx.step_timeout, Duration::from_millis(200), || async {
        crate::util::poll::holds(super::probe::probe(n, ctx.timeout).await.is_ok())
    })
    .await
    .map_err(|()| ProcError::failed(format!("{dst} did not answer after its restart")))?;
    attempt().await?;
    Ok(Some(format!(
        "{dst} restarted (P14), then pulled {} naming contexts from {src}",
        ncs.len()
    )))
}

/// A pull failed because its partner is not ready for it yet, which is waited out:
/// - "DRS connection to": the partner answers LDAP before its DRS server takes connections;
/// - `WERR_CONNECTION_REFUSED`: the same, from a DC whose samba has just started (failed CI
///   after the two tries, the restart of the puller and two more);
/// - `WERR_FILE_NOT_FOUND`: the puller cannot find the partner yet (its DNS alias comes with
///   replication from the DC the join went through; failed CI once after four tries and a
///   restart).
fn partner_not_ready(error: &str) -> bool {
    [
        "DRS connection to",
        "WERR_CONNECTION_REFUSED",
        "WERR_FILE_NOT_FOUND",
    ]
    .iter()
    .any(|w| error.contains(w))
}

/// Stop is proved by a DC that no longer answers.
pub(super) async fn verify_stopped(ctx: &SambaCtx, dc: &str) -> Result<Option<String>, ProcError> {
    let n = ctx.node(dc)?;
    crate::util::poll::within(ctx.step_timeout, Duration::from_millis(200), || async {
        let silent = matches!(
            super::probe::probe(n, ctx.timeout).await,
            Err(super::probe::ProbeError::Silent(_))
        );
        crate::util::poll::holds(silent)
    })
    .await
    .map_err(|()| ProcError::failed(format!("{dc} still answers after its stop_command")))?;
    Ok(Some(format!("{dc} does not answer")))
}

/// MoveAside is proved on the DC's host: none of the directories is there any more.
pub(super) async fn verify_moved(
    ctx: &SambaCtx,
    dc: &str,
    dirs: &[PathBuf],
) -> Result<Option<String>, ProcError> {
    let test = dirs
        .iter()
        .map(|d| format!("[ ! -e {} ]", quote(&d.display().to_string())))
        .collect::<Vec<_>>()
        .join(" && ");
    let c = super::host::on_host(ctx.node(dc)?, &test);
    super::host::host_command(ctx, dc, "check the databases are gone", &c, None)
        .await
        .map_err(|e| ProcError::failed(format!("{dc}'s databases are still there: {e}")))?;
    Ok(Some(format!("{dc} has no databases left in place")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_move_aside_skips_what_is_gone_and_fails_while_anything_stays() {
        assert_eq!(
            move_aside_command(&["/v/a b".into(), "/v/c".into()], "removed-r1"),
            "{ [ ! -e '/v/a b' ] || mv '/v/a b' '/v/a b.removed-r1'; } && [ ! -e '/v/a b' ] && \
             { [ ! -e '/v/c' ] || mv '/v/c' '/v/c.removed-r1'; } && [ ! -e '/v/c' ]"
        );
    }

    #[test]
    fn a_pull_refused_by_a_partner_that_just_started_is_waited_out() {
        // As CI printed it, from dc2's pull of the rejoined dc1 seconds after dc1 started.
        let refused = "dc2: drs replicate failed (exit status: 255): ERROR(<class \
                       'samba.drs_utils.drsException'>): DsReplicaSync failed - drsException: \
                       DsReplicaSync failed (1225, 'WERR_CONNECTION_REFUSED')";
        assert!(partner_not_ready(refused));
        assert!(partner_not_ready("DRS connection to dc3 failed"));
        assert!(partner_not_ready(
            "DsReplicaSync failed (2, 'WERR_FILE_NOT_FOUND')"
        ));
        assert!(!partner_not_ready(
            "DsReplicaSync failed (8453, 'WERR_DS_DRA_ACCESS_DENIED')"
        ));
    }
}
