//! Small pieces of operator-facing text: counted nouns and paths as an operator can use them.

use std::path::{Path, PathBuf};

/// "1 record", "19 records", "0 writes" (nouns that take an `s`).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The path as an operator can open it from any directory: absolute, from the current one.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A progress line for stderr: on a terminal, folded between words to its width, the folded
/// lines indented like the first (a terminal would otherwise cut words at the edge); elsewhere
/// as it is, one line per message for logs and `grep`.
pub fn fold_for_stderr(line: &str) -> String {
    use std::io::IsTerminal;
    fold_on_terminal(line, std::io::stderr().is_terminal())
}

/// A line of data for stdout (a problem in `status`, `check`): the same, for stdout.
pub fn fold_for_stdout(line: &str) -> String {
    use std::io::IsTerminal;
    fold_on_terminal(line, std::io::stdout().is_terminal())
}

fn fold_on_terminal(line: &str, terminal: bool) -> String {
    match textwrap::termwidth() {
        w if terminal && line.chars().count() > w => fold(line, w),
        _ => line.to_string(),
    }
}

/// `line` folded to `width` columns between words, continuation lines indented two more than
/// the first.
fn fold(line: &str, width: usize) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    let more = format!("{indent}  ");
    let opts = textwrap::Options::new(width)
        .initial_indent(indent)
        .subsequent_indent(&more)
        .break_words(false);
    textwrap::fill(line.trim_start(), opts)
}

/// "2 entries (a (csn), b (csn))": a count and the first `shown` of `list`, for a reason line.
pub fn entries_named(list: &[String], shown: usize) -> String {
    let named: Vec<&str> = list.iter().take(shown).map(String::as_str).collect();
    let more = list.len().saturating_sub(shown);
    format!(
        "{} entr{} ({}{})",
        list.len(),
        if list.len() == 1 { "y" } else { "ies" },
        named.join(", "),
        if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_nouns_and_absolute_paths() {
        assert_eq!(count(1u64, "record"), "1 record");
        assert_eq!(count(19u64, "record"), "19 records");
        assert_eq!(count(0u64, "write"), "0 writes");
        assert!(absolute(Path::new("drctl-demote.jsonl")).is_absolute());
    }

    #[test]
    fn folded_lines_break_between_words_and_keep_the_indent() {
        let line = "   writes the old primary acknowledged but never shipped cannot be seen";
        let folded = fold(line, 30);
        for l in folded.lines() {
            assert!(l.chars().count() <= 30, "{l:?}");
            assert!(l.starts_with("   "), "{l:?}");
        }
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(words(&folded), words(line));
        assert!(
            folded.lines().nth(1).unwrap().starts_with("     "),
            "{folded}"
        );
    }
}
