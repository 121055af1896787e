//! The engine contract: what every replicated system behind drctl provides, and the generic
//! machinery that runs procedures on it. This module imports no engine.

mod act;
mod args;
mod contract;
mod dynstep;
mod error;
pub(crate) mod host_lock;
mod outcome;
mod plan;
mod registration;
mod runner;
mod status;
mod step;
mod verb;

pub(crate) use act::{Act, RunContext};
pub(crate) use args::{json_str, Args};
pub(crate) use contract::{
    unsupported, Ask, Bound, Engine, Front, Global, Primary, PrimaryWords, ProcOptions, RunOutcome,
    VerbArgs,
};
pub(crate) use dynstep::{bind, DynStep, EnginePlan, StepEnv};
pub(crate) use error::ProcError;
pub(crate) use outcome::{RunOutcomeKind, StepOutcome};
pub(crate) use plan::Plan;
pub(crate) use registration::Registration;
pub(crate) use runner::{execute, RunOptions, StepReport};
pub(crate) use status::{
    object, serde_name, Candidate, Candidates, Health, StatusReport, StatusRow, StatusTable,
};
pub(crate) use step::{check_holds, verify_holds, Check, Step};
pub(crate) use verb::Verb;
