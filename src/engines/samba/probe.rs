//! What one DC says about the domain, read over LDAP: who it is (rootDSE `dsServiceName`), who
//! holds each of the 7 FSMO roles in its copy (`fSMORoleOwner` of the 7 role objects), and which
//! DCs the domain has (its nTDSDSA objects). Every error names the DC and what was being done.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use serde::Serialize;

use super::{Access, DcNode};

/// The 7 operation-master roles, as `samba-tool fsmo` names them.
pub(crate) const ROLES: [&str; 7] = [
    "schema",
    "naming",
    "pdc",
    "rid",
    "infrastructure",
    "domaindns",
    "forestdns",
];

/// Why a DC gave no view: it is silent (a refused or unanswered connection: it may be dead),
/// or it answered but could not be read (a refused bind, a certificate drctl does not trust):
/// such a DC is up, and its roles must not be seized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProbeError {
    Silent(String),
    Answered(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::Silent(m) | ProbeError::Answered(m) => f.write_str(m),
        }
    }
}

/// One DC's answer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DcView {
    /// The DC that answered (the CN of the server object above its NTDS Settings).
    pub(crate) dsa: String,
    /// Each role's holder in this DC's copy (a DC name; None when unreadable).
    pub(crate) roles: BTreeMap<&'static str, Option<String>>,
    /// The DCs of the domain (nTDSDSA objects), lower-case, sorted.
    pub(crate) dcs: Vec<String>,
    /// The naming context each role's object is in (what a replication of that role pulls).
    #[serde(skip)]
    pub(crate) ncs: BTreeMap<&'static str, String>,
    /// Each DC's NTDS Settings objectGUID (what replication names it by).
    pub(crate) guids: BTreeMap<String, String>,
    /// Each DC's server object (the parent of its NTDS Settings), by DC name.
    #[serde(skip)]
    pub(crate) servers: BTreeMap<String, String>,
    /// Every NTDS Settings object, as (DC name, DN, objectGUID): two for one name when a
    /// replication name conflict or a join that stopped part-way left one more.
    #[serde(skip)]
    pub(crate) dsas: Vec<(String, String, Option<String>)>,
    /// The objectGUIDs of the NTDS Settings objects this DC's copy holds deleted (a metadata
    /// cleanup's tombstones, kept for the tombstone lifetime: 180 days).
    pub(crate) deleted: Vec<String>,
    /// Its inbound replication per naming context and partner (`repsFrom`).
    pub(crate) reps: Vec<super::reps::Rep>,
}

impl DcView {
    /// The roles of `roles` this DC's copy does not give to `dc`.
    pub(crate) fn not_held_by<'a>(&self, roles: &'a [String], dc: &str) -> Vec<&'a String> {
        roles
            .iter()
            .filter(|r| {
                self.roles
                    .get(r.as_str())
                    .cloned()
                    .flatten()
                    .is_none_or(|h| !h.eq_ignore_ascii_case(dc))
            })
            .collect()
    }

    /// The 5 naming contexts every DC of the domain holds.
    pub(crate) fn all_ncs(&self) -> Vec<String> {
        let mut v: Vec<String> = self.ncs.values().cloned().collect();
        v.sort();
        v.dedup();
        v
    }
}

fn attr(e: &SearchEntry, name: &str) -> Option<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
}

/// `CN=NTDS Settings,CN=DC1,CN=Servers,…` → `dc1` (the server object's CN, lower-case).
pub(crate) fn server_of(dsa_dn: &str) -> Option<String> {
    let mut rdns = dsa_dn.split(',');
    let first = rdns.next()?;
    if !first
        .trim()
        .to_ascii_lowercase()
        .starts_with("cn=ntds settings")
    {
        return None;
    }
    let server = rdns.next()?.trim();
    let (k, v) = server.split_once('=')?;
    k.eq_ignore_ascii_case("cn")
        .then(|| v.trim().to_ascii_lowercase())
}

