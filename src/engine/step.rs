//! One step of a plan: an action, what undoes it, and whether it is the point of no return;
//! and the answer of an action's `check`.

use serde::Serialize;

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
}

impl<A> Step<A> {
    pub fn new(action: A) -> Step<A> {
        Step {
            action,
            undo: None,
            point_of_no_return: false,
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
    /// The same step acting on a wider kind of action (a runbook's).
    pub fn map<B>(self, f: impl Fn(A) -> B) -> Step<B> {
        Step {
            action: f(self.action),
            undo: self.undo.map(&f),
            point_of_no_return: self.point_of_no_return,
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
