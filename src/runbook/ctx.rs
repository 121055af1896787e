//! The context a runbook step runs in: the run's cluster (with the step's timeout), what the
//! run shares across its steps (the lock, the question, outputs), and the lock it takes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::{ProcError, RunContext};
use crate::engines::drnode::Cluster;

/// Asks the operator; Err when nobody can be asked.
pub(crate) use crate::engine::Ask;

/// What a run shares across its steps: the lock (taken once, held to the end), the way to ask
/// the operator, and values steps output for later ones.
pub struct Shared {
    pub ask: Ask,
    pub held: tokio::sync::Mutex<Option<Vec<String>>>,
    pub outputs: Mutex<BTreeMap<String, String>>,
    pub http: reqwest::Client,
    /// What the run says about the lock (taken over from a dead run, released for one).
    pub notes: Mutex<Vec<String>>,
    /// The cluster as the run read it right before its first step (to see another run's
    /// lock): the first step that plans reads it instead of probing again. Taken once.
    pub fresh: Mutex<Option<crate::engines::drnode::cluster::ClusterView>>,
}

/// The context a runbook step runs in: the cluster (with this step's timeout) and the run.
#[derive(Clone)]
pub struct RunbookCtx {
    pub cluster: Cluster,
    pub shared: Arc<Shared>,
    /// A dry run runs no operator command, not even an `unless:` guard.
    pub dry_run: bool,
}

impl RunbookCtx {
    pub fn output(&self, name: &str, value: impl Into<String>) {
        self.shared
            .outputs
            .lock()
            .expect("outputs lock")
            .insert(name.to_string(), value.into());
    }
}

impl RunbookCtx {
    /// Takes or renews the run's lock (recording `started` where it is granted) and adds what
    /// it was taken on to what the run holds.
    async fn lock_with(
        &self,
        reason: &str,
        ttl: Duration,
        brk: bool,
        started: Option<&str>,
    ) -> Result<Vec<String>, ProcError> {
        let mut held = self.shared.held.lock().await;
        if self.cluster.targets.is_empty() {
            // A runbook that only reaches outside systems (a directory): no cluster to lock.
            return Ok(Vec::new());
        }
        let (taken, notes) = self.cluster.lock_nodes(reason, ttl, brk, started).await?;
        self.shared.notes.lock().expect("notes lock").extend(notes);
        let mut all = held.take().unwrap_or_default();
        for n in taken {
            if !all.contains(&n) {
                all.push(n);
            }
        }
        *held = Some(all.clone());
        Ok(all)
    }
}

impl RunContext for RunbookCtx {
    fn run_id(&self) -> &str {
        &self.cluster.run_id
    }
    /// Taken by the first step that changes something, renewed by each later one (the lock is
    /// the run's: same run id), released when the run ends.
    async fn lock(&self, reason: &str, ttl: Duration, brk: bool) -> Result<Vec<String>, ProcError> {
        self.lock_with(reason, ttl, brk, None).await
    }
    async fn lock_and_start(
        &self,
        reason: &str,
        ttl: Duration,
        brk: bool,
        started: &str,
    ) -> Result<Vec<String>, ProcError> {
        self.lock_with(reason, ttl, brk, Some(started)).await
    }
    async fn unlock(&self, _held: &[String]) {}
    async fn take_reading(&self) {
        self.cluster.take_reading().await
    }
    fn forget_reading(&self) {
        self.cluster.forget_reading()
    }
    async fn record(&self, held: &[String], kind: &str, message: &str, success: Option<bool>) {
        self.cluster.record(held, kind, message, success).await
    }
}
