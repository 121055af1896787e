//! The compiler's toolbox: problems at a position and YAML path, typed reads of scalars, and
//! mappings whose unknown keys are reported with the nearest valid name.

use std::time::Duration;

use super::error::{nearest, Problem};
use crate::util::yaml::{Key, Kind, Mark, Node};

/// Collects problems while walking the tree.
pub struct Compiler {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl Compiler {
    pub fn problem(&mut self, mark: Mark, path: &str, message: impl Into<String>) {
        self.suggest(mark, path, message, None);
    }

    pub fn suggest(
        &mut self,
        mark: Mark,
        path: &str,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) {
        self.problems.push(Problem {
            file: self.file.clone(),
            mark,
            path: path.to_string(),
            message: message.into(),
            suggestion,
        });
    }

    /// The entries of a mapping, flagging keys not in `allowed`.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'n [(Key, Node)]> {
        let Kind::Map(entries) = &node.kind else {
            self.problem(
                node.mark,
                path,
                format!("expected a mapping, found {}", node.kind_name()),
            );
            return None;
        };
        for (k, _) in entries {
            if !allowed.contains(&k.text.as_str()) {
                let s = nearest(&k.text, allowed.iter().copied());
                self.suggest(
                    k.mark,
                    &join(path, &k.text),
                    format!("unknown field '{}' (valid: {})", k.text, allowed.join(", ")),
                    s,
                );
            }
        }
        Some(entries)
    }

    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.problem(
                    node.mark,
                    path,
                    format!("expected a string, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.as_str() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => {
                self.problem(node.mark, path, "expected true or false");
                None
            }
        }
    }

    pub fn number(&mut self, node: &Node, path: &str) -> Option<u64> {
        let n = node.as_str().and_then(|s| s.parse().ok());
        if n.is_none() {
            self.problem(node.mark, path, "expected a whole number");
        }
        n
    }

    pub fn duration(&mut self, node: &Node, path: &str) -> Option<Duration> {
        match crate::util::duration::parse_duration(node.as_str().unwrap_or("?")) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(node.mark, path, e);
                None
            }
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
