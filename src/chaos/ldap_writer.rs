//! The slapd chaos client: adds one entry at a steady rate to the node that last took one (a
//! consumer refers, a read-only provider refuses: then the others are tried in turn), and logs
//! each add the server acknowledged with the node that acknowledged it. An add not acknowledged
//! within its budget is abandoned: only acknowledged adds are promised.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::writer::AckLog;

use crate::engines::openldap::lab::SUFFIX;
use crate::engines::openldap::{LdapNode, Session};

/// One acknowledged add.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LdapAck {
    pub dn: String,
    /// The slapd that acknowledged it.
    pub node: String,
    /// Milliseconds since the run started: when the add was sent, and when it was acked.
    pub sent_ms: u64,
    pub acked_ms: u64,
}

/// The parent of the chaos entries in a slapd lab.
pub(crate) fn base() -> String {
    format!("ou=people,{SUFFIX}")
}

/// The `sn` every chaos entry carries (how the checker finds them).
pub(crate) const SN: &str = "chaos";

pub(crate) fn dn(i: u64, base: &str) -> String {
    format!("uid=chaos-{i:07},{base}")
}

fn attrs(uid: &str) -> Vec<(String, HashSet<String>)> {
    let one = |v: &str| HashSet::from([v.to_string()]);
    vec![
        (
            "objectClass".into(),
            ["inetOrgPerson", "organizationalPerson", "person"]
                .map(String::from)
                .into(),
        ),
        ("uid".into(), one(uid)),
        ("cn".into(), one(uid)),
        ("sn".into(), one(SN)),
    ]
}

async fn attempt(node: &LdapNode, s: &mut Option<Session>, dn: &str, uid: &str) -> bool {
    if s.is_none() {
        *s = node.connect(Duration::from_millis(500)).await.ok();
    }
    let Some(sess) = s.as_mut() else {
        return false;
    };
    match tokio::time::timeout(Duration::from_millis(800), sess.add(dn, attrs(uid))).await {
        Ok(Ok(())) => true,
        // An earlier attempt took it (its answer was lost) and this node holds it.
        Ok(Err(e)) if e.to_string().contains("rc=68") => true,
        // Refused (a referral, read-only): the session is fine, the node is the wrong one.
        Ok(Err(e)) if !e.is_unreachable() => false,
        _ => {
            // Dropped, not unbound: a stopped slapd would hold the unbind too.
            *s = None;
            false
        }
    }
}

/// Adds entries under `base` until `stop` is set; appends each ack to `log` (JSON lines) and to
/// `acks`. `nodes` bind as the suffix's rootDN (slapd) or Directory Manager (389ds).
pub(crate) async fn run(
    nodes: Vec<LdapNode>,
    base: String,
    started: Instant,
    rate: f64,
    log: PathBuf,
    acks: Arc<Mutex<Vec<LdapAck>>>,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let mut file = AckLog::open(log)?;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut next_at = tokio::time::Instant::now();
    let mut sessions: Vec<Option<Session>> = nodes.iter().map(|_| None).collect();
    let mut prefer = 0usize;
    let mut attempts = 0u64;
    for i in 0u64.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep_until(next_at).await;
        next_at += interval;
        let (dn, uid) = (dn(i, &base), format!("chaos-{i:07}"));
        let sent = started.elapsed().as_millis() as u64;
        let budget = Instant::now() + Duration::from_secs(2);
        'add: while Instant::now() < budget && !stop.load(Ordering::SeqCst) {
            for k in 0..nodes.len() {
                let idx = (prefer + k) % nodes.len();
                attempts += 1;
                if attempt(&nodes[idx], &mut sessions[idx], &dn, &uid).await {
                    prefer = idx;
                    let a = LdapAck {
                        dn: dn.clone(),
                        node: nodes[idx].name.clone(),
                        sent_ms: sent,
                        acked_ms: started.elapsed().as_millis() as u64,
                    };
                    file.append(&a)?;
                    acks.lock().expect("acks lock").push(a);
                    break 'add;
                }
                if Instant::now() >= budget {
                    break 'add;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for s in sessions.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_millis(200), s.close()).await;
    }
    Ok(attempts)
}

/// The chaos entries `node` holds under `base` (lowercased DNs).
pub(crate) async fn present(node: &LdapNode, base: &str) -> Result<BTreeSet<String>, String> {
    let mut s = node
        .connect(Duration::from_secs(2))
        .await
        .map_err(|e| e.to_string())?;
    let r = s
        .search(
            base,
            ldap3::Scope::OneLevel,
            &format!("(&(objectClass=inetOrgPerson)(sn={SN}))"),
            &["1.1"],
        )
        .await
        .map_err(|e| e.to_string());
    s.close().await;
    Ok(r?.into_iter().map(|e| e.dn.to_ascii_lowercase()).collect())
}
