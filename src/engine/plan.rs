//! A plan: what a procedure will do, built from one probe of the cluster.

use super::act::Act;
use super::step::Step;

#[derive(Debug, Clone)]
pub struct Plan<A: Act> {
    pub procedure: String,
    /// What the operator should know before it runs: positions, what may be lost.
    pub summary: Vec<String>,
    pub steps: Vec<Step<A>>,
    /// Set when a step destroys something: the question to confirm.
    pub confirm: Option<String>,
}

impl<A: Act> Plan<A> {
    pub fn new(procedure: &str) -> Plan<A> {
        Plan {
            procedure: procedure.to_string(),
            summary: Vec::new(),
            steps: Vec::new(),
            confirm: None,
        }
    }

    pub fn step(&mut self, step: Step<A>) -> &mut Self {
        self.steps.push(step);
        self
    }

    pub fn note(&mut self, line: impl Into<String>) -> &mut Self {
        self.summary.push(line.into());
        self
    }
}
