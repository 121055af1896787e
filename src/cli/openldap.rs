//! The OpenLDAP fronts: `status`, `check`, `candidates`, `failover`, `switchover`, `repoint`,
//! `demote` on `kind: openldap` nodes, and `lab … --kind openldap`. Chosen by `dispatch` when
//! the cluster file lists only openldap nodes, `--kind openldap` is given, or the procedure
//! names an openldap node; otherwise drnode's fronts run.

use super::args::{Cli, Command, ProcArgs, StatusArgs};
use super::context::cluster_file;
use super::error::CliError;
use super::output::{health_cell, print_json, table};
use crate::engines::openldap::{self as ol, LdapCluster};
use crate::inventory::{Inventory, NodeKind};

/// Runs the command if it is for OpenLDAP nodes; None lets drnode's fronts run it.
pub async fn dispatch(cli: &Cli) -> Option<Result<(), CliError>> {
    let g = &cli.global;
    if let Command::Lab(c) = &cli.command {
        return super::openldap_lab::cmd(g, c).await;
    }
    let named = match &cli.command {
        Command::Switchover { to, .. } => Some(to.as_str()),
        Command::Failover { to, .. } => to.as_deref(),
        Command::Repoint { primary, .. } => primary.as_deref(),
        Command::Demote { node, .. } => Some(node.as_str()),
        Command::Status(_) | Command::Check(_) | Command::Candidates(_) => None,
        _ => return None,
    };
    // An unreadable or invalid file is reported by the drnode path, with the same message.
    let inv = Inventory::load(&cluster_file(g)?).ok()?;
    let ldap = match g.kind {
        Some(k) => k == NodeKind::Openldap,
        None => {
            inv.kinds() == [NodeKind::Openldap]
                || named.is_some_and(|n| {
                    inv.file
                        .nodes
                        .iter()
                        .any(|e| e.name == n && e.kind == NodeKind::Openldap)
                })
        }
    };
    if !ldap {
        return None;
    }
    Some(run(cli, &inv).await)
}

fn cluster(cli: &Cli, inv: &Inventory, wait: std::time::Duration) -> Result<LdapCluster, CliError> {
    let nodes = ol::nodes_of(inv)
        .map_err(|e| CliError::usage(format!("cluster file {}: {e}", inv.path.display())))?;
    if nodes.is_empty() {
        return Err(CliError::usage(format!(
            "cluster file {} lists no openldap node",
            inv.path.display()
        )));
    }
    Ok(LdapCluster::new(
        &inv.file.cluster,
        nodes,
        cli.global.timeout,
        wait,
    ))
}

