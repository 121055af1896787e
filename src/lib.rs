//! drctl: manual recovery of replicated server groups.
//!
//! The library holds everything; `src/bin/drctl.rs` and `src/bin/drnode.rs` are thin fronts.
//! `cli` and `node` never import each other: both speak through `api`.

pub mod api;
pub mod certs;
pub mod chaos;
pub mod cli;
pub mod engine;
pub mod engines;
pub mod export_file;
pub mod hosts;
pub mod inventory;
pub mod lab;
pub mod node;
pub mod runbook;
pub mod util;
