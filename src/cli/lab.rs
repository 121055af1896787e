//! `drctl lab …`: a local cluster of real drnode processes, fault injection, and the write
//! checker.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::args::{GlobalArgs, LabCommand, LabWriteArgs};
use super::error::CliError;
use super::output::{print_json, table};
use crate::engines::bench::Procedure;
use crate::engines::registry;
use crate::lab::{Lab, LabError, LabOptions, Sig};

fn lab_err(e: LabError) -> CliError {
    match e {
        LabError::Running { .. } | LabError::Unavailable(_) => CliError::refused(e.to_string()),
        LabError::UnknownNode { .. } | LabError::NoLab(_) => CliError::usage(e.to_string()),
        other => CliError::failed(other.to_string()),
    }
}

/// The lab in `dir`, of whichever engine made it.
fn open(dir: &Path) -> Result<Box<dyn Lab>, CliError> {
    let engine = registry::lab_in(dir).ok_or_else(|| lab_err(LabError::NoLab(dir.into())))?;
    let lab = engine.lab.expect("lab_in finds engines with a lab");
    (lab.open)(dir).map_err(lab_err)
}

pub(super) async fn cmd_lab(global: &GlobalArgs, cmd: &LabCommand) -> Result<(), CliError> {
    let dir = &global.lab_dir;
    match cmd {
        LabCommand::Up {
            nodes,
            log_keep,
            tls,
        } => {
            let opts = LabOptions {
                nodes: *nodes,
                log_keep: *log_keep,
                tls: *tls,
            };
            up(global, opts).await
        }
        LabCommand::Status { json } => {
            let lab = open(dir)?;
            let rows = lab.rows();
            if *json {
                print_json(&json!({
                    "dir": lab.dir(),
                    "kind": lab.kind(),
                    "cluster_file": lab.cluster_file(),
                    "nodes": rows,
                }));
            } else {
                let mut t = table(&["NODE", "PID", "PROCESS", "URL"]);
                for r in rows {
                    let pid = r.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
                    t.add_row(vec![r.name, pid, r.state.to_string(), r.url]);
                }
                println!("{} lab in {}", lab.kind(), lab.dir().display());
                println!("{}", super::output::render(&t));
            }
            Ok(())
        }
        LabCommand::Kill { node } => signal(dir, node, Sig::Kill, "killed (SIGKILL)"),
        LabCommand::Pause { node } => signal(dir, node, Sig::Stop, "paused (SIGSTOP)"),
        LabCommand::Resume { node } => signal(dir, node, Sig::Cont, "resumed (SIGCONT)"),
        LabCommand::Stop { node } => {
            crate::util::names::validate_label(node).map_err(|e| CliError::usage(e.to_string()))?;
            let mut lab = open(dir)?;
            match lab.signal(node, Sig::Term).map_err(lab_err)? {
                Some(pid) => println!("{node} (pid {pid}) stopped"),
                None => println!("{node} was not running"),
            }
            Ok(())
        }
        LabCommand::Restart { node } => {
            crate::util::names::validate_label(node).map_err(|e| CliError::usage(e.to_string()))?;
            let mut lab = open(dir)?;
            lab.stop(node).map_err(lab_err)?;
            let pid = lab.start(node).map_err(lab_err)?;
            if let Err(e) = lab.wait_up(node, Duration::from_secs(20)).await {
                // Why it did not come up is in its log.
                return Err(CliError::failed(format!("{e}{}", lab.log_tails())));
            }
            println!("{node} restarted (pid {pid})");
            Ok(())
        }
        LabCommand::Down { keep } => {
            let lab = open(dir)?;
            let (kind, shown) = (lab.kind(), lab.dir().display().to_string());
            let stopped = lab.down(*keep).map_err(lab_err)?;
            println!(
                "{kind} lab in {shown} stopped ({} process(es)){}",
                stopped.len(),
                if *keep {
                    "; directory kept"
                } else {
                    "; directory removed"
                }
            );
            Ok(())
        }
        LabCommand::Write(args) => write(global, args).await,
        LabCommand::Bench {
            rounds,
            rate,
            sync_entries,
            fanout,
            drills,
            json,
        } => {
            let o = crate::engines::drnode::bench::BenchOptions {
                rounds: *rounds,
                write_rate: *rate,
                sync_entries: *sync_entries,
                fanout: fanout.clone(),
            };
            bench(global, o, *drills, *json).await
        }
        LabCommand::Verify { acked_log, json } => {
            let ctx = super::context::load(global).await?;
            let target = ctx.default_target().await?;
            let text = std::fs::read_to_string(acked_log).map_err(|e| {
                CliError::usage(format!("cannot read {}: {e}", acked_log.display()))
            })?;
            let present: HashSet<String> = target
                .client
                .list_entries(None)
                .await?
                .into_iter()
                .map(|e| e.key)
                .collect();
            let (total, missing) = crate::engines::drnode::writer::missing_keys(&text, &present);
            if *json {
                print_json(
                    &json!({"node": target.name, "acknowledged": total, "missing": missing}),
                );
            } else if missing.is_empty() {
                println!("all {total} acknowledged writes are on {}", target.name);
            } else {
                println!(
                    "{} of {total} acknowledged writes are missing on {}:",
                    missing.len(),
                    target.name
                );
                for k in missing.iter().take(50) {
                    println!("  {k}");
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(CliError::failed(format!(
                    "{} acknowledged write(s) lost",
                    missing.len()
                )))
            }
        }
    }
}

fn signal(dir: &Path, node: &str, sig: Sig, what: &str) -> Result<(), CliError> {
    crate::util::names::validate_label(node).map_err(|e| CliError::usage(e.to_string()))?;
    let mut lab = open(dir)?;
    match lab.signal(node, sig).map_err(lab_err)? {
        Some(pid) => {
            println!("{node} (pid {pid}) {what}");
            Ok(())
        }
        None => Err(CliError::failed(format!("{node} is not running"))),
    }
}

/// `drctl lab up [--kind K]`: lays out the engine's lab, starts it, waits until healthy, shows
/// its status. A failed start stops what it started and keeps the directory to look at.
async fn up(global: &GlobalArgs, opts: LabOptions) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let dir = &global.lab_dir;
    let engine = registry::find_or_default(global.kind.as_deref())
        .map_err(|e| CliError::usage(format!("--kind: {e}")))?;
    let kind = engine.lab.ok_or_else(|| {
        CliError::refused(format!(
            "the {} engine has no lab; labs: {}",
            engine.kind,
            registry::ENGINES
                .iter()
                .filter(|e| e.lab.is_some())
                .map(|e| e.kind)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if opts.tls && kind.tls.is_none() {
        return Err(CliError::usage(format!(
            "--tls: the {} lab has no such option (its transport is fixed); labs with it: {}",
            engine.kind,
            registry::ENGINES
                .iter()
                .filter_map(|e| Some(format!("{} ({})", e.kind, e.lab?.tls?)))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    if let Some(why) = (kind.unavailable)() {
        return Err(lab_err(LabError::Unavailable(why)));
    }
    if let Some(other) = registry::lab_in(dir).filter(|o| o.kind != engine.kind) {
        return Err(CliError::refused(format!(
            "{} holds a lab of kind {}: `drctl lab down` it first, or use another --lab-dir",
            dir.display(),
            other.kind
        )));
    }
    let mut lab = (kind.create)(dir, &opts).map_err(lab_err)?;
    if let Err(e) = lab.up(Duration::from_secs(30)).await {
        let tails = lab.log_tails();
        let names: Vec<String> = lab.rows().into_iter().map(|r| r.name).collect();
        for n in names {
            let _ = lab.stop(&n);
        }
        return Err(CliError::failed(format!(
            "{e}{tails}\nthe lab's processes were stopped; its directory {} is kept for inspection",
            lab.dir().display()
        )));
    }
    // The lab's own cluster file, which names its own trust and secrets, whatever the
    // environment says.
    let mut g = global.clone();
    g.cluster = Some(lab.cluster_file());
    g.node = None;
    g.passphrase_file = None;
    g.ca = None;
    let global = super::context::global(&g);
    let inv = crate::engines::load_inventory(&lab.cluster_file())
        .map_err(|e| CliError::failed(e.to_string()))?;
    let opened = registry::open(engine, &global, Some(inv)).await?;
    let status = super::args::StatusArgs {
        out: super::args::OutputArgs {
            json: false,
            output: None,
        },
        watch: false,
        interval: Duration::from_secs(1),
    };
    super::status::cmd_status(opened.as_ref(), &status).await?;
    println!(
        "\n{} lab up in {} ms: {} nodes, directory {}\n{}",
        engine.kind,
        started.elapsed().as_millis(),
        opts.nodes,
        lab.dir().display(),
        lab.hints()
    );
    Ok(())
}

async fn write(global: &GlobalArgs, args: &LabWriteArgs) -> Result<(), CliError> {
    let ctx = super::context::load(global).await?;
    let prefix = match &args.prefix {
        Some(p) => {
            crate::api::client::validate_key(p)
                .map_err(|e| CliError::usage(format!("--prefix: {e}")))?;
            p.clone()
        }
        None => format!("lab/{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
    };
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err(CliError::usage(
            "--rate must be a positive number of writes per second",
        ));
    }
    let opts = crate::engines::drnode::writer::WriteOptions {
        count: args.count,
        rate: args.rate,
        acked_log: args.acked_log.clone(),
        prefix,
        write_timeout: args.write_timeout,
    };
    let bar = indicatif::ProgressBar::new(args.count);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} writing {pos}/{len} [{elapsed}] {per_sec}",
        )
        .expect("valid template"),
    );
    let targets = match &ctx.selected {
        Some(t) => vec![t.clone()],
        None => ctx.targets.clone(),
    };
    let report =
        crate::engines::drnode::writer::run(&ctx.cluster, &targets, &opts, |n| bar.set_position(n))
            .await;
    bar.finish_and_clear();
    if args.json {
        print_json(&report);
    } else {
        println!(
            "{} of {} writes acknowledged under {}/ in {} ms ({} retries, slowest write {} ms)",
            report.acknowledged,
            report.requested,
            report.prefix,
            report.elapsed_ms,
            report.retries,
            report.max_write_ms
        );
    }
    match report.error {
        None => Ok(()),
        Some(e) => Err(CliError::failed(e)),
    }
}

async fn bench(
    global: &GlobalArgs,
    o: crate::engines::drnode::bench::BenchOptions,
    drills: super::args::BenchDrills,
    json: bool,
) -> Result<(), CliError> {
    use super::args::BenchDrills;
    use crate::engines::{ds389, etcd, openldap, samba};
    let rounds = o.rounds;
    match global.kind.as_deref() {
        Some(etcd::KIND) => return bench_etcd(rounds, json).await,
        Some(ds389::KIND) => return bench_ds389(rounds, json).await,
        Some(openldap::KIND) => return bench_openldap(rounds, json).await,
        Some(samba::KIND) => return bench_samba(rounds, json).await,
        Some(k) if k != registry::ENGINES[0].kind => {
            return Err(CliError::refused(format!(
                "lab bench measures drnode labs; the {k} engine has no bench yet"
            )))
        }
        _ => {}
    }
    if rounds == 0 || !(o.write_rate > 0.0 && o.write_rate.is_finite()) || o.sync_entries == 0 {
        return Err(CliError::usage(
            "--rounds and --sync-entries must be at least 1 and --rate positive",
        ));
    }
    let dir = std::env::temp_dir().join(format!(
        "drctl-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let mut r = crate::engines::drnode::bench::bench(&dir, o, &say)
        .await
        .map_err(lab_err)?;
    if drills != BenchDrills::None {
        use crate::engines::drnode::bench_drills::{times, Drills};
        let (light, heavy) = super::drill::light_and_heavy_drills()?;
        say(&format!(
            "the {} drnode and slapd drills of drill --all",
            light.len()
        ));
        let started = std::time::Instant::now();
        let reports = super::drill::run_all(&light, &|line: &str| say(line)).await?;
        let mut d = Drills::new(&reports, started.elapsed().as_millis() as u64);
        if drills == BenchDrills::All {
            say(&format!(
                "the {} drills of 389-ds, Samba AD and etcd",
                heavy.len()
            ));
            d.heavy = times(&super::drill::run_all(&heavy, &|line: &str| say(line)).await?);
        }
        r.add_drills(d);
    }
    if json {
        print_json(&r);
    } else {
        print_figures(&r);
    }
    if r.writes_lost > 0 {
        return Err(CliError::failed(format!(
            "{} acknowledged writes lost",
            r.writes_lost
        )));
    }
    let failed = r.drills.as_ref().map(|d| d.failed()).unwrap_or_default();
    if !failed.is_empty() {
        return Err(CliError::failed(format!(
            "drill failed: {} (see `drctl drill NAME` for why)",
            failed
                .iter()
                .map(|d| d.drill.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// The drnode bench as a table of figures, then where the slowest failover and switchover
/// spent their time.
fn print_figures(r: &crate::engines::drnode::bench::BenchReport) {
    let num = |v: f64| {
        if v >= 100.0 || v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    let mut t = table(&["MEASURE", "MEDIAN", "MAX", "TARGET", "MET"]);
    for f in &r.figures {
        t.add_row(vec![
            f.what.clone(),
            format!("{} {}", num(f.median), f.unit),
            format!("{} {}", num(f.max), f.unit),
            f.target.clone(),
            if f.met { "yes" } else { "no" }.into(),
        ]);
    }
    println!("{}", super::output::render(&t));
    for (name, phases) in [
        ("slowest failover", &r.failover_phases),
        ("slowest switchover", &r.switchover_phases),
    ] {
        let mut t = table(&[&format!("{name}: WHERE THE TIME WENT"), "MS"]);
        for p in phases {
            t.add_row(vec![p.what.clone(), p.ms.to_string()]);
        }
        println!("\n{}", super::output::render(&t));
    }
    if let Some(d) = &r.drills {
        let mut t = table(&["SLOWEST DRILLS THAT WAIT FOR NOTHING", "MS"]);
        for dt in d.unhurried().into_iter().take(5) {
            t.add_row(vec![dt.drill.clone(), dt.total_ms.to_string()]);
        }
        println!("\n{}", super::output::render(&t));
        if !d.heavy.is_empty() {
            let mut t = table(&["HEAVIER ENGINES' DRILLS", "LAB START MS", "BEYOND MS"]);
            for (dt, beyond) in d.heavy_beyond_lab() {
                let lab = dt.lab_ms.map_or("-".into(), |ms| ms.to_string());
                t.add_row(vec![dt.drill.clone(), lab, beyond.to_string()]);
            }
            println!("\n{}", super::output::render(&t));
        }
    }
}

/// What a bench says while it runs.
fn say(m: &str) {
    eprintln!("bench: {m}");
}

/// `lab bench` of an engine that times its procedures on labs of its own: `--rounds 0` is a
/// usage error, and it is refused where one of `missing` names what is not here; `run` in a
/// fresh directory under the system's temporary one, its report printed as JSON or by `show`.
async fn bench_engine<R: serde::Serialize>(
    kind: &str,
    rounds: usize,
    json: bool,
    missing: &[fn() -> Option<String>],
    run: impl AsyncFnOnce(&Path, usize, &(dyn Fn(&str) + Sync)) -> Result<R, LabError>,
    show: impl FnOnce(&R),
) -> Result<(), CliError> {
    if rounds == 0 {
        return Err(CliError::usage("--rounds must be at least 1"));
    }
    if let Some(why) = missing.iter().find_map(|m| m()) {
        return Err(lab_err(LabError::Unavailable(why)));
    }
    let dir = std::env::temp_dir().join(format!(
        "drctl-bench-{kind}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let r = run(&dir, rounds, &say).await.map_err(lab_err)?;
    if json {
        print_json(&r);
    } else {
        show(&r);
    }
    Ok(())
}

/// `lab bench --kind etcd`: move-leader through drctl and by hand with etcdctl, and the ratio.
async fn bench_etcd(rounds: usize, json: bool) -> Result<(), CliError> {
    use crate::engines::etcd::{bench, lab, KIND};
    bench_engine(
        KIND,
        rounds,
        json,
        &[lab::missing_tools],
        bench::bench,
        print_etcd,
    )
    .await
}

fn print_etcd(r: &crate::engines::etcd::bench::BenchReport) {
    use crate::engines::etcd::bench::median;
    let mut t = table(&["MEASURE", "MEDIAN", "SLOWEST"]);
    let max = |v: &[u64]| v.iter().max().copied().unwrap_or_default();
    t.add_row(vec![
        format!(
            "drctl switchover, command to verified ({} rounds)",
            r.drctl_switchover_ms.len()
        ),
        format!("{} ms", median(&r.drctl_switchover_ms)),
        format!("{} ms", max(&r.drctl_switchover_ms)),
    ]);
    if !r.etcdctl_switchover_ms.is_empty() {
        t.add_row(vec![
            "etcdctl by hand: endpoint status, move-leader, endpoint status until it leads".into(),
            format!("{} ms", median(&r.etcdctl_switchover_ms)),
            format!("{} ms", max(&r.etcdctl_switchover_ms)),
        ]);
    }
    println!("{t}");
    match r.ratio {
        Some(x) => println!("drctl / etcdctl (medians): {x:.2}"),
        None => println!("etcdctl not installed: no by-hand comparison"),
    }
}

/// The rows of a bench of the forced failover and the managed switchover.
fn failover_switchover<'a>(fo: &'a Procedure, so: &'a Procedure) -> [Row<'a>; 2] {
    [
        ("forced failover (kill -9 node-1)", "failover", fo),
        ("managed switchover to node-2", "switchover", so),
    ]
}

/// `lab bench --kind 389ds`: the forced failover and the managed switchover through drctl and
/// by hand with dsconf, each on fresh labs, and the ratio by hand / drctl against the target.
async fn bench_ds389(rounds: usize, json: bool) -> Result<(), CliError> {
    use crate::engines::ds389::{bench, lab, KIND};
    let missing = [lab::missing_tools, bench::missing_clients];
    bench_engine(KIND, rounds, json, &missing, bench::bench, |r| {
        let rows = failover_switchover(&r.failover, &r.switchover);
        let labs = "each measurement on a fresh 3-instance lab; a round's labs made at once";
        print_procedures(rows, Some(r.target_ratio), &r.labs_ready_ms, labs)
    })
    .await
}

/// `lab bench --kind openldap`: the forced failover and the managed switchover through drctl and
/// by hand with ldapmodify, each on a fresh lab, and the ratio by hand / drctl.
async fn bench_openldap(rounds: usize, json: bool) -> Result<(), CliError> {
    use crate::engines::openldap::{bench, lab, KIND};
    bench_engine(
        KIND,
        rounds,
        json,
        &[lab::missing_tools, bench::missing_clients],
        bench::bench,
        |r| {
            print_procedures(
                failover_switchover(&r.failover, &r.switchover),
                None,
                &r.labs_ready_ms,
                "each measurement on a fresh 3-slapd lab; a round's labs made at once",
            )
        },
    )
    .await
}

/// `lab bench --kind samba-ad`: after the role holder's SIGKILL, the seize of its roles and its
/// removal from the domain, through drctl and by hand with samba-tool, each side on a fresh
/// lab, and the ratio by hand / drctl.
async fn bench_samba(rounds: usize, json: bool) -> Result<(), CliError> {
    use crate::engines::samba::{bench, lab, KIND};
    let missing = [lab::missing_tools, bench::missing_clients];
    bench_engine(KIND, rounds, json, &missing, bench::bench, |r| {
        let rows = [
            (
                "seize-roles --to dc2 (kill -9 dc1)",
                "seize-roles",
                &r.seize_roles,
            ),
            (
                "then remove-instance dc1",
                "remove-instance",
                &r.remove_instance,
            ),
        ];
        let labs = "each side on a fresh lab of 3 DCs, seize-roles then remove-instance (drctl \
                    first in odd rounds, by hand in even ones); a round's 2 labs made at once";
        print_procedures(rows, None, &r.labs_ready_ms, labs)
    })
    .await
}

/// A procedure's row in `print_procedures`: what the table calls it, what the phases call it.
type Row<'a> = (&'a str, &'a str, &'a Procedure);

/// Two procedures through drctl beside the same by hand, each `(row, name, procedure)`: the
/// medians, the ratio (against the target, where there is one), each round, and where the time
/// went last; then how the labs were made (`labs`) and in how long.
fn print_procedures(
    procedures: [Row<'_>; 2],
    target: Option<f64>,
    labs_ready_ms: &[u64],
    labs: &str,
) {
    let ms = |v: &[u64]| {
        v.iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut headers = vec![
        "PROCEDURE",
        "DRCTL (MEDIAN)",
        "BY HAND (MEDIAN)",
        "BY HAND / DRCTL",
    ];
    if target.is_some() {
        headers.push("TARGET");
    }
    headers.push("ROUNDS, MS (DRCTL | BY HAND)");
    let mut t = table(&headers);
    for (row, _, p) in procedures {
        let mut cells = vec![
            row.to_string(),
            format!("{} ms", p.drctl_median_ms),
            format!("{} ms", p.by_hand_median_ms),
            format!(
                "{:.2}{}",
                p.ratio,
                if p.meets_target == Some(false) {
                    " (missed)"
                } else {
                    ""
                }
            ),
        ];
        if let Some(x) = target {
            cells.push(format!(">= {x:.1}"));
        }
        cells.push(format!("{} | {}", ms(&p.drctl_ms), ms(&p.by_hand_ms)));
        t.add_row(cells);
    }
    println!("{}", super::output::render(&t));
    for (_, name, p) in procedures {
        for (side, phases) in [("drctl", &p.drctl_phases), ("by hand", &p.by_hand_phases)] {
            println!("\n{name}, {side}, last round:");
            for ph in phases {
                println!("  {:>6} ms  {}", ph.ms, ph.what);
            }
        }
    }
    println!("\n{labs}, in {} ms", ms(labs_ready_ms));
}
