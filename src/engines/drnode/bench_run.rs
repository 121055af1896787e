//! How `lab bench` runs procedures on its lab: a bundled runbook as its command runs it (the
//! timed part), a plan to its end (the housekeeping between rounds), and which node is primary.

use std::collections::BTreeMap;
use std::time::Duration;

use super::lab::{self, DrnodeLab};
use crate::engine::{Plan, ProcError, RunOptions};
use crate::engines::bench::{fail, Phase};
use crate::engines::drnode::{self, Cluster};
use crate::lab::LabError;

fn no_confirm(_: &str) -> Result<bool, ProcError> {
    Ok(true)
}

/// Runs a plan to its end (the lab's own housekeeping between rounds: not measured).
pub(super) async fn run_plan(cl: &Cluster, plan: Plan<drnode::Action>) -> Result<(), LabError> {
    let opts = RunOptions {
        dry_run: false,
        break_lock: false,
        lock_ttl: Duration::from_secs(60),
        confirm: &no_confirm,
        progress: false,
    };
    let report = crate::engine::execute(cl, plan, &opts).await;
    match report.error {
        None => Ok(()),
        Some(e) => Err(fail(format!(
            "{} {}: {e}",
            report.procedure, report.outcome
        ))),
    }
}

/// A bundled runbook as its command runs it: a fresh connection to every node (a new `drctl`
/// process has none), the run lock, the journal, every step verified. Command to verified.
pub(super) async fn command(
    lab: &DrnodeLab,
    runbook: &str,
    vars: &[(&str, &str)],
) -> Result<(u64, Vec<Phase>), LabError> {
    let (cluster, targets) = lab::targets(&lab.dir)?;
    let http = crate::runbook::front::trusting_no_ca().map_err(fail)?;
    let mut settings = crate::runbook::unattended(http, &lab.dir);
    settings.journal_dir = Some(lab.dir.join("runs"));
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cl = Cluster::new(&cluster, &targets, "bench", Duration::from_secs(30));
    let t = crate::engines::bench::timed_run(runbook, &vars, cl, &settings, runbook).await?;
    Ok((t.ms, t.phases))
}

/// The lab's primary, as a probe judges it.
pub(super) async fn primary_of(cl: &Cluster) -> Result<String, LabError> {
    cl.probe()
        .await
        .primary()
        .map(|p| p.name.clone())
        .ok_or_else(|| fail("no primary"))
}