/// `dc1\0acnf:800c…` (a server object renamed by a replication name conflict, as
/// `server_of` gives it) → `dc1`.
pub(crate) fn conflict_of(name: &str) -> Option<&str> {
    let (base, rest) = name.split_once('\\')?;
    rest.to_ascii_lowercase()
        .starts_with("0acnf:")
        .then_some(base)
}

/// The objects under `nc` named `DC\0ACNF:…` (renamed by a replication name conflict), live
/// ones only, none under another of them.
pub(crate) async fn conflicted(
    n: &DcNode,
    timeout: Duration,
    nc: &str,
    dc: &str,
) -> Result<Vec<String>, ProbeError> {
    let mut ldap = connect(n, timeout).await?;
    let filter = format!("(name={}\\0ACNF:*)", ldap3::ldap_escape(dc));
    let r = search(&mut ldap, timeout, nc, Scope::Subtree, &filter, &["name"]).await;
    let _ = ldap.unbind().await;
    let mut dns: Vec<String> = r?.into_iter().map(|e| e.dn).collect();
    dns.sort_by_key(|d| d.len());
    let mut out: Vec<String> = Vec::new();
    for dn in dns {
        let lower = dn.to_ascii_lowercase();
        if !out
            .iter()
            .any(|p| lower.ends_with(&format!(",{}", p.to_ascii_lowercase())))
        {
            out.push(dn);
        }
    }
    Ok(out)
}

/// The entry `dn` on `n` with `attrs` (one connection), None where it does not exist.
async fn read_entry(
    n: &DcNode,
    timeout: Duration,
    dn: &str,
    attrs: &[&str],
) -> Result<Option<SearchEntry>, ProbeError> {
    let mut ldap = connect(n, timeout).await?;
    let r = search(
        &mut ldap,
        timeout,
        dn,
        Scope::Base,
        "(objectClass=*)",
        attrs,
    )
    .await;
    let _ = ldap.unbind().await;
    Ok(r?.into_iter().next())
}

/// The computer account the server object `server` names (`serverReference`).
pub(crate) async fn server_reference(
    n: &DcNode,
    timeout: Duration,
    server: &str,
) -> Result<Option<String>, ProbeError> {
    let e = read_entry(n, timeout, server, &["serverReference"]).await?;
    Ok(e.and_then(|e| attr(&e, "serverReference")))
}

/// Deletes `dn` and everything under it (the tree-delete control, 1.2.840.113556.1.4.805).
pub(crate) async fn delete_tree(n: &DcNode, timeout: Duration, dn: &str) -> Result<(), ProbeError> {
    let mut ldap = connect(n, timeout).await?;
    let r = ldap
        .with_controls(ldap3::controls::RawControl {
            ctype: "1.2.840.113556.1.4.805".into(),
            crit: true,
            val: None,
        })
        .with_timeout(timeout)
        .delete(dn)
        .await;
    let _ = ldap.unbind().await;
    match r {
        Err(e) => Err(ProbeError::Silent(format!("no answer ({e})"))),
        // Gone already (deleted on another DC, replicated in).
        Ok(r) if r.rc == 32 => Ok(()),
        Ok(r) => r
            .success()
            .map(|_| ())
            .map_err(|e| ProbeError::Answered(e.to_string())),
    }
}

