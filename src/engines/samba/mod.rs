//! Samba AD domain controllers (`kind: samba-ad`): every DC read over LDAP (LDAPS with a simple
//! bind, or the DC's root-only `ldap_priv/ldapi` socket where drctl runs on its host: Samba
//! refuses a simple bind over plain LDAP), the holders of the 7 FSMO roles (`fSMORoleOwner` of
//! the 7 role objects), the DCs of the domain (its nTDSDSA objects), and what to do about a
//! role held by a DC that does not answer. Measured facts and pitfalls:
//! `shared/engine-labs/samba-ad/` (lab.sh P1–P18).

pub(crate) mod assess;
pub(crate) mod bench;
mod clients;
mod conflicts;
mod ctx;
pub(crate) mod drill;
mod engine;
mod host;
pub(crate) mod lab;
mod probe;
mod rejoin;
mod remove;
mod reps;
mod runbook;
mod salvage;
mod seize;
mod steps;
pub(crate) mod writes;

use std::path::PathBuf;

use serde::Deserialize;

pub use engine::KIND;

use crate::engine::{Global, ProcError, Registration};
use crate::inventory::{Inventory, NodeEntry};
use crate::util::secret::Passphrase;

/// How drctl reaches one DC's directory.
#[derive(Clone)]
pub(crate) enum Access {
    /// `ldaps://HOST[:PORT]`, a simple bind as `bind_dn` (Samba's self-signed certificate is
    /// checked against `ca_file`, or not at all with `danger_accept_invalid_certs`).
    Ldaps {
        url: String,
        bind_dn: String,
        password: Passphrase,
        ca_file: Option<PathBuf>,
        danger_accept_invalid_certs: bool,
    },
    /// The root-only socket `private/ldap_priv/ldapi` on the DC's host: anonymous reads of
    /// everything (pitfall P6).
    Ldapi { socket: PathBuf },
}

/// One DC as the cluster file describes it.
#[derive(Clone)]
pub(crate) struct DcNode {
    /// The DC's name (its host name, the CN of its server object), case-insensitive.
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) access: Access,
    pub(crate) realm: String,
    /// How `samba-tool` runs on this DC (`ssh dc2`); None: here.
    pub(crate) command_prefix: Option<String>,
    /// The smb.conf `samba-tool` is given on this DC (`-s`).
    pub(crate) smb_conf: Option<PathBuf>,
    /// The IP address clients reach it at (`drctl repoint`); None: its URL's host.
    pub(crate) address: Option<String>,
    /// How its samba starts and stops on its host (a rejoin; the restart of its partners, P14).
    pub(crate) start_command: Option<String>,
    pub(crate) stop_command: Option<String>,
    /// Its databases (private dir, state and cache directories, binddns dir), moved aside
    /// before it joins again.
    pub(crate) data_dirs: Vec<PathBuf>,
    /// Who joins it to the domain again, and that account's password.
    pub(crate) join_user: String,
    pub(crate) join_password: Option<Passphrase>,
}

impl std::fmt::Debug for DcNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DcNode({} {})", self.name, self.url)
    }
}

/// The node fields of a samba-ad entry (beyond name, url, kind, promotable).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    /// Who drctl binds as over LDAPS (`Administrator@sdc.test`); not used over ldapi.
    bind_dn: Option<String>,
    /// File holding the bind password (mode 600), relative to the cluster file.
    password_file: Option<PathBuf>,
    /// Environment variable holding the bind password.
    password_env: Option<String>,
    /// The Kerberos realm of the domain (`SDC.TEST`).
    realm: Option<String>,
    /// How to run `samba-tool` on this DC (`ssh dc2`, `ip netns exec sdc2`).
    command_prefix: Option<String>,
    /// The smb.conf `samba-tool` is given on this DC (`-s`); its default without it.
    smb_conf: Option<PathBuf>,
    /// The IP address clients reach the DC at (their resolver and KDC list: `drctl repoint`);
    /// default: the host of its url.
    address: Option<String>,
    /// How samba starts on the DC's host (`systemctl start samba-ad-dc`): it must return once
    /// samba runs.
    start_command: Option<String>,
    /// How samba stops there (`systemctl stop samba-ad-dc`).
    stop_command: Option<String>,
    /// The DC's databases, moved aside before it joins again: its private dir, state and
    /// cache directories and binddns dir (absolute paths; its smb.conf stays and is reused).
    #[serde(default)]
    data_dirs: Vec<PathBuf>,
    /// The account that joins the DC again (default Administrator).
    join_user: Option<String>,
    /// File holding that account's password (default: the bind password over LDAPS).
    join_password_file: Option<PathBuf>,
    /// Environment variable holding it.
    join_password_env: Option<String>,
    /// The CA that signed the DC's LDAPS certificate (Samba's `private/tls/ca.pem`).
    ca_file: Option<PathBuf>,
    /// Accept any LDAPS certificate (a lab's self-signed one): no protection against a
    /// man in the middle.
    #[serde(default)]
    danger_accept_invalid_certs: bool,
}

