//! Command-line types of `drctl run`, `drctl runbook` and `drctl drill`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::util::duration::parse_duration;

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// A runbook file, or the name of a bundled runbook (`drctl runbook list`).
    #[arg(
        value_name = "FILE|NAME",
        required_unless_present_any = ["resume", "list", "show"]
    )]
    pub runbook: Option<String>,
    /// Set a parameter: --var name=value (repeatable).
    #[arg(long = "var", value_name = "K=V", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Print the plan from the same probes as a real run, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes to confirmations (needed without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Continue a run that stopped (killed, failed or timed out) after its last verified step
    /// (give its `secret: true` parameters again with --var: journals do not keep them).
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Take the cluster lock even if another operator holds it (logged on every node).
    #[arg(long)]
    pub break_lock: bool,
    /// How long each step may take to take effect, unless the step sets `timeout:`.
    #[arg(long, default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub wait: std::time::Duration,
    /// Where exported records go.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub export_dir: PathBuf,
    /// List recent runs from their journals (newest first): id, runbook, outcome, when, and
    /// how to resume one that stopped part-way.
    #[arg(long, conflicts_with_all = ["runbook", "resume", "show", "dry_run"])]
    pub list: bool,
    /// With --list: at most this many runs.
    #[arg(long, default_value_t = 20, requires = "list", value_name = "N")]
    pub last: usize,
    /// Show one run from its journal: parameters (secrets were never kept), each step's
    /// outcome and note, how it ended.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["runbook", "resume", "dry_run"])]
    pub show: Option<String>,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': use --var name=value"))?;
    if k.trim().is_empty() {
        return Err(format!("'{s}': the name is empty"));
    }
    Ok((k.trim().to_string(), v.to_string()))
}

#[derive(Subcommand, Debug)]
pub enum RunbookCommand {
    /// The bundled runbooks, with their parameters and whether they have a drill.
    List(super::OutputArgs),
    /// Print a runbook (bundled name or file).
    Show {
        /// A bundled runbook, or a runbook file.
        #[arg(value_name = "NAME|FILE")]
        name: String,
    },
    /// Check runbook files: exit 2 naming each problem's file, line, column and YAML path.
    Validate {
        /// Runbook files to check.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<String>,
    },
    /// Every action a step can use, with its parameters.
    Actions {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    /// The runbook whose drill to run (a bundled name or a file).
    #[arg(
        value_name = "NAME|FILE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub runbook: Option<String>,
    /// Every bundled runbook's drill.
    #[arg(long)]
    pub all: bool,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Show each drill's steps and checks (by default: one line per drill).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}
