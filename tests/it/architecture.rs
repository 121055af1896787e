//! Architecture invariants (ARCHITECTURE.md), kept by reading `src/`: a forbidden import or an
//! import circle fails here, naming the file and line. The reader is a small lexer, not a Rust
//! parser: it sees `use` trees and `crate::` / `super::` / `self::` paths outside comments and
//! string literals, which is all the invariants are about.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Import circles that are still there, each with why; the test fails on a circle not listed
/// here and on an entry that no longer exists, so the list only shrinks. Two files:
/// `"a.rs <-> b.rs"` (sorted); top-level modules: `"a -> b -> a"` (from the smallest name).
const KNOWN: &[(&str, &str)] = &[("engines -> runbook -> engines", ENGINE_STEPS)];
const ENGINE_STEPS: &str = "engines/openldap/{runbook,drill,drill_check}.rs plug OpenLDAP steps \
    and drills into runbook/ (runbook.rs is the lead's): through the registry";

/// The top-level modules of the library (src/lib.rs).
const TOP: &[&str] = &[
    "util",
    "api",
    "node",
    "inventory",
    "engine",
    "engines",
    "lab",
    "runbook",
    "chaos",
    "cli",
    "certs",
    "hosts",
    "export_file",
];

/// A new top-level module is a new place in the map: ARCHITECTURE.md says what it holds and
/// what it may import, and the circle check knows it.
#[test]
fn every_top_level_module_is_mapped() {
    let src = Src::read();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let tops: BTreeSet<&str> = src.files.values().filter_map(File::top).collect();
    let known: BTreeSet<&str> = TOP.iter().copied().collect();
    assert_eq!(tops, known, "the top-level modules of src/ and TOP differ");
    let unmapped: Vec<&&str> = TOP
        .iter()
        .filter(|t| !map.contains(&format!("`src/{t}")))
        .collect();
    assert!(
        unmapped.is_empty(),
        "ARCHITECTURE.md has no entry `src/<module>` for {unmapped:?}"
    );
}

