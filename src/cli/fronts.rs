//! The procedure subcommands are thin fronts for their bundled runbooks: each maps its arguments
//! to the runbook's parameters and runs it through the runbook engine, so `drctl switchover --to
//! node-2` and `drctl run managed-switchover --var to=node-2` are one code path, with the same
//! steps, journal and `drctl run --resume`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use super::args::{Command, PackagesCommand, ProcArgs, SyncCommand};
use super::context::Context;
use super::error::CliError;
use crate::engine::ProcError;
use crate::engines::drnode::Cluster;
use crate::runbook::{self, engine, journal};

/// A subcommand as a runbook run: which bundled runbook, with which parameters.
pub struct Front<'a> {
    pub runbook: &'static str,
    pub vars: BTreeMap<String, String>,
    pub proc: &'a ProcArgs,
    /// Where exported records go unless the runbook names a file.
    pub export_dir: PathBuf,
}

fn front<'a>(runbook: &'static str, proc: &'a ProcArgs, vars: &[(&str, String)]) -> Front<'a> {
    Front {
        runbook,
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        proc,
        export_dir: PathBuf::from("."),
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The bundled runbook behind a procedure subcommand; None for every other command.
pub fn of(cmd: &Command) -> Option<Front<'_>> {
    Some(match cmd {
        Command::Switchover { to, proc } => {
            front("managed-switchover", proc, &[("to", to.clone())])
        }
        Command::Failover {
            to,
            force,
            export_dir,
            proc,
        } => Front {
            export_dir: export_dir.clone(),
            ..front(
                "forced-failover",
                proc,
                &[
                    ("target", to.clone().unwrap_or_else(|| "auto".into())),
                    ("force", force.to_string()),
                    ("export_dir", export_dir.display().to_string()),
                ],
            )
        },
        Command::Repoint {
            primary: Some(p),
            list: false,
            proc,
        } => front("repoint-primary", proc, &[("primary", p.clone())]),
        Command::Demote {
            node,
            to,
            export,
            proc,
        } => front(
            "demote-old-primary",
            proc,
            &[
                ("node", node.clone()),
                ("to", opt(to)),
                (
                    "export",
                    export
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
            ],
        ),
        Command::Standalone { node, proc } => front("standalone", proc, &[("node", node.clone())]),
        Command::Join {
            node,
            primary,
            export,
            proc,
        } => front(
            "join",
            proc,
            &[
                ("node", node.clone()),
                ("primary", primary.clone()),
                (
                    "export",
                    export
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
            ],
        ),
        Command::Sync(SyncCommand::Auto { state, node, proc }) => front(
            "sync-auto",
            proc,
            &[("node", node.clone()), ("state", state.clone())],
        ),
        Command::Sync(SyncCommand::Full { from, to, proc }) => front(
            "sync-full",
            proc,
            &[("from", from.clone()), ("to", to.clone())],
        ),
        Command::SeizeRoles { to, roles, proc } => front(
            "seize-roles",
            proc,
            &[("to", to.clone()), ("roles", roles.join(","))],
        ),
        Command::RemoveInstance { node, proc } => {
            front("remove-failed-instance", proc, &[("node", node.clone())])
        }
        Command::Removenode {
            target,
            force,
            proc,
        } if target != "status" => front(
            if *force {
                "removenode-force"
            } else {
                "removenode"
            },
            proc,
            &[("host_id", target.clone())],
        ),
        Command::Services { action, node, proc } => front(
            "services",
            proc,
            &[("node", node.clone()), ("state", action.clone())],
        ),
        Command::Packages(PackagesCommand::Sync { proc }) => front("packages-sync", proc, &[]),
        Command::Upgrade { command, id, proc } => front(
            "upgrade-standalone",
            proc,
            &[("command", command.clone()), ("id", opt(id))],
        ),
        _ => return None,
    })
}

/// Runs the subcommand's runbook on a drnode cluster with the procedure options (`--dry-run`,
/// `--yes`, `--json`, `--expect-primary`, `--expect-epoch`, `--break-lock`, `--wait`).
pub async fn run(ctx: &Context, f: Front<'_>) -> Result<(), CliError> {
    let args = f.proc;
    let cl = cluster(ctx, args);
    if args.expect_primary.is_some() || args.expect_epoch.is_some() {
        let view = cl.probe().await;
        crate::engines::drnode::check_expectations(
            &view,
            args.expect_primary.as_deref(),
            args.expect_epoch,
        )?;
    }
    let settings = settings(args, f.export_dir, ctx.http.clone(), None);
    run_runbook(f.runbook, &f.vars, cl, &settings, args).await
}

/// The engine settings of a front: its options, a journal in the state directory.
pub fn settings(
    args: &ProcArgs,
    export_dir: PathBuf,
    http: reqwest::Client,
    ldap: Option<Arc<crate::engines::openldap::LdapCluster>>,
) -> engine::Settings {
    let yes = args.yes;
    engine::Settings {
        dry_run: args.dry_run,
        ask: Arc::new(move |q: &str| prompt(q, yes)),
        progress: !args.json,
        break_lock: args.break_lock,
        step_timeout: args.wait,
        journal_dir: Some(journal::runs_dir()),
        export_dir,
        http,
        ldap,
    }
}

/// Runs a bundled runbook (never a file of the same name), prints the report and maps the
/// outcome to the exit code: the shared end of every procedure front, drnode or OpenLDAP.
pub async fn run_runbook(
    name: &str,
    vars: &BTreeMap<String, String>,
    cl: Cluster,
    settings: &engine::Settings,
    args: &ProcArgs,
) -> Result<(), CliError> {
    let rb = runbook::load_bundled(name)?;
    let vars = engine::resolve_vars(&rb, vars)?;
    if !args.json {
        eprintln!(
            "runbook {} (run {}){}",
            rb.name,
            cl.run_id,
            if args.dry_run { ", dry run" } else { "" }
        );
    }
    let report = engine::run(&rb, vars, cl, settings, None).await;
    super::run::print_report(&report, args.json);
    match report.exit {
        None => Ok(()),
        Some(exit) => Err(CliError::new(
            exit,
            report
                .error
                .clone()
                .unwrap_or_else(|| report.outcome.clone()),
        )),
    }
}

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
