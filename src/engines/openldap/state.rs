//! What one slapd says about its replication: from `cn=config` (serverID, syncrepl, syncprov,
//! limits), the suffix (contextCSN, every entryCSN: effective CSN and fingerprint) and
//! `cn=Monitor` (is the syncrepl link connected).

use std::collections::BTreeMap;

use ldap3::Scope;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::client::{first, values, LdapError, Session};
use super::csn::{fold, CsnMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LdapRole {
    /// syncprov, no olcSyncrepl.
    Provider,
    /// olcSyncrepl: follows the provider it names.
    Consumer,
    /// olcMultiProvider / olcMirrorMode with olcSyncrepl.
    MultiProvider,
    /// Neither syncprov nor olcSyncrepl: does not replicate.
    Standalone,
}

impl std::fmt::Display for LdapRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LdapRole::Provider => "provider",
            LdapRole::Consumer => "consumer",
            LdapRole::MultiProvider => "multi-provider",
            LdapRole::Standalone => "standalone",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeState {
    pub server_id: u32,
    pub role: LdapRole,
    /// The DN of the suffix's database in cn=config, e.g. `olcDatabase={1}mdb,cn=config`.
    pub db_dn: String,
    /// `provider=` of each olcSyncrepl.
    pub provider_urls: Vec<String>,
    /// olcSyncrepl values as stored (they hold credentials: never printed).
    #[serde(skip)]
    pub syncrepl: Vec<String>,
    pub update_ref: Vec<String>,
    pub read_only: bool,
    /// entryCSN of the database's cn=config entry: when its configuration last changed (a
    /// promotion deletes olcSyncrepl there, so among providers the newest is the last promoted).
    pub config_csn: Option<String>,
    /// The syncprov overlay's DN and olcSpCheckpoint, if the overlay is configured.
    pub syncprov: Option<(String, Option<String>)>,
    pub limits: Vec<String>,
    pub context_csn: Vec<String>,
    /// Per SID: max(contextCSN, newest entryCSN stored).
    pub csn: CsnMap,
    /// Consumers: is some syncrepl link connected (cn=Monitor olmSRConnection)?
    pub link_up: Option<bool>,
    pub entries: usize,
    pub fingerprint: String,
    /// Each entry's DN (lower case) and entryCSN, as the fingerprint hashes them: which entries
    /// two servers at equal CSNs disagree on (syncrepl does not resend what a consumer missed
    /// below its cookie, so equal CSNs do not prove equal data).
    #[serde(skip)]
    pub entry_csns: BTreeMap<String, String>,
    #[serde(skip)]
    pub pid_file: Option<String>,
    #[serde(skip)]
    pub args_file: Option<String>,
}

impl NodeState {
    /// At equal CSNs, other data: syncrepl's cookie says the node holds everything, so what it
    /// missed (or kept) is never resent. Only a reseed mends it. Both read with a scan.
    pub fn same_csns_other_data(&self, other: &NodeState) -> bool {
        super::csn::classify(&self.csn, &other.csn) == super::csn::Position::InSync
            && self.fingerprint != other.fingerprint
    }
}

/// The value of `key=` in an olcSyncrepl value (quotes removed).
pub(super) fn syncrepl_param(value: &str, key: &str) -> Option<String> {
    let mut rest = value;
    while let Some(i) = rest.find(&format!("{key}=")) {
        let before_ok = i == 0 || rest[..i].ends_with([' ', '}', '\t']);
        let v = &rest[i + key.len() + 1..];
        if before_ok {
            return Some(if let Some(q) = v.strip_prefix('"') {
                q.split('"').next().unwrap_or_default().to_string()
            } else {
                v.split_whitespace().next().unwrap_or_default().to_string()
            });
        }
        rest = v;
    }
    None
}

fn parse_server_id(v: &str) -> u32 {
    let t = v.split_whitespace().next().unwrap_or("0");
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).unwrap_or(0),
        None => t.parse().unwrap_or(0),
    }
}