pub(crate) async fn connect(n: &DcNode, timeout: Duration) -> Result<Ldap, ProbeError> {
    let mut settings = LdapConnSettings::new().set_conn_timeout(timeout);
    let url = match &n.access {
        Access::Ldapi { socket } => {
            format!(
                "ldapi://{}",
                socket.display().to_string().replace('/', "%2F")
            )
        }
        Access::Ldaps {
            url,
            ca_file,
            danger_accept_invalid_certs,
            ..
        } => {
            if *danger_accept_invalid_certs {
                settings = settings.set_no_tls_verify(true);
            } else if let Some(ca) = ca_file {
                let trust = crate::util::tls::Trust {
                    ca: Some(ca.clone()),
                    trust_dir: None,
                };
                let config = crate::util::tls::client_config(&trust)
                    .map_err(|e| ProbeError::Answered(format!("ca_file: {e}")))?;
                settings = settings.set_config(Arc::new(config));
            }
            url.clone()
        }
    };
    // A busy samba whose ldapi listen queue is full refuses a connect at once with EAGAIN
    // ("Resource temporarily unavailable"): not silence, a moment's load. Asked again, backing
    // off, within the connect timeout (the samba-rejoin-dc drill failed CI once on it).
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(20);
    let connected = loop {
        match LdapConnAsync::with_settings(settings.clone(), &url).await {
            Err(ldap3::LdapError::Io { source })
                if source.kind() == std::io::ErrorKind::WouldBlock
                    && started.elapsed() + pause < timeout =>
            {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => break other,
        }
    };
    let (conn, mut ldap) = connected.map_err(|e| {
        let e = e.to_string();
        // A TLS handshake that failed on the certificate is an answer from a live DC.
        if e.contains("certificate") {
            let hint = if e.contains("subjectAltName") {
                " (Samba's autogenerated certificate names no host: give the DC a \
                     certificate for its host name, or danger_accept_invalid_certs in a lab)"
            } else {
                ""
            };
            ProbeError::Answered(format!("TLS with {url}: {e}{hint}"))
        } else {
            ProbeError::Silent(format!("cannot connect to {url}: {e}"))
        }
    })?;
    ldap3::drive!(conn);
    // A DC that accepts the connection but never answers (paused) costs this one timeout.
    ldap.with_timeout(timeout);
    if let Access::Ldaps {
        bind_dn, password, ..
    } = &n.access
    {
        let r = ldap
            .simple_bind(bind_dn, password.expose())
            .await
            .map_err(|e| ProbeError::Silent(format!("bind as {bind_dn}: no answer ({e})")))?;
        r.success()
            .map_err(|e| ProbeError::Answered(format!("bind as {bind_dn}: {e}")))?;
    }
    Ok(ldap)
}

pub(crate) async fn search(
    ldap: &mut Ldap,
    timeout: Duration,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
) -> Result<Vec<SearchEntry>, ProbeError> {
    search_with(ldap, timeout, base, scope, filter, attrs, Vec::new()).await
}

/// `search` with request controls.
async fn search_with(
    ldap: &mut Ldap,
    timeout: Duration,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
    controls: Vec<ldap3::controls::RawControl>,
) -> Result<Vec<SearchEntry>, ProbeError> {
    let what = format!("search {base}");
    if !controls.is_empty() {
        ldap.with_controls(controls);
    }
    let r = ldap
        .with_timeout(timeout)
        .search(base, scope, filter, attrs.to_vec())
        .await
        .map_err(|e| ProbeError::Silent(format!("{what}: no answer ({e})")))?;
    if r.1.rc == 32 {
        return Ok(Vec::new());
    }
    let (entries, _) = r
        .success()
        .map_err(|e| ProbeError::Answered(format!("{what}: {e}")))?;
    Ok(entries.into_iter().map(SearchEntry::construct).collect())
}

/// Reads one DC; an error says why it does not answer.
pub(crate) async fn probe(n: &DcNode, timeout: Duration) -> Result<DcView, ProbeError> {
    let mut ldap = connect(n, timeout).await?;
    let view = read(&mut ldap, timeout).await;
    let _ = ldap.unbind().await;
    view
}

/// The naming contexts and the server a DC's rootDSE names.
struct RootDse {
    service: String,
    domain: String,
    config: String,
    schema: String,
    forest: String,
}

async fn root_dse(ldap: &mut Ldap, timeout: Duration) -> Result<RootDse, ProbeError> {
    let bad = |m: String| ProbeError::Answered(m);
    let root = search(
        ldap,
        timeout,
        "",
        Scope::Base,
        "(objectClass=*)",
        &[
            "dsServiceName",
            "defaultNamingContext",
            "configurationNamingContext",
            "schemaNamingContext",
            "rootDomainNamingContext",
        ],
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| bad("the rootDSE is empty".into()))?;
    let get = |a: &str| attr(&root, a).ok_or_else(|| bad(format!("the rootDSE has no {a}")));
    let domain = get("defaultNamingContext")?;
    Ok(RootDse {
        service: get("dsServiceName")?,
        config: get("configurationNamingContext")?,
        schema: get("schemaNamingContext")?,
        forest: attr(&root, "rootDomainNamingContext").unwrap_or_else(|| domain.clone()),
        domain,
    })
}

/// The domain naming context a DC's rootDSE names (`DC=sdc,DC=test`).
pub(crate) async fn domain_dn(ldap: &mut Ldap, timeout: Duration) -> Result<String, ProbeError> {
    Ok(root_dse(ldap, timeout).await?.domain)
}

async fn read(ldap: &mut Ldap, timeout: Duration) -> Result<DcView, ProbeError> {
    let RootDse {
        service,
        domain,
        config,
        schema,
        forest,
    } = root_dse(ldap, timeout).await?;
    let dsa = server_of(&service).ok_or_else(|| {
        ProbeError::Answered(format!(
            "dsServiceName '{service}' is not an NTDS Settings object"
        ))
    })?;
    let objects = [
        schema.clone(),
        format!("CN=Partitions,{config}"),
        domain.clone(),
        format!("CN=RID Manager$,CN=System,{domain}"),
        format!("CN=Infrastructure,{domain}"),
        format!("CN=Infrastructure,DC=DomainDnsZones,{domain}"),
        format!("CN=Infrastructure,DC=ForestDnsZones,{forest}"),
    ];
    let ncs: BTreeMap<&'static str, String> = ROLES
        .into_iter()
        .zip([
            schema.clone(),
            config.clone(),
            domain.clone(),
            domain.clone(),
            domain.clone(),
            format!("DC=DomainDnsZones,{domain}"),
            format!("DC=ForestDnsZones,{forest}"),
        ])
        .collect();
    let mut roles = BTreeMap::new();
    for (role, dn) in ROLES.into_iter().zip(objects) {
        let e = search(
            ldap,
            timeout,
            &dn,
            Scope::Base,
            "(objectClass=*)",
            &["fSMORoleOwner"],
        )
        .await?;
        let owner = e
            .first()
            .and_then(|e| attr(e, "fSMORoleOwner"))
            .map(|o| server_of(&o).unwrap_or(o));
        roles.insert(role, owner);
    }
    let mut guids = BTreeMap::new();
    let mut servers = BTreeMap::new();
    let mut dcs: Vec<String> = Vec::new();
    let mut dsas = Vec::new();
    for e in search(
        ldap,
        timeout,
        &config,
        Scope::Subtree,
        "(objectClass=nTDSDSA)",
        &["objectGUID"],
    )
    .await?
    {
        let Some(dc) = server_of(&e.dn) else { continue };
        let guid = bin_attr(&e, "objectGUID").and_then(super::reps::guid);
        if let Some(g) = &guid {
            guids.insert(dc.clone(), g.clone());
        }
        dsas.push((dc.clone(), e.dn.clone(), guid));
        if let Some((_, server)) = e.dn.split_once(',') {
            servers.insert(dc.clone(), server.trim().to_string());
        }
        dcs.push(dc);
    }
    dcs.sort();
    dcs.dedup();
    let deleted = deleted_dsas(ldap, timeout, &config).await?;
    let mut nc_list: Vec<&String> = ncs.values().collect();
    nc_list.sort();
    nc_list.dedup();
    let mut reps = Vec::new();
    for nc in nc_list {
        for e in search(
            ldap,
            timeout,
            nc,
            Scope::Base,
            "(objectClass=*)",
            &["repsFrom"],
        )
        .await?
        {
            for v in bin_values(&e, "repsFrom") {
                if let Some(mut r) = super::reps::parse(nc, v) {
                    if let Some((dc, _)) = guids.iter().find(|(_, g)| **g == r.from) {
                        r.from = dc.clone();
                    }
                    reps.push(r);
                }
            }
        }
    }
    Ok(DcView {
        dsa,
        roles,
        dcs,
        ncs,
        guids,
        servers,
        dsas,
        deleted,
        reps,
    })
}

/// The objectGUIDs of the deleted NTDS Settings objects under `config` (the show-deleted
/// control, 1.2.840.113556.1.4.417).
async fn deleted_dsas(
    ldap: &mut Ldap,
    timeout: Duration,
    config: &str,
) -> Result<Vec<String>, ProbeError> {
    let show_deleted = ldap3::controls::RawControl {
        ctype: "1.2.840.113556.1.4.417".into(),
        crit: true,
        val: None,
    };
    let filter = "(&(objectClass=nTDSDSA)(isDeleted=TRUE))";
    let entries = search_with(
        ldap,
        timeout,
        config,
        Scope::Subtree,
        filter,
        &["objectGUID"],
        vec![show_deleted],
    )
    .await?;
    let mut out: Vec<String> = entries
        .iter()
        .filter_map(|e| bin_attr(e, "objectGUID").and_then(super::reps::guid))
        .collect();
    out.sort();
    Ok(out)
}

/// The DC's own clock (rootDSE `currentTime`), in unix seconds.
pub(crate) async fn current_time(n: &DcNode, timeout: Duration) -> Result<i64, ProbeError> {
    let t = read_entry(n, timeout, "", &["currentTime"])
        .await?
        .and_then(|e| attr(&e, "currentTime"))
        .ok_or_else(|| ProbeError::Answered("the rootDSE has no currentTime".into()))?;
    generalized_time(&t)
        .ok_or_else(|| ProbeError::Answered(format!("currentTime '{t}' is not a time")))
}

/// `20261204145304.0Z` → unix seconds.
fn generalized_time(t: &str) -> Option<i64> {
    let digits = t.get(..14)?;
    let f = time::macros::format_description!("[year][month][day][hour][minute][second]");
    let dt = time::PrimitiveDateTime::parse(digits, f).ok()?;
    Some(dt.assume_utc().unix_timestamp())
}

/// The highest USN of the DSA `invocation` that `n` took in `nc` (its `replUpToDateVector`).
pub(crate) async fn utd_of(
    n: &DcNode,
    timeout: Duration,
    nc: &str,
    invocation: &str,
) -> Result<Option<u64>, ProbeError> {
    let e = read_entry(n, timeout, nc, &["replUpToDateVector"]).await?;
    Ok(e.as_ref()
        .and_then(|e| bin_attr(e, "replUpToDateVector"))
        .and_then(|b| super::reps::utd_usn(b, invocation)))
}

/// The values of a binary attribute (ldap3 puts values that are not UTF-8 there).
fn bin_values<'a>(e: &'a SearchEntry, name: &str) -> Vec<&'a [u8]> {
    let bin = e
        .bin_attrs
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.iter().map(Vec::as_slice));
    let text = e
        .attrs
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.iter().map(String::as_bytes));
    bin.chain(text).collect()
}

