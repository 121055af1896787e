//! The validated runbook model, and the compiler from the marked YAML tree to it: every field
//! known, every action and parameter checked against the registry, every `{{ … }}` reference
//! resolved, each problem reported at its line, column and YAML path with the nearest valid name.

use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) use super::compiler::{join, Compiler};
use super::error::{nearest, LoadError, Problem};
use super::registry;
use super::template::references;
use crate::util::yaml::{self, Kind, Mark, Node};

#[derive(Debug, Clone)]
pub struct Runbook {
    pub name: String,
    pub description: String,
    pub params: BTreeMap<String, ParamSpec>,
    pub steps: Vec<StepSpec>,
    /// The drill a drill run runs (the first of `drills`, or the one `for_drill` chose).
    pub drill: Option<super::drill_model::Drill>,
    /// Every drill, one per kind of lab.
    pub drills: Vec<super::drill_model::Drill>,
    /// Where it came from: a path, or `bundled:NAME`.
    pub source: String,
    pub text: String,
}

impl Runbook {
    /// The runbook once per drill, each set to run that drill.
    pub fn drill_runs(&self) -> Vec<Runbook> {
        self.drills
            .iter()
            .map(|d| Runbook {
                drill: Some(d.clone()),
                ..self.clone()
            })
            .collect()
    }

    /// The kind of lab the drill runs on.
    pub fn drill_kind(&self) -> &str {
        self.drill
            .as_ref()
            .and_then(|d| d.kind.as_deref())
            .unwrap_or(crate::engines::registry::ENGINES[0].kind)
    }

