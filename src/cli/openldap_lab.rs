//! `drctl lab … ` on a lab of real slapd processes (`lab up --kind openldap`): start it, seed
//! the suffix on the provider, wait until every consumer holds it; kill, pause, restart, down.

use std::time::{Duration, Instant};

use serde_json::json;

use super::args::{GlobalArgs, LabCommand};
use super::error::CliError;
use super::output::{print_json, table};
use crate::engines::openldap::lab::{self as ll, LdapLab};
use crate::lab::{LabError, Sig};

fn err(e: LabError) -> CliError {
    match e {
        LabError::Running { .. } => CliError::refused(e.to_string()),
        LabError::UnknownNode { .. } | LabError::NoLab(_) => CliError::usage(e.to_string()),
        other => CliError::failed(other.to_string()),
    }
}

/// Handles the command if it is about an openldap lab; None for drnode labs.
pub async fn cmd(g: &GlobalArgs, c: &LabCommand) -> Option<Result<(), CliError>> {
    let dir = &g.lab_dir;
    if let LabCommand::Up { nodes, .. } = c {
        if g.kind.as_deref() == Some(crate::engines::openldap::KIND) {
            return Some(up(g, *nodes).await);
        }
        if ll::is_lab(dir) {
            return Some(Err(CliError::refused(format!(
                "{} holds an openldap lab: `drctl lab down` it first, or use another --lab-dir",
                dir.display()
            ))));
        }
        return None;
    }
    if !ll::is_lab(dir) {
        return None;
    }
    let lab = match LdapLab::open(dir) {
        Ok(l) => l,
        Err(e) => return Some(Err(err(e))),
    };
    let sig = |node: &str, s: Sig, what: &str| -> Result<(), CliError> {
        crate::util::names::validate_label(node).map_err(|e| CliError::usage(e.to_string()))?;
        match lab.signal(node, s).map_err(err)? {
            Some(pid) => println!("{node} (pid {pid}) {what}"),
            None => println!("{node} is not running"),
        }
        Ok(())
    };
    Some(match c {
        LabCommand::Kill { node } => sig(node, Sig::Kill, "killed (SIGKILL)"),
        LabCommand::Pause { node } => sig(node, Sig::Stop, "paused (SIGSTOP)"),
        LabCommand::Resume { node } => sig(node, Sig::Cont, "resumed (SIGCONT)"),
        LabCommand::Restart { node } => sig(node, Sig::Term, "stopped (SIGTERM)").and_then(|_| {
            lab.start(node).map_err(err)?;
            println!("{node} started (pid {})", lab.pid(node).unwrap_or_default());
            Ok(())
        }),
        LabCommand::Status { json } => {
            let rows: Vec<_> = lab.nodes.iter().map(|n| (n.name.clone(), lab.pid(&n.name), format!("ldap://127.0.0.1:{}", n.port))).collect();
            if *json {
                print_json(&json!({"dir": lab.dir, "kind": "openldap", "cluster_file": lab.cluster_file(),
                    "nodes": rows.iter().map(|(n, pid, url)| json!({"name": n, "pid": pid, "state": if pid.is_some() { "running" } else { "stopped" }, "url": url})).collect::<Vec<_>>()}));
            } else {
                let mut t = table(&["NODE", "PID", "PROCESS", "URL"]);
                for (n, pid, url) in rows {
                    t.add_row(vec![n, pid.map(|p| p.to_string()).unwrap_or("-".into()), if pid.is_some() { "running" } else { "stopped" }.into(), url]);
                }
                println!("openldap lab in {}\n{t}", lab.dir.display());
            }
            Ok(())
        }
        LabCommand::Down { keep } => lab.down(*keep).map_err(err).map(|stopped| {
            println!("openldap lab in {} stopped ({} slapd){}", dir.display(), stopped.len(), if *keep { "; directory kept" } else { "; directory removed" });
        }),
        _ => Err(CliError::usage("this lab command is for drnode labs; an openldap lab has up, status, kill, pause, resume, restart, down")),
    })
}

async fn up(g: &GlobalArgs, nodes: u16) -> Result<(), CliError> {
    let t0 = Instant::now();
    let lab = LdapLab::create(&g.lab_dir, nodes).map_err(err)?;
    if let Err(e) = crate::engines::openldap::lab_up::start_all(&lab) {
        let _ = lab.clone().down(true);
        return Err(err(e));
    }
    crate::engines::openldap::lab_up::seed(&lab, Duration::from_secs(30))
        .await
        .map_err(err)?;
    println!(
        "openldap lab up in {} ms: {} slapd on loopback, node-1 provider; cluster file {}",
        t0.elapsed().as_millis(),
        lab.nodes.len(),
        lab.cluster_file().display()
    );
    println!(
        "try: DRCTL_CLUSTER={} drctl status",
        lab.cluster_file().display()
    );
    Ok(())
}
