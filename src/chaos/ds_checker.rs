//! The invariants of a 389ds run, under the names the slapd campaign uses: every acknowledged
//! add is on the final supplier or in an LDIF export a procedure wrote; a procedure never leaves
//! more than one instance taking client writes; every instance converges (`check` exit 0, the
//! same chaos entries everywhere); no panic; exit codes match outcomes.

use super::checker::{exit_codes, panics, verdict, Verdict, INVARIANTS};
use super::ds_ctx::{writable, DsObserved};
use super::ldap_checker::{acked_writes_kept, exported_dns, one_writable, LdapVerdicts};

pub(crate) async fn check(o: &DsObserved) -> LdapVerdicts {
    let exported = exported_dns(&o.exports);
    let mut out: Vec<Verdict> = Vec::new();

    let supplier = o.final_view.assess().supplier;
    let (kept, n_lost, n_exported) = acked_writes_kept(
        &o.acks,
        &o.admins,
        supplier.as_deref(),
        crate::engines::ds389::lab::SUFFIX,
        &exported,
        "supplier",
    )
    .await;
    out.push(kept);
    out.push(one_writable(
        &o.writers,
        &writable(&o.final_view),
        o.writable_checks,
    ));

    let conv: Vec<String> = o.converged.clone().err().into_iter().collect();
    out.push(verdict(
        INVARIANTS[3],
        &conv,
        "check exit 0, the same chaos entries on every instance".into(),
    ));

    // no-panic: in drctl's stderr; a crash of ns-slapd shows as a failed start instead.
    let panics = panics(&o.calls, &o.logs, &["panicked at"]);
    out.push(verdict(
        INVARIANTS[6],
        &panics,
        format!(
            "{} drctl call(s) and {} errors logs read",
            o.calls.len(),
            o.logs.len()
        ),
    ));

    out.push(exit_codes(&o.calls));
    LdapVerdicts {
        verdicts: out,
        lost: n_lost,
        exported: n_exported,
    }
}
