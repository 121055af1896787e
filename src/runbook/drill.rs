//! Drills: a runbook as its own smoke test. Start a fresh lab in a temporary directory, inject the
//! stated faults (SIGKILL, SIGSTOP, restarts, writes through the write checker), run the runbook
//! unattended, check what it expects, tear the lab down (always), report per-step timings.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::directory::{Directory, SLAPD};
use super::drill_check::{
    expect, expect_ldap, target, wait_caught_up, wait_poll_ends, wait_role, wait_sync,
};
use super::drill_model::{Drill, Inject, Link};
pub use super::drill_pool::LabPool;
use super::drill_report::fail;
pub use super::drill_report::{junit, DrillReport, DrillStep, Expectation};
use super::drill_runner::run_injected;
use super::{engine, Runbook};
use crate::engines::drnode::cluster::{probe, Target};
use crate::engines::drnode::lab::DrnodeLab as Lab;
use crate::engines::drnode::writer::{self, WriteOptions};
use crate::engines::drnode::Cluster;
use crate::lab::{LabError, Sig};
use crate::util::poll;

const DEADLINE: Duration = Duration::from_secs(30);

/// Writers at once for a drill's `writes:` fault.
const WRITERS: u64 = 8;

/// Runs the drill of `rb` in a fresh lab under `base` (a temporary directory, removed after),
/// or in a copy of a lab `pool` kept (the engines whose labs allow it); the report shows no
/// secret, and neither does `progress` (given only redacted lines).
pub async fn drill(
    rb: &Runbook,
    base: &Path,
    pool: &LabPool,
    progress: &(dyn Fn(&str) + Sync),
) -> DrillReport {
    let progress = |line: &str| progress(&crate::util::redact::redact(line));
    run_and_report(rb, base, pool, &progress).await.redacted()
}

async fn run_and_report(
    rb: &Runbook,
    base: &Path,
    pool: &LabPool,
    progress: &(dyn Fn(&str) + Sync),
) -> DrillReport {
    let started = Instant::now();
    let mut report = DrillReport {
        runbook: rb.name.clone(),
        kind: rb.drill_kind().to_string(),
        label: rb.drill_label(),
        passed: false,
        total_ms: 0,
        recovery_ms: 0,
        outcome: String::new(),
        steps: Vec::new(),
        expectations: Vec::new(),
        writes_acknowledged: 0,
        writes_lost: 0,
        error: None,
        skipped: None,
        waits: rb.drill.as_ref().and_then(|d| d.takes_its_time()),
    };
    let Some(d) = rb.drill.clone() else {
        report.error = Some(format!("runbook {} has no drill section", rb.name));
        return report;
    };
    if let Some((run, _)) = d
        .kind
        .as_deref()
        .and_then(crate::engines::registry::drill_runner)
    {
        run(rb, &d, base, pool, progress, &mut report).await;
        report.passed = report.skipped.is_some()
            || (report.error.is_none() && report.expectations.iter().all(|x| x.ok));
        report.total_ms = started.elapsed().as_millis() as u64;
        return report;
    }
    if d.directory.is_some() && !Directory::available() {
        report.skipped = Some(format!(
            "needs slapd ({SLAPD}), which is not installed (Debian: apt-get install slapd)"
        ));
        report.passed = true;
        return report;
    }
    if d.partitions() {
        if let Some(why) = crate::lab::netns::unavailable() {
            report.skipped = Some(format!(
                "partitions need nodes in network namespaces: {why}"
            ));
            report.passed = true;
            return report;
        }
    }
    let dir = crate::lab::sweep::drill_dir(base, &rb.name);
    // A drill without nodes (a directory only) still gets a directory of its own.
    let made = match d.nodes {
        0 => std::fs::create_dir_all(&dir)
            .map(|_| None)
            .map_err(|e| LabError::Failed(format!("create {}: {e}", dir.display()))),
        n => Lab::create_for_drill(&dir, n, d.partitions(), d.sync_max_failures()).map(Some),
    };
    // Torn down when the drill ends, fails, panics, or its future is dropped (Ctrl-C).
    let mut guard = Teardown {
        lab: None,
        dir: dir.clone(),
    };
    let result = match made {
        Ok(lab) => {
            guard.lab = lab;
            run_drill(rb, &d, guard.lab.as_mut(), &dir, &mut report, progress).await
        }
        Err(e) => Err(LabError::Failed(format!("cannot create the lab: {e}"))),
    };
    if let Err(e) = guard.down() {
        progress(&format!("warning: lab teardown: {e}"));
    }
    if let Err(e) = result {
        report.error = Some(e.to_string());
    }
    report.passed = report.error.is_none() && report.expectations.iter().all(|x| x.ok);
    report.total_ms = started.elapsed().as_millis() as u64;
    report
}

