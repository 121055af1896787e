//! Runbook errors: a load error names the file, line, column and YAML path, and suggests the
//! nearest valid name; a run error carries its exit code.

use std::fmt;

use crate::util::exit::Exit;
use crate::util::yaml::Mark;

/// One problem in a runbook file, at its exact place.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub mark: Mark,
    /// `steps[2].with.node`
    pub path: String,
    pub message: String,
    /// "did you mean `node.promote`?"
    pub suggestion: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}{}",
            self.file,
            self.mark.line,
            self.mark.col,
            if self.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", self.path)
            },
            self.message
        )?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

/// Everything wrong with a runbook (the compiler reports them all, not only the first).
#[derive(Debug, Clone, thiserror::Error)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(|p| p.to_string()).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("cannot read runbook {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("no runbook named '{name}' and no such file{}; bundled runbooks: {known}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<String>,
        known: String,
    },
    #[error("{message}")]
    Usage { message: String },
    #[error("journal {path}: {message}")]
    Journal { path: String, message: String },
    #[error("{message}")]
    Run { exit: Exit, message: String },
}

impl RunbookError {
    pub fn exit(&self) -> Exit {
        match self {
            RunbookError::Run { exit, .. } => *exit,
            // A bad runbook, name, variable or run id is the operator's input.
            _ => Exit::Usage,
        }
    }
}

impl From<crate::engine::ProcError> for RunbookError {
    fn from(e: crate::engine::ProcError) -> Self {
        RunbookError::Run {
            exit: e.exit,
            message: e.to_string(),
        }
    }
}

/// The nearest of `choices` to `word`, if it is near enough to be a likely misspelling.
pub fn nearest<'a>(word: &str, choices: impl IntoIterator<Item = &'a str>) -> Option<String> {
    choices
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names() {
        assert_eq!(
            nearest("node.promte", ["node.promote", "node.follow"]),
            Some("node.promote".into())
        );
        assert_eq!(nearest("zzzz", ["node.promote"]), None);
    }
}
