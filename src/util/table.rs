//! Tables: for people on a terminal, condensed UTF-8 borders fitted to its width without ever
//! breaking a word, colour only without `NO_COLOR`; for scripts (stdout is not a terminal), one
//! line per row with tab-separated cells, the header first, no padding and no colour, for `cut`,
//! `awk` and `column -t -s "$(printf '\t')"`.

use std::io::IsTerminal;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ColumnConstraint, ContentArrangement};
use comfy_table::{Table, Width};

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

/// The table as text: boxed on a terminal, tab-separated otherwise (see the module).
pub fn render(t: &Table) -> String {
    if std::io::stdout().is_terminal() {
        boxed(t)
    } else {
        tab_separated(t)
    }
}

/// Fitted to the terminal, but a column is never narrower than its longest word: a cell wraps
/// between words, never inside one.
fn boxed(t: &Table) -> String {
    let mut t = t.clone();
    let rows: Vec<Vec<String>> = t
        .header()
        .into_iter()
        .chain(t.row_iter())
        .map(|r| r.cell_iter().map(Cell::content).collect())
        .collect();
    let widths = |measure: fn(&str) -> usize| -> Vec<usize> {
        let mut w = vec![0; rows.iter().map(Vec::len).max().unwrap_or(0)];
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                w[i] = w[i].max(measure(cell));
            }
        }
        w
    };
    let widest_line: fn(&str) -> usize =
        |s| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let widest_word: fn(&str) -> usize = |s| {
        s.split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0)
    };
    let (natural, longest) = (widths(widest_line), widths(widest_word));
    // Borders and padding: one bar per column plus one, a space either side of each cell.
    let total = |w: &[usize]| w.iter().map(|w| w + 3).sum::<usize>() + 1;
    match t.width().map(usize::from) {
        // It fits (or the width is unknown): no wrapping at all.
        None => t.set_content_arrangement(ContentArrangement::Disabled),
        Some(w) if total(&natural) <= w => t.set_content_arrangement(ContentArrangement::Disabled),
        // Too narrow for every word: no wrapping at all (the terminal folds the long lines).
        Some(w) if total(&longest) > w => t.set_content_arrangement(ContentArrangement::Disabled),
        // Wrap the long cells, between words only: every column gets its longest word, the
        // room left goes to the columns that want more, evenly (comfy-table's own dynamic
        // arrangement squeezes tables that fit and breaks words).
        Some(w) => {
            let widths = fit(
                &natural,
                &longest,
                w.saturating_sub(total(&vec![0; natural.len()])),
            );
            for (col, width) in t.column_iter_mut().zip(widths) {
                // The fixed width counts the padding.
                col.set_constraint(ColumnConstraint::Absolute(Width::Fixed(width as u16 + 2)));
            }
            &mut t
        }
    };
    t.to_string()
}

/// Column widths within `room` characters of content: at least each column's longest word, at
/// most its longest line, the rest shared among the columns that want more.
fn fit(natural: &[usize], longest: &[usize], room: usize) -> Vec<usize> {
    let mut widths = longest.to_vec();
    let mut spare = room.saturating_sub(widths.iter().sum());
    // The column that wants least is served first, so short cells stay on one line and the
    // long ones wrap.
    let mut wanting: Vec<usize> = (0..widths.len())
        .filter(|&i| widths[i] < natural[i])
        .collect();
    wanting.sort_by_key(|&i| natural[i] - widths[i]);
    for i in wanting {
        let add = (natural[i] - widths[i]).min(spare);
        widths[i] += add;
        spare -= add;
    }
    widths
}

fn tab_separated(t: &Table) -> String {
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .map(|c| c.replace(['\t', '\n'], " "))
            .collect::<Vec<_>>()
            .join("\t")
    };
    let header = t
        .header()
        .map(|h| h.cell_iter().map(Cell::content).collect());
    header
        .into_iter()
        .chain(
            t.row_iter()
                .map(|r| r.cell_iter().map(Cell::content).collect()),
        )
        .map(line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_separated_has_a_header_line_and_no_padding_or_borders() {
        let mut t = table(&["NODE", "SYNC"]);
        t.add_row(vec!["node-1", "suspended (3 failures)"]);
        t.add_row(vec!["node-22", "with\ttab"]);
        assert_eq!(
            tab_separated(&t),
            "NODE\tSYNC\nnode-1\tsuspended (3 failures)\nnode-22\twith tab"
        );
    }

    // Hit by `drctl candidates` at 80 columns: comfy-table squeezed a table that fitted into 68
    // columns, breaking POSITION and a URL mid-word.
    #[test]
    fn a_table_uses_the_terminals_width_before_breaking_a_word() {
        let mut t = table(&["RANK", "NODE", "ROLE", "EPOCH", "POSITION", "REASON"]);
        t.add_row(vec![
            "1",
            "node-2",
            "replica",
            "1",
            "epoch 1 seq 6",
            "most advanced",
        ]);
        t.add_row(vec![
            "-",
            "node-3",
            "-",
            "-",
            "-",
            "unreachable (cannot reach https://127.0.0.1:36525: Connection refused)",
        ]);
        t.set_width(80);
        let text = boxed(&t);
        for word in [
            "POSITION",
            "epoch 1 seq 6",
            "https://127.0.0.1:36525:",
            "Connection",
        ] {
            assert!(text.contains(word), "{word} was broken:\n{text}");
        }
        let widths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|&w| w == 80), "{widths:?}\n{text}");
    }

    #[test]
    fn a_narrow_terminal_wraps_between_words_never_inside_one() {
        let mut t = table(&["NODE", "REACHABLE", "ROLE", "REASON"]);
        t.add_row(vec![
            "node-1",
            "yes",
            "primary",
            "behind the primary by 12 records",
        ]);
        for width in [30, 40, 60, 80] {
            t.set_width(width);
            let text = boxed(&t);
            for word in ["REACHABLE", "node-1", "records", "primary", "REASON"] {
                assert!(text.contains(word), "{word} was broken at {width}:\n{text}");
            }
        }
    }
}
