//! The invariants of a 389ds run, under the names the slapd campaign uses: every acknowledged
//! add is on the final supplier or in an LDIF export a procedure wrote; a procedure never leaves
//! more than one instance taking client writes; every instance converges (`check` exit 0, the
//! same chaos entries everywhere); no panic; exit codes match outcomes.

use super::ds_ctx::{writable, DsObserved};
use super::ldap_checker::{judge, Directory, LdapVerdicts};

pub(crate) async fn check(o: &DsObserved) -> LdapVerdicts {
    let d = Directory {
        primary: o.final_view.assess().supplier,
        role: "supplier",
        base: crate::engines::ds389::lab::SUFFIX,
        writable: writable(&o.final_view),
        converged: "check exit 0, the same chaos entries on every instance",
        // A crash of ns-slapd shows as a failed start instead.
        crash: &["panicked at"],
        logs: "errors logs",
    };
    judge(o, d).await
}
