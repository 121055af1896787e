//! Leaves every other module may use and that use nothing of drctl: the clock, durations, bounded
//! file reads, bounded YAML, names, secrets, the state directory, TLS, exit codes, redaction,
//! polling until a deadline.

pub mod clock;
pub mod duration;
pub mod exit;
pub mod file;
pub mod junit;
pub mod ldif;
pub mod logging;
pub mod names;
pub(crate) mod poll;
pub mod redact;
pub mod secret;
pub mod state;
pub mod table;
pub mod tls;
pub mod words;
pub mod yaml;