#[test]
fn engine_imports_no_engine() {
    let src = Src::read();
    let mut bad = Vec::new();
    for f in src
        .files
        .values()
        .filter(|f| f.rel.starts_with("src/engine/"))
    {
        for i in &f.imports {
            let crate_top = i.abs.as_ref().and_then(|a| a.first()).map(String::as_str);
            let forbidden = match crate_top {
                Some("engines") => true,
                Some(top) => ["api", "node", "cli", "runbook"].contains(&top),
                None => ["ldap3", "reqwest"].contains(&i.raw[0].as_str()),
            };
            if forbidden {
                bad.push(format!("{}:{}: `{}`", f.rel, i.line, i.raw.join("::")));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "engine/ (the contract) imports no engine, no ldap3, no reqwest, nothing of api, node, \
         cli or runbook; found:\n{}",
        bad.join("\n")
    );
}

#[test]
fn cli_and_node_never_import_each_other() {
    let src = Src::read();
    let mut bad = src.forbidden("src/cli/", |top| top == "node");
    bad.extend(src.forbidden("src/node/", |top| top == "cli"));
    assert!(
        bad.is_empty(),
        "cli and node never import each other (both speak through api); found:\n{}",
        bad.join("\n")
    );
}

#[test]
fn runbook_does_not_import_cli() {
    let bad = Src::read().forbidden("src/runbook/", |top| top == "cli");
    assert!(
        bad.is_empty(),
        "runbook does not import cli; found:\n{}",
        bad.join("\n")
    );
}

#[test]
fn lab_knows_no_engine() {
    let bad = Src::read().forbidden("src/lab/", |top| !["lab", "util", "certs"].contains(&top));
    assert!(
        bad.is_empty(),
        "lab/ holds the Lab trait and the process plumbing every engine's lab shares; it \
         imports only util and certs; found:\n{}",
        bad.join("\n")
    );
}

#[test]
fn util_imports_nothing_of_drctl() {
    let bad = Src::read().forbidden("src/util/", |top| top != "util");
    assert!(
        bad.is_empty(),
        "util/ holds leaves: it uses only std, external crates and crate::util; found:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_import_circles_between_files() {
    let src = Src::read();
    let edges = src.edges();
    let mut found: BTreeMap<String, String> = BTreeMap::new();

    // Two files that import each other, except a module and its own descendant (the parent
    // declares and re-exports the child, the child uses `super::` or its ancestor's types: that
    // is how Rust modules are built).
    for ((a, b), line_ab) in &edges {
        if a < b {
            if let Some(line_ba) = edges.get(&(b.clone(), a.clone())) {
                let (ma, mb) = (&src.files[a].module, &src.files[b].module);
                if !ma.starts_with(mb) && !mb.starts_with(ma) {
                    found.insert(
                        format!("{a} <-> {b}"),
                        format!("{a}:{line_ab} -> {b}, {b}:{line_ba} -> {a}"),
                    );
                }
            }
        }
    }

    // Circles between top-level modules.
    let mut top: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
    for ((a, b), line) in &edges {
        let (ta, tb) = (src.files[a].top(), src.files[b].top());
        if let (Some(ta), Some(tb)) = (ta, tb) {
            if ta != tb {
                top.entry(ta)
                    .or_default()
                    .entry(tb)
                    .or_insert(format!("{a}:{line}"));
            }
        }
    }
    for cycle in cycles(&top) {
        let witness: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{} -> {} at {}", w[0], w[1], top[w[0]][w[1]]))
            .collect();
        found.insert(cycle.join(" -> "), witness.join("; "));
    }

    let known: BTreeSet<&str> = KNOWN.iter().map(|(c, _)| *c).collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(c, _)| !known.contains(c.as_str()))
        .map(|(c, w)| format!("{c}\n    ({w})"))
        .collect();
    let gone: Vec<&str> = known
        .iter()
        .filter(|c| !found.contains_key(**c))
        .copied()
        .collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "import circles not in KNOWN ({}):\n{}\nKNOWN entries that no longer exist (remove them): \
         {gone:?}",
        new.len(),
        new.join("\n")
    );
}

/// Every elementary cycle of a small graph, each starting at its smallest node and ending there.
fn cycles<'a>(g: &BTreeMap<&'a str, BTreeMap<&'a str, String>>) -> Vec<Vec<&'a str>> {
    fn walk<'a>(
        g: &BTreeMap<&'a str, BTreeMap<&'a str, String>>,
        path: &mut Vec<&'a str>,
        out: &mut Vec<Vec<&'a str>>,
    ) {
        let (start, last) = (path[0], path[path.len() - 1]);
        for next in g.get(last).into_iter().flat_map(|m| m.keys().copied()) {
            if next == start {
                let mut c = path.clone();
                c.push(start);
                out.push(c);
            } else if next > start && !path.contains(&next) {
                path.push(next);
                walk(g, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    for start in g.keys() {
        walk(g, &mut vec![*start], &mut out);
    }
    out
}

/// One path a file mentions.
struct Import {
    line: usize,
    /// As written, e.g. `["super", "model", "Runbook"]`.
    raw: Vec<String>,
    /// From the crate root, if it names something of this crate.
    abs: Option<Vec<String>>,
}

struct File {
    /// `src/runbook/engine.rs`
    rel: String,
    /// `["runbook", "engine"]`; `[]` for src/lib.rs.
    module: Vec<String>,
    imports: Vec<Import>,
}

impl File {
    fn top(&self) -> Option<&str> {
        self.module.first().map(String::as_str)
    }
}

struct Src {
    /// By path, `src/…`.
    files: BTreeMap<String, File>,
    /// Module path -> file.
    modules: BTreeMap<Vec<String>, String>,
}

impl Src {
    fn read() -> Src {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        walk(&root.join("src"), &mut paths);
        paths.sort();
        let mut modules = BTreeMap::new();
        let mut raw = Vec::new();
        for p in paths {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel.starts_with("src/bin/") {
                continue; // separate crates: they say `drctl::`, not `crate::`
            }
            let module = module_of(&rel);
            modules.insert(module.clone(), rel.clone());
            let text = std::fs::read_to_string(&p).unwrap();
            raw.push((rel, module, text));
        }
        let mut files = BTreeMap::new();
        for (rel, module, text) in raw {
            let imports = imports(&lex(&text), &module, &modules);
            let file = File {
                rel: rel.clone(),
                module,
                imports,
            };
            files.insert(rel, file);
        }
        Src { files, modules }
    }

    /// `file:line: path` for every path into this crate from a file under `dir` whose top-level
    /// module `bad` refuses.
    fn forbidden(&self, dir: &str, bad: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        for f in self.files.values().filter(|f| f.rel.starts_with(dir)) {
            for i in &f.imports {
                let top = i.abs.as_ref().and_then(|a| a.first());
                if top.is_some_and(|t| bad(t)) {
                    out.push(format!("{}:{}: `{}`", f.rel, i.line, i.raw.join("::")));
                }
            }
        }
        out
    }

    /// File -> file, with the first line of the importing file that says so. A path to an item
    /// resolves to the file of the innermost module it goes through.
    fn edges(&self) -> BTreeMap<(String, String), usize> {
        let mut out = BTreeMap::new();
        for f in self.files.values() {
            for i in &f.imports {
                let Some(abs) = &i.abs else { continue };
                let target = (0..=abs.len())
                    .rev()
                    .find_map(|k| self.modules.get(&abs[..k]))
                    .expect("src/lib.rs is the module []");
                if *target != f.rel {
                    out.entry((f.rel.clone(), target.clone())).or_insert(i.line);
                }
            }
        }
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn module_of(rel: &str) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .trim_start_matches("src/")
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(segs.last().map(String::as_str), Some("mod" | "lib")) {
        segs.pop();
    }
    segs
}

struct Tok {
    text: String,
    line: usize,
}

/// Identifiers and punctuation (`::` as one token), without comments, strings and characters.
fn lex(s: &str) -> Vec<Tok> {
    let c: Vec<char> = s.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(at(i) == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' || ((ch == 'r' || ch == 'b') && raw_string_start(&c, i).is_some()) {
            // "…", b"…", r#"…"#, br#"…"#
            let (hashes, open) = if ch == '"' {
                (None, i)
            } else {
                raw_string_start(&c, i).unwrap()
            };
            i = open + 1;
            loop {
                if at(i) == '\n' {
                    line += 1;
                }
                match hashes {
                    None if at(i) == '\\' => {
                        line += usize::from(at(i + 1) == '\n');
                        i += 1;
                    }
                    None if at(i) == '"' => break,
                    Some(n) if at(i) == '"' && (1..=n).all(|k| at(i + k) == '#') => {
                        i += n;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            i += 1;
        } else if ch == '\'' {
            // A character ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while at(i) != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push(Tok {
                text: c[start..i].iter().collect(),
                line,
            });
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// At `r"`, `r#"`, `b"`, `br#"`…: the number of `#` (None for a plain byte string) and the
/// index of the opening quote.
fn raw_string_start(c: &[char], i: usize) -> Option<(Option<usize>, usize)> {
    if i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_') {
        return None; // inside an identifier such as `br`
    }
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
        if c.get(j) == Some(&'"') {
            return Some((None, j));
        }
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut n = 0;
    while c.get(j) == Some(&'#') {
        n += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((Some(n), j))
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Every path the file mentions: `use` trees expanded, and `crate::…`, `super::…`, `self::…`
/// and `name::…` paths in the code. `module` is the file's module; inline `mod x { … }` blocks
/// (tests) move `super::` one level down.
fn imports(t: &[Tok], module: &[String], modules: &BTreeMap<Vec<String>, String>) -> Vec<Import> {
    let mut out = Vec::new();
    let mut here = module.to_vec();
    let mut depth = 0usize;
    let mut inline: Vec<usize> = Vec::new(); // brace depth inside each inline module
    let mut pending_mod: Option<String> = None;
    let tx = |i: usize| t.get(i).map(|t| t.text.as_str()).unwrap_or("");
    let mut i = 0;
    while i < t.len() {
        match tx(i) {
            "{" => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    here.push(name);
                    inline.push(depth);
                }
                i += 1;
            }
            "}" => {
                if inline.last() == Some(&depth) {
                    inline.pop();
                    here.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            "mod" if is_ident(tx(i + 1)) && tx(i + 2) == "{" => {
                pending_mod = Some(tx(i + 1).to_string());
                i += 2;
            }
            "use" => {
                let line = t[i].line;
                i += 1;
                let mut paths = Vec::new();
                use_tree(t, &mut i, Vec::new(), &mut paths);
                while i < t.len() && tx(i) != ";" {
                    i += 1;
                }
                for raw in paths {
                    let abs = resolve(&raw, &here, modules);
                    out.push(Import { line, raw, abs });
                }
            }
            w if is_ident(w) && tx(i + 1) == "::" && tx(i.wrapping_sub(1)) != "::" => {
                let line = t[i].line;
                let mut raw = vec![w.to_string()];
                i += 1;
                while tx(i) == "::" && is_ident(tx(i + 1)) {
                    raw.push(tx(i + 1).to_string());
                    i += 2;
                }
                let abs = resolve(&raw, &here, modules);
                out.push(Import { line, raw, abs });
            }
            _ => i += 1,
        }
    }
    out
}

/// Expands one `use` tree (`a::{b, c::{self, d}}`) into paths.
fn use_tree(t: &[Tok], i: &mut usize, mut path: Vec<String>, out: &mut Vec<Vec<String>>) {
    let tx = |i: usize| t.get(i).map(|t| t.text.as_str()).unwrap_or("");
    loop {
        match tx(*i) {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                while *i < t.len() && tx(*i) != "}" {
                    use_tree(t, i, path.clone(), out);
                    if tx(*i) == "," {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            "*" => {
                *i += 1;
                out.push(path);
                return;
            }
            w if is_ident(w) => {
                path.push(w.to_string());
                *i += 1;
                if tx(*i) == "::" {
                    continue;
                }
                if tx(*i) == "as" {
                    *i += 2;
                }
                out.push(path);
                return;
            }
            _ => {
                out.push(path);
                return;
            }
        }
    }
}

/// The path from the crate root, if `raw` names something of this crate: `crate::`, `super::`,
/// `self::`, or a child module of `here` named without a prefix.
fn resolve(
    raw: &[String],
    here: &[String],
    modules: &BTreeMap<Vec<String>, String>,
) -> Option<Vec<String>> {
    let mut segs = raw.iter().map(String::as_str).peekable();
    let mut abs: Vec<String> = match *segs.peek()? {
        "crate" => {
            segs.next();
            Vec::new()
        }
        "self" => {
            segs.next();
            here.to_vec()
        }
        "super" => {
            let mut base = here.to_vec();
            while segs.peek() == Some(&"super") {
                segs.next();
                base.pop();
            }
            base
        }
        first => {
            let mut child = here.to_vec();
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None; // std, an external crate, a local item or enum
            }
            here.to_vec()
        }
    };
    abs.extend(segs.filter(|s| *s != "self").map(String::from));
    Some(abs)
}
