//! The admin API's wire types, shared by `drnode` (server) and `drctl` (client), and the HTTPS
//! client. Every type here is JSON on the wire; field names are part of the interface.

pub mod client;
pub mod logic;
mod types;

pub use client::{ClientError, ClientOptions, NodeClient};
pub use types::*;

/// Header carrying the cluster passphrase (`Authorization: Bearer …`).
pub const AUTHORIZATION: &str = "authorization";
/// Who made an admin call, recorded in the node's event log.
pub const OPERATOR_HEADER: &str = "x-drctl-operator";
/// The procedure run an admin call belongs to, recorded in the node's event log.
pub const RUN_ID_HEADER: &str = "x-drctl-run-id";
/// Set on every response; also in error bodies.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Marks a write a replica forwarded to its primary, so it is never forwarded twice.
pub const FORWARDED_HEADER: &str = "x-drctl-forwarded";
