//! What a drill on an engine's own lab (not drnode's) may hold, checked by that engine's
//! drill hook with its own sizes and wording.

use super::super::compiler::Compiler;
use super::{Drill, Inject};
use crate::util::yaml::Node;

/// What a drill on a lab of `kind` other than drnode's may hold: `nodes` in `sizes`, no
/// directory, and only the injections every engine's lab plays (kill, pause, resume, restart,
/// writes, runbook). Problems are reported on `node`.
pub(crate) fn check_engine_drill(
    c: &mut Compiler,
    node: &Node,
    d: &Drill,
    kind: &str,
    sizes: std::ops::RangeInclusive<u16>,
    members: &str,
) {
    if !sizes.contains(&d.nodes) {
        c.problem(
            node.mark,
            "drill.nodes",
            format!(
                "an {kind} lab has {} to {} {members}",
                sizes.start(),
                sizes.end()
            ),
        );
    }
    if d.directory.is_some() {
        c.problem(
            node.mark,
            "drill.directory",
            format!("an {kind} drill has no directory"),
        );
    }
    for (i, inj) in d.inject.iter().enumerate() {
        if !matches!(
            inj,
            Inject::Kill(_)
                | Inject::Pause(_)
                | Inject::Resume(_)
                | Inject::Restart(_)
                | Inject::Writes(_)
                | Inject::Runbook { .. }
        ) {
            c.problem(
                node.mark,
                &format!("drill.inject[{i}]"),
                format!(
                    "{}: an {kind} drill injects kill, pause, resume, restart, writes and runbook",
                    inj.describe()
                ),
            );
        }
    }
}

/// Refuses, on `node`, a drill whose `expect:` holds more than a lab without a directory, roles
/// of drnode's, services or exports can check: `primary`, `primary_not`, `healthy`, `roles`,
/// `no_write_lost`, and `members` where `members` is true. `says` what it may expect.
pub(crate) fn check_engine_expect(
    c: &mut Compiler,
    node: &Node,
    d: &Drill,
    members: bool,
    says: &str,
) {
    let e = &d.expect;
    if !(e.ldap.is_empty()
        && e.ldap_absent.is_empty()
        && e.holders.is_empty()
        && (members || e.members.is_empty())
        && e.services.is_empty()
        && e.packages.is_empty()
        && e.exported.is_none()
        && e.converged.is_none())
    {
        c.problem(node.mark, "drill.expect", says);
    }
}
