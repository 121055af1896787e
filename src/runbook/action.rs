//! The kinds of step a runbook plan holds, run by the procedures' own runner: drnode steps are
//! the procedures' `Action`s unchanged; asserts refuse, waits wait, and `exec` / `http.request`
//! reach outside the cluster. Each one has `check` (done already?), `apply` and `verify`.

use std::ops::ControlFlow::{Break, Continue};
use std::time::Duration;

use serde::Serialize;

use super::http::HttpCall;
use super::ldap::LdapCall;
use crate::engine::{Act, Check, DynStep, ProcError};
use crate::engines::drnode::Action;
use crate::util::poll;

pub(crate) use super::ctx::{Ask, RunbookCtx, Shared};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "args", rename_all = "kebab-case")]
pub enum RunbookAction {
    Node(Action),
    Reachable {
        node: String,
        reachable: bool,
    },
    PrimaryIs {
        node: String,
    },
    Healthy,
    WaitStatus {
        node: String,
        role: Option<String>,
        db_status: Option<String>,
        primary: Option<String>,
    },
    Confirm {
        message: String,
    },
    Exec {
        command: String,
        unless: Option<String>,
    },
    Http(HttpCall),
    Ldap(LdapCall),
    /// Seed 004's hosts-file block, written between markers (idempotent).
    HostsBlock {
        file: std::path::PathBuf,
        cluster: String,
        block: String,
    },
    /// A step the bound engine planned (OpenLDAP's procedures, asserts and waits), tagged with
    /// the engine's own name for its actions.
    #[serde(untagged)]
    Engine(DynStep),
}

async fn sh(command: &str) -> Result<(bool, String, String), ProcError> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| ProcError::failed(format!("cannot run sh -c {command:?}: {e}")))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

impl RunbookAction {
    /// Whether an assert or wait holds now: Ok(Ok(note)) yes, Ok(Err(why)) not yet.
    async fn holds(&self, cx: &RunbookCtx) -> Result<Result<String, String>, ProcError> {
        let cl = &cx.cluster;
        Ok(match self {
            RunbookAction::Reachable { node, reachable } => {
                match (cl.target(node)?.client.status().await, reachable) {
                    (Ok(s), true) => Ok(format!("{node} answers ({})", s.role)),
                    (Err(e), false) if e.is_unreachable() => Ok(format!("{node} does not answer")),
                    (Ok(s), false) => {
                        Err(format!("{node} answers ({} at epoch {})", s.role, s.epoch))
                    }
                    (Err(e), _) => Err(format!("{node} does not answer: {e}")),
                }
            }
            RunbookAction::PrimaryIs { node } => {
                let view = cl.probe().await;
                match view.primary() {
                    Some(p) if p.name == *node => {
                        Ok(format!("{node} is the primary at epoch {}", view.epoch()))
                    }
                    Some(p) => Err(format!("the primary is {}", p.name)),
                    None => Err(format!("no primary answers at epoch {}", view.epoch())),
                }
            }
            RunbookAction::Healthy => {
                let a = cl.probe().await.assess();
                if a.healthy {
                    Ok("the cluster is healthy".into())
                } else {
                    Err(a.problems.join("; "))
                }
            }
            RunbookAction::WaitStatus {
                node,
                role,
                db_status,
                primary,
            } => match cl.target(node)?.client.status().await {
                Err(e) => Err(format!("{node} does not answer: {e}")),
                Ok(s) => {
                    let mut wrong = Vec::new();
                    if role.as_ref().is_some_and(|r| *r != s.role.to_string()) {
                        wrong.push(format!("role {}", s.role));
                    }
                    if db_status
                        .as_ref()
                        .is_some_and(|d| *d != s.db_status.to_string())
                    {
                        wrong.push(format!("database {}", s.db_status));
                    }
                    if primary.is_some() && *primary != s.primary_setting {
                        wrong.push(format!(
                            "primary {}",
                            s.primary_setting.clone().unwrap_or_else(|| "unset".into())
                        ));
                    }
                    if wrong.is_empty() {
                        Ok(format!("{node} is {} ({})", s.role, s.db_status))
                    } else {
                        Err(format!("{node}: {}", wrong.join(", ")))
                    }
                }
            },
            _ => Ok(String::new()),
        })
    }
}

impl Act for RunbookAction {
    type Ctx = RunbookCtx;

    fn describe(&self) -> String {
        match self {
            RunbookAction::Node(a) => a.describe(),
            RunbookAction::Reachable {
                node,
                reachable: true,
            } => format!("assert {node} answers"),
            RunbookAction::Reachable { node, .. } => format!("assert {node} does not answer"),
            RunbookAction::PrimaryIs { node } => format!("assert {node} is the primary"),
            RunbookAction::Healthy => "assert the cluster is healthy".into(),
            RunbookAction::WaitStatus {
                node,
                role,
                db_status,
                primary,
            } => format!(
                "wait until {node} reports{}{}{}",
                role.as_ref()
                    .map(|r| format!(" role {r}"))
                    .unwrap_or_default(),
                db_status
                    .as_ref()
                    .map(|r| format!(" database {r}"))
                    .unwrap_or_default(),
                primary
                    .as_ref()
                    .map(|r| format!(" primary {r}"))
                    .unwrap_or_default()
            ),
            RunbookAction::Confirm { message } => format!("confirm: {message}"),
            RunbookAction::Exec {
                command,
                unless: None,
            } => format!("exec: {command}"),
            RunbookAction::Exec {
                command,
                unless: Some(guard),
            } => format!("exec: {command} (unless `{guard}` holds)"),
            RunbookAction::Http(h) => h.describe(),
            RunbookAction::Ldap(l) => l.describe(),
            RunbookAction::HostsBlock { file, cluster, .. } => {
                format!(
                    "write cluster {cluster}'s hosts block into {}",
                    file.display()
                )
            }
            RunbookAction::Engine(e) => e.0.describe(),
        }
    }

