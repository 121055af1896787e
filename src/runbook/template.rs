//! `{{ name }}` templating: a parameter, `steps.ID.FIELD` (a value an earlier step read),
//! `env.NAME` (an environment variable, for secrets) or `run.id`. References are checked when
//! the runbook loads; rendering fails on an unknown value instead of leaving a blank.
//!
//! An `exec` command is rendered for the shell: every substituted value is quoted for the place
//! it lands in (bare, inside '…' or inside "…"), so a value is always one literal word and never
//! code. Values read from the environment are registered as secrets (see `crate::util::redact`).

use std::collections::BTreeMap;

use crate::util::yaml::{Kind, Node};

/// The `{{ … }}` references in a string, as (expression, byte offset of the `{{`).
pub(super) fn references(text: &str) -> Result<Vec<(String, usize)>, (String, usize)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(start) = text[rest..].find("{{") {
        let at = rest + start;
        let Some(end) = text[at..].find("}}") else {
            return Err(("unclosed `{{`".into(), at));
        };
        let expr = text[at + 2..at + end].trim().to_string();
        if expr.is_empty() {
            return Err(("empty `{{ }}`".into(), at));
        }
        out.push((expr, at));
        rest = at + end + 2;
    }
    Ok(out)
}

/// The values templates can read.
#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    pub vars: BTreeMap<String, String>,
    /// Step id → its outputs.
    pub steps: BTreeMap<String, BTreeMap<String, String>>,
    pub run_id: String,
}

impl Scope {
    pub(super) fn lookup(&self, expr: &str) -> Result<String, String> {
        if expr == "run.id" {
            return Ok(self.run_id.clone());
        }
        // Secrets come from the environment: whatever renders a value read here hides it.
        if let Some(name) = expr.strip_prefix("env.") {
            let value = std::env::var(name)
                .map_err(|_| format!("`{expr}`: the environment variable {name} is not set"))?;
            crate::util::redact::register(&value);
            return Ok(value);
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, field) = rest
                .split_once('.')
                .ok_or_else(|| format!("`{expr}`: use steps.ID.FIELD"))?;
            return self
                .steps
                .get(id)
                .and_then(|o| o.get(field))
                .cloned()
                .ok_or_else(|| format!("`{expr}`: step {id} has not output {field} (yet)"));
        }
        self.vars
            .get(expr)
            .cloned()
            .ok_or_else(|| format!("`{expr}` has no value"))
    }

    pub(super) fn render(&self, text: &str) -> Result<String, String> {
        self.render_as(text, false)
    }

    /// Renders a shell command: each value quoted for where it lands.
    pub(super) fn render_shell(&self, text: &str) -> Result<String, String> {
        self.render_as(text, true)
    }

    fn render_as(&self, text: &str, shell: bool) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = 0;
        let mut quote = Quote::Bare;
        for (expr, at) in references(text).map_err(|(m, _)| m)? {
            let literal = &text[rest..at];
            out.push_str(literal);
            let value = self.lookup(&expr)?;
            if shell {
                quote = quote.after(literal);
                out.push_str(&quote.quote(&value));
            } else {
                out.push_str(&value);
            }
            rest = at + text[at..].find("}}").expect("references found it") + 2;
        }
        out.push_str(&text[rest..]);
        Ok(out)
    }

    /// Renders an action's `with`: for `exec`, the `command` and `unless` strings for the shell.
    pub(super) fn render_with(&self, uses: &str, with: &Node) -> Result<serde_json::Value, String> {
        let Kind::Map(entries) = &with.kind else {
            return self.render_node(with);
        };
        let mut out = serde_json::Map::new();
        for (k, v) in entries {
            let value = match (&v.kind, uses, k.text.as_str()) {
                (Kind::Scalar { text, .. }, "exec", "command" | "unless") => {
                    serde_json::Value::String(self.render_shell(text)?)
                }
                _ => self.render_node(v)?,
            };
            out.insert(k.text.clone(), value);
        }
        Ok(serde_json::Value::Object(out))
    }

    /// Renders every scalar of a YAML tree into JSON (plain scalars keep their YAML type).
    pub(super) fn render_node(&self, node: &Node) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        Ok(match &node.kind {
            Kind::Scalar { text, quoted } if text.contains("{{") => {
                let r = self.render(text)?;
                if *quoted {
                    Value::String(r)
                } else {
                    Node {
                        kind: Kind::Scalar {
                            text: r,
                            quoted: false,
                        },
                        mark: node.mark,
                    }
                    .to_json()
                }
            }
            Kind::Scalar { .. } => node.to_json(),
            Kind::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|n| self.render_node(n))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.text.clone(), self.render_node(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }
}

/// Where a substituted value lands in a POSIX shell command.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quote {
    Bare,
    Single,
    Double,
}

impl Quote {
    /// The quoting in force after the template's own `literal` text (values, quoted by
    /// `quote`, never change it).
    fn after(self, literal: &str) -> Quote {
        let mut q = self;
        let mut chars = literal.chars();
        while let Some(c) = chars.next() {
            q = match (q, c) {
                (Quote::Bare | Quote::Double, '\\') => {
                    chars.next();
                    q
                }
                (Quote::Bare, '\'') => Quote::Single,
                (Quote::Bare, '"') => Quote::Double,
                (Quote::Single, '\'') | (Quote::Double, '"') => Quote::Bare,
                _ => q,
            };
        }
        q
    }

    /// `value` as one literal word in this context.
    fn quote(self, value: &str) -> String {
        match self {
            Quote::Bare => format!("'{}'", value.replace('\'', r"'\''")),
            // Close the quote, put an escaped quote, reopen.
            Quote::Single => value.replace('\'', r"'\''"),
            Quote::Double => value
                .chars()
                .flat_map(|c| match c {
                    '\\' | '"' | '$' | '`' => vec!['\\', c],
                    c => vec![c],
                })
                .collect(),
        }
    }
}

/// Whether a rendered `when:` holds: `a == b`, `a != b`, or a truthy value.
pub(super) fn truthy(rendered: &str) -> bool {
    if let Some((a, b)) = rendered.split_once("!=") {
        return a.trim() != b.trim();
    }
    if let Some((a, b)) = rendered.split_once("==") {
        return a.trim() == b.trim();
    }
    !matches!(
        rendered.trim().to_ascii_lowercase().as_str(),
        "" | "false" | "no" | "0" | "off"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_compares() {
        let mut s = Scope::default();
        s.vars.insert("a".into(), "node-1".into());
        s.steps
            .entry("pick".into())
            .or_default()
            .insert("target".into(), "node-2".into());
        assert_eq!(
            s.render("{{ a }} -> {{steps.pick.target}}").unwrap(),
            "node-1 -> node-2"
        );
        assert!(s.render("{{ b }}").is_err());
        assert!(truthy("node-1 != node-2"));
        assert!(!truthy("auto == node-2"));
        assert!(!truthy("false"));
    }

    #[test]
    fn shell_values_stay_one_literal_word() {
        let mut s = Scope::default();
        let nasty = r#"x; touch p $(id) `id` '"\ "#;
        s.vars.insert("v".into(), nasty.into());
        let cmd = s
            .render_shell(r#"printf '%s|' {{ v }} "{{ v }}" '{{ v }}' a\'{{ v }}"#)
            .unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{nasty}|{nasty}|{nasty}|a'{nasty}|"),
            "{cmd}"
        );
    }
}