/// The drill's lab (or bare directory), removed with everything it started when dropped.
struct Teardown {
    lab: Option<Lab>,
    dir: std::path::PathBuf,
}

impl Teardown {
    fn down(&mut self) -> Result<(), LabError> {
        let result = match self.lab.take() {
            Some(lab) => lab.down(false).map(|_| ()),
            None => Ok(()),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        result
    }
}

impl Drop for Teardown {
    fn drop(&mut self) {
        let _ = self.down();
    }
}

fn need<'a>(lab: &'a mut Option<&mut Lab>) -> Result<&'a mut Lab, LabError> {
    lab.as_deref_mut()
        .ok_or_else(|| fail("this fault needs a lab, and the drill has none (nodes: 0)"))
}

/// An HTTP client trusting the lab's CA, or nothing (a drill without a lab makes no HTTPS call).
fn http_client(lab: Option<&Lab>) -> Result<reqwest::Client, LabError> {
    let trust = match lab {
        Some(lab) => crate::engines::load_inventory(&lab.cluster_file())
            .map_err(fail)?
            .trust(),
        None => {
            let config = rustls::ClientConfig::builder_with_provider(crate::util::tls::provider())
                .with_safe_default_protocol_versions()
                .map_err(fail)?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            return reqwest::Client::builder()
                .use_preconfigured_tls(config)
                .build()
                .map_err(fail);
        }
    };
    crate::api::client::http_client(&crate::api::ClientOptions {
        trust,
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(3),
        probe_timeout: Duration::from_secs(3),
        operator: Some("drill".into()),
        run_id: None,
        quiet_after_timeout: Duration::ZERO,
    })
    .map_err(fail)
}

