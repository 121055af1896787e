//! The invariants of a Samba AD run, under the names the other campaigns use where they apply:
//! every acknowledged user is on every DC at the end or named in an LDIF export a procedure
//! wrote (a DC's writes it had not replicated when it was removed, a zombie's); every role has
//! one holder that every DC names and that answers as a DC of the domain; every DC converges
//! (`check` exit 0, the same users everywhere); no panic; exit codes match outcomes.

use super::checker::{exit_codes, panics, verdict, Verdict};
use super::ldap_checker::{exported_dns, LdapVerdicts};
use super::samba_ctx::SambaObserved;
use super::samba_writer::PREFIX;
use crate::engines::samba::assess::assess;

/// The invariants a Samba AD run is judged by, in order.
pub(crate) const SAMBA_INVARIANTS: &[&str] = &[
    "acked-writes-kept",
    "one-holder-per-role",
    "converges",
    "no-panic",
    "exit-codes-match-outcomes",
];

pub(crate) async fn check(o: &SambaObserved) -> LdapVerdicts {
    let exported = exported_dns(&o.exports);
    let mut out: Vec<Verdict> = Vec::new();

    // 1. Every acknowledged user on every DC that answers at the end, or exported.
    let mut bad = Vec::new();
    let mut held = Vec::new();
    for n in &o.nodes {
        let timeout = std::time::Duration::from_secs(2);
        match crate::engines::samba::writes::present(n, timeout, PREFIX).await {
            Ok(users) => held.push((n.name.clone(), users)),
            Err(e) => bad.push(format!("cannot list the users of {}: {e}", n.name)),
        }
    }
    let (mut lost, mut n_exported) = (0, 0);
    for ack in &o.acks {
        let lacking: Vec<&str> = held
            .iter()
            .filter(|(_, users)| !users.contains(&ack.cn))
            .map(|(dc, _)| dc.as_str())
            .collect();
        let in_export = exported
            .iter()
            .any(|dn| dn.starts_with(&format!("cn={},", ack.cn)));
        n_exported += u64::from(in_export);
        if !lacking.is_empty() && !in_export {
            lost += 1;
            bad.push(format!(
                "{} (acked by {} at {} ms) is not on {} and in no LDIF export",
                ack.cn,
                ack.node,
                ack.acked_ms,
                lacking.join(", ")
            ));
        }
    }
    out.push(verdict(
        SAMBA_INVARIANTS[0],
        &bad,
        format!(
            "{} acked, on every one of {} DCs or exported ({n_exported} exported)",
            o.acks.len(),
            held.len()
        ),
    ));

    // 2. Each role: one holder, named by every DC that answers, that answers as a DC of the
    // domain.
    let a = assess(&o.final_view);
    let mut split = Vec::new();
    for (role, holder) in &a.roles {
        let named: std::collections::BTreeSet<Option<String>> = o
            .final_view
            .iter()
            .filter_map(|d| d.view.as_ref().ok())
            .map(|v| v.roles.get(role).cloned().flatten())
            .collect();
        let holder_ok = holder
            .as_deref()
            .is_some_and(|h| super::samba_ctx::member(&o.final_view, &a, h));
        if named.len() != 1 || !holder_ok {
            split.push(format!(
                "{role}: the DCs name {named:?}; {} does not answer as a DC of the domain",
                holder.as_deref().unwrap_or("nobody")
            ));
        }
    }
    out.push(verdict(
        SAMBA_INVARIANTS[1],
        &split,
        format!("{} roles, one holder each", a.roles.len()),
    ));

    let conv: Vec<String> = o.converged.clone().err().into_iter().collect();
    out.push(verdict(
        SAMBA_INVARIANTS[2],
        &conv,
        "check exit 0, every DC a DC of the domain with the same users".into(),
    ));

    let panics = panics(&o.calls, &[], &["panicked at"]);
    out.push(verdict(
        SAMBA_INVARIANTS[3],
        &panics,
        format!("{} drctl call(s)", o.calls.len()),
    ));
    out.push(exit_codes(&o.calls));
    LdapVerdicts {
        verdicts: out,
        lost,
        exported: n_exported,
    }
}
