//! A client adding entries to an openldap lab while a drill runs: it writes to the node it last
//! succeeded on and, on a refusal (read-only, referral) or a dead connection, tries the others
//! until one takes it. Only an add the server acknowledged is recorded as acknowledged.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engines::openldap::lab::SUFFIX;
use crate::engines::openldap::{LdapNode, Session};
use crate::util::poll;

/// Where drill writes go.
pub fn base() -> String {
    format!("ou=people,{SUFFIX}")
}

pub fn dn(prefix: &str, i: u64) -> String {
    format!("uid={prefix}-{i},{}", base())
}

/// The writes' shared record: acknowledged DNs and their count.
#[derive(Default)]
pub struct Acks {
    pub dns: Mutex<Vec<String>>,
    pub count: AtomicU64,
    /// Attempts refused (read-only, referral) or cut off, then retried elsewhere.
    pub retried: AtomicU64,
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
        ("sn".into(), one("drill")),
    ]
}

/// Adds `count` entries (at `rate` a second, if given), each retried on every node until
/// `deadline`; nodes bind as the suffix's rootDN.
pub async fn write(
    nodes: &[LdapNode],
    prefix: &str,
    count: u64,
    rate: Option<f64>,
    deadline: Duration,
    acks: Arc<Acks>,
) -> Result<(), String> {
    let mut cur = 0usize;
    let mut session: Option<Session> = None;
    let t0 = Instant::now();
    for i in 0..count {
        if let Some(r) = rate {
            let due = t0 + Duration::from_secs_f64(i as f64 / r);
            tokio::time::sleep_until(due.into()).await;
        }
        let dn = dn(prefix, i);
        let uid = format!("{prefix}-{i}");
        let wait = poll::Deadline::within(deadline, Duration::from_millis(10));
        let mut last = String::new();
        loop {
            if session.is_none() {
                match nodes[cur].connect(Duration::from_secs(1)).await {
                    Ok(s) => session = Some(s),
                    Err(e) => last = e.to_string(),
                }
            }
            if let Some(s) = session.as_mut() {
                match s.add(&dn, attrs(&uid)).await {
                    Ok(()) => break,
                    // An earlier attempt took it but its answer was lost: it is there.
                    Err(e) if e.to_string().contains("rc=68") => break,
                    Err(e) => {
                        acks.retried.fetch_add(1, Ordering::Relaxed);
                        last = e.to_string();
                        if let Some(s) = session.take() {
                            s.close().await;
                        }
                    }
                }
            }
            if !wait.again().await {
                return Err(format!(
                    "write {dn} not acknowledged within {} s: {last}",
                    deadline.as_secs()
                ));
            }
            cur = (cur + 1) % nodes.len();
        }
        acks.dns.lock().expect("acks lock").push(dn);
        acks.count.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(s) = session {
        s.close().await;
    }
    Ok(())
}

/// The drill entries `node` holds (DNs under `base()` whose uid has a drill prefix).
pub async fn present(node: &LdapNode) -> Result<BTreeSet<String>, String> {
    let mut s = node
        .connect(Duration::from_secs(2))
        .await
        .map_err(|e| e.to_string())?;
    let r = s
        .search(
            &base(),
            ldap3::Scope::OneLevel,
            "(&(objectClass=inetOrgPerson)(sn=drill))",
            &["1.1"],
        )
        .await
        .map_err(|e| e.to_string());
    s.close().await;
    Ok(r?.into_iter().map(|e| e.dn.to_ascii_lowercase()).collect())
}