/// Reads everything drctl needs from one bound session; without `scan`, only the configuration
/// and contextCSN (no entry count, effective CSN or fingerprint: those read every entry).
pub(super) async fn read_state(
    s: &mut Session,
    suffix: &str,
    scan: bool,
) -> Result<NodeState, LdapError> {
    let cfg = s
        .read("cn=config", &["olcServerID", "olcPidFile", "olcArgsFile"])
        .await?;
    let server_id = cfg
        .as_ref()
        .and_then(|e| first(e, "olcServerID"))
        .map(|v| parse_server_id(&v))
        .unwrap_or(0);
    let filter = format!("(olcSuffix={suffix})");
    let attrs = [
        "olcSyncrepl",
        "olcUpdateRef",
        "olcReadOnly",
        "olcLimits",
        "olcMultiProvider",
        "olcMirrorMode",
        "entryCSN",
    ];
    let db = s
        .search("cn=config", Scope::OneLevel, &filter, &attrs)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| LdapError::Op {
            node: String::new(),
            what: "find the database".into(),
            detail: format!("no database in cn=config serves {suffix}"),
        })?;
    let syncrepl = values(&db, "olcSyncrepl");
    let multi = ["olcMultiProvider", "olcMirrorMode"]
        .iter()
        .any(|a| first(&db, a).is_some_and(|v| v.eq_ignore_ascii_case("TRUE")));
    let overlay = s
        .search(
            &db.dn,
            Scope::OneLevel,
            "(objectClass=olcSyncProvConfig)",
            &["olcSpCheckpoint"],
        )
        .await?
        .into_iter()
        .next()
        .map(|e| (e.dn.clone(), first(&e, "olcSpCheckpoint")));
    let role = match (syncrepl.is_empty(), multi, overlay.is_some()) {
        (false, true, _) => LdapRole::MultiProvider,
        (false, false, _) => LdapRole::Consumer,
        (true, _, true) => LdapRole::Provider,
        (true, _, false) => LdapRole::Standalone,
    };
    let all = if scan {
        s.search(suffix, Scope::Subtree, "(objectClass=*)", &["entryCSN"])
            .await?
    } else {
        Vec::new()
    };
    // contextCSN after the entries: a change the scan saw is in it, so a delete racing the probe
    // reads as a CSN ahead, never as equal CSNs with other data.
    let context_csn = s
        .read(suffix, &["contextCSN"])
        .await?
        .map(|e| values(&e, "contextCSN"))
        .unwrap_or_default();
    let mut csn = CsnMap::new();
    fold(&mut csn, &context_csn);
    let mut entry_csns = BTreeMap::new();
    for e in &all {
        let c = values(e, "entryCSN");
        fold(&mut csn, &c);
        entry_csns.insert(
            e.dn.to_ascii_lowercase(),
            c.first().cloned().unwrap_or_default(),
        );
    }
    let mut lines: Vec<String> = entry_csns
        .iter()
        .map(|(dn, c)| format!("{dn} {c}"))
        .collect();
    lines.sort();
    let fingerprint = hex::encode(&Sha256::digest(lines.join("\n").as_bytes())[..8]);
    let link_up = if syncrepl.is_empty() {
        None
    } else {
        let mon = s
            .search(
                "cn=Monitor",
                Scope::Subtree,
                "(objectClass=olmSyncReplInstance)",
                &["olmSRConnection"],
            )
            .await
            .unwrap_or_default();
        Some(mon.iter().any(|e| {
            values(e, "olmSRConnection")
                .iter()
                .any(|v| v.starts_with("IP="))
        }))
    };
    Ok(NodeState {
        server_id,
        role,
        db_dn: db.dn.clone(),
        provider_urls: syncrepl
            .iter()
            .filter_map(|v| syncrepl_param(v, "provider"))
            .map(|u| u.trim_end_matches('/').to_string())
            .collect(),
        syncrepl,
        update_ref: values(&db, "olcUpdateRef"),
        read_only: first(&db, "olcReadOnly").is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
        config_csn: first(&db, "entryCSN"),
        syncprov: overlay,
        limits: values(&db, "olcLimits"),
        context_csn,
        csn,
        link_up,
        entries: all.len(),
        fingerprint,
        entry_csns,
        pid_file: cfg.as_ref().and_then(|e| first(e, "olcPidFile")),
        args_file: cfg.as_ref().and_then(|e| first(e, "olcArgsFile")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncrepl_params() {
        let v = r#"{0}rid=001 provider=ldap://127.0.0.1:3891 binddn="cn=replicator,dc=x" credentials=s searchbase="dc=x""#;
        assert_eq!(syncrepl_param(v, "rid").as_deref(), Some("001"));
        assert_eq!(
            syncrepl_param(v, "provider").as_deref(),
            Some("ldap://127.0.0.1:3891")
        );
        assert_eq!(
            syncrepl_param(v, "binddn").as_deref(),
            Some("cn=replicator,dc=x")
        );
        assert_eq!(parse_server_id("0x0b"), 11);
    }
}
