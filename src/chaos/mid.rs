//! Faults that land in the middle of a procedure, timed by what the cluster shows rather than
//! by a clock: the node a switchover or failover promotes dies the moment it is primary.

use std::time::Duration;

use crate::api::Role;
use crate::engines::drnode::cluster::Target;

/// How often the nodes are asked while a procedure runs.
const POLL: Duration = Duration::from_millis(2);

/// Waits until a node answers as primary at an epoch above `above`, and names it. Never returns
/// if none does (the caller races it against the procedure).
pub(crate) async fn promoted(targets: &[Target], above: u64) -> String {
    loop {
        let asks = targets.iter().map(|t| async move {
            let s = tokio::time::timeout(Duration::from_millis(300), t.client.status())
                .await
                .ok()?
                .ok()?;
            (s.role == Role::Primary && s.epoch > above).then(|| t.name.clone())
        });
        if let Some(name) = futures_util::future::join_all(asks)
            .await
            .into_iter()
            .flatten()
            .next()
        {
            return name;
        }
        tokio::time::sleep(POLL).await;
    }
}