async fn run_drill(
    rb: &Runbook,
    d: &Drill,
    mut lab: Option<&mut Lab>,
    dir: &Path,
    report: &mut DrillReport,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), LabError> {
    let (cluster, targets) = match lab.as_deref_mut() {
        Some(lab) => lab.form_cluster(DEADLINE).await?,
        None => ("none".to_string(), Vec::new()),
    };
    let http = http_client(lab.as_deref())?;
    let directory = match &d.directory {
        Some(_) => Some(Directory::start_adlds(&dir.join("slapd")).await?),
        None => None,
    };
    // The directory's URL is the `url` of a runbook that takes one.
    let with_url = |name: &str,
                    vars: &BTreeMap<String, String>|
     -> Result<BTreeMap<String, String>, LabError> {
        let mut vars = vars.clone();
        let wants = super::load(name).map_err(fail)?.params.contains_key("url");
        if let (Some(dd), true) = (&directory, wants) {
            vars.entry("url".into()).or_insert_with(|| dd.url.clone());
        }
        Ok(vars)
    };
    let settings = |dir: &Path| {
        let mut s = super::unattended(http.clone(), dir);
        s.journal_dir = Some(dir.join("runs"));
        s
    };
    let acked = dir.join("acked.log");
    let mut faults = Faults {
        lab: lab.as_deref_mut(),
        cluster: &cluster,
        targets: &targets,
        acked: &acked,
        dir,
        settings: &settings,
        with_url: &with_url,
    };
    faults
        .apply(rb, &d.inject, "inject", report, progress)
        .await?;
    // Writes while the runbook runs, from a client that retries through the change.
    let acks = Arc::new(AtomicU64::new(0));
    let writer = d.writes.as_ref().map(|w| {
        let opts = WriteOptions {
            count: w.count,
            rate: Some(w.rate),
            acked_log: Some(acked.clone()),
            prefix: "drill/run".into(),
            write_timeout: DEADLINE,
        };
        let (c, t, a) = (cluster.clone(), targets.clone(), acks.clone());
        let min = (w.rate / 2.0) as u64;
        (
            min,
            tokio::spawn(async move {
                writer::run(&c, &t, &opts, move |n| a.store(n, Ordering::Relaxed)).await
            }),
        )
    });
    if let Some((min, _)) = &writer {
        poll::within(DEADLINE, Duration::from_millis(20), || async {
            poll::holds(acks.load(Ordering::Relaxed) >= *min)
        })
        .await
        .map_err(|()| fail("the writer made no progress before the run"))?;
    }
    let mut vars = d.vars.clone();
    if let (Some(dd), true) = (&directory, rb.params.contains_key("url")) {
        vars.entry("url".into()).or_insert_with(|| dd.url.clone());
    }
    let vars = engine::resolve_vars(rb, &vars).map_err(|e| fail(e.message))?;
    // The run's own clients, as `drctl` makes them (the faults' signals and waits keep the lab's).
    let lab_dir = faults.lab.as_deref().map(|lab| lab.dir.clone());
    let operator_targets = || match &lab_dir {
        Some(d) => crate::engines::drnode::lab::operator_targets(d).map(|t| t.1),
        None => Ok(Vec::new()),
    };
    let run_targets = operator_targets()?;
    let cl = Cluster::new(&cluster, &run_targets, "drill", DEADLINE);
    progress(&format!("  {} run (run {})", rb.name, cl.run_id));
    let run = engine::run(rb, vars, cl, &settings(dir), None).await;
    report.take_run(&run);
    if let Some((_, handle)) = writer {
        let w = handle.await.map_err(fail)?;
        if let Some(e) = w.error {
            report.expectations.push(Expectation {
                what: "writes during the run".into(),
                ok: false,
                detail: e,
            });
        }
    }
    if let Some(e) = run.error {
        return Err(fail(format!("the runbook {}: {e}", run.outcome)));
    }
    let mut faults = Faults {
        lab,
        cluster: &cluster,
        targets: &targets,
        acked: &acked,
        dir,
        settings: &settings,
        with_url: &with_url,
    };
    faults
        .apply(rb, &d.after, "after", report, progress)
        .await?;
    // The checks look as an operator would, with fresh clients of drctl's timeouts: a node
    // left paused costs its probe (1.1 s) once, not the lab clients' 3 s (removenode-force's
    // check waited 3 s on node-2).
    let check_targets = if lab_dir.is_some() {
        operator_targets()?
    } else {
        targets.clone()
    };
    report.expectations = expect(d, &cluster, &check_targets, &acked, report).await;
    if let Some(dd) = &directory {
        report.expectations.extend(expect_ldap(d, dd).await);
    }
    Ok(())
}

type VarsFor<'a> =
    dyn Fn(&str, &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, LabError> + 'a;

/// What applying a fault needs: the lab, its clients, and how inject runbooks are run.
struct Faults<'a, 'l> {
    lab: Option<&'l mut Lab>,
    cluster: &'a str,
    targets: &'a [Target],
    acked: &'a Path,
    dir: &'a Path,
    settings: &'a (dyn Fn(&Path) -> super::Settings + 'a),
    with_url: &'a VarsFor<'a>,
}

