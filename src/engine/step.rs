//! One step of a plan: an action, what undoes it, and whether it is the point of no return;
//! and the answer of an action's `check`.

use std::ops::ControlFlow::{Break, Continue};
use std::time::Duration;

use serde::Serialize;

use super::ProcError;
use crate::util::poll;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step<A> {
    #[serde(flatten)]
    pub action: A,
    /// What to do if a later step fails (before the point of no return).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<A>,
    /// Once this step took effect nothing before it is undone: undoing would reopen what it
    /// closed (a drained primary beside a newer epoch). A failure after it is finished forward.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub point_of_no_return: bool,
    /// Runs at the same time as the steps next to it marked alike: their actions touch
    /// different nodes and none waits on another's effect (the survivors following a new
    /// primary). The first of them to fail is the run's failure, once all have ended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub alongside: bool,
}

impl<A> Step<A> {
    pub fn new(action: A) -> Step<A> {
        Step {
            action,
            undo: None,
            point_of_no_return: false,
            alongside: false,
        }
    }
    pub fn undo(mut self, undo: A) -> Step<A> {
        self.undo = Some(undo);
        self
    }
    pub fn point_of_no_return(mut self) -> Step<A> {
        self.point_of_no_return = true;
        self
    }
    pub fn alongside(mut self) -> Step<A> {
        self.alongside = true;
        self
    }
    /// The same step acting on a wider kind of action (a runbook's).
    pub fn map<B>(self, f: impl Fn(A) -> B) -> Step<B> {
        Step {
            action: f(self.action),
            undo: self.undo.map(&f),
            point_of_no_return: self.point_of_no_return,
            alongside: self.alongside,
        }
    }
}

/// The answer of `check`.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Nothing to do, and why.
    Done(String),
    ToDo,
}

/// `check` of an action that can tell whether it holds: done (with its note) when it does.
pub(crate) fn check_holds(
    holds: Result<Result<String, String>, ProcError>,
) -> Result<Check, ProcError> {
    Ok(match holds? {
        Ok(note) => Check::Done(note),
        Err(_) => Check::ToDo,
    })
}

/// `verify` of such an action: asks `holds` until it does, within `timeout`; the
/// last reason it did not is in the error.
pub(crate) async fn verify_holds<F, Fut>(
    timeout: Duration,
    what: String,
    holds: F,
) -> Result<Option<String>, ProcError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Result<String, String>, ProcError>>,
{
    poll::eager(timeout, Duration::from_millis(20), || async {
        match holds().await {
            Ok(Ok(note)) => Break(Ok(Some(note))),
            Ok(Err(why)) => Continue(why),
            Err(e) => Break(Err(e)),
        }
    })
    .await
    .unwrap_or_else(|last| {
        Err(ProcError::timed_out(format!(
            "{what} did not take effect within {} ms: {last}",
            timeout.as_millis()
        )))
    })
}
