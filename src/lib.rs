//! drctl: manual recovery of replicated server groups.
//!
//! The library holds everything; `src/bin/drctl.rs` and `src/bin/drnode.rs` are thin fronts.
//! `cli` and `node` never import each other: both speak through `api`.

pub mod api;
pub mod backends;
pub mod certs;
pub mod chaos;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod exit;
pub mod export_file;
pub mod hosts;
pub mod inventory;
pub mod lab;
pub mod names;
pub mod node;
pub mod procedures;
pub mod redact;
pub mod runbook;
pub mod secret;
pub mod tls;