async fn run(cli: &Cli, inv: &Inventory) -> Result<(), CliError> {
    let wait = std::time::Duration::from_secs(30);
    match &cli.command {
        Command::Status(a) => status(&cluster(cli, inv, wait)?, a).await,
        Command::Check(a) => check(&cluster(cli, inv, wait)?, a.json).await,
        Command::Candidates(a) => {
            let cl = cluster(cli, inv, wait)?;
            let view = cl.probe().await;
            // Ranked by the newest CSN for the provider's serverID (the lost one's, if lost).
            let provider = view.provider();
            let sid = match provider.as_deref().and_then(|p| view.state(p)) {
                Some(s) => Some(ol::csn::sid_hex(s.server_id)),
                None => ol::lost_sid(&view),
            };
            let ranked = ol::rank(
                &view,
                provider.or(view.lost_provider()).as_deref(),
                sid.as_deref(),
            );
            if a.json {
                print_json(&ranked);
            } else {
                let mut t = table(&["RANK", "NODE", "ROLE", "CSN", "REASON"]);
                for c in &ranked {
                    t.add_row(vec![
                        c.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        c.name.clone(),
                        c.role.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        c.csn.clone().unwrap_or_else(|| "-".into()),
                        c.reason.clone(),
                    ]);
                }
                println!("{t}");
            }
            Ok(())
        }
        Command::Failover {
            to, force, proc, ..
        } => {
            let to = to.clone().unwrap_or_else(|| "auto".into());
            let vars = [("to", to), ("force", force.to_string())];
            front(cli, inv, proc, "openldap-forced-failover", &vars).await
        }
        Command::Switchover { to, proc } => {
            front(cli, inv, proc, "openldap-switchover", &[("to", to.clone())]).await
        }
        Command::Repoint {
            primary,
            list,
            proc,
        } => {
            if *list {
                return Err(CliError::usage(
                    "repoint --list: use `drctl candidates` for openldap nodes",
                ));
            }
            let primary = primary.clone().unwrap_or_default();
            front(cli, inv, proc, "openldap-repoint", &[("provider", primary)]).await
        }
        Command::Demote {
            node,
            to,
            export,
            proc,
        } => {
            let vars = [
                ("node", node.clone()),
                ("to", to.clone().unwrap_or_default()),
                (
                    "export",
                    export
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
            ];
            front(cli, inv, proc, "openldap-demote", &vars).await
        }
        _ => unreachable!("dispatch only routes the commands above"),
    }
}

/// Runs the subcommand's bundled runbook on the openldap nodes: the same options, journal and
/// exit codes as drnode fronts. OpenLDAP has no lock of ours: `--break-lock` has nothing to
/// break, and there is no epoch to expect.
async fn front(
    cli: &Cli,
    inv: &Inventory,
    args: &ProcArgs,
    runbook: &str,
    vars: &[(&str, String)],
) -> Result<(), CliError> {
    let cl = cluster(cli, inv, args.wait)?;
    if args.expect_epoch.is_some() {
        return Err(CliError::usage(
            "--expect-epoch: OpenLDAP groups have no epoch; use --expect-primary NODE",
        ));
    }
    if let Some(want) = &args.expect_primary {
        let now = cl.probe().await.provider();
        if now.as_deref() != Some(want.as_str()) {
            return Err(CliError::refused(format!(
                "--expect-primary {want}: the provider is {}; nothing was changed",
                now.unwrap_or_else(|| "unknown (none answers)".into())
            )));
        }
    }
    let http = crate::engines::openldap::runbook::http_client().map_err(CliError::failed)?;
    let settings = super::fronts::settings(args, ".".into(), http, Some(std::sync::Arc::new(cl)));
    let run_cl = crate::engines::drnode::Cluster::new(
        &inv.file.cluster,
        &[],
        &super::context::operator(&cli.global),
        args.wait,
    );
    let vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    super::fronts::run_runbook(runbook, &vars, run_cl, &settings, args).await
}

async fn status(cl: &LdapCluster, args: &StatusArgs) -> Result<(), CliError> {
    loop {
        let view = cl.probe().await;
        let a = view.assess();
        if args.json {
            print_json(&ol::status_json(&view, &a));
        } else {
            let mut t = table(&[
                "NODE",
                "REACHABLE",
                "ROLE",
                "SERVERID",
                "CSN (SID:TIME)",
                "LINK",
                "LAG MS",
                "PRIMARY",
                "ENTRIES",
                "DIGEST",
                "HEALTH",
            ]);
            for (n, na) in view.nodes.iter().zip(&a.nodes) {
                let dash = || "-".to_string();
                let mut row: Vec<comfy_table::Cell> = match &n.state {
                    Ok(s) => vec![
                        n.name.clone(),
                        "yes".into(),
                        s.role.to_string(),
                        s.server_id.to_string(),
                        s.csn
                            .iter()
                            .map(|(sid, c)| format!("{sid}:{}", c.split('#').next().unwrap_or("")))
                            .collect::<Vec<_>>()
                            .join(" "),
                        s.link_up
                            .map(|u| if u { "up" } else { "down" }.to_string())
                            .unwrap_or_else(dash),
                        na.lag.map(|l| l.to_string()).unwrap_or_else(dash),
                        na.primary.clone().unwrap_or_else(dash),
                        s.entries.to_string(),
                        s.fingerprint.clone(),
                    ]
                    .into_iter()
                    .map(comfy_table::Cell::new)
                    .collect(),
                    Err(_) => [n.name.clone(), "no".into()]
                        .into_iter()
                        .chain(std::iter::repeat_n(dash(), 8))
                        .map(comfy_table::Cell::new)
                        .collect(),
                };
                row.push(health_cell(na.health));
                t.add_row(row);
            }
            println!(
                "cluster {} (openldap, provider {})",
                view.cluster,
                a.provider.clone().unwrap_or_else(|| "none".into())
            );
            println!("{t}");
            if a.healthy {
                println!("healthy");
            } else {
                println!("problems:");
                for p in &a.problems {
                    println!("  - {p}");
                }
            }
        }
        if !args.watch {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn check(cl: &LdapCluster, json: bool) -> Result<(), CliError> {
    let view = cl.probe().await;
    let a = view.assess();
    super::status::report_check(&view.cluster, a.healthy, &a.problems, json)
}
