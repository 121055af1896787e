//! Turns one runbook step (its action and rendered `with`) into a plan for the runner, from a
//! probe taken when the step is reached. `procedure.*` steps expand into the very steps the
//! `drctl` subcommands run, built by the same planners: one code path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::action::RunbookAction as R;
use super::http::HttpCall;
use super::ldap::{LdapCall, LdapConn, LdapOp};
use crate::engine::json_str;
pub(crate) use crate::engine::Args;
use crate::engine::ProcError;
use crate::engines::drnode::cluster::ClusterView;
use crate::engines::drnode::Cluster;

pub(crate) use super::expansion::{one, Expansion};

/// Builds the plan of a step. `export_dir` is where exported records go by default. drnode's
/// own steps (`node.*`, `cluster.*`, its asserts, waits and procedures) are planned in
/// `engines::drnode::runbook`; the ones here reach outside the cluster.
pub(crate) async fn build(
    a: &Args<'_>,
    cl: &Cluster,
    view: &ClusterView,
    export_dir: &std::path::Path,
) -> Result<Expansion, ProcError> {
    if let Some(e) = crate::engines::drnode::runbook::build(a, cl, view, export_dir).await? {
        return Ok(e);
    }
    let outputs = BTreeMap::new();
    let plan = match a.uses {
        "confirm" => one(
            a.uses,
            R::Confirm {
                message: a.str("message")?,
            },
        ),
        "exec" => one(
            a.uses,
            R::Exec {
                command: a.str("command")?,
                unless: a.opt("unless"),
            },
        ),
        "http.request" => {
            let unless = match a.map.get("unless") {
                Some(Value::Object(m)) => Some((
                    m.get("url")
                        .map(json_str)
                        .ok_or_else(|| ProcError::usage("http.request: unless needs url"))?,
                    m.get("status")
                        .and_then(|s| json_str(s).parse().ok())
                        .unwrap_or(200),
                )),
                _ => None,
            };
            let expect_status = match a.opt("expect_status") {
                Some(s) => Some(s.parse().map_err(|_| {
                    ProcError::usage(format!("http.request: expect_status {s} is not a status"))
                })?),
                None => None,
            };
            one(
                a.uses,
                R::Http(HttpCall {
                    method: a
                        .opt("method")
                        .unwrap_or_else(|| "GET".into())
                        .to_ascii_uppercase(),
                    url: a.str("url")?,
                    body: a.map.get("body").cloned(),
                    headers: a
                        .multimap("headers")?
                        .into_iter()
                        .map(|(k, v)| (k, v.join(",")))
                        .collect(),
                    expect_status,
                    unless,
                    ca: a.opt("ca").map(PathBuf::from),
                }),
            )
        }
        u if u.starts_with("ldap.") => {
            let conn = LdapConn {
                url: a.str("url")?,
                bind_dn: a.opt("bind_dn"),
                password_env: a.opt("password_env"),
                ca: a.opt("ca").map(PathBuf::from),
            };
            let op = match u {
                "ldap.search" => LdapOp::Search {
                    base: a.str("base")?,
                    filter: a.opt("filter").unwrap_or_else(|| "(objectClass=*)".into()),
                    scope: a.opt("scope").unwrap_or_else(|| "sub".into()),
                    expect_count: match a.opt("expect_count") {
                        Some(n) => Some(n.parse().map_err(|_| {
                            ProcError::usage(format!(
                                "ldap.search: expect_count {n} is not a number"
                            ))
                        })?),
                        None => None,
                    },
                    attrs: match a.map.get("attrs") {
                        Some(Value::Array(v)) => v.iter().map(json_str).collect(),
                        _ => vec!["*".into()],
                    },
                },
                "ldap.add" => LdapOp::Add {
                    dn: a.str("dn")?,
                    attrs: a.multimap("attrs")?,
                },
                "ldap.modify" => LdapOp::Modify {
                    dn: a.str("dn")?,
                    replace: a.multimap("replace")?,
                },
                _ => LdapOp::Delete {
                    dn: a.str("dn")?,
                    tree: a.flag("tree")?,
                },
            };
            one(u, R::Ldap(LdapCall { conn, op }))
        }
        "hosts.block" => {
            let nodes: Vec<(String, String)> = cl
                .targets
                .iter()
                .map(|t| (t.name.clone(), t.url.clone()))
                .collect();
            let primary = view.primary().map(|p| p.name.clone());
            let block = crate::hosts::render_nodes(
                &cl.name,
                &nodes,
                a.opt("alias").as_deref(),
                primary.as_deref(),
            )
            .map_err(|e| ProcError::usage(format!("hosts.block: {e}")))?;
            one(
                a.uses,
                R::HostsBlock {
                    file: PathBuf::from(a.str("file")?),
                    cluster: cl.name.clone(),
                    block,
                },
            )
        }
        other => return Err(ProcError::usage(format!("unknown action {other}"))),
    };
    Ok(Expansion { plan, outputs })
}