fn bin_attr<'a>(e: &'a SearchEntry, name: &str) -> Option<&'a [u8]> {
    bin_values(e, name).into_iter().next()
}

/// What one DC still has of the DC `dc` (removed by a metadata cleanup): its computer account,
/// its server object (with its NTDS Settings) and its DNS host record (a cleanup tombstones
/// it), each named by its DN.
pub(crate) async fn leftovers(
    n: &DcNode,
    timeout: Duration,
    dc: &str,
) -> Result<Vec<String>, ProbeError> {
    let mut ldap = connect(n, timeout).await?;
    let found = leftovers_in(&mut ldap, timeout, dc).await;
    let _ = ldap.unbind().await;
    found
}

async fn leftovers_in(
    ldap: &mut Ldap,
    timeout: Duration,
    dc: &str,
) -> Result<Vec<String>, ProbeError> {
    let RootDse { domain, config, .. } = root_dse(ldap, timeout).await?;
    // The name as an LDAP filter value (a DC name has no special characters; escaped anyway).
    let name = ldap3::ldap_escape(dc);
    let wanted = [
        (
            domain.clone(),
            format!("(&(objectClass=computer)(cn={name}))"),
        ),
        (config, format!("(&(objectClass=server)(cn={name}))")),
        (
            format!("DC=DomainDnsZones,{domain}"),
            format!("(&(objectClass=dnsNode)(name={name})(!(dNSTombstoned=TRUE)))"),
        ),
    ];
    let mut out = Vec::new();
    for (base, filter) in wanted {
        for e in search(ldap, timeout, &base, Scope::Subtree, &filter, &["1.1"]).await? {
            out.push(e.dn);
        }
    }
    Ok(out)
}

