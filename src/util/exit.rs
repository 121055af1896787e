//! Exit codes (DESIGN §4), shared by the CLI, procedures and runbooks.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// 1: failed, or unhealthy.
    Failed = 1,
    /// 2: usage or invalid input.
    Usage = 2,
    /// 3: refused by a precondition; nothing was changed.
    Refused = 3,
    /// 4: aborted by the operator.
    Aborted = 4,
    /// 5: timed out; the outcome is unknown.
    TimedOut = 5,
}
