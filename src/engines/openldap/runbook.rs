//! OpenLDAP steps in runbooks (`openldap.*`): expanded by the backend's own planners (the ones
//! `drctl failover/switchover/repoint` run on openldap nodes) into `LdapAction`s, run on an
//! `LdapCluster` built from the cluster file's openldap nodes: one code path.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Plan, ProcError, Step};
use crate::engines::openldap::{self as ol, LdapAction, LdapCluster};
use crate::inventory::Inventory;
use crate::runbook::action::RunbookAction as R;
use crate::runbook::args::Args;
use crate::runbook::expand::Expansion;
use crate::runbook::model::Runbook;

/// Whether a runbook has `openldap.*` steps (then the run needs the openldap nodes).
pub fn uses_openldap(rb: &Runbook) -> bool {
    rb.steps.iter().any(|s| s.uses.starts_with("openldap."))
}

/// The openldap nodes of a cluster file as a cluster for runbook steps; None when it has none.
/// `wait` is the run's `--wait` (each step's own `timeout:` replaces it, see `for_step`).
pub fn cluster_of(
    inv: &Inventory,
    timeout: Duration,
    wait: Duration,
) -> Result<Option<Arc<LdapCluster>>, String> {
    let nodes = ol::nodes_of(inv)?;
    Ok((!nodes.is_empty())
        .then(|| Arc::new(LdapCluster::new(&inv.file.cluster, nodes, timeout, wait))))
}

/// An HTTP client trusting no CA (a run on openldap nodes only reaches no drnode).
pub fn http_client() -> Result<reqwest::Client, String> {
    let config = rustls::ClientConfig::builder_with_provider(crate::util::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .map_err(|e| e.to_string())
}

/// The run's cluster for one step: the run's id and the step's timeout.
pub fn for_step(base: &LdapCluster, run_id: &str, step_timeout: Duration) -> Arc<LdapCluster> {
    let mut c = LdapCluster::new(&base.name, base.nodes.clone(), base.timeout, step_timeout);
    c.run_id = run_id.to_string();
    Arc::new(c)
}

fn wrap(p: Plan<LdapAction>) -> Plan<R> {
    Plan {
        procedure: p.procedure,
        summary: p.summary,
        steps: p.steps.into_iter().map(|s| s.map(R::Openldap)).collect(),
        confirm: p.confirm,
    }
}

/// The provider the plan ends on (its last `Converged` step).
fn target(p: &Plan<LdapAction>) -> Option<String> {
    p.steps.iter().rev().find_map(|s| match &s.action {
        LdapAction::Converged { provider, .. } => Some(provider.clone()),
        _ => None,
    })
}

/// Builds the plan of an `openldap.*` step from a fresh probe.
/// `export_dir` is where a demotion's exported entries go unless the step names a file.
pub async fn build(
    a: &Args<'_>,
    cl: Option<&LdapCluster>,
    export_dir: &std::path::Path,
) -> Result<Expansion, ProcError> {
    let cl = cl.ok_or_else(|| {
        ProcError::usage(format!(
            "{}: the cluster file lists no `kind: openldap` node",
            a.uses
        ))
    })?;
    let view = cl.probe().await;
    let mut outputs = BTreeMap::new();
    let plan = match a.uses {
        "openldap.failover" => {
            let to = a.opt("to").filter(|t| !t.is_empty() && t != "auto");
            ol::failover(cl, &view, to.as_deref(), a.flag("force")?).await?
        }
        "openldap.switchover" => ol::switchover(cl, &view, &a.str("to")?).await?,
        "openldap.repoint" => ol::repoint(cl, &view, &a.str("provider")?).await?,
        "openldap.demote" => {
            let node = a.str("node")?;
            let export = a
                .opt("export")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    export_dir.join(format!("drctl-demote-{node}-{}.ldif", cl.run_id))
                });
            ol::demote(cl, &view, &node, a.opt("to").as_deref(), Some(export)).await?
        }
        "openldap.wait-converged" => {
            let provider = match a.opt("provider").filter(|p| !p.is_empty()) {
                Some(p) => p,
                None => view.provider().ok_or_else(|| {
                    ProcError::refused("openldap.wait-converged: no provider answers")
                })?,
            };
            cl.node(&provider)?;
            let mut p = Plan::new(a.uses);
            p.step(Step::new(LdapAction::Converged {
                provider,
                require: Vec::new(),
            }));
            p
        }
        "openldap.assert-provider-is" => {
            // A read, done now: nothing to run.
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.provider() {
                Some(p) if p == node => {}
                other => {
                    return Err(ProcError::refused(format!(
                        "assert {node} is the provider: no, the provider is {}",
                        other.unwrap_or_else(|| "unknown (none answers)".into())
                    ))
                    .unchanged())
                }
            }
            outputs.insert("provider".into(), node);
            Plan::new(a.uses)
        }
        "openldap.assert-unreachable" => {
            let node = a.str("node")?;
            cl.node(&node)?;
            match view.node(&node).map(|n| &n.state) {
                Some(Err(e)) if e.is_unreachable() => Plan::new(a.uses),
                Some(Err(e)) => {
                    return Err(ProcError::refused(format!(
                        "assert {node} does not answer: it answers but refuses drctl ({e})"
                    ))
                    .unchanged())
                }
                _ => {
                    return Err(ProcError::refused(format!(
                        "assert {node} does not answer: no, it answers"
                    ))
                    .unchanged())
                }
            }
        }
        other => return Err(ProcError::usage(format!("unknown action {other}"))),
    };
    if let Some(t) = target(&plan) {
        outputs.insert("provider".into(), t);
    }
    Ok(Expansion {
        plan: wrap(plan),
        outputs,
    })
}