/// The host names the PDC's SRV record (`_ldap._tcp.pdc._msdcs.REALM`, in ForestDnsZones)
/// points at, as `n` has it; empty when it has none or it is tombstoned (a metadata cleanup
/// tombstones it, and only `samba_dnsupdate` makes it again: P16).
pub(crate) async fn pdc_srv(n: &DcNode, timeout: Duration) -> Result<Vec<String>, ProbeError> {
    let mut ldap = connect(n, timeout).await?;
    let found = pdc_srv_in(&mut ldap, timeout, &n.realm.to_ascii_lowercase()).await;
    let _ = ldap.unbind().await;
    found
}

async fn pdc_srv_in(
    ldap: &mut Ldap,
    timeout: Duration,
    dns_domain: &str,
) -> Result<Vec<String>, ProbeError> {
    let root = root_dse(ldap, timeout).await?.forest;
    let base = format!(
        "DC=_ldap._tcp.pdc,DC=_msdcs.{dns_domain},CN=MicrosoftDNS,DC=ForestDnsZones,{root}"
    );
    let nodes = search(
        ldap,
        timeout,
        &base,
        Scope::Base,
        "(!(dNSTombstoned=TRUE))",
        &["dnsRecord"],
    )
    .await?;
    Ok(nodes
        .iter()
        .flat_map(|e| {
            e.bin_attrs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("dnsRecord"))
                .flat_map(|(_, v)| v.iter())
                .filter_map(|r| srv_target(r))
                .collect::<Vec<_>>()
        })
        .collect())
}