const FIELDS: &[&str] = &[
    "bind_dn",
    "password_file",
    "password_env",
    "realm",
    "command_prefix",
    "smb_conf",
    "address",
    "start_command",
    "stop_command",
    "data_dirs",
    "join_user",
    "join_password_file",
    "join_password_env",
    "ca_file",
    "danger_accept_invalid_certs",
];

pub const ENGINE: Registration = Registration {
    kind: KIND,
    summary: "Samba AD domain controllers: FSMO role holders and DCs read over LDAPS or ldapi",
    fields: FIELDS,
    verbs: engine::VERBS,
    own_runbooks: engine::OWN_RUNBOOKS,
    validate: validate_entry,
    open: |global: Global, inv: Option<Inventory>| {
        Box::pin(async move {
            let inv = inv.ok_or_else(|| {
                ProcError::usage("samba-ad DCs are listed in a cluster file: give --cluster FILE")
            })?;
            Ok(Box::new(engine::Samba::open(&global, &inv)?) as Box<dyn crate::engine::Engine>)
        })
    },
    lab: Some(&lab::LAB),
};

/// The socket path of an `ldapi://` URL (`ldapi:///run/x` or `ldapi://%2Frun%2Fx`).
fn ldapi_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("ldapi://")?;
    let path = rest.replace("%2F", "/").replace("%2f", "/");
    let path = path.trim_end_matches('/');
    path.starts_with('/').then(|| PathBuf::from(path))
}

/// Checks a samba-ad entry; the error starts with the field it is about.
pub(crate) fn validate_entry(n: &NodeEntry) -> Result<(), String> {
    let f: Fields = n.settings()?;
    let ldapi = n.url.starts_with("ldapi://");
    if ldapi {
        if ldapi_path(&n.url).is_none() {
            return Err(format!(
                "url: '{}': ldapi:// needs the absolute path of the DC's socket \
                 (ldapi:///var/lib/samba/private/ldap_priv/ldapi)",
                n.url
            ));
        }
        if f.bind_dn.is_some() || f.password_file.is_some() || f.password_env.is_some() {
            return Err(
                "bind_dn: not used over ldapi:// (the root-only socket reads anonymously)".into(),
            );
        }
    } else {
        let url = url::Url::parse(&n.url).map_err(|e| format!("url: '{}': {e}", n.url))?;
        if url.scheme() != "ldaps" || url.host().is_none() {
            return Err(format!(
                "url: '{}': a samba-ad DC needs ldaps://HOST[:PORT] or ldapi:///PATH \
                 (Samba refuses a simple bind over plain ldap://)",
                n.url
            ));
        }
        match &f.bind_dn {
            None => return Err("bind_dn: required for ldaps:// (Administrator@REALM)".into()),
            Some(b) if b.trim().is_empty() => return Err("bind_dn: empty".into()),
            Some(_) => {}
        }
        match (&f.password_file, &f.password_env) {
            (Some(_), Some(_)) => {
                return Err("password_file: give password_file or password_env, not both".into())
            }
            (None, None) => {
                return Err("password_file: required for ldaps:// (or password_env)".into())
            }
            _ => {}
        }
        if f.ca_file.is_some() && f.danger_accept_invalid_certs {
            return Err(
                "ca_file: give ca_file or danger_accept_invalid_certs, not both".to_string(),
            );
        }
        if f.ca_file.is_none() && !f.danger_accept_invalid_certs {
            return Err(
                "ca_file: required for ldaps:// (the DC's CA, private/tls/ca.pem), \
                 or danger_accept_invalid_certs: true"
                    .into(),
            );
        }
    }
    match &f.realm {
        None => return Err("realm: required for `kind: samba-ad` (SDC.TEST)".into()),
        Some(r) if r.is_empty() || !r.contains('.') || r.contains(char::is_whitespace) => {
            return Err(format!("realm: '{r}' is not a DNS-style realm (SDC.TEST)"))
        }
        Some(_) => {}
    }
    if f.command_prefix
        .as_ref()
        .is_some_and(|c| c.trim().is_empty())
    {
        return Err("command_prefix: empty (leave it out to run samba-tool here)".into());
    }
    if let Some(a) = &f.address {
        if a.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "address: '{a}' is not an IP address (clients' resolv.conf needs one)"
            ));
        }
    }
    for (field, c) in [
        ("start_command", &f.start_command),
        ("stop_command", &f.stop_command),
    ] {
        if c.as_ref().is_some_and(|c| c.trim().is_empty()) {
            return Err(format!("{field}: empty"));
        }
    }
    if let Some(d) = f
        .data_dirs
        .iter()
        .find(|d| !d.is_absolute() || d.parent().is_none())
    {
        return Err(format!(
            "data_dirs: '{}' is not an absolute directory below /",
            d.display()
        ));
    }
    if f.join_password_file.is_some() && f.join_password_env.is_some() {
        return Err(
            "join_password_file: give join_password_file or join_password_env, not both".into(),
        );
    }
    if f.smb_conf.as_ref().is_some_and(|p| !p.is_absolute()) {
        return Err("smb_conf: give the absolute path of the DC's smb.conf".into());
    }
    Ok(())
}

