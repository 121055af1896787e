//! What one ns-slapd says about its replication, read over LDAP as Directory Manager: the
//! replica entry (role, replica id, the identities it accepts updates from, its RUV), the
//! mapping tree (whether it takes client writes), the backend (read-only), and its agreements
//! (pitfall 6: the RUV is read from the replica entry). Not the agreements' `nsds5agmtmaxcsn`:
//! the supplier sets it when it logs a change, not when the consumer takes it (`replayed.rs`).

use std::collections::{BTreeMap, HashSet};

use ldap3::{Scope, SearchEntry};
use serde::Serialize;

use crate::engines::openldap::{LdapError, Session};

/// What a replica is, from `nsDS5ReplicaType` and `nsDS5Flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReplicaKind {
    /// Read-write, logs changes (type 3).
    Supplier,
    /// Read-only, logs changes (type 2, flags 1).
    Hub,
    /// Read-only (type 2, flags 0).
    Consumer,
}

/// One element of a RUV: what the server holds of the changes made on replica `rid`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RuvElement {
    pub(crate) url: String,
    pub(crate) min: Option<String>,
    pub(crate) max: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Replica {
    pub(crate) kind: ReplicaKind,
    pub(crate) rid: u16,
    /// The identities the replica accepts updates from (`nsDS5ReplicaBindDN`), lowercase.
    pub(crate) bind_dns: Vec<String>,
    pub(crate) generation: Option<String>,
    pub(crate) ruv: BTreeMap<u16, RuvElement>,
    /// The replica id of the CSN generator (`nsState`'s first two bytes, little endian): a
    /// demoted server keeps its old id there until a clean restart (pitfall 12).
    pub(crate) state_rid: Option<u16>,
    /// The server runs the replica its entry configures (it reports an RUV). Not so after an
    /// unclean stop soon after a promotion or demotion: `nsState` still held the old replica id
    /// and the next start refused the replica ("Replica id mismatch"), so replication is off and
    /// the writes it takes carry no CSN.
    pub(crate) loaded: bool,
}

impl Replica {
    /// The newest CSN the server holds of replica `rid`'s changes.
    pub(crate) fn max(&self, rid: u16) -> Option<&str> {
        self.ruv.get(&rid).and_then(|e| e.max.as_deref())
    }

    /// The newest CSN it holds of any replica (CSNs start with their time: string order is
    /// CSN order).
    pub(crate) fn newest(&self) -> Option<&str> {
        self.ruv.values().filter_map(|e| e.max.as_deref()).max()
    }
}

/// An agreement of this server (it supplies the server at `host:port`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Agreement {
    pub(crate) cn: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) enabled: bool,
    /// `green`, `amber` or `red`, from `nsds5replicaLastUpdateStatusJSON`.
    pub(crate) state: String,
    pub(crate) status: String,
    /// A total update runs (`nsds5BeginReplicaRefresh` is still there).
    pub(crate) init_running: bool,
    /// A replication session runs (`nsds5replicaUpdateInProgress`): the agreement is sending.
    #[serde(skip)]
    pub(crate) updating: bool,
    pub(crate) init_status: String,
    /// When the last total update ended (`nsds5replicaLastInitEnd`, generalized time;
    /// `19700101000000Z` or empty when none did).
    pub(crate) init_end: String,
    /// `description`: drctl marks the total update a `sync full` run started with it.
    pub(crate) description: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DsState {
    /// None: replication is not enabled for the suffix.
    pub(crate) replica: Option<Replica>,
    /// `nsslapd-state` of the suffix: `backend` takes client writes, `referral on update`
    /// sends them to the supplier.
    pub(crate) mapping_state: String,
    pub(crate) read_only: bool,
    pub(crate) agreements: Vec<Agreement>,
}

impl DsState {
    pub(crate) fn kind(&self) -> Option<ReplicaKind> {
        self.replica.as_ref().map(|r| r.kind)
    }
    pub(crate) fn is_supplier(&self) -> bool {
        self.kind() == Some(ReplicaKind::Supplier)
    }
    pub(crate) fn agreement_to(&self, port: u16) -> Option<&Agreement> {
        self.agreements.iter().find(|a| a.port == port)
    }
}

