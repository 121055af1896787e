//! `drctl chaos`: the campaign's options, the summary table, `--json` and `--junit`, and the exit
//! code (0 every run kept every invariant, 1 a run failed, 2 bad options).

use super::args::{ChaosArgs, GlobalArgs};
use super::error::CliError;
use super::output::{print_json, table};
use crate::chaos::{self, schedule, Options};

fn options(g: &GlobalArgs, a: &ChaosArgs) -> Result<Options, CliError> {
    let usage = |e: chaos::ChaosError| CliError::usage(e.to_string());
    let campaign = chaos::campaign_of(g.kind.as_deref()).map_err(usage)?;
    if !(3..=campaign.max_nodes).contains(&a.nodes) {
        return Err(usage(chaos::ChaosError::Nodes(
            a.nodes,
            campaign.kind,
            campaign.max_nodes,
        )));
    }
    if !(a.rate > 0.0 && a.rate <= 1000.0) {
        return Err(CliError::usage(format!(
            "--rate {}: between 0 and 1000 writes per second",
            a.rate
        )));
    }
    let faults = chaos::parse_list(
        "faults",
        a.faults.as_deref(),
        campaign.faults,
        Some(schedule::TEST_FAULT),
    )
    .map_err(usage)?;
    let procedures = chaos::parse_list(
        "procedures",
        a.procedures.as_deref(),
        campaign.procedures,
        None,
    )
    .map_err(usage)?;
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(1)
    });
    Ok(Options {
        campaign,
        runs: a.runs,
        duration: a.duration,
        seed,
        nodes: a.nodes,
        mix: schedule::Mix {
            faults,
            procedures,
            max_delay_ms: a.max_delay.as_millis() as u64,
            steps: a.steps,
            later: campaign.later,
        },
        rate: a.rate,
        sync_give_up: a.sync_give_up,
        deadline: a.deadline,
        keep_failed: a.keep_failed.clone(),
    })
}

pub async fn cmd_chaos(g: &GlobalArgs, a: &ChaosArgs) -> Result<(), CliError> {
    let opts = options(g, a)?;
    if a.schedule_only {
        let n = a.runs.unwrap_or(1);
        let scheds: Vec<_> = (0..n).map(|i| opts.schedule(i)).collect();
        if a.json {
            print_json(&scheds);
        } else {
            for s in &scheds {
                println!("seed {} ({} nodes):", s.seed, s.nodes);
                for (i, st) in s.steps.iter().enumerate() {
                    println!("  {:>2}. {st}", i + 1);
                }
            }
        }
        return Ok(());
    }
    let progress = |line: &str| {
        if !a.json {
            eprintln!("{line}");
        }
    };
    progress(&format!(
        "chaos: seed {}, {} nodes, {}",
        opts.seed,
        opts.nodes,
        match (opts.runs, opts.duration) {
            (Some(n), _) => format!("{n} run(s)"),
            (None, Some(d)) => format!("for {} s", d.as_secs()),
            _ => "1 run".into(),
        }
    ));
    let summary = tokio::select! {
        s = chaos::campaign(&opts, &progress) => s,
        _ = tokio::signal::ctrl_c() => {
            return Err(CliError::new(super::error::Exit::Aborted,
                "chaos interrupted by SIGINT: the running lab was torn down"));
        }
    };
    if let Some(path) = &a.junit {
        std::fs::write(path, chaos::report::junit(&summary))
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    if a.json {
        print_json(&summary);
    } else {
        let mut t = table(&["INVARIANT", "RUNS KEPT", "OF"]);
        for (name, kept) in &summary.invariants {
            t.add_row(vec![
                name.clone(),
                kept.to_string(),
                summary.runs.to_string(),
            ]);
        }
        println!("{}", super::output::render(&t));
        println!(
            "seed {}: {} run(s), {} passed, {} failed{}; {} faults, {} procedures; writes: {} \
             acknowledged, {} lost, {} exported; {:.2} runs/min",
            summary.seed,
            summary.runs,
            summary.passed,
            summary.failed,
            if summary.failed_seeds.is_empty() {
                String::new()
            } else {
                format!(" (seeds {:?})", summary.failed_seeds)
            },
            summary.faults,
            summary.procedures,
            summary.writes_acknowledged,
            summary.writes_lost,
            summary.writes_exported,
            summary.runs_per_minute
        );
    }
    if summary.failed == 0 {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "chaos: {} of {} run(s) broke an invariant; replay one with `drctl chaos --seed S --runs 1` (seeds {:?})",
            summary.failed, summary.runs, summary.failed_seeds
        )))
    }
}
