//! Output conventions: data on stdout, progress and prompts on stderr, colour only on a
//! terminal and never with `NO_COLOR`.

use comfy_table::{Cell, Color};

use crate::engine::Health;

pub use crate::util::table::{color_enabled, render, table};

pub fn health_cell(h: Health) -> Cell {
    let (text, color) = match h {
        Health::Green => ("green", Color::Green),
        Health::Orange => ("orange", Color::Yellow),
        Health::Red => ("red", Color::Red),
    };
    let cell = Cell::new(text);
    if color_enabled() {
        cell.fg(color)
    } else {
        cell
    }
}

/// Prints JSON to stdout, pretty, with every secret hidden (`crate::util::redact`).
pub fn print_json(value: &impl serde::Serialize) {
    print_json_text(&serde_json::to_string_pretty(value).expect("output serializes"));
}

/// Prints YAML to stdout, with every secret hidden.
pub fn print_yaml(value: &impl serde::Serialize) {
    let text = serde_yaml::to_string(value).expect("output serializes");
    print!("{}", crate::util::redact::redact(&text));
}

/// Writes bytes to stdout as they are (a manual page).
pub fn print_raw(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Prints JSON already rendered (pretty), with every secret hidden.
pub fn print_json_text(text: &str) {
    if crate::util::redact::active() {
        println!("{}", crate::util::redact::redact_json(text));
    } else {
        println!("{text}");
    }
}

/// The version of the shape of drctl's JSON and YAML documents (`status`, `check`) and of the
/// objects of its listings (candidates, events, runs): it changes only when a key is removed or
/// changes meaning (new keys may appear).
pub(super) const SCHEMA: u32 = 1;

/// A document or listed object with its schema version beside its own keys.
#[derive(serde::Serialize)]
pub(super) struct Versioned<'a, T> {
    schema: u32,
    #[serde(flatten)]
    body: &'a T,
}

impl<'a, T> Versioned<'a, T> {
    pub(super) fn new(body: &'a T) -> Self {
        Versioned {
            schema: SCHEMA,
            body,
        }
    }

    /// Every object of a listing, versioned.
    pub(super) fn each(items: &'a [T]) -> Vec<Versioned<'a, T>> {
        items.iter().map(Versioned::new).collect()
    }
}
