//! The invariants of a slapd run, in LDAP terms and under the drnode names where they apply:
//! every acknowledged add is on the final provider or in an LDIF export a procedure wrote;
//! a procedure never leaves more than one writable provider; every node converges (equal
//! fingerprints, `check` exit 0); no panic; exit codes match outcomes. Epochs and cluster locks
//! do not exist on slapd, so their invariants are not judged.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine;

use super::checker::{exit_codes, panics, verdict, Verdict, INVARIANTS};
use super::ldap_ctx::{writable, LdapObserved, Observed};

/// The invariants a slapd run is judged by, in order.
pub(crate) const LDAP_INVARIANTS: &[&str] = &[
    "acked-writes-kept",
    "one-writable-provider",
    "converges",
    "no-panic",
    "exit-codes-match-outcomes",
];

/// The DNs (lowercased) of the entries in the LDIF files a procedure wrote under `dir`.
pub(crate) fn exported_dns(dir: &Path) -> BTreeSet<String> {
    let mut dns = BTreeSet::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            dns.extend(exported_dns(&p));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for line in text.lines() {
            let dn = if let Some(b) = line.strip_prefix("dn:: ") {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
                    .map(|v| String::from_utf8_lossy(&v).into_owned())
            } else {
                line.strip_prefix("dn: ").map(str::to_string)
            };
            if let Some(dn) = dn {
                dns.insert(dn.trim().to_ascii_lowercase());
            }
        }
    }
    dns
}

/// `acked-writes-kept`: every acknowledged add is on the final `holder` (the provider, the
/// supplier) under `base`, or named in an LDIF export. The verdict, how many were lost, how many
/// exported.
pub(crate) async fn acked_writes_kept(
    acks: &[super::ldap_writer::LdapAck],
    admins: &[crate::engines::openldap::LdapNode],
    holder: Option<&str>,
    base: &str,
    exported: &BTreeSet<String>,
    role: &str,
) -> (Verdict, u64, u64) {
    let mut lost = Vec::new();
    let mut present = BTreeSet::new();
    match holder.and_then(|p| admins.iter().find(|n| n.name == p)) {
        Some(n) => match super::ldap_writer::present(n, base).await {
            Ok(p) => present = p,
            Err(e) => lost.push(format!("cannot list the final {role} {}: {e}", n.name)),
        },
        None => lost.push(format!(
            "no {role} at the end to hold the acknowledged adds"
        )),
    }
    let mut n_lost = 0;
    let mut n_exported = 0;
    for a in acks {
        let dn = a.dn.to_ascii_lowercase();
        let in_export = exported.contains(&dn);
        n_exported += in_export as u64;
        if !present.contains(&dn) && !in_export {
            n_lost += 1;
            lost.push(format!(
                "{} (acked by {} at {} ms) is not on the final {role} {} and in no LDIF export",
                a.dn,
                a.node,
                a.acked_ms,
                holder.unwrap_or("-")
            ));
        }
    }
    let v = verdict(
        INVARIANTS[0],
        &lost,
        format!("{} acked, {n_exported} of them exported", acks.len()),
    );
    (v, n_lost, n_exported)
}

/// `one-writable-provider`: no procedure that succeeded left more servers taking writes than it
/// found (and more than one); at the end (`end`), exactly one.
pub(crate) fn one_writable(writers: &[String], end: &BTreeSet<String>, checks: u64) -> Verdict {
    let mut two = writers.to_vec();
    if end.len() > 1 {
        two.push(format!("at the end {end:?} take writes"));
    }
    verdict(
        LDAP_INVARIANTS[1],
        &two,
        format!("{checks} succeeded procedure(s) judged; at the end {end:?}"),
    )
}

pub(crate) struct LdapVerdicts {
    pub verdicts: Vec<Verdict>,
    pub lost: u64,
    pub exported: u64,
}

/// How a directory engine's run is judged: the final primary and what the engine calls it, the
/// base the client adds under, the servers taking writes at the end, what `converges` holds
/// when it holds, and the marks of a crash in a server log (`logs`, their name).
pub(crate) struct Directory<'a> {
    pub primary: Option<String>,
    pub role: &'a str,
    pub base: &'a str,
    pub writable: BTreeSet<String>,
    pub converged: &'a str,
    pub crash: &'a [&'a str],
    pub logs: &'a str,
}

/// The invariants of a directory run (slapd, 389ds).
pub(crate) async fn judge<V>(o: &Observed<V>, d: Directory<'_>) -> LdapVerdicts {
    let exported = exported_dns(&o.exports);
    let mut out = Vec::new();
    let primary = d.primary.as_deref();
    let (kept, n_lost, n_exported) =
        acked_writes_kept(&o.acks, &o.admins, primary, d.base, &exported, d.role).await;
    out.push(kept);
    out.push(one_writable(&o.writers, &d.writable, o.writable_checks));

    let conv: Vec<String> = o.converged.clone().err().into_iter().collect();
    out.push(verdict(INVARIANTS[3], &conv, d.converged.into()));

    // no-panic: in drctl's stderr, or a crash in a server log.
    let panics = panics(&o.calls, &o.logs, d.crash);
    let read = format!(
        "{} drctl call(s) and {} {} read",
        o.calls.len(),
        o.logs.len(),
        d.logs
    );
    out.push(verdict(INVARIANTS[6], &panics, read));

    out.push(exit_codes(&o.calls));
    LdapVerdicts {
        verdicts: out,
        lost: n_lost,
        exported: n_exported,
    }
}

pub(crate) async fn check(o: &LdapObserved) -> LdapVerdicts {
    let d = Directory {
        primary: o.final_view.provider(),
        role: "provider",
        base: &super::ldap_writer::base(),
        writable: writable(&o.final_view),
        converged: "check exit 0, equal fingerprints",
        crash: &["Assertion", "panicked at"],
        logs: "slapd logs",
    };
    judge(o, d).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_dns_reads_plain_and_base64_dns_of_every_ldif_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("drctl-demote-node-1-abc.ldif"),
            "# comment\n\ndn: uid=chaos-0000001,ou=people,dc=example,dc=com\nuid: chaos-0000001\n\n\
             dn:: dWlkPUNoYW9zLTAwMDAwMDIsb3U9cGVvcGxlLGRjPWV4YW1wbGUsZGM9Y29t\n",
        )
        .unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::fs::write(
            tmp.path().join("sub/x.ldif"),
            "dn: uid=chaos-0000003,ou=people,dc=example,dc=com\n",
        )
        .unwrap();
        let got = exported_dns(tmp.path());
        let want: BTreeSet<String> = [1, 2, 3]
            .iter()
            .map(|i| format!("uid=chaos-000000{i},ou=people,dc=example,dc=com"))
            .collect();
        assert_eq!(got, want);
    }
}