    /// How a drill run is named: the runbook, and the kind of lab unless it is drnode's.
    pub fn drill_label(&self) -> String {
        match self.drill.as_ref().and_then(|d| d.kind.as_deref()) {
            Some(kind) => format!("{} ({kind})", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub required: bool,
    pub default: Option<String>,
    pub description: String,
    /// Hidden wherever it would be shown or journaled (a resume asks for it again).
    pub secret: bool,
}

#[derive(Debug, Clone)]
pub struct StepSpec {
    pub id: Option<String>,
    pub name: String,
    pub uses: String,
    pub with: Node,
    pub when: Option<String>,
    /// The question to ask before the step changes anything.
    pub confirm: Option<String>,
    pub timeout: Option<Duration>,
    pub retries: u32,
    pub point_of_no_return: bool,
    pub undo: Option<(String, Node)>,
}

const TOP: &[&str] = &["name", "description", "params", "steps", "drill"];
const PARAM: &[&str] = &["required", "default", "description", "secret"];
const STEP: &[&str] = &[
    "id",
    "name",
    "uses",
    "with",
    "when",
    "confirm",
    "timeout",
    "retries",
    "point_of_no_return",
    "undo",
];
const UNDO: &[&str] = &["uses", "with"];

/// Compiles a runbook's text; `file` names it in errors.
pub fn compile(file: &str, text: &str) -> Result<Runbook, LoadError> {
    let root = yaml::parse(text).map_err(|e| LoadError {
        problems: vec![Problem {
            file: file.to_string(),
            mark: e.mark,
            path: String::new(),
            message: format!("invalid YAML: {}", e.message),
            suggestion: None,
        }],
    })?;
    let mut c = Compiler {
        file: file.to_string(),
        problems: Vec::new(),
    };
    let mut rb = Runbook {
        name: String::new(),
        description: String::new(),
        params: BTreeMap::new(),
        steps: Vec::new(),
        drill: None,
        drills: Vec::new(),
        source: file.to_string(),
        text: text.to_string(),
    };
    let entries = c.fields(&root, "", TOP).unwrap_or(&[]);
    for field in ["name", "steps"] {
        if !entries.iter().any(|(k, _)| k.text == field) {
            c.problem(root.mark, "", format!("missing field '{field}'"));
        }
    }
    for (k, v) in entries {
        match k.text.as_str() {
            "name" => rb.name = c.string(v, "name").unwrap_or_default(),
            "description" => rb.description = c.string(v, "description").unwrap_or_default(),
            "params" => params(&mut c, v, &mut rb.params),
            _ => {}
        }
    }
    if let Some((_, v)) = entries.iter().find(|(k, _)| k.text == "steps") {
        steps(&mut c, v, &mut rb);
    }
    if let Some((_, v)) = entries.iter().find(|(k, _)| k.text == "drill") {
        rb.drills = super::drill_model::compile_all(&mut c, v);
        rb.drill = rb.drills.first().cloned();
        // The drill runs the runbook: it sets every required parameter (checked here, where the
        // parameters are known, so the drill model does not import the runbook's).
        for d in &rb.drills {
            for (name, p) in &rb.params {
                // A drill with a directory gives the runbook its `url`.
                let given = d.directory.is_some() && name == "url";
                if p.required && !given && !d.vars.contains_key(name) {
                    c.problem(
                        v.mark,
                        "drill.vars",
                        format!("the drill must set the required parameter '{name}'"),
                    );
                }
            }
        }
    }
    c.problems
        .sort_by_key(|p| (p.mark.line, p.mark.col, p.path.clone()));
    if c.problems.is_empty() {
        Ok(rb)
    } else {
        Err(LoadError {
            problems: c.problems,
        })
    }
}

fn params(c: &mut Compiler, node: &Node, out: &mut BTreeMap<String, ParamSpec>) {
    let Kind::Map(entries) = &node.kind else {
        c.problem(
            node.mark,
            "params",
            format!("expected a mapping, found {}", node.kind_name()),
        );
        return;
    };
    for (k, v) in entries {
        let path = format!("params.{}", k.text);
        let mut spec = ParamSpec {
            required: false,
            default: None,
            description: String::new(),
            secret: false,
        };
        for (pk, pv) in c.fields(v, &path, PARAM).unwrap_or(&[]) {
            let p = join(&path, &pk.text);
            match pk.text.as_str() {
                "required" => spec.required = c.boolean(pv, &p).unwrap_or(false),
                "default" => spec.default = c.string(pv, &p),
                "description" => spec.description = c.string(pv, &p).unwrap_or_default(),
                "secret" => spec.secret = c.boolean(pv, &p).unwrap_or(false),
                _ => {}
            }
        }
        out.insert(k.text.clone(), spec);
    }
}

fn steps(c: &mut Compiler, node: &Node, rb: &mut Runbook) {
    let Kind::Seq(items) = &node.kind else {
        c.problem(
            node.mark,
            "steps",
            format!("expected a list, found {}", node.kind_name()),
        );
        return;
    };
    if items.is_empty() {
        c.problem(node.mark, "steps", "a runbook needs at least one step");
    }
    // Step id → the outputs its action offers.
    let mut known: BTreeMap<String, &'static [&'static str]> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("steps[{i}]");
        let entries = c.fields(item, &path, STEP).unwrap_or(&[]);
        let get = |f: &str| entries.iter().find(|(k, _)| k.text == f).map(|(_, v)| v);
        let mut step = StepSpec {
            id: None,
            name: format!("step {}", i + 1),
            uses: String::new(),
            with: Node {
                kind: Kind::Map(Vec::new()),
                mark: item.mark,
            },
            when: None,
            confirm: None,
            timeout: None,
            retries: 0,
            point_of_no_return: false,
            undo: None,
        };
        if let Some(v) = get("id") {
            step.id = c.string(v, &join(&path, "id"));
        }
        if let Some(v) = get("name") {
            step.name = c.string(v, &join(&path, "name")).unwrap_or_default();
        }
        let spec = match get("uses") {
            None => {
                c.problem(item.mark, &path, "missing field 'uses'");
                None
            }
            Some(v) => {
                step.uses = c.string(v, &join(&path, "uses")).unwrap_or_default();
                action(c, &step.uses, v.mark, &join(&path, "uses"))
            }
        };
        if let Some((k, v)) = entries.iter().find(|(k, _)| k.text == "with") {
            step.with = match v.is_null() {
                // `with:` left empty: an empty mapping, placed at its key.
                true => Node {
                    kind: Kind::Map(Vec::new()),
                    mark: k.mark,
                },
                false => v.clone(),
            };
        }
        if let Some(spec) = spec {
            with(c, spec, &step.with, &join(&path, "with"));
        }
        if let Some(v) = get("when") {
            step.when = c.string(v, &join(&path, "when"));
        }
        if let Some(v) = get("confirm") {
            step.confirm = match v.as_str() {
                Some("false") => None,
                Some("true") => Some(format!("{}: continue?", step.name)),
                _ => c.string(v, &join(&path, "confirm")),
            };
        }
        if let Some(v) = get("timeout") {
            step.timeout = c.duration(v, &join(&path, "timeout"));
        }
        if let Some(v) = get("retries") {
            step.retries = c.number(v, &join(&path, "retries")).unwrap_or(0) as u32;
        }
        if let Some(v) = get("point_of_no_return") {
            step.point_of_no_return = c
                .boolean(v, &join(&path, "point_of_no_return"))
                .unwrap_or(false);
        }
        if let Some(v) = get("undo") {
            let up = join(&path, "undo");
            let ue = c.fields(v, &up, UNDO).unwrap_or(&[]);
            let uses = ue.iter().find(|(k, _)| k.text == "uses").map(|(_, v)| v);
            let uwith = ue
                .iter()
                .find(|(k, _)| k.text == "with")
                .map(|(_, v)| v.clone());
            match uses {
                None => c.problem(v.mark, &up, "missing field 'uses'"),
                Some(u) => {
                    let name = c.string(u, &join(&up, "uses")).unwrap_or_default();
                    let w = uwith.unwrap_or(Node {
                        kind: Kind::Map(Vec::new()),
                        mark: v.mark,
                    });
                    if let Some(spec) = action(c, &name, u.mark, &join(&up, "uses")) {
                        with(c, spec, &w, &join(&up, "with"));
                    }
                    step.undo = Some((name, w));
                }
            }
        }
        // Template references, against the params and the steps before this one.
        for (k, v) in entries {
            if matches!(
                k.text.as_str(),
                "with" | "when" | "confirm" | "undo" | "name"
            ) {
                check_refs(c, v, &join(&path, &k.text), rb, &known);
            }
        }
        if let Some(id) = &step.id {
            if known.contains_key(id) {
                c.problem(
                    get("id").map(|n| n.mark).unwrap_or(item.mark),
                    &join(&path, "id"),
                    format!("duplicate step id '{id}'"),
                );
            }
            known.insert(id.clone(), spec.map(|s| s.outputs).unwrap_or(&[]));
        }
        rb.steps.push(step);
    }
}

fn action(
    c: &mut Compiler,
    name: &str,
    mark: Mark,
    path: &str,
) -> Option<&'static registry::ActionSpec> {
    let spec = registry::find(name);
    if spec.is_none() {
        let s = nearest(name, registry::names());
        c.suggest(
            mark,
            path,
            format!("unknown action '{name}' (`drctl runbook actions` lists them)"),
            s,
        );
    }
    spec
}

