//! A write client for drills: adds users `CN=drill-<batch>-<n>,CN=Users,<domain>` through the
//! first DC that takes them, records each acknowledged one, and moves on to the next DC when one
//! refuses, times out or cannot be reached, until a deadline. An add the directory answers with
//! "already exists" on a retry is acknowledged: the attempt that was cut off took it.
//!
//! Every DC takes writes (multi-master), and replicates them to the others within seconds; a DC
//! killed before it has done so keeps them on its disk, where the domain never sees them unless
//! it comes back. Drills therefore check that every acknowledged user is on every DC that
//! answers once the lab has settled, and settle after writes until every DC has them (as an
//! operator arriving even a minute later finds the domain).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use ldap3::Scope;
use tokio::time::Instant;

use super::probe::{self, ProbeError};
use super::DcNode;

/// What every user the client adds is named after.
pub(crate) const PREFIX: &str = "drill-";
/// How long one attempt on one DC may take (a hung DC accepts the connection and answers
/// nothing).
const ATTEMPT: Duration = Duration::from_secs(2);
/// LDAP result code of an add whose entry exists.
const ALREADY_EXISTS: u32 = 68;

/// What the writer got acknowledged: users by CN.
#[derive(Debug, Default)]
pub(crate) struct Acks {
    pub(crate) count: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) users: Mutex<BTreeSet<String>>,
}

/// The CN of user `i` of batch `batch` (a sAMAccountName too: at most 20 characters).
pub(crate) fn user(batch: &str, i: u64) -> String {
    format!("{PREFIX}{batch}-{i:05}")
}

/// Adds `count` users (at `rate` per second if given) through `dcs`, first the one that took the
/// last.
pub(crate) async fn write(
    dcs: &[DcNode],
    batch: &str,
    count: u64,
    rate: Option<f64>,
    deadline: Duration,
    acks: &Acks,
) -> Result<(), String> {
    if dcs.is_empty() {
        return Err("no DC to write through".into());
    }
    let started = Instant::now();
    let mut at = 0usize;
    for i in 0..count {
        if let Some(r) = rate {
            tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / r)).await;
        }
        let cn = user(batch, i);
        let until = Instant::now() + deadline;
        let mut tried = false;
        loop {
            let dc = &dcs[at % dcs.len()];
            match add(dc, &cn, tried).await {
                Ok(()) => break,
                Err(e) if Instant::now() >= until => {
                    return Err(format!("{cn} not acknowledged within {deadline:?}: {e}"))
                }
                Err(_) => {
                    tried = true;
                    acks.retried.fetch_add(1, Ordering::Relaxed);
                    at += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        acks.users.lock().expect("acks lock").insert(cn);
        acks.count.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// Adds the user `cn` on `dc`. On a retry, "already exists" is the earlier attempt's success.
pub(crate) async fn add(dc: &DcNode, cn: &str, retry: bool) -> Result<(), ProbeError> {
    let mut ldap = probe::connect(dc, ATTEMPT).await?;
    let r = async {
        let domain = probe::domain_dn(&mut ldap, ATTEMPT).await?;
        let dn = format!("CN={cn},CN=Users,{domain}");
        let attrs = vec![
            ("objectClass", ["user"].into_iter().collect()),
            ("sAMAccountName", [cn].into_iter().collect()),
        ];
        let r = ldap
            .with_timeout(ATTEMPT)
            .add(&dn, attrs)
            .await
            .map_err(|e| ProbeError::Silent(format!("{}: add {dn}: no answer ({e})", dc.name)))?;
        match r.rc {
            0 => Ok(()),
            ALREADY_EXISTS if retry => Ok(()),
            _ => Err(ProbeError::Answered(format!(
                "{}: add {dn}: {}",
                dc.name,
                r.clone()
                    .success()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ))),
        }
    }
    .await;
    let _ = ldap.unbind().await;
    r
}

/// The CNs of the users named `prefix…` that `dc` holds (the drill client's: [`PREFIX`]).
pub(crate) async fn present(
    dc: &DcNode,
    timeout: Duration,
    prefix: &str,
) -> Result<BTreeSet<String>, ProbeError> {
    let mut ldap = probe::connect(dc, timeout).await?;
    let r = async {
        let domain = probe::domain_dn(&mut ldap, timeout).await?;
        let users = probe::search(
            &mut ldap,
            timeout,
            &format!("CN=Users,{domain}"),
            Scope::OneLevel,
            &format!("(&(objectClass=user)(cn={prefix}*))"),
            &["cn"],
        )
        .await?;
        Ok(users
            .iter()
            .filter_map(|e| e.attrs.get("cn").and_then(|v| v.first()).cloned())
            .collect())
    }
    .await;
    let _ = ldap.unbind().await;
    r
}

/// The write client's users every DC of `dcs` holds, or why a DC could not be read.
pub(crate) async fn held_by_all(
    dcs: &[&DcNode],
    timeout: Duration,
) -> Result<BTreeSet<String>, String> {
    let mut all: Option<BTreeSet<String>> = None;
    for dc in dcs {
        let have = present(dc, timeout, PREFIX)
            .await
            .map_err(|e| format!("{}: {e}", dc.name))?;
        all = Some(match all {
            None => have,
            Some(a) => a.intersection(&have).cloned().collect(),
        });
    }
    all.ok_or_else(|| "no DC answers".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_name_is_a_valid_sam_account_name() {
        // sAMAccountName: at most 20 characters.
        assert_eq!(user("pre0", 7), "drill-pre0-00007");
        assert!(user("run", 99_999).len() <= 20);
    }
}
