//! The procedure subcommands are thin fronts for their bundled runbooks: each maps its
//! arguments to a verb and the verb's arguments; the engine picks the runbook and runs it, so
//! `drctl switchover --to node-2` and `drctl run managed-switchover --var to=node-2` are one
//! code path, with the same steps, journal and `drctl run --resume`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use super::args::{Command, PackagesCommand, ProcArgs, SyncCommand};
use super::error::CliError;
use super::output::print_json_text;
use crate::engine::{Engine, ProcError, ProcOptions, Verb, VerbArgs};

/// A subcommand as a procedure: the verb, its arguments and the procedure options.
pub(super) struct Front<'a> {
    pub verb: Verb,
    pub args: VerbArgs,
    pub proc: &'a ProcArgs,
}

fn front<'a>(verb: Verb, proc: &'a ProcArgs, args: &[(&'static str, String)]) -> Front<'a> {
    Front {
        verb,
        args: args.iter().cloned().collect(),
        proc,
    }
}

fn path(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The procedure behind a subcommand; None for every other command.
pub(super) fn of(cmd: &Command) -> Option<Front<'_>> {
    Some(match cmd {
        Command::Switchover { to, proc } => front(Verb::Switchover, proc, &[("to", to.clone())]),
        Command::Failover {
            to,
            force,
            export_dir,
            proc,
        } => {
            let mut f = front(
                Verb::Failover,
                proc,
                &[
                    ("force", force.to_string()),
                    ("export_dir", export_dir.display().to_string()),
                ],
            );
            if let Some(to) = to {
                f.args.insert("to", to.clone());
            }
            f
        }
        Command::Repoint {
            primary: Some(p),
            list: false,
            proc,
        } => front(Verb::Repoint, proc, &[("primary", p.clone())]),
        Command::Demote {
            node,
            to,
            export,
            proc,
        } => front(
            Verb::Demote,
            proc,
            &[
                ("node", node.clone()),
                ("to", to.clone().unwrap_or_default()),
                ("export", path(export)),
            ],
        ),
        Command::Standalone { node, proc } => {
            front(Verb::Standalone, proc, &[("node", node.clone())])
        }
        Command::Join {
            node,
            primary,
            export,
            proc,
        } => front(
            Verb::Join,
            proc,
            &[
                ("node", node.clone()),
                ("primary", primary.clone()),
                ("export", path(export)),
            ],
        ),
        Command::Sync(SyncCommand::Auto { state, node, proc }) => front(
            Verb::Sync,
            proc,
            &[
                ("mode", "auto".into()),
                ("node", node.clone()),
                ("state", state.clone()),
            ],
        ),
        Command::Sync(SyncCommand::Full { from, to, proc }) => front(
            Verb::Sync,
            proc,
            &[
                ("mode", "full".into()),
                ("from", from.clone()),
                ("to", to.clone()),
            ],
        ),
        Command::SeizeRoles { to, roles, proc } => front(
            Verb::SeizeRoles,
            proc,
            &[("to", to.clone()), ("roles", roles.join(","))],
        ),
        Command::RemoveInstance { node, force, proc } => front(
            Verb::RemoveInstance,
            proc,
            &[("node", node.clone()), ("force", force.to_string())],
        ),
        Command::Removenode {
            target,
            force,
            proc,
        } if target != "status" => front(
            Verb::Removenode,
            proc,
            &[("host_id", target.clone()), ("force", force.to_string())],
        ),
        Command::Services { action, node, proc } => front(
            Verb::Services,
            proc,
            &[("node", node.clone()), ("state", action.clone())],
        ),
        Command::Packages(PackagesCommand::Sync { proc }) => front(Verb::Packages, proc, &[]),
        Command::Upgrade { command, id, proc } => front(
            Verb::Upgrade,
            proc,
            &[
                ("command", command.clone()),
                ("id", id.clone().unwrap_or_default()),
            ],
        ),
        _ => return None,
    })
}

/// The procedure options of a subcommand, with the prompt that asks on the terminal.
pub(super) fn options(args: &ProcArgs) -> ProcOptions {
    let yes = args.yes;
    ProcOptions {
        dry_run: args.dry_run,
        json: args.json,
        expect_primary: args.expect_primary.clone(),
        expect_epoch: args.expect_epoch,
        break_lock: args.break_lock,
        wait: args.wait,
        ask: Arc::new(move |q: &str| prompt(q, yes)),
    }
}

/// Runs a front on the engine: its runbook, the report on stdout, the outcome as exit code.
pub(super) async fn run(engine: &dyn Engine, f: Front<'_>) -> Result<(), CliError> {
    let front = engine.front(f.verb, &f.args)?;
    let opts = options(f.proc);
    let outcome = engine.run(front, &opts).await?;
    if f.proc.json {
        print_json_text(&outcome.json);
    } else {
        print!("{}", outcome.text);
    }
    match outcome.exit {
        None => Ok(()),
        Some(exit) => Err(CliError::new(exit, outcome.error)),
    }
}

/// Asks on the terminal; without one, refuses (a script must say `--yes`).
pub(super) fn prompt(question: &str, yes: bool) -> Result<bool, ProcError> {
    if yes {
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(ProcError::refused(format!(
            "{question}\nconfirmation needed and there is no terminal to ask: rerun with --yes"
        ))
        .unchanged());
    }
    // Ctrl-C at the prompt is a "no": the run aborts the way it does on any other answer
    // (exit 4, saying what changed), instead of dying by the signal (130) mid-report. The
    // handler is in place before the question shows, so no ^C falls between the two.
    let answer = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let mut interrupt =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                    .map_err(|e| ProcError::refused(format!("cannot watch for Ctrl-C: {e}")))?;
            eprint!("{question} Type 'yes' to continue: ");
            let _ = std::io::stderr().flush();
            // A thread of its own, not spawn_blocking: the runtime would wait for a read that
            // never ends before drctl could exit.
            let (tx, read) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = tx.send(std::io::stdin().lock().read_line(&mut line).map(|_| line));
            });
            Ok::<_, ProcError>(tokio::select! {
                r = read => Some(r),
                _ = interrupt.recv() => None,
            })
        })
    })?;
    match answer {
        None => {
            eprintln!("^C");
            Ok(false)
        }
        Some(Ok(Ok(line))) => Ok(confirmed(&line)),
        Some(Ok(Err(e))) => Err(ProcError::refused(format!("cannot read the answer: {e}"))),
        Some(Err(e)) => Err(ProcError::refused(format!("cannot read the answer: {e}"))),
    }
}

/// The prompt says "Type 'yes'": exactly that goes on, anything else (`y`, `YES`, `Yes`) aborts.
fn confirmed(answer: &str) -> bool {
    answer.trim_end_matches(['\n', '\r']) == "yes"
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_exactly_yes_confirms() {
        assert!(super::confirmed("yes\n"));
        assert!(super::confirmed("yes\r\n"));
        for no in ["y\n", "YES\n", "Yes\n", " yes\n", "yes please\n", "\n", ""] {
            assert!(!super::confirmed(no), "{no:?}");
        }
    }
}
