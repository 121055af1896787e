//! `{{ name }}` templating: a parameter, `steps.ID.FIELD` (a value an earlier step read),
//! `env.NAME` (an environment variable, for secrets) or `run.id`. References are checked when
//! the runbook loads; rendering fails on an unknown value instead of leaving a blank.

use std::collections::BTreeMap;

use super::yaml::{Kind, Node};

/// The `{{ … }}` references in a string, as (expression, byte offset of the `{{`).
pub fn references(text: &str) -> Result<Vec<(String, usize)>, (String, usize)> {
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
pub struct Scope {
    pub vars: BTreeMap<String, String>,
    /// Step id → its outputs.
    pub steps: BTreeMap<String, BTreeMap<String, String>>,
    pub run_id: String,
}

impl Scope {
    pub fn lookup(&self, expr: &str) -> Result<String, String> {
        if expr == "run.id" {
            return Ok(self.run_id.clone());
        }
        // Secrets come from the environment, so they are never written to the journal.
        if let Some(name) = expr.strip_prefix("env.") {
            return std::env::var(name)
                .map_err(|_| format!("`{expr}`: the environment variable {name} is not set"));
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

    pub fn render(&self, text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = 0;
        for (expr, at) in references(text).map_err(|(m, _)| m)? {
            out.push_str(&text[rest..at]);
            out.push_str(&self.lookup(&expr)?);
            rest = at + text[at..].find("}}").expect("references found it") + 2;
        }
        out.push_str(&text[rest..]);
        Ok(out)
    }

    /// Renders every scalar of a YAML tree into JSON (plain scalars keep their YAML type).
    pub fn render_node(&self, node: &Node) -> Result<serde_json::Value, String> {
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

/// Whether a rendered `when:` holds: `a == b`, `a != b`, or a truthy value.
pub fn truthy(rendered: &str) -> bool {
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
}
