//! `ldap.search|add|modify|delete` (ldap3 over rustls with ring): script any LDAP directory,
//! e.g. AD LDS role seizure (write `fSMORoleOwner`) and metadata cleanup (delete the failed
//! server's `NTDS Settings` subtree with the tree-delete control). Each is idempotent: add skips
//! an entry that exists, modify skips values that already hold, delete skips an entry that is gone.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod, Scope, SearchEntry};
use serde::Serialize;

use super::ctx::RunbookCtx;
use crate::engine::{Check, ProcError};

/// The tree-delete control (AD's LDAP_SERVER_TREE_DELETE_OID).
const TREE_DELETE: &str = "1.2.840.113556.1.4.805";
const NO_SUCH_OBJECT: u32 = 32;

#[derive(Debug, Clone, Serialize)]
pub struct LdapConn {
    pub url: String,
    pub bind_dn: Option<String>,
    pub password_env: Option<String>,
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum LdapOp {
    Search {
        base: String,
        filter: String,
        scope: String,
        attrs: Vec<String>,
        /// Refuse unless the search finds exactly this many entries.
        expect_count: Option<usize>,
    },
    Add {
        dn: String,
        attrs: BTreeMap<String, Vec<String>>,
    },
    Modify {
        dn: String,
        replace: BTreeMap<String, Vec<String>>,
    },
    Delete {
        dn: String,
        tree: bool,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct LdapCall {
    pub conn: LdapConn,
    #[serde(flatten)]
    pub op: LdapOp,
}

/// Values compared as DNs: servers store a DN in their own "pretty" form (`CN=` → `cn=`).
fn norm(values: &HashSet<String>) -> HashSet<String> {
    values
        .iter()
        .map(|v| {
            if v.contains('=') {
                v.split(',')
                    .map(|rdn| rdn.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                v.clone()
            }
        })
        .collect()
}

fn err(what: &str, e: impl std::fmt::Display) -> ProcError {
    ProcError::failed(format!("{what}: {e}"))
}

impl LdapCall {
    pub fn describe(&self) -> String {
        match &self.op {
            LdapOp::Search { base, filter, .. } => {
                format!("ldap search {filter} under {base} on {}", self.conn.url)
            }
            LdapOp::Add { dn, .. } => format!("ldap add {dn} on {}", self.conn.url),
            LdapOp::Modify { dn, replace } => format!(
                "ldap modify {dn} ({}) on {}",
                replace.keys().cloned().collect::<Vec<_>>().join(", "),
                self.conn.url
            ),
            LdapOp::Delete { dn, tree } => format!(
                "ldap delete {dn}{} on {}",
                if *tree { " and its subtree" } else { "" },
                self.conn.url
            ),
        }
    }

    pub fn changes(&self) -> bool {
        !matches!(self.op, LdapOp::Search { .. })
    }

    async fn connect(&self, cx: &RunbookCtx) -> Result<Ldap, ProcError> {
        let mut settings = LdapConnSettings::new().set_conn_timeout(cx.cluster.step_timeout);
        if let Some(ca) = &self.conn.ca {
            let trust = crate::util::tls::Trust {
                ca: Some(ca.clone()),
                trust_dir: None,
            };
            let config = crate::util::tls::client_config(&trust)
                .map_err(|e| ProcError::usage(e.to_string()))?;
            settings = settings.set_config(Arc::new(config));
        }
        let url = &self.conn.url;
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, url)
            .await
            .map_err(|e| err(&format!("connect to {url}"), e))?;
        tokio::spawn(async move {
            let _ = conn.drive().await;
        });
        ldap.with_timeout(cx.cluster.step_timeout);
        if let Some(dn) = &self.conn.bind_dn {
            let pw = match &self.conn.password_env {
                Some(var) => std::env::var(var).map_err(|_| {
                    ProcError::usage(format!("the bind password variable {var} is not set"))
                })?,
                None => String::new(),
            };
            crate::util::redact::register(&pw);
            ldap.simple_bind(dn, &pw)
                .await
                .and_then(|r| r.success())
                .map_err(|e| err(&format!("bind as {dn}"), e))?;
        }
        Ok(ldap)
    }

    /// The entry's attributes, or None if it does not exist.
    async fn read(
        ldap: &mut Ldap,
        dn: &str,
        attrs: Vec<&str>,
    ) -> Result<Option<SearchEntry>, ProcError> {
        match ldap.search(dn, Scope::Base, "(objectClass=*)", attrs).await {
            Ok(r) if r.1.rc == NO_SUCH_OBJECT => Ok(None),
            Ok(r) => {
                let (entries, _) = r.success().map_err(|e| err(&format!("read {dn}"), e))?;
                Ok(entries.into_iter().next().map(SearchEntry::construct))
            }
            Err(e) => Err(err(&format!("read {dn}"), e)),
        }
    }

    /// Whether the change is already in place.
    async fn done(&self, ldap: &mut Ldap) -> Result<Option<String>, ProcError> {
        Ok(match &self.op {
            LdapOp::Search { .. } => unreachable!("a search is read in check"),
            LdapOp::Add { dn, .. } => Self::read(ldap, dn, vec!["1.1"])
                .await?
                .map(|_| format!("{dn} exists")),
            LdapOp::Delete { dn, .. } => match Self::read(ldap, dn, vec!["1.1"]).await? {
                None => Some(format!("{dn} does not exist")),
                Some(_) => None,
            },
            LdapOp::Modify { dn, replace } => {
                let names: Vec<&str> = replace.keys().map(String::as_str).collect();
                let entry = Self::read(ldap, dn, names)
                    .await?
                    .ok_or_else(|| ProcError::refused(format!("{dn} does not exist")))?;
                let holds = replace.iter().all(|(k, want)| {
                    let have: HashSet<String> = entry
                        .attrs
                        .iter()
                        .find(|(a, _)| a.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.iter().cloned().collect())
                        .unwrap_or_default();
                    let want: HashSet<String> = want.iter().cloned().collect();
                    have == want || norm(&have) == norm(&want)
                });
                holds.then(|| format!("{dn} already holds those values"))
            }
        })
    }

    /// A search reads, outputs `count` and `dn`, and refuses when `expect_count` does not hold.
    async fn search(&self, cx: &RunbookCtx, ldap: &mut Ldap) -> Result<String, ProcError> {
        let LdapOp::Search {
            base,
            filter,
            scope,
            attrs,
            expect_count,
        } = &self.op
        else {
            unreachable!("called for searches")
        };
        let scope = match scope.as_str() {
            "base" => Scope::Base,
            "one" => Scope::OneLevel,
            _ => Scope::Subtree,
        };
        let entries: Vec<SearchEntry> = match ldap.search(base, scope, filter, attrs.clone()).await
        {
            Ok(r) if r.1.rc == NO_SUCH_OBJECT => Vec::new(),
            Ok(r) => r
                .success()
                .map_err(|e| err(&format!("search {base}"), e))?
                .0
                .into_iter()
                .map(SearchEntry::construct)
                .collect(),
            Err(e) => return Err(err(&format!("search {base}"), e)),
        };
        cx.output("count", entries.len().to_string());
        cx.output(
            "dn",
            entries.first().map(|e| e.dn.clone()).unwrap_or_default(),
        );
        let found = format!(
            "{} entr{} for {filter} under {base}",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" }
        );
        match expect_count {
            Some(n) if *n != entries.len() => Err(ProcError::refused(format!(
                "expected {n} entr{}, found {found}",
                if *n == 1 { "y" } else { "ies" }
            ))
            .unchanged()),
            _ => Ok(found),
        }
    }

    pub async fn check(&self, cx: &RunbookCtx) -> Result<Check, ProcError> {
        let mut ldap = self.connect(cx).await?;
        if let LdapOp::Search { .. } = self.op {
            let found = self.search(cx, &mut ldap).await;
            let _ = ldap.unbind().await;
            return Ok(Check::Done(found?));
        }
        let done = self.done(&mut ldap).await;
        let _ = ldap.unbind().await;
        Ok(match done? {
            Some(why) => Check::Done(why),
            None => Check::ToDo,
        })
    }

    pub async fn apply(&self, cx: &RunbookCtx) -> Result<Option<String>, ProcError> {
        let mut ldap = self.connect(cx).await?;
        let set = |v: &Vec<String>| v.iter().cloned().collect::<HashSet<String>>();
        let note = match &self.op {
            LdapOp::Search { .. } => None,
            LdapOp::Add { dn, attrs } => {
                let attrs: Vec<(String, HashSet<String>)> =
                    attrs.iter().map(|(k, v)| (k.clone(), set(v))).collect();
                ldap.add(dn, attrs)
                    .await
                    .and_then(|r| r.success())
                    .map_err(|e| err(&format!("add {dn}"), e))?;
                None
            }
            LdapOp::Modify { dn, replace } => {
                let mods: Vec<Mod<String>> = replace
                    .iter()
                    .map(|(k, v)| Mod::Replace(k.clone(), set(v)))
                    .collect();
                ldap.modify(dn, mods)
                    .await
                    .and_then(|r| r.success())
                    .map_err(|e| err(&format!("modify {dn}"), e))?;
                None
            }
            LdapOp::Delete { dn, tree } => {
                if *tree {
                    ldap.with_controls(RawControl {
                        ctype: TREE_DELETE.into(),
                        // Non-critical: a server without it (OpenLDAP) deletes a leaf and
                        // refuses a subtree, instead of refusing every delete.
                        crit: false,
                        val: None,
                    });
                }
                ldap.delete(dn)
                    .await
                    .and_then(|r| r.success())
                    .map_err(|e| err(&format!("delete {dn}"), e))?;
                None
            }
        };
        let _ = ldap.unbind().await;
        Ok(note)
    }

    pub async fn verify(&self, cx: &RunbookCtx) -> Result<Option<String>, ProcError> {
        if !self.changes() {
            return Ok(None);
        }
        match self.check(cx).await? {
            Check::Done(_) => Ok(None),
            Check::ToDo => Err(ProcError::failed(format!(
                "{}: the directory does not show the change",
                self.describe()
            ))),
        }
    }
}
