//! A YAML tree that remembers where every node and key came from (line, column), so that the
//! runbook compiler can point at the exact spot of a semantic error, not only of a syntax error.
//!
//! Input is bounded before anything grows with it: files over `MAX_BYTES` are not read, and
//! nesting deeper than `MAX_DEPTH` stops the parse at that spot, so hostile input is rejected at
//! once (a 200 KB file of nested lists took 50 s). The cluster file loader uses the same bounds.

use std::collections::HashSet;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

pub use super::file::{read_bounded, ReadError, MAX_BYTES};

/// A position in a file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: usize,
    pub col: usize,
}

impl From<Marker> for Mark {
    fn from(m: Marker) -> Self {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Mark {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar, as written; `quoted` when it was quoted (so `"true"` stays a string).
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order, each with its own position.
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub text: String,
    pub mark: Mark,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub mark: Mark,
}

impl Node {
    pub fn scalar(text: impl Into<String>) -> Node {
        Node {
            kind: Kind::Scalar {
                text: text.into(),
                quoted: true,
            },
            mark: Mark::default(),
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, quoted: false } if text.is_empty() || text == "~" || text == "null")
    }
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
    /// As JSON: plain scalars become booleans, numbers or null when they look like one.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Scalar { text, quoted: true } => Value::String(text.clone()),
            Kind::Scalar { text, .. } => match text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "" | "~" | "null" => Value::Null,
                t => t
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| t.parse::<f64>().map(Value::from))
                    .unwrap_or_else(|_| Value::String(t.to_string())),
            },
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A syntax error, at its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub mark: Mark,
    pub message: String,
}

/// The deepest nesting of lists and mappings accepted (runbooks use fewer than 8 levels).
pub const MAX_DEPTH: usize = 32;

/// Feeds `text`'s events to `on` and stops at the first error, or where the nesting passes
/// `MAX_DEPTH`.
fn events(text: &str, mut on: impl FnMut(Event, Marker)) -> Result<(), SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        let (ev, marker) = parser.next_token().map_err(|e| SyntaxError {
            mark: Mark::from(*e.marker()),
            // The scanner runs ahead of the events and has its own (higher) bound.
            message: match e.info() {
                "recursion limit exceeded" => format!("nested deeper than {MAX_DEPTH} levels"),
                other => other.to_string(),
            },
        })?;
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SyntaxError {
                        mark: Mark::from(marker),
                        message: format!("nested deeper than {MAX_DEPTH} levels"),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::StreamEnd => return Ok(()),
            _ => {}
        }
        on(ev, marker);
    }
}

/// Checks `text` against the bounds (and YAML syntax) without building anything.
pub fn check_bounds(text: &str) -> Result<(), SyntaxError> {
    events(text, |_, _| {})
}

enum Frame {
    Seq(Mark, Vec<Node>),
    /// The keys seen so far are also in a set: a duplicate check that stays linear.
    Map(Mark, Vec<(Key, Node)>, Option<Key>, HashSet<String>),
}

#[derive(Default)]
struct Builder {
    documents: usize,
    stack: Vec<Frame>,
    root: Option<Node>,
    error: Option<SyntaxError>,
}

impl Builder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending, seen)) => match pending.take() {
                None => match node.kind {
                    Kind::Scalar { text, .. } => {
                        if !seen.insert(text.clone()) && self.error.is_none() {
                            self.error = Some(SyntaxError {
                                mark: node.mark,
                                message: format!("duplicate key '{text}'"),
                            });
                        }
                        *pending = Some(Key {
                            text,
                            mark: node.mark,
                        })
                    }
                    _ => {
                        if self.error.is_none() {
                            self.error = Some(SyntaxError {
                                mark: node.mark,
                                message: "a key must be a plain string".into(),
                            });
                        }
                        *pending = Some(Key {
                            text: String::new(),
                            mark: node.mark,
                        })
                    }
                },
                Some(key) => entries.push((key, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, marker: Marker) {
        let mark = Mark::from(marker);
        match ev {
            Event::Scalar(text, style, _, _) => self.push(Node {
                kind: Kind::Scalar {
                    text,
                    quoted: style != TScalarStyle::Plain,
                },
                mark,
            }),
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(mark, Vec::new())),
            Event::MappingStart(..) => {
                self.stack
                    .push(Frame::Map(mark, Vec::new(), None, HashSet::new()))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq(mark, items)) => Node {
                        kind: Kind::Seq(items),
                        mark,
                    },
                    // A block mapping's start is reported past its first key: point at that key.
                    Some(Frame::Map(mark, entries, _, _)) => Node {
                        mark: entries.first().map(|(k, _)| k.mark).unwrap_or(mark),
                        kind: Kind::Map(entries),
                    },
                    None => return,
                };
                self.push(node);
            }
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 && self.error.is_none() {
                    self.error = Some(SyntaxError {
                        mark,
                        message: "a runbook file holds one YAML document".into(),
                    });
                }
            }
            Event::Alias(_) if self.error.is_none() => {
                self.error = Some(SyntaxError {
                    mark,
                    message: "anchors and aliases are not supported in runbooks".into(),
                })
            }
            _ => {}
        }
    }
}

/// Parses one YAML document into a marked tree.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut b = Builder::default();
    let parsed = events(text, |ev, marker| b.on_event(ev, marker));
    // The first problem in the file: one the builder saw comes before where the parse stopped.
    if let Some(e) = b.error {
        return Err(e);
    }
    parsed?;
    b.root.ok_or_else(|| SyntaxError {
        mark: Mark { line: 1, col: 1 },
        message: "the file is empty".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_bounded_in_block_and_flow_style() {
        let mut block = String::from("a:\n");
        for i in 1..40 {
            block.push_str(&format!("{}- k:\n", "  ".repeat(i)));
        }
        let e = parse(&block).unwrap_err();
        assert_eq!(e.message, format!("nested deeper than {MAX_DEPTH} levels"));
        let flow = format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(check_bounds(&flow)
            .unwrap_err()
            .message
            .starts_with("nested deeper than"));
        assert!(check_bounds("a: [[1], {b: [2]}]").is_ok());
        let dup = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            (dup.message.as_str(), dup.mark.line),
            ("duplicate key 'a'", 3)
        );
    }
}
