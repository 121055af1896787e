//! drnode's own runbook steps: `node.*` and `cluster.*` (the primitive operations procedures are
//! made of), its asserts and waits, and `procedure.*`, which expand into the very steps the
//! `drctl` subcommands run, built by the same planners: one code path. Each is planned from a
//! probe taken when the step is reached.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::cluster::ClusterView;
use super::{Action, Cluster};
use crate::engine::{Args, Plan, ProcError, Step};
use crate::runbook::action::RunbookAction as R;
use crate::runbook::expansion::{one, Expansion};

fn wrap(p: Plan<Action>) -> Plan<R> {
    Plan {
        procedure: p.procedure,
        summary: p.summary,
        steps: p.steps.into_iter().map(|s| s.map(R::Node)).collect(),
        confirm: p.confirm,
    }
}

fn primary_of(view: &ClusterView) -> Result<String, ProcError> {
    view.primary()
        .map(|p| p.name.clone())
        .ok_or_else(|| ProcError::refused(format!("no primary answers at epoch {}", view.epoch())))
}

/// Plans a drnode step; None when `a.uses` is not one (a step that reaches outside the cluster).
pub(crate) async fn build(
    a: &Args<'_>,
    cl: &Cluster,
    view: &ClusterView,
    export_dir: &std::path::Path,
) -> Result<Option<Expansion>, ProcError> {
    let mut outputs = BTreeMap::new();
    let plan = match primitive(a, cl, view, &mut outputs)? {
        Some(p) => p,
        None => match procedure(a, cl, view, export_dir, &mut outputs).await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    Ok(Some(Expansion { plan, outputs }))
}

/// `node.*`, `cluster.*`, asserts and waits: one action each, or a read done now.
fn primitive(
    a: &Args<'_>,
    cl: &Cluster,
    view: &ClusterView,
    outputs: &mut BTreeMap<String, String>,
) -> Result<Option<Plan<R>>, ProcError> {
    let node = || a.str("node");
    Ok(Some(match a.uses {
        "node.promote" => {
            let n = node()?;
            cl.target(&n)?;
            // Already primary at the cluster epoch: the promotion is done, keep that epoch.
            let done = view.primary().is_some_and(|p| p.name == n);
            let epoch = if done {
                view.epoch()
            } else {
                super::next_epoch(view.epoch())?
            };
            outputs.insert("epoch".into(), epoch.to_string());
            let caught_up_with = match (a.flag("force")?, a.opt("caught_up_with")) {
                (_, Some(p)) => Some(p),
                (true, None) => None,
                (false, None) if done => None,
                (false, None) => Some(primary_of(view).map_err(|e| {
                    ProcError::refused(format!(
                        "{}: use force: true to promote without it",
                        e.message
                    ))
                })?),
            };
            let mut plan = Plan::new(a.uses);
            // Promoting beside a drained primary: it is fenced at the new epoch first, once the
            // target holds its last record, so it never takes writes at the old epoch again
            // (its drain running out included).
            let drained = caught_up_with
                .as_deref()
                .and_then(|p| view.node(p)?.ok())
                .filter(|s| !done && s.role == crate::api::Role::Primary && s.draining);
            if let (Some(p), Some(_)) = (&caught_up_with, drained) {
                plan.step(Step::new(R::Node(Action::WaitCaughtUp {
                    node: n.clone(),
                    primary: p.clone(),
                })));
                plan.step(
                    Step::new(R::Node(Action::Fence {
                        node: p.clone(),
                        epoch,
                    }))
                    .point_of_no_return(),
                );
            }
            plan.step(Step::new(R::Node(Action::Promote {
                node: n,
                epoch,
                caught_up_with,
                procedure: "runbook".into(),
            })));
            plan
        }
        "node.follow" => one(
            a.uses,
            R::Node(Action::Follow {
                node: node()?,
                primary: a.str("primary")?,
                full_sync: a.flag("full_sync")?,
            }),
        ),
        "node.drain" => one(a.uses, R::Node(Action::Drain { node: node()? })),
        "node.resume-writes" => one(a.uses, R::Node(Action::Undrain { node: node()? })),
        "node.standalone" => one(a.uses, R::Node(Action::Standalone { node: node()? })),
        "node.fence" => {
            let epoch = match a.opt("epoch") {
                Some(e) => e.parse().map_err(|_| {
                    ProcError::usage(format!("node.fence: epoch must be a number, not {e}"))
                })?,
                None => view.epoch(),
            };
            one(
                a.uses,
                R::Node(Action::Fence {
                    node: node()?,
                    epoch,
                }),
            )
        }
        "node.export-divergent" => one(
            a.uses,
            R::Node(Action::ExportDivergent {
                node: node()?,
                primary: a.str("primary")?,
                path: PathBuf::from(a.str("path")?),
            }),
        ),
        "node.sync-auto" => one(
            a.uses,
            R::Node(Action::SyncAuto {
                node: node()?,
                on: a.flag("on")?,
            }),
        ),
        "cluster.set-setting" => {
            let via = match a.opt("via") {
                Some(v) => v,
                None => primary_of(view)?,
            };
            one(
                a.uses,
                R::Node(Action::SetSetting {
                    name: a.str("name")?,
                    value: a.str("value")?,
                    via,
                }),
            )
        }
        "cluster.pick" => {
            let exclude = a.opt("exclude");
            if let Some(p) = view.primary() {
                outputs.insert("primary".into(), p.name.clone());
            }
            let best = super::rank(view)
                .into_iter()
                .filter(|c| c.promotable && Some(&c.name) != exclude.as_ref())
                .min_by_key(|c| c.rank.unwrap_or(usize::MAX));
            if let Some(best) = best {
                outputs.insert("target".into(), best.name.clone());
            }
            if outputs.is_empty() {
                return Err(ProcError::refused(
                    "cluster.pick: no primary answers and no node can be promoted",
                )
                .unchanged());
            }
            // A read: nothing to run (a later step that needs a missing value says so).
            Plan::new(a.uses)
        }
        "wait.caught-up" => {
            let primary = match a.opt("primary") {
                Some(p) => p,
                None => primary_of(view)?,
            };
            one(a.uses, R::Node(Action::Converged { primary }))
        }
        "assert.converged" => one(
            a.uses,
            R::Node(Action::Converged {
                primary: a.str("primary")?,
            }),
        ),
        "wait.status" => one(
            a.uses,
            R::WaitStatus {
                node: node()?,
                role: a.opt("role"),
                db_status: a.opt("db_status"),
                primary: a.opt("primary"),
            },
        ),
        "assert.reachable" => one(
            a.uses,
            R::Reachable {
                node: node()?,
                reachable: true,
            },
        ),
        "assert.unreachable" => one(
            a.uses,
            R::Reachable {
                node: node()?,
                reachable: false,
            },
        ),
        "assert.primary-is" => one(a.uses, R::PrimaryIs { node: node()? }),
        "assert.healthy" => one(a.uses, R::Healthy),
        _ => return Ok(None),
    }))
}

/// `procedure.*` (and `node.repoint`, `node.join`): the subcommands' own planners.
async fn procedure(
    a: &Args<'_>,
    cl: &Cluster,
    view: &ClusterView,
    export_dir: &std::path::Path,
    outputs: &mut BTreeMap<String, String>,
) -> Result<Option<Plan<R>>, ProcError> {
    let node = || a.str("node");
    Ok(Some(match a.uses {
        "node.repoint" | "procedure.repoint" => {
            wrap(super::repoint(cl, view, &a.str("primary")?).await?)
        }
        "node.join" | "procedure.join" => {
            let n = node()?;
            // Exported records go to the run's export directory unless the step names a file.
            let export = a
                .opt("export")
                .map(PathBuf::from)
                .unwrap_or_else(|| export_dir.join(format!("drctl-join-{n}-{}.jsonl", cl.run_id)));
            wrap(super::join(cl, view, &n, &a.str("primary")?, Some(export)).await?)
        }
        "procedure.switchover" => {
            let to = a.str("to")?;
            outputs.insert("target".into(), to.clone());
            wrap(super::switchover(cl, view, &to).await?)
        }
        "procedure.failover" => {
            let to = a.opt("to").filter(|t| t != "auto");
            let dir = a
                .opt("export_dir")
                .map(PathBuf::from)
                .unwrap_or_else(|| export_dir.to_path_buf());
            let plan = super::failover(cl, view, to.as_deref(), a.flag("force")?, &dir).await?;
            let target = plan.steps.iter().rev().find_map(|s| match &s.action {
                Action::Converged { primary } => Some(primary.clone()),
                _ => None,
            });
            outputs.extend(target.map(|t| ("target".to_string(), t)));
            wrap(plan)
        }
        "procedure.demote" => {
            let n = node()?;
            // Exported records go to the run's export directory unless the step names a file.
            let export = a.opt("export").map(PathBuf::from).unwrap_or_else(|| {
                export_dir.join(format!("drctl-demote-{n}-{}.jsonl", cl.run_id))
            });
            wrap(super::demote(cl, view, &n, a.opt("to").as_deref(), Some(export)).await?)
        }
        "procedure.sync-auto" => wrap(super::sync_auto(cl, view, &node()?, a.flag("on")?).await?),
        "procedure.standalone" => wrap(super::standalone(cl, view, &node()?).await?),
        "procedure.sync-full" => {
            wrap(super::sync_full(cl, view, &a.str("from")?, &a.str("to")?).await?)
        }
        "procedure.seize-roles" => {
            let roles: Vec<String> = a
                .opt("roles")
                .map(|r| {
                    r.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            wrap(super::seize_roles(cl, view, &a.str("to")?, &roles).await?)
        }
        "procedure.remove-instance" => {
            refuse_force(a, "a drnode instance that answers goes standalone first")?;
            wrap(super::remove_instance(cl, view, &node()?).await?)
        }
        "procedure.removenode" => {
            let host_id = match (a.opt("host_id"), a.opt("node")) {
                (Some(h), _) => h,
                (None, Some(n)) => view
                    .members
                    .iter()
                    .find(|m| m.name == n)
                    .map(|m| m.host_id.clone())
                    .ok_or_else(|| {
                        ProcError::usage(format!("procedure.removenode: {n} is not a member"))
                    })?,
                (None, None) => {
                    return Err(ProcError::usage(
                        "procedure.removenode: give host_id or node",
                    ))
                }
            };
            outputs.insert("host_id".into(), host_id.clone());
            wrap(super::removenode(cl, view, &host_id, a.flag("force")?).await?)
        }
        "procedure.services" => {
            wrap(super::services(cl, view, &node()?, a.flag("running")?).await?)
        }
        "procedure.packages-sync" => wrap(super::packages_sync(cl, view).await?),
        "procedure.upgrade" => {
            wrap(super::upgrade(cl, view, &a.str("command")?, a.opt("id").as_deref()).await?)
        }
        _ => return Ok(None),
    }))
}

/// `remove-instance --force` where the engine has nothing to force: a usage error.
pub(crate) fn refuse_force(a: &crate::engine::Args<'_>, why: &str) -> Result<(), ProcError> {
    if a.opt("force").is_some_and(|f| f == "true") {
        return Err(ProcError::usage(format!(
            "--force: only samba-ad removes an instance that answers by force ({why})"
        )));
    }
    Ok(())
}
