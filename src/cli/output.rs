//! Output conventions: data on stdout, progress and prompts on stderr, colour only on a
//! terminal and never with `NO_COLOR`.

use std::io::IsTerminal;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};

use crate::engines::drnode::cluster::Health;

pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

pub fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().map(Cell::new));
    if !color_enabled() {
        t.force_no_tty();
    }
    t
}

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
    let text = serde_json::to_string_pretty(value).expect("output serializes");
    if crate::util::redact::active() {
        println!("{}", crate::util::redact::redact_json(&text));
    } else {
        println!("{text}");
    }
}