fn with(c: &mut Compiler, spec: &registry::ActionSpec, node: &Node, path: &str) {
    let names: Vec<&str> = spec.params.iter().map(|p| p.0).collect();
    // `with:` left empty is an empty mapping: its required parameters are still missing.
    let entries = match node.is_null() {
        true => &[],
        false => c.fields(node, path, &names).unwrap_or(&[]),
    };
    for (name, required, _) in spec.params {
        if *required && !entries.iter().any(|(k, _)| k.text == *name) {
            c.problem(node.mark, path, format!("{} needs '{name}'", spec.name));
        }
    }
}

fn check_refs(
    c: &mut Compiler,
    node: &Node,
    path: &str,
    rb: &Runbook,
    known: &BTreeMap<String, &'static [&'static str]>,
) {
    match &node.kind {
        Kind::Seq(items) => {
            for (i, n) in items.iter().enumerate() {
                check_refs(c, n, &format!("{path}[{i}]"), rb, known);
            }
        }
        Kind::Map(entries) => {
            for (k, v) in entries {
                check_refs(c, v, &join(path, &k.text), rb, known);
            }
        }
        Kind::Scalar { text, quoted } => {
            // Point at the `{{` itself when the scalar is on one line.
            let at = |offset: usize| {
                let mut m = node.mark;
                if !text.contains('\n') {
                    m.col += text[..offset].chars().count() + usize::from(*quoted);
                }
                m
            };
            match references(text) {
                Err((m, offset)) => c.problem(at(offset), path, m),
                Ok(refs) => {
                    for (expr, offset) in refs {
                        if let Some(m) = bad_ref(&expr, rb, known) {
                            c.suggest(at(offset), path, m.0, m.1);
                        }
                    }
                }
            }
        }
    }
}

/// Why a reference cannot be resolved, with a suggestion.
fn bad_ref(
    expr: &str,
    rb: &Runbook,
    known: &BTreeMap<String, &'static [&'static str]>,
) -> Option<(String, Option<String>)> {
    if expr == "run.id" || expr.starts_with("env.") || rb.params.contains_key(expr) {
        return None;
    }
    if let Some(rest) = expr.strip_prefix("steps.") {
        let (id, field) = rest.split_once('.').unwrap_or((rest, ""));
        return match known.get(id) {
            None => Some((
                format!("`{{{{ {expr} }}}}`: no earlier step has id '{id}'"),
                nearest(id, known.keys().map(String::as_str)).map(|s| format!("steps.{s}.{field}")),
            )),
            Some(outs) if !outs.contains(&field) => Some((
                format!(
                    "`{{{{ {expr} }}}}`: step {id} outputs {}",
                    if outs.is_empty() {
                        "nothing".to_string()
                    } else {
                        outs.join(", ")
                    }
                ),
                nearest(field, outs.iter().copied()).map(|s| format!("steps.{id}.{s}")),
            )),
            Some(_) => None,
        };
    }
    Some((
        format!("`{{{{ {expr} }}}}`: no parameter '{expr}' (declare it under params)"),
        nearest(expr, rb.params.keys().map(String::as_str)),
    ))
}
