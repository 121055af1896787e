//! The fronts of the recovery procedures: build the plan from one probe, run it with the common
//! options (`--dry-run`, `--yes`, `--expect-*`, `--break-lock`), print the report.

use std::io::{BufRead, IsTerminal, Write};

use super::args::ProcArgs;
use super::context::Context;
use super::error::CliError;
use super::output::{print_json, table};
use crate::cluster::ClusterView;
use crate::procedures::{self, Cluster, Plan, ProcError, RunOptions, RunReport};

/// Asks on the terminal; without one, refuses (a script must say `--yes`).
pub(super) fn prompt(question: &str, yes: bool) -> Result<bool, ProcError> {
    if yes {
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(ProcError::refused(format!(
            "{question}\nconfirmation needed and there is no terminal to ask: rerun with --yes; nothing was changed"
        )));
    }
    eprint!("{question} Type 'yes' to continue: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ProcError::refused(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "yes" | "y" | "YES"))
}

pub fn cluster(ctx: &Context, args: &ProcArgs) -> Cluster {
    let operator = ctx
        .options
        .operator
        .clone()
        .unwrap_or_else(|| "unknown".into());
    Cluster::new(&ctx.cluster, &ctx.targets, &operator, args.wait)
}

/// Probes, plans with `build` (from that one probe), runs, prints; maps the outcome to the
/// exit code.
pub async fn run(
    ctx: &Context,
    args: &ProcArgs,
    build: impl AsyncFnOnce(&Cluster, &ClusterView) -> Result<Plan, ProcError>,
) -> Result<(), CliError> {
    let cl = cluster(ctx, args);
    let view = cl.probe().await;
    procedures::check_expectations(&view, args.expect_primary.as_deref(), args.expect_epoch)?;
    let plan = build(&cl, &view).await?;
    run_plan(
        &cl,
        plan,
        args,
        std::time::Duration::from_secs(120) + args.wait * 4,
    )
    .await
}

/// Runs a plan with the common options, prints its report, maps the outcome to the exit code:
/// the shared end of every procedure front, drnode or OpenLDAP.
pub async fn run_plan<A: procedures::Act>(
    ctx: &A::Ctx,
    plan: Plan<A>,
    args: &ProcArgs,
    lock_ttl: std::time::Duration,
) -> Result<(), CliError> {
    if !args.json {
        for line in &plan.summary {
            eprintln!("{line}");
        }
    }
    let yes = args.yes;
    let confirm = move |q: &str| prompt(q, yes);
    let opts = RunOptions {
        dry_run: args.dry_run,
        break_lock: args.break_lock,
        lock_ttl,
        confirm: &confirm,
        progress: !args.json,
    };
    let report = procedures::execute(ctx, plan, &opts).await;
    print_report(&report, args.json);
    match (report.exit, &report.error) {
        (None, _) => Ok(()),
        (Some(exit), Some(e)) => Err(CliError::new(exit, e.clone())),
        (Some(exit), None) => Err(CliError::new(exit, report.outcome.clone())),
    }
}

pub fn print_report<A: serde::Serialize>(report: &RunReport<A>, json: bool) {
    if json {
        print_json(report);
        return;
    }
    let mut t = table(&["#", "STEP", "OUTCOME", "MS", "NOTE"]);
    for (i, s) in report.steps.iter().enumerate() {
        t.add_row(vec![
            (i + 1).to_string(),
            s.step.clone(),
            s.outcome.clone(),
            s.ms.to_string(),
            s.note.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!(
        "{}: {} in {} ms (run {})",
        report.procedure, report.outcome, report.ms, report.run_id
    );
}
