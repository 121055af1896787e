//! The engine contract: what every replicated system behind drctl provides, and the generic
//! machinery that runs procedures on it. This module imports no engine.

mod act;
mod args;
mod contract;
mod dynstep;
mod error;
mod outcome;
mod plan;
mod registration;
mod runner;
mod status;
mod step;
mod verb;

pub use act::{Act, RunContext};
pub use args::{json_str, Args};
pub use contract::{unsupported, Ask, Engine, Front, Global, ProcOptions, RunOutcome, VerbArgs};
pub use dynstep::{bind, Bound, DynStep, EnginePlan, EngineStep, StepEnv, Unbound};
pub use error::ProcError;
pub use outcome::{RunOutcomeKind, StepOutcome};
pub use plan::Plan;
pub use registration::{Open, Registration};
pub use runner::{execute, Confirm, RunOptions, RunReport, StepReport};
pub use status::{
    object, serde_name, Candidate, Candidates, Health, StatusReport, StatusRow, StatusTable,
};
pub use step::{Check, Step};
pub use verb::Verb;
