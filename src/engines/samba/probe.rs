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

/// One DC's answer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DcView {
    /// The DC that answered (the CN of the server object above its NTDS Settings).
    pub(crate) dsa: String,
    /// Each role's holder in this DC's copy (a DC name; None when unreadable).
    pub(crate) roles: BTreeMap<&'static str, Option<String>>,
    /// The DCs of the domain (nTDSDSA objects), lower-case, sorted.
    pub(crate) dcs: Vec<String>,
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

async fn connect(n: &DcNode, timeout: Duration) -> Result<Ldap, String> {
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
                    .map_err(|e| format!("{}: ca_file: {e}", n.name))?;
                settings = settings.set_config(Arc::new(config));
            }
            url.clone()
        }
    };
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
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
            .map_err(|e| format!("bind as {bind_dn}: no answer ({e})"))?;
        r.success().map_err(|e| format!("bind as {bind_dn}: {e}"))?;
    }
    Ok(ldap)
}

async fn search(
    ldap: &mut Ldap,
    timeout: Duration,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
) -> Result<Vec<SearchEntry>, String> {
    let what = format!("search {base}");
    let r = ldap
        .with_timeout(timeout)
        .search(base, scope, filter, attrs.to_vec())
        .await
        .map_err(|e| format!("{what}: no answer ({e})"))?;
    if r.1.rc == 32 {
        return Ok(Vec::new());
    }
    let (entries, _) = r.success().map_err(|e| format!("{what}: {e}"))?;
    Ok(entries.into_iter().map(SearchEntry::construct).collect())
}

/// Reads one DC; an error says why it does not answer.
pub(crate) async fn probe(n: &DcNode, timeout: Duration) -> Result<DcView, String> {
    let mut ldap = connect(n, timeout).await?;
    let view = read(&mut ldap, timeout).await;
    let _ = ldap.unbind().await;
    view
}

async fn read(ldap: &mut Ldap, timeout: Duration) -> Result<DcView, String> {
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
    .ok_or("the rootDSE is empty")?;
    let get = |a: &str| attr(&root, a).ok_or_else(|| format!("the rootDSE has no {a}"));
    let service = get("dsServiceName")?;
    let dsa = server_of(&service)
        .ok_or_else(|| format!("dsServiceName '{service}' is not an NTDS Settings object"))?;
    let domain = get("defaultNamingContext")?;
    let config = get("configurationNamingContext")?;
    let schema = get("schemaNamingContext")?;
    let forest = attr(&root, "rootDomainNamingContext").unwrap_or_else(|| domain.clone());
    let objects = [
        schema,
        format!("CN=Partitions,{config}"),
        domain.clone(),
        format!("CN=RID Manager$,CN=System,{domain}"),
        format!("CN=Infrastructure,{domain}"),
        format!("CN=Infrastructure,DC=DomainDnsZones,{domain}"),
        format!("CN=Infrastructure,DC=ForestDnsZones,{forest}"),
    ];
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
    let mut dcs: Vec<String> = search(
        ldap,
        timeout,
        &config,
        Scope::Subtree,
        "(objectClass=nTDSDSA)",
        &["1.1"],
    )
    .await?
    .iter()
    .filter_map(|e| server_of(&e.dn))
    .collect();
    dcs.sort();
    dcs.dedup();
    Ok(DcView { dsa, roles, dcs })
}

#[cfg(test)]
mod tests {
    use super::server_of;

    #[test]
    fn the_server_of_an_ntds_settings_dn_is_its_parent_cn() {
        assert_eq!(
            server_of("CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=sdc,DC=test"),
            Some("dc1".into())
        );
        assert_eq!(server_of("CN=DC1,CN=Servers,DC=x"), None);
    }
}