/// `cn=SUFFIX,cn=mapping tree,cn=config`, the suffix escaped as the server writes it.
pub(crate) fn mapping_tree_dn(suffix: &str) -> String {
    format!(
        "cn={},cn=mapping tree,cn=config",
        suffix
            .replace('\\', "\\5C")
            .replace('=', "\\3D")
            .replace(',', "\\2C")
            .replace('+', "\\2B")
    )
}

pub(crate) fn replica_dn(suffix: &str) -> String {
    format!("cn=replica,{}", mapping_tree_dn(suffix))
}

/// The replication identity of the supplier with replica id `rid`.
pub(crate) fn identity_dn(rid: u16) -> String {
    format!("cn=repl-{rid},cn=config")
}

/// The rid of an identity DN, if it is one of ours.
pub(crate) fn identity_rid(dn: &str) -> Option<u16> {
    dn.strip_prefix("cn=repl-")?
        .strip_suffix(",cn=config")?
        .parse()
        .ok()
}

pub(crate) fn first(e: &SearchEntry, attr: &str) -> Option<String> {
    values(e, attr).into_iter().next()
}

pub(crate) fn values(e: &SearchEntry, attr: &str) -> Vec<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

pub(crate) fn one(v: impl Into<String>) -> HashSet<String> {
    HashSet::from([v.into()])
}

/// The DN of the backend that holds `suffix`.
pub(crate) async fn backend_dn(s: &mut Session, suffix: &str) -> Result<String, LdapError> {
    let found = s
        .search(
            "cn=ldbm database,cn=plugins,cn=config",
            Scope::OneLevel,
            &format!("(nsslapd-suffix={})", ldap3::ldap_escape(suffix)),
            &["1.1"],
        )
        .await?;
    Ok(found
        .into_iter()
        .next()
        .map(|e| e.dn)
        .unwrap_or_else(|| "cn=userroot,cn=ldbm database,cn=plugins,cn=config".into()))
}

/// `{replica 1 ldap://localhost:24001} MIN MAX` (MIN and MAX absent before its first change).
fn ruv_element(v: &str) -> Option<(u16, RuvElement)> {
    let rest = v.strip_prefix("{replica ")?;
    let (head, tail) = rest.split_once('}')?;
    let mut h = head.split_whitespace();
    let rid = h.next()?.parse().ok()?;
    let url = h.next().unwrap_or_default().to_string();
    let mut csns = tail.split_whitespace().map(str::to_string);
    Some((
        rid,
        RuvElement {
            url,
            min: csns.next(),
            max: csns.next(),
        },
    ))
}

/// `nsState`, binary (ldap3 puts a value that is not UTF-8 in `bin_attrs`, one that is in
/// `attrs`).
fn state_bytes(e: &SearchEntry) -> Option<Vec<u8>> {
    let find = |k: &String| k.eq_ignore_ascii_case("nsState");
    e.bin_attrs
        .iter()
        .find(|(k, _)| find(k))
        .and_then(|(_, v)| v.first().cloned())
        .or_else(|| {
            e.attrs
                .iter()
                .find(|(k, _)| find(k))
                .and_then(|(_, v)| v.first().map(|s| s.as_bytes().to_vec()))
        })
}

fn replica_of(e: &SearchEntry) -> Replica {
    let num = |a: &str| first(e, a).and_then(|v| v.trim().parse::<u32>().ok());
    let kind = match (num("nsDS5ReplicaType"), num("nsDS5Flags")) {
        (Some(3), _) => ReplicaKind::Supplier,
        (_, Some(1)) => ReplicaKind::Hub,
        _ => ReplicaKind::Consumer,
    };
    let ruv = values(e, "nsds50ruv");
    Replica {
        kind,
        rid: num("nsDS5ReplicaId").unwrap_or(65535) as u16,
        bind_dns: values(e, "nsDS5ReplicaBindDN")
            .into_iter()
            .map(|d| d.to_ascii_lowercase().replace(", ", ","))
            .collect(),
        generation: ruv
            .iter()
            .find_map(|v| v.strip_prefix("{replicageneration} "))
            .map(str::to_string),
        ruv: ruv.iter().filter_map(|v| ruv_element(v)).collect(),
        state_rid: state_bytes(e)
            .filter(|b| b.len() >= 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]])),
        loaded: !ruv.is_empty(),
    }
}

