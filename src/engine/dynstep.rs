//! Steps of any engine in one plan: an engine's action bound to the context it runs in, behind
//! a trait object, so a runbook can hold the steps of whichever engine it runs on without
//! knowing that engine's types.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;

use super::{Act, Check, Plan, ProcError};

/// One action with its context: check, apply, verify, and how it reads in a report.
pub trait EngineStep: Send + Sync {
    /// How a report tags the action (`openldap`): the engine's name for its actions.
    fn tag(&self) -> &'static str;
    fn describe(&self) -> String;
    fn changes(&self) -> bool;
    /// The action as a report shows it (the engine's own serde shape).
    fn json(&self) -> serde_json::Value;
    fn check(&self) -> BoxFuture<'_, Result<Check, ProcError>>;
    fn apply(&self) -> BoxFuture<'_, Result<Option<String>, ProcError>>;
    fn verify(&self) -> BoxFuture<'_, Result<Option<String>, ProcError>>;
}

/// A step of some engine, shareable.
#[derive(Clone)]
pub struct DynStep(pub Arc<dyn EngineStep>);

impl fmt::Debug for DynStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynStep({})", self.0.describe())
    }
}

/// `{"kind": TAG, "args": ACTION}`, the shape of every step in a report.
impl Serialize for DynStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("kind", self.0.tag())?;
        m.serialize_entry("args", &self.0.json())?;
        m.end()
    }
}

/// An engine's action bound to the context it runs in.
pub(crate) struct Bound<A: Act> {
    pub tag: &'static str,
    pub action: A,
    pub ctx: Arc<A::Ctx>,
}

impl<A: Act + 'static> EngineStep for Bound<A>
where
    A::Ctx: Send + Sync + 'static,
{
    fn tag(&self) -> &'static str {
        self.tag
    }
    fn describe(&self) -> String {
        self.action.describe()
    }
    fn changes(&self) -> bool {
        self.action.changes()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(&self.action).unwrap_or(serde_json::Value::Null)
    }
    fn check(&self) -> BoxFuture<'_, Result<Check, ProcError>> {
        Box::pin(self.action.check(&self.ctx))
    }
    fn apply(&self) -> BoxFuture<'_, Result<Option<String>, ProcError>> {
        Box::pin(self.action.apply(&self.ctx))
    }
    fn verify(&self) -> BoxFuture<'_, Result<Option<String>, ProcError>> {
        Box::pin(self.action.verify(&self.ctx))
    }
}

/// A plan of an engine's actions, every step bound to `ctx` and tagged `tag` in reports.
pub(crate) fn bind<A: Act + 'static>(
    plan: Plan<A>,
    ctx: Arc<A::Ctx>,
    tag: &'static str,
) -> Plan<DynStep>
where
    A::Ctx: Send + Sync + 'static,
{
    let wrap = |a: A| {
        DynStep(Arc::new(Bound {
            tag,
            action: a,
            ctx: ctx.clone(),
        }))
    };
    Plan {
        procedure: plan.procedure,
        summary: plan.summary,
        steps: plan.steps.into_iter().map(|s| s.map(wrap)).collect(),
        confirm: plan.confirm,
    }
}

/// What a runbook step tells the engine that plans it.
#[derive(Debug, Clone)]
pub struct StepEnv {
    pub run_id: String,
    /// How long each action may wait to take effect.
    pub step_timeout: Duration,
    /// Where exported data goes unless the step names a file.
    pub export_dir: PathBuf,
}

/// A runbook step as an engine planned it: its plan, and the values it outputs.
pub struct EnginePlan {
    pub plan: Plan<DynStep>,
    pub outputs: BTreeMap<String, String>,
}

/// The context of a step that carries its own: nothing to lock, nothing to record.
#[derive(Debug, Clone, Default)]
pub struct Unbound {
    pub run_id: String,
}

impl super::RunContext for Unbound {
    fn run_id(&self) -> &str {
        &self.run_id
    }
    async fn lock(&self, _: &str, _: Duration, _: bool) -> Result<Vec<String>, ProcError> {
        Ok(Vec::new())
    }
    async fn unlock(&self, _: &[String]) {}
    async fn record(&self, _: &[String], _: &str, _: &str, _: Option<bool>) {}
}

impl Act for DynStep {
    type Ctx = Unbound;
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn changes(&self) -> bool {
        self.0.changes()
    }
    async fn check(&self, _: &Unbound) -> Result<Check, ProcError> {
        self.0.check().await
    }
    async fn apply(&self, _: &Unbound) -> Result<Option<String>, ProcError> {
        self.0.apply().await
    }
    async fn verify(&self, _: &Unbound) -> Result<Option<String>, ProcError> {
        self.0.verify().await
    }
}
