//! Validated names: node and cluster names are hostname labels (seed 004: ASCII letters, digits
//! and the hyphen), so they can be used in certificates, hosts files and DNS.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a name was refused, phrased for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{name}' is not a valid name: {reason} (names are hostname labels: ASCII letters, digits and '-', 1-63 characters, not starting or ending with '-')")]
pub struct InvalidName {
    pub name: String,
    pub reason: &'static str,
}

/// Checks one hostname label (RFC 952/1123 as quoted by seed 004).
pub fn validate_label(name: &str) -> Result<(), InvalidName> {
    let bad = |reason| {
        Err(InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 63 {
        return bad("it is longer than 63 characters");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(InvalidName {
            name: name.to_string(),
            reason: match c {
                '_' => "the underscore is not allowed",
                '.' => "a dot is not allowed in a label",
                c if c.is_whitespace() => "whitespace is not allowed",
                _ => "it contains a character other than letters, digits and '-'",
            },
        });
    }
    if name.starts_with('-') || name.ends_with('-') {
        return bad("it starts or ends with '-'");
    }
    Ok(())
}

/// Checks a host name: dot-separated labels, each valid.
pub fn validate_hostname(name: &str) -> Result<(), InvalidName> {
    if name.len() > 253 {
        return Err(InvalidName {
            name: name.to_string(),
            reason: "it is longer than 253 characters",
        });
    }
    for label in name.split('.') {
        validate_label(label).map_err(|e| InvalidName {
            name: name.to_string(),
            reason: e.reason,
        })?;
    }
    Ok(())
}

/// The item called `name` among `items` (`name_of` says what each is called), or `Err` with every
/// name there is, joined by ", ": what an "unknown node" message lists.
pub(crate) fn lookup<'a, T>(
    items: &'a [T],
    name: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a T, String> {
    items
        .iter()
        .find(|t| name_of(t) == name)
        .ok_or_else(|| items.iter().map(&name_of).collect::<Vec<_>>().join(", "))
}

/// A node or cluster name that has passed [`validate_label`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Name {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate_label(s)?;
        Ok(Name(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_by_name_or_lists_the_names() {
        let nodes = [("a", 1), ("b", 2), ("c", 3)];
        assert_eq!(lookup(&nodes, "b", |n| n.0), Ok(&("b", 2)));
        assert_eq!(lookup(&nodes, "x", |n| n.0), Err("a, b, c".to_string()));
        assert_eq!(lookup(&nodes[..0], "a", |n| n.0), Err(String::new()));
    }

    #[test]
    fn labels() {
        for ok in ["node-1", "a", "N0DE", "x".repeat(63).as_str()] {
            assert!(validate_label(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "a b",
            "é",
            "x".repeat(64).as_str(),
        ] {
            assert!(validate_label(bad).is_err(), "{bad}");
        }
        assert!(validate_hostname("vhi-prod-sea.example.com").is_ok());
        assert!(validate_hostname("vhi_prod").is_err());
        assert!(validate_hostname("a..b").is_err());
    }
}
