//! Leaves every other module may use and that use nothing of drctl: the clock, durations, names,
//! secrets, TLS, exit codes, redaction.

pub mod clock;
pub mod duration;
pub mod exit;
pub mod names;
pub mod redact;
pub mod secret;
pub mod tls;
