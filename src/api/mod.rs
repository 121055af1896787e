//! The admin API's wire types, shared by `drnode` (server) and `drctl` (client), and the HTTPS
//! client. Every type here is JSON on the wire; field names are part of the interface.

pub(crate) mod client;
pub(crate) mod logic;
mod types;

pub(crate) use client::{ClientError, ClientOptions, NodeClient};
pub(crate) use types::*;

/// Reserved key space for replicated system records (members, settings, roles): a node's
/// entry routes neither serve nor take it.
pub const SYS_PREFIX: &str = "_sys/";

/// The highest epoch a node accepts. Epochs grow by one per promotion; anything near `u64::MAX`
/// is a typo or an attack, and would overflow the `epoch + 1` of the next promotion. 2^53 - 1
/// also stays exact in JSON readers that use doubles.
pub(crate) const MAX_EPOCH: u64 = (1 << 53) - 1;

/// The epoch after `epoch`, or an error naming the bound.
pub(crate) fn next_epoch(epoch: u64) -> Result<u64, String> {
    epoch
        .checked_add(1)
        .filter(|e| *e <= MAX_EPOCH)
        .ok_or_else(|| format!("epoch {epoch} is the highest a cluster may reach ({MAX_EPOCH}): no promotion is possible above it"))
}

pub(crate) const AUTHORIZATION: &str = "authorization";
/// Who made an admin call, recorded in the node's event log.
pub(crate) const OPERATOR_HEADER: &str = "x-drctl-operator";
/// The procedure run an admin call belongs to, recorded in the node's event log.
pub(crate) const RUN_ID_HEADER: &str = "x-drctl-run-id";
/// Set on every response; also in error bodies.
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";
/// Marks a write a replica forwarded to its primary, so it is never forwarded twice.
pub(crate) const FORWARDED_HEADER: &str = "x-drctl-forwarded";