    fn changes(&self) -> bool {
        match self {
            RunbookAction::Node(a) => a.changes(),
            RunbookAction::Exec { .. } => true,
            RunbookAction::Http(h) => h.changes(),
            RunbookAction::Ldap(l) => l.changes(),
            RunbookAction::HostsBlock { .. } => true,
            RunbookAction::Engine(e) => e.0.changes(),
            _ => false,
        }
    }

    async fn check(&self, cx: &RunbookCtx) -> Result<Check, ProcError> {
        match self {
            RunbookAction::Node(a) => a.check(&cx.cluster).await,
            RunbookAction::Reachable { .. }
            | RunbookAction::PrimaryIs { .. }
            | RunbookAction::Healthy => match self.holds(cx).await? {
                Ok(note) => {
                    if let RunbookAction::PrimaryIs { node } = self {
                        cx.output("primary", node.clone());
                    }
                    Ok(Check::Done(note))
                }
                Err(why) => {
                    Err(ProcError::refused(format!("{}: no, {why}", self.describe())).unchanged())
                }
            },
            RunbookAction::WaitStatus { .. } => Ok(match self.holds(cx).await? {
                Ok(note) => Check::Done(note),
                Err(_) => Check::ToDo,
            }),
            RunbookAction::Confirm { .. } => Ok(Check::ToDo),
            // A guard is an operator command like any other: a dry run cannot know its answer.
            RunbookAction::Exec {
                unless: Some(_), ..
            } if cx.dry_run => Ok(Check::ToDo),
            RunbookAction::Exec {
                unless: Some(guard),
                ..
            } => Ok(match sh(guard).await? {
                (true, _, _) => Check::Done(format!("`{guard}` holds")),
                _ => Check::ToDo,
            }),
            RunbookAction::Exec { .. } => Ok(Check::ToDo),
            RunbookAction::Http(h) => h.check(cx).await,
            RunbookAction::Ldap(l) => l.check(cx).await,
            RunbookAction::HostsBlock { file, block, .. } => {
                Ok(if crate::hosts::holds(file, block) {
                    Check::Done(format!("{} holds the block", file.display()))
                } else {
                    Check::ToDo
                })
            }
            RunbookAction::Engine(e) => e.0.check().await,
        }
    }

    async fn apply(&self, cx: &RunbookCtx) -> Result<Option<String>, ProcError> {
        match self {
            RunbookAction::Node(a) => a.apply(&cx.cluster).await,
            RunbookAction::Confirm { message } => match (cx.shared.ask)(message)? {
                true => Ok(None),
                false => Err(ProcError::aborted("aborted by the operator")),
            },
            RunbookAction::Exec { command, .. } => {
                let (ok, out, err) = sh(command).await?;
                cx.output("stdout", out.clone());
                if ok {
                    Ok((!out.is_empty()).then_some(out))
                } else {
                    Err(ProcError::failed(format!("`{command}` failed: {err}")))
                }
            }
            RunbookAction::Http(h) => h.apply(cx).await,
            RunbookAction::Ldap(l) => l.apply(cx).await,
            RunbookAction::HostsBlock {
                file,
                cluster,
                block,
            } => {
                crate::hosts::apply(file, cluster, block)
                    .map_err(|e| ProcError::failed(e.to_string()))?;
                Ok(None)
            }
            RunbookAction::Engine(e) => e.0.apply().await,
            _ => Ok(None),
        }
    }

    async fn verify(&self, cx: &RunbookCtx) -> Result<Option<String>, ProcError> {
        match self {
            RunbookAction::Node(a) => a.verify(&cx.cluster).await,
            RunbookAction::WaitStatus { .. } => {
                let holds = || async {
                    match self.holds(cx).await {
                        Ok(Ok(note)) => Break(Ok(Some(note))),
                        Ok(Err(why)) => Continue(why),
                        Err(e) => Break(Err(e)),
                    }
                };
                poll::eager(cx.cluster.step_timeout, Duration::from_millis(25), holds)
                    .await
                    .unwrap_or_else(|why| {
                        Err(ProcError::timed_out(format!(
                            "{} did not happen within {} ms: {why}",
                            self.describe(),
                            cx.cluster.step_timeout.as_millis()
                        )))
                    })
            }
            RunbookAction::Exec {
                unless: Some(guard),
                ..
            } => match sh(guard).await? {
                (true, _, _) => Ok(None),
                (false, _, err) => Err(ProcError::failed(format!(
                    "the command ran but `{guard}` still fails: {err}"
                ))),
            },
            RunbookAction::Http(h) => h.verify(cx).await,
            RunbookAction::Ldap(l) => l.verify(cx).await,
            RunbookAction::HostsBlock { file, block, .. } => {
                if crate::hosts::holds(file, block) {
                    Ok(None)
                } else {
                    Err(ProcError::failed(format!(
                        "{} does not hold the block",
                        file.display()
                    )))
                }
            }
            RunbookAction::Engine(e) => e.0.verify().await,
            _ => Ok(None),
        }
    }
}
