//! `drctl lab …`: a local cluster of real drnode processes, fault injection, and the write
//! checker.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use super::args::{GlobalArgs, LabCommand, LabWriteArgs};
use super::context::Context;
use super::error::CliError;
use super::output::{print_json, table};
use crate::lab::{self, Lab, LabError, ProcState};

fn lab_err(e: LabError) -> CliError {
    match e {
        LabError::Running { .. } => CliError::refused(e.to_string()),
        LabError::UnknownNode { .. } | LabError::NoLab(_) => CliError::usage(e.to_string()),
        other => CliError::failed(other.to_string()),
    }
}

/// A context on the lab's own cluster file and passphrase, whatever the environment says.
pub async fn lab_context(global: &GlobalArgs, lab: &Lab) -> Result<Context, CliError> {
    let mut g = global.clone();
    g.cluster = Some(lab.cluster_file());
    g.passphrase_file = Some(lab.dir.join("passphrase"));
    g.node = None;
    super::context::load(&g).await
}

pub async fn cmd_lab(global: &GlobalArgs, cmd: &LabCommand) -> Result<(), CliError> {
    let dir = &global.lab_dir;
    match cmd {
        LabCommand::Up { nodes, log_keep } => up(global, *nodes, *log_keep).await,
        LabCommand::Status { json } => {
            let lab = Lab::open(dir).map_err(lab_err)?;
            let rows: Vec<(String, Option<u32>, ProcState, String)> = lab
                .state
                .nodes
                .iter()
                .map(|n| (n.name.clone(), n.pid, lab.proc_state(n), n.url.clone()))
                .collect();
            if *json {
                print_json(&json!({
                    "dir": lab.dir,
                    "cluster_file": lab.cluster_file(),
                    "nodes": rows.iter().map(|(n, pid, st, url)| json!({"name": n, "pid": pid, "state": st, "url": url})).collect::<Vec<_>>(),
                }));
            } else {
                let mut t = table(&["NODE", "PID", "PROCESS", "URL"]);
                for (n, pid, st, url) in rows {
                    let pid = match st {
                        ProcState::Stopped => "-".to_string(),
                        _ => pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    };
                    t.add_row(vec![n, pid, st.to_string(), url]);
                }
                println!("lab in {}", lab.dir.display());
                println!("{t}");
            }
            Ok(())
        }
        LabCommand::Kill { node } => signal(dir, node, lab::Sig::Kill, "killed (SIGKILL)"),
        LabCommand::Pause { node } => signal(dir, node, lab::Sig::Stop, "paused (SIGSTOP)"),
        LabCommand::Resume { node } => signal(dir, node, lab::Sig::Cont, "resumed (SIGCONT)"),
        LabCommand::Restart { node } => {
            let mut lab = Lab::open(dir).map_err(lab_err)?;
            crate::util::names::validate_label(node).map_err(|e| CliError::usage(e.to_string()))?;
            lab.node(node).map_err(lab_err)?;
            lab.stop(node).map_err(lab_err)?;
            let pid = lab.start(node).map_err(lab_err)?;
            let ctx = lab_context(global, &lab).await?;
            let target = ctx.target(node)?.clone();
            lab::wait_up(&[target], Duration::from_secs(20))
                .await
                .map_err(lab_err)?;
            println!("{node} restarted (pid {pid})");
            Ok(())
        }
        LabCommand::Down { keep } => {
            let lab = Lab::open(dir).map_err(lab_err)?;
            let shown = lab.dir.display().to_string();
            let stopped = lab.down(*keep).map_err(lab_err)?;
            println!(
                "lab in {shown} stopped ({} process(es)){}",
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
        LabCommand::Bench { rounds, rate, json } => bench(*rounds, *rate, *json).await,
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

fn signal(dir: &std::path::Path, node: &str, sig: lab::Sig, what: &str) -> Result<(), CliError> {
    crate::util::names::validate_label(node).map_err(|e| CliError::usage(e.to_string()))?;
    let mut lab = Lab::open(dir).map_err(lab_err)?;
    lab.node(node).map_err(lab_err)?;
    lab.signal(node, sig).map_err(lab_err)?;
    println!("{node} {what}");
    Ok(())
}

async fn up(global: &GlobalArgs, nodes: u16, log_keep: Option<u64>) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let mut lab = Lab::create(&global.lab_dir, nodes, log_keep).map_err(lab_err)?;
    let result = async {
        lab.start_all().map_err(lab_err)?;
        let ctx = lab_context(global, &lab).await?;
        lab::wait_up(&ctx.targets, Duration::from_secs(20))
            .await
            .map_err(lab_err)?;
        lab::form(&ctx.targets).await.map_err(lab_err)?;
        lab::wait_healthy(&ctx.cluster, &ctx.targets, Duration::from_secs(30))
            .await
            .map_err(lab_err)?;
        Ok::<_, CliError>(ctx)
    }
    .await;
    let ctx = match result {
        Ok(ctx) => ctx,
        Err(e) => {
            let mut tails = String::new();
            for n in &lab.state.nodes {
                if let Ok(log) = std::fs::read_to_string(n.data_dir.join("drnode.log")) {
                    let last: Vec<&str> = log.lines().rev().take(5).collect();
                    tails.push_str(&format!("\n--- {} log (last lines):\n", n.name));
                    for l in last.into_iter().rev() {
                        tails.push_str(l);
                        tails.push('\n');
                    }
                }
            }
            let names: Vec<String> = lab.state.nodes.iter().map(|n| n.name.clone()).collect();
            for n in names {
                let _ = lab.stop(&n);
            }
            return Err(CliError::failed(format!(
                "{e}{tails}\nthe lab's processes were stopped; its directory {} is kept for inspection",
                lab.dir.display()
            )));
        }
    };
    super::status::cmd_status(
        &crate::engines::drnode::Drnode { ctx },
        &super::args::StatusArgs {
            json: false,
            watch: false,
            interval: Duration::from_secs(1),
        },
    )
    .await?;
    let file = lab.cluster_file();
    println!(
        "\nlab up in {} ms: {} drnode processes on 127.0.0.1, node-1 primary, directory {}\n\
         try:\n  export DRCTL_CLUSTER={}\n  drctl status\n  drctl entry put greeting hello\n  \
         drctl entry get greeting --node node-3\n  drctl lab kill node-3        # SIGKILL\n  \
         drctl lab write --count 500   # writes through the cluster\n  drctl lab restart node-3     # catches up by partial sync\n  \
         drctl status\n  drctl lab down",
        started.elapsed().as_millis(),
        nodes,
        lab.dir.display(),
        file.display()
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

async fn bench(rounds: usize, rate: f64, json: bool) -> Result<(), CliError> {
    if rounds == 0 || !(rate > 0.0 && rate.is_finite()) {
        return Err(CliError::usage(
            "--rounds must be at least 1 and --rate positive",
        ));
    }
    let dir = std::env::temp_dir().join(format!(
        "drctl-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let say = |m: &str| eprintln!("bench: {m}");
    let r = crate::lab::bench::bench(&dir, rounds, rate, &say)
        .await
        .map_err(lab_err)?;
    if json {
        print_json(&r);
        return Ok(());
    }
    let mut sorted = r.switchover_ms.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let max = *sorted.last().expect("at least one round");
    let mut t = table(&["MEASURE", "VALUE", "TARGET"]);
    t.add_row(vec![
        format!(
            "switchover, command to verified (median of {})",
            sorted.len()
        ),
        format!("{median} ms"),
        "< 200 ms".into(),
    ]);
    t.add_row(vec![
        "switchover, slowest".into(),
        format!("{max} ms"),
        "".into(),
    ]);
    t.add_row(vec![
        format!(
            "write unavailability under {} writes/s (longest wait of one write)",
            r.write_rate
        ),
        format!("{} ms", r.write_unavailable_ms),
        "".into(),
    ]);
    t.add_row(vec![
        "acknowledged writes lost".into(),
        format!("{} of {}", r.writes_lost, r.writes_acknowledged),
        "0".into(),
    ]);
    t.add_row(vec![
        "forced failover after kill -9, command to verified".into(),
        format!("{} ms", r.failover_ms),
        "< 100 ms".into(),
    ]);
    t.add_row(vec![
        "acknowledged writes/s, 1 client".into(),
        format!("{:.0}", r.writes_per_s_1_client),
        "".into(),
    ]);
    t.add_row(vec![
        "acknowledged writes/s, 8 clients".into(),
        format!("{:.0}", r.writes_per_s_8_clients),
        ">= 10000".into(),
    ]);
    println!("{t}");
    if r.writes_lost > 0 {
        return Err(CliError::failed(format!(
            "{} acknowledged writes lost",
            r.writes_lost
        )));
    }
    Ok(())
}
