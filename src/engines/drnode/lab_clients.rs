//! The clients of a drnode lab (as the lab's own tools make them, and as `drctl` makes them)
//! and the waits that form it: every node up, node-1 primary with the rest following, healthy.

use std::ops::ControlFlow::{Break, Continue};
use std::path::Path;
use std::time::Duration;

use super::cluster::{probe, Target};
use crate::lab::LabError;
use crate::util::poll;

/// A lab's cluster file, in its directory.
pub(super) const CLUSTER_FILE: &str = "cluster.yaml";

/// The cluster name and a client per node of the lab in `dir`, from its own files.
pub fn targets(dir: &Path) -> Result<(String, Vec<Target>), LabError> {
    targets_with(dir, |trust| crate::api::ClientOptions {
        trust,
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(3),
        // The lab's own commands wait out a slow node; drills and `drctl` use
        // `operator_targets` (a 1.1 s probe).
        probe_timeout: Duration::from_secs(3),
        operator: Some("lab".into()),
        run_id: None,
        quiet_after_timeout: Duration::from_secs(3),
    })
}

/// The lab's clients as `drctl` makes them with its default `--timeout` of 1 s: a node that
/// does not answer costs a status the connect timeout, once. A drill's run uses these, so its
/// recovery time is the operator's (partitioned-primary: 3.1 s with the lab's 3 s clients).
pub fn operator_targets(dir: &Path) -> Result<(String, Vec<Target>), LabError> {
    let connect = Duration::from_secs(1);
    targets_with(dir, |trust| crate::api::ClientOptions {
        trust,
        connect_timeout: connect,
        request_timeout: connect * 3,
        probe_timeout: crate::api::client::probe_timeout(connect),
        operator: Some("drill".into()),
        run_id: None,
        quiet_after_timeout: connect * 3,
    })
}

fn targets_with(
    dir: &Path,
    options: impl FnOnce(crate::util::tls::Trust) -> crate::api::ClientOptions,
) -> Result<(String, Vec<Target>), LabError> {
    let inv = crate::engines::load_inventory(&dir.join(CLUSTER_FILE))
        .map_err(|e| LabError::Failed(e.to_string()))?;
    let pass = crate::util::secret::Passphrase::from_file(&dir.join("passphrase"))
        .map_err(|e| LabError::Failed(e.to_string()))?;
    // A drill's lab passphrase is as secret as any: its reports show `***`.
    crate::util::redact::register(pass.expose());
    let options = options(inv.trust());
    let http =
        crate::api::client::http_client(&options).map_err(|e| LabError::Failed(e.to_string()))?;
    let targets = inv
        .file
        .nodes
        .iter()
        .map(|n| {
            Ok(Target {
                name: n.name.clone(),
                url: n.url.clone(),
                promotable: n.promotable,
                client: crate::api::NodeClient::new(http.clone(), &n.url, pass.clone(), &options)
                    .map_err(|e| LabError::Failed(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>, LabError>>()?;
    Ok((inv.file.cluster, targets))
}

/// Waits until every target answers its health check.
pub async fn wait_up(targets: &[Target], deadline: Duration) -> Result<(), LabError> {
    let until = tokio::time::Instant::now() + deadline;
    for t in targets {
        poll::until(until, Duration::from_millis(20), || async {
            match t.client.health().await {
                Ok(_) => Break(()),
                Err(e) => Continue(e),
            }
        })
        .await
        .map_err(|e| LabError::Failed(format!("{} did not come up: {e}", t.name)))?;
    }
    Ok(())
}

/// Forms the cluster: the first target becomes primary at epoch 1, the others join it.
pub async fn form(targets: &[Target]) -> Result<(), LabError> {
    let (first, rest) = targets
        .split_first()
        .ok_or_else(|| LabError::Failed("a lab needs at least one node".into()))?;
    first
        .client
        .promote(1, Some("lab"))
        .await
        .map_err(|e| LabError::Failed(format!("promote {}: {e}", first.name)))?;
    for t in rest {
        t.client
            .follow(&crate::api::FollowRequest {
                primary_url: first.url.clone(),
                full_sync: true,
                sync_on: true,
                if_head: None,
            })
            .await
            .map_err(|e| LabError::Failed(format!("{} join {}: {e}", t.name, first.name)))?;
    }
    Ok(())
}

/// Waits until the cluster is healthy; on timeout, says what is still wrong.
pub async fn wait_healthy(
    cluster: &str,
    targets: &[Target],
    deadline: Duration,
) -> Result<(), LabError> {
    poll::within(deadline, Duration::from_millis(25), || async {
        let a = probe(cluster, targets).await.assess();
        if a.healthy {
            Break(())
        } else {
            Continue(a.problems)
        }
    })
    .await
    .map_err(|problems| {
        LabError::Failed(format!(
            "the lab is not healthy after {} s: {}",
            deadline.as_secs(),
            problems.join("; ")
        ))
    })
}