/// The password a `FIELD_file` or `FIELD_env` names (`field`: password or join_password).
fn secret(
    inv: &Inventory,
    node: &str,
    field: &str,
    file: &Option<PathBuf>,
    env: &Option<String>,
) -> Result<Passphrase, String> {
    let p = match (file, env) {
        (Some(p), _) => Passphrase::from_file(&inv.resolve_path(p))
            .map_err(|e| format!("{node}: {field}_file: {e}"))?,
        (None, Some(var)) => {
            let v = std::env::var(var)
                .map_err(|_| format!("{node}: {field}_env: ${var} is not set"))?;
            Passphrase::new(v, var).map_err(|e| format!("{node}: {e}"))?
        }
        (None, None) => return Err(format!("{node}: {field}_file: missing")),
    };
    // An LDAP error text that shows it prints `***`.
    crate::util::redact::register(p.expose());
    Ok(p)
}

/// The samba-ad DCs of a cluster file, with their passwords read.
pub(crate) fn nodes_of(inv: &Inventory) -> Result<Vec<DcNode>, String> {
    inv.file
        .nodes
        .iter()
        .filter(|n| n.kind.as_deref() == Some(KIND))
        .map(|n| {
            let f: Fields = n.settings().map_err(|e| format!("{}: {e}", n.name))?;
            let access = match ldapi_path(&n.url) {
                Some(socket) => Access::Ldapi { socket },
                None => Access::Ldaps {
                    url: n.url.trim_end_matches('/').to_string(),
                    bind_dn: f.bind_dn.clone().unwrap_or_default(),
                    password: secret(inv, &n.name, "password", &f.password_file, &f.password_env)?,
                    ca_file: f.ca_file.as_ref().map(|p| inv.resolve_path(p)),
                    danger_accept_invalid_certs: f.danger_accept_invalid_certs,
                },
            };
            let join_password = match (&f.join_password_file, &f.join_password_env) {
                (None, None) => match &access {
                    Access::Ldaps { password, .. } => Some(password.clone()),
                    Access::Ldapi { .. } => None,
                },
                (file, env) => Some(secret(inv, &n.name, "join_password", file, env)?),
            };
            let join_user = f.join_user.clone().unwrap_or_else(|| match &access {
                Access::Ldaps { bind_dn, .. }
                    if f.join_password_file.is_none() && f.join_password_env.is_none() =>
                {
                    bind_dn.clone()
                }
                _ => "Administrator".to_string(),
            });
            Ok(DcNode {
                name: n.name.clone(),
                url: n.url.clone(),
                access,
                realm: f.realm.clone().unwrap_or_default(),
                command_prefix: f.command_prefix.clone(),
                smb_conf: f.smb_conf.clone(),
                address: f.address.clone(),
                start_command: f.start_command.clone(),
                stop_command: f.stop_command.clone(),
                data_dirs: f.data_dirs.clone(),
                join_user,
                join_password,
            })
        })
        .collect()
}
