//! What the runner needs from a kind of step and from what steps act on, so that drnode
//! procedures, OpenLDAP procedures and runbooks all run through one runner.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use super::{Check, ProcError};

/// What a run acts on: it names the run, holds the cluster lock and records events.
///
/// The defaults are those of an engine with no lease of ours, whose runs take the host lock
/// (`Engine::run_lock`) instead: nothing to take or release here, events go to the log.
pub trait RunContext: Sync {
    fn run_id(&self) -> &str;
    /// Takes the cluster lock; returns what it was taken on (to release it later).
    fn lock(
        &self,
        _reason: &str,
        _ttl: Duration,
        _break_lock: bool,
    ) -> impl Future<Output = Result<Vec<String>, ProcError>> + Send {
        async { Ok(Vec::new()) }
    }
    /// Takes the cluster lock and records the run's start (`started`, an event of kind
    /// `procedure`) where it was taken. By default the one, then the other; an engine whose
    /// lock request carries the event does both in one request.
    fn lock_and_start(
        &self,
        reason: &str,
        ttl: Duration,
        break_lock: bool,
        started: &str,
    ) -> impl Future<Output = Result<Vec<String>, ProcError>> + Send {
        async move {
            let held = self.lock(reason, ttl, break_lock).await?;
            self.record(&held, "procedure", started, None).await;
            Ok(held)
        }
    }
    fn unlock(&self, _held: &[String]) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Reads the cluster once for a preflight: until [`RunContext::forget_reading`], its checks
    /// read that reading, all of one moment, instead of each asking the nodes. By default
    /// nothing is kept and each check asks for itself.
    fn take_reading(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
    fn forget_reading(&self) {}
    /// Records an event where the lock is held (best effort).
    fn record(
        &self,
        _held: &[String],
        kind: &str,
        message: &str,
        success: Option<bool>,
    ) -> impl Future<Output = ()> + Send {
        tracing::info!(kind, success, "{message}");
        async {}
    }
}

/// One kind of step: it can tell whether it is done, do itself, and prove it took effect.
pub trait Act: Clone + std::fmt::Debug + Serialize + Send + Sync {
    type Ctx: RunContext;
    fn describe(&self) -> String;
    /// Whether `apply` changes anything (waits and verifications do not).
    fn changes(&self) -> bool {
        true
    }
    fn check(&self, ctx: &Self::Ctx) -> impl Future<Output = Result<Check, ProcError>> + Send;
    fn apply(
        &self,
        ctx: &Self::Ctx,
    ) -> impl Future<Output = Result<Option<String>, ProcError>> + Send;
    /// Waits until the step has taken effect (bounded).
    fn verify(
        &self,
        ctx: &Self::Ctx,
    ) -> impl Future<Output = Result<Option<String>, ProcError>> + Send;
}