/// Reads everything the engine judges a server by.
pub(crate) async fn read_state(s: &mut Session, suffix: &str) -> Result<DsState, LdapError> {
    let mt = s.read(&mapping_tree_dn(suffix), &["nsslapd-state"]).await?;
    let be = backend_dn(s, suffix).await?;
    let read_only = s
        .read(&be, &["nsslapd-readonly"])
        .await?
        .and_then(|e| first(&e, "nsslapd-readonly"))
        .is_some_and(|v| v.eq_ignore_ascii_case("on"));
    let rdn = replica_dn(suffix);
    let replica = s
        .read(
            &rdn,
            &[
                "nsDS5ReplicaType",
                "nsDS5Flags",
                "nsDS5ReplicaId",
                "nsDS5ReplicaBindDN",
                "nsds50ruv",
                "nsState",
            ],
        )
        .await?
        .map(|e| replica_of(&e));
    let mut agreements = Vec::new();
    if replica.is_some() {
        for e in s
            .search(
                &rdn,
                Scope::OneLevel,
                "(objectClass=nsds5replicationagreement)",
                &[
                    "cn",
                    "nsDS5ReplicaHost",
                    "nsDS5ReplicaPort",
                    "nsds5ReplicaEnabled",
                    "nsds5replicaLastUpdateStatus",
                    "nsds5replicaLastUpdateStatusJSON",
                    "nsds5replicaUpdateInProgress",
                    "nsds5BeginReplicaRefresh",
                    "nsds5replicaLastInitStatus",
                    "nsds5replicaLastInitEnd",
                    "description",
                ],
            )
            .await?
        {
            let cn = first(&e, "cn").unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(
                &first(&e, "nsds5replicaLastUpdateStatusJSON").unwrap_or_default(),
            )
            .unwrap_or_default();
            agreements.push(Agreement {
                host: first(&e, "nsDS5ReplicaHost").unwrap_or_default(),
                port: first(&e, "nsDS5ReplicaPort")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_default(),
                enabled: !first(&e, "nsds5ReplicaEnabled")
                    .is_some_and(|v| v.eq_ignore_ascii_case("off")),
                state: json["state"].as_str().unwrap_or_default().to_string(),
                status: first(&e, "nsds5replicaLastUpdateStatus").unwrap_or_default(),
                init_running: first(&e, "nsds5BeginReplicaRefresh").is_some(),
                updating: first(&e, "nsds5replicaUpdateInProgress")
                    .is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
                init_status: first(&e, "nsds5replicaLastInitStatus").unwrap_or_default(),
                init_end: first(&e, "nsds5replicaLastInitEnd").unwrap_or_default(),
                description: first(&e, "description").unwrap_or_default(),
                cn,
            });
        }
    }
    Ok(DsState {
        replica,
        mapping_state: mt
            .and_then(|e| first(&e, "nsslapd-state"))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        read_only,
        agreements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruv_elements_and_identities_parse() {
        let (rid, e) = ruv_element(
            "{replica 1 ldap://localhost:24001} 6b0f50b200fd00010000 6b0f50da000300010000",
        )
        .unwrap();
        assert_eq!(rid, 1);
        assert_eq!(e.max.as_deref(), Some("6b0f50da000300010000"));
        let (rid, e) = ruv_element("{replica 2 ldap://localhost:24002}").unwrap();
        assert_eq!((rid, e.max), (2, None));
        assert_eq!(identity_rid(&identity_dn(7)), Some(7));
        assert_eq!(identity_rid("cn=replication manager,cn=config"), None);
        assert_eq!(
            replica_dn("dc=drlab,dc=test"),
            "cn=replica,cn=dc\\3Ddrlab\\2Cdc\\3Dtest,cn=mapping tree,cn=config"
        );
    }
}
