//! Leaves every other module may use and that use nothing of drctl: the clock, names, secrets,
//! TLS, exit codes, redaction, polling until a deadline.

pub mod clock;
pub mod exit;
pub mod names;
pub(crate) mod poll;
pub mod redact;
pub mod secret;
pub mod tls;
