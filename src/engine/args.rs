//! A step's rendered `with` values, with typed getters whose errors name the action and the
//! parameter.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::ProcError;

/// Rendered `with` values, with typed getters that say which parameter is wrong.
pub struct Args<'a> {
    pub uses: &'a str,
    pub map: serde_json::Map<String, Value>,
}

impl Args<'_> {
    pub fn opt(&self, k: &str) -> Option<String> {
        match self.map.get(k)? {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }
    }
    pub fn str(&self, k: &str) -> Result<String, ProcError> {
        self.opt(k)
            .ok_or_else(|| ProcError::usage(format!("{}: '{k}' is required", self.uses)))
    }
    pub fn flag(&self, k: &str) -> Result<bool, ProcError> {
        match self.opt(k).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(ProcError::usage(format!(
                "{}: '{k}' must be true or false, not {v}",
                self.uses
            ))),
        }
    }
    /// A map of name → one value or a list of values.
    pub fn multimap(&self, k: &str) -> Result<BTreeMap<String, Vec<String>>, ProcError> {
        let Some(Value::Object(m)) = self.map.get(k) else {
            return Ok(BTreeMap::new());
        };
        Ok(m.iter()
            .map(|(name, v)| {
                let vals = match v {
                    Value::Array(a) => a.iter().map(json_str).collect(),
                    v => vec![json_str(v)],
                };
                (name.clone(), vals)
            })
            .collect())
    }
}

pub(crate) fn json_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}
