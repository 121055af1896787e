//! drctl: manual recovery of replicated server groups.
//!
//! The library holds everything; `src/bin/drctl.rs` and `src/bin/drnode.rs` are thin fronts.
//! `cli` and `node` never import each other: both speak through `api`.
//!
//! A module is `pub` only when the binaries or the integration tests reach into it; the rest is
//! `pub(crate)`, and `unreachable_pub` (Cargo.toml) flags a `pub` item nothing outside can reach.

pub(crate) mod api;
pub(crate) mod certs;
pub(crate) mod chaos;
pub mod cli;
pub(crate) mod engine;
pub mod engines;
pub(crate) mod export_file;
pub(crate) mod hosts;
pub(crate) mod inventory;
pub mod lab;
pub mod node;
pub mod runbook;
pub mod util;
