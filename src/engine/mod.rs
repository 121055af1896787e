//! The engine contract: what every replicated system behind drctl provides, and the generic
//! machinery that runs procedures on it. This module imports no engine.

mod act;
mod error;
mod plan;
mod runner;
mod step;

pub use act::{Act, RunContext};
pub use error::ProcError;
pub use plan::Plan;
pub use runner::{execute, Confirm, RunOptions, RunReport, StepReport};
pub use step::{Check, Step};
