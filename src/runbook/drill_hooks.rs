//! What an engine whose labs are its own hands the runbook for its drills (through
//! `engines::registry::drill_runner`): how to run one, and what its drills cannot do.

/// Runs a runbook's drill on a lab of this engine's kind (its own lab, faults and checks),
/// from a lab the pool kept where it can.
pub(crate) type DrillRun = for<'a> fn(
    &'a super::Runbook,
    &'a super::drill_model::Drill,
    &'a std::path::Path,
    &'a super::drill_pool::LabPool,
    &'a (dyn Fn(&str) + Sync),
    &'a mut super::drill_report::DrillReport,
) -> futures_util::future::BoxFuture<'a, ()>;

/// What a drill of this kind cannot do, refused when the runbook loads.
pub(crate) type DrillCheck =
    fn(&mut super::compiler::Compiler, &crate::util::yaml::Node, &super::drill_model::Drill);