impl Faults<'_, '_> {
    /// Applies `list` in order, a drill step per fault (`phase`: inject or after).
    async fn apply(
        &mut self,
        rb: &Runbook,
        list: &[Inject],
        phase: &str,
        report: &mut DrillReport,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<(), LabError> {
        let (cluster, targets) = (self.cluster, self.targets);
        for (i, inj) in list.iter().enumerate() {
            let t0 = Instant::now();
            let name = format!("{phase}: {}", inj.describe());
            progress(&format!("  {} {name}", rb.name));
            match inj {
                Inject::Kill(n) => need(&mut self.lab)?.signal(n, Sig::Kill)?,
                Inject::Pause(n) => need(&mut self.lab)?.signal(n, Sig::Stop)?,
                Inject::Resume(n) => {
                    need(&mut self.lab)?.signal(n, Sig::Cont)?;
                    // The drill woke it: its timeouts while paused are history. What runs next
                    // must find it answering.
                    let t: Vec<Target> = targets.iter().filter(|t| t.name == *n).cloned().collect();
                    t.iter().for_each(|t| t.client.forget_timeout());
                    crate::engines::drnode::lab::wait_up(&t, DEADLINE).await?;
                }
                Inject::Restart(n) => {
                    need(&mut self.lab)?.start(n)?;
                    let t: Vec<Target> = targets.iter().filter(|t| t.name == *n).cloned().collect();
                    crate::engines::drnode::lab::wait_up(&t, DEADLINE).await?;
                }
                Inject::Standalone(n) => {
                    target(targets, n)?
                        .client
                        .standalone()
                        .await
                        .map_err(fail)?;
                }
                Inject::WaitRole { node, role } => wait_role(targets, node, role).await?,
                Inject::WaitPollEnds(nodes) => wait_poll_ends(targets, nodes).await?,
                Inject::WaitSync { node, state } => wait_sync(targets, node, *state).await?,
                Inject::SetSetting { name, value } => {
                    let view = probe(cluster, targets).await;
                    let p = view
                        .primary()
                        .ok_or_else(|| fail("no primary to write through"))?;
                    target(targets, &p.name)?
                        .client
                        .put_setting(name, value)
                        .await
                        .map_err(fail)?;
                }
                Inject::Writes(count) => {
                    // Fresh clients of drctl's timeouts, as for the checks: a node the drill
                    // paused costs the writer's probe 1.1 s once, not the lab clients' 3 s.
                    let fresh = match self.lab.as_deref() {
                        Some(lab) => crate::engines::drnode::lab::operator_targets(&lab.dir)?.1,
                        None => targets.to_vec(),
                    };
                    let opts = WriteOptions {
                        count: *count,
                        rate: None,
                        acked_log: Some(self.acked.to_path_buf()),
                        prefix: format!("drill/{phase}{i}"),
                        write_timeout: DEADLINE,
                    };
                    // Beside each other: they are acknowledged one by one all the same, and
                    // a group commit takes them together (200 writes: 670–990 → 160–300 ms).
                    let w = writer::run_beside(cluster, &fresh, &opts, WRITERS).await;
                    if let Some(e) = w.error {
                        return Err(fail(format!("writes ({phase}): {e}")));
                    }
                    wait_caught_up(cluster, &fresh).await?;
                }
                Inject::Runbook { name, vars } => {
                    let cl = Cluster::new(cluster, targets, "drill", DEADLINE);
                    let vars = (self.with_url)(name, vars)?;
                    let settings = (self.settings)(self.dir);
                    run_injected(phase, name, &vars, cl, &settings).await?;
                }
                Inject::Package {
                    node,
                    name,
                    content,
                } => {
                    target(targets, node)?
                        .client
                        .upload_package(name, bytes::Bytes::from(content.clone().into_bytes()))
                        .await
                        .map_err(fail)?;
                }
                Inject::Partition(link) => links(need(&mut self.lab)?, link, true)?,
                Inject::Heal(link) => {
                    links(need(&mut self.lab)?, link, false)?;
                    // As after a resume: the timeouts of the cut are history (the client's
                    // quiet window otherwise answered for node-1 at once, "no answer", for 3 s
                    // after it had fenced itself: partitioned-primary's wait 2.9 s, now 0.1 s).
                    targets.iter().for_each(|t| t.client.forget_timeout());
                }
            }
            report.steps.push(DrillStep {
                name,
                outcome: "done".into(),
                ms: t0.elapsed().as_millis() as u64,
            });
        }
        Ok(())
    }
}

/// Cuts or restores the links `link` names.
fn links(lab: &mut Lab, link: &Link, cut: bool) -> Result<(), LabError> {
    let net = lab
        .state
        .net
        .as_ref()
        .ok_or_else(|| fail("this lab cannot cut links (it has no network namespaces)"))?;
    let pairs: Vec<(String, String)> = match (link, cut) {
        (Link::Between(a, b), _) => vec![(a.clone(), b.clone())],
        (Link::Node(n), true) => net.others(n).into_iter().map(|o| (n.clone(), o)).collect(),
        (Link::Node(n), false) => net
            .cuts
            .iter()
            .filter(|(a, b)| a == n || b == n)
            .cloned()
            .collect(),
        (Link::All, _) => net.cuts.iter().cloned().collect(),
    };
    for (a, b) in pairs {
        lab.link(&a, &b, cut)?;
    }
    Ok(())
}