/// The target of an SRV `dnsRecord` (a DNS_RPC_RECORD: a 24-byte header, type 33 at bytes
/// 2–3; then priority, weight and port, 2 bytes each; then a DNS_COUNT_NAME: its length, its
/// label count, the labels each after its length), lower-case; None for another record type.
fn srv_target(r: &[u8]) -> Option<String> {
    if r.len() < 32 || u16::from_le_bytes([r[2], r[3]]) != 33 {
        return None;
    }
    let count = r[31] as usize;
    let mut at = 32;
    let mut labels = Vec::new();
    for _ in 0..count {
        let len = *r.get(at)? as usize;
        labels.push(String::from_utf8_lossy(r.get(at + 1..at + 1 + len)?).to_ascii_lowercase());
        at += 1 + len;
    }
    Some(labels.join("."))
}

#[cfg(test)]
mod tests {
    use super::{generalized_time, server_of};

    #[test]
    fn a_dcs_current_time_is_read_as_unix_seconds() {
        assert_eq!(generalized_time("20261204145304.0Z"), Some(1_796_395_984));
        assert_eq!(generalized_time("2026"), None);
    }

    #[test]
    fn an_srv_record_names_its_target() {
        use base64::Engine;
        let r = base64::engine::general_purpose::STANDARD
            .decode("FgAhAAXwAAAKAAAAAAADhAAAAAAAAAAAAAAAZAGFDgMDZGMyA3NkYwR0ZXN0AA==")
            .unwrap();
        assert_eq!(super::srv_target(&r).as_deref(), Some("dc2.sdc.test"));
        // A tombstone's record is no SRV.
        let t = base64::engine::general_purpose::STANDARD
            .decode("CAAAAAUAAABuAAAAAAAAAAAAAAAAAAAAVDWryNaD3QE=")
            .unwrap();
        assert_eq!(super::srv_target(&t), None);
    }

    #[test]
    fn the_server_of_an_ntds_settings_dn_is_its_parent_cn() {
        assert_eq!(
            server_of("CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=sdc,DC=test"),
            Some("dc1".into())
        );
        assert_eq!(server_of("CN=DC1,CN=Servers,DC=x"), None);
    }
}
