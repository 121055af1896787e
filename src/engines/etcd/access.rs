//! How drctl reaches one etcd member: TLS (the CA that signed the member's certificate, and a
//! client certificate for `--client-cert-auth`) and etcd's v3 auth (a user whose password comes
//! from a file or the environment, exchanged for a token sent with every call). Checked here
//! when the cluster file loads; the files are read when the engine opens.

use std::path::PathBuf;

use crate::inventory::Inventory;
use crate::util::secret::Passphrase;
use crate::util::tls::{self, Trust};

/// The TLS and auth fields of an etcd entry, as the cluster file gives them.
#[derive(Debug, Default, Clone)]
pub(super) struct AccessFields {
    /// The CA (PEM) that signed the member's certificate: required for `https://`.
    pub(super) ca_file: Option<PathBuf>,
    /// A client certificate (PEM) the member trusts (`--client-cert-auth`), with `key_file`.
    pub(super) cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub(super) key_file: Option<PathBuf>,
    /// The etcd user drctl authenticates as (it needs the root role).
    pub(super) username: Option<String>,
    /// File holding the user's password (mode 600).
    pub(super) password_file: Option<PathBuf>,
    /// Environment variable holding the user's password.
    pub(super) password_env: Option<String>,
}

/// The user drctl authenticates as. Never printed: `Debug` hides the password.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: Passphrase,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

/// One member's TLS files (paths resolved against the cluster file) and credentials.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) cert_file: Option<PathBuf>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) credentials: Option<Credentials>,
}

impl AccessFields {
    /// Checks the fields against the url's scheme; the error starts with the field.
    pub(super) fn validate(&self, scheme: &str) -> Result<(), String> {
        let tls = [
            ("ca_file", &self.ca_file),
            ("cert_file", &self.cert_file),
            ("key_file", &self.key_file),
        ];
        for (field, p) in tls {
            if p.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(format!("{field}: empty"));
            }
        }
        match scheme {
            "https" if self.ca_file.is_none() => {
                return Err("ca_file: required for an https:// url (the CA that signed the member's certificate, PEM)".into())
            }
            "http" => {
                if let Some((field, _)) = tls.iter().find(|(_, p)| p.is_some()) {
                    return Err(format!(
                        "{field}: only for an https:// url (this member's url is http://)"
                    ));
                }
            }
            _ => {}
        }
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => {
                return Err(
                    "key_file: required with cert_file (the client certificate's private key, PEM)"
                        .into(),
                )
            }
            (None, Some(_)) => {
                return Err(
                    "cert_file: required with key_file (the client certificate, PEM)".into(),
                )
            }
            _ => {}
        }
        match (
            self.username.as_deref(),
            &self.password_file,
            &self.password_env,
        ) {
            (Some(u), _, _) if u.trim().is_empty() => Err("username: empty".into()),
            (Some(_), Some(_), Some(_)) => {
                Err("password_file: give password_file or password_env, not both".into())
            }
            (Some(_), None, None) => Err(
                "password_file: required with username (or password_env): etcd's auth needs the user's password".into(),
            ),
            (None, Some(_), _) => Err("username: required with password_file".into()),
            (None, _, Some(_)) => Err("username: required with password_env".into()),
            (_, Some(p), _) if p.as_os_str().is_empty() => Err("password_file: empty".into()),
            (_, _, Some(v)) if v.trim().is_empty() => Err("password_env: empty".into()),
            _ => Ok(()),
        }
    }

    /// The member's access with its paths resolved and its password read (and registered for
    /// redaction: an error text or a step's output that shows it prints `***`).
    pub(super) fn load(self, inv: &Inventory, node: &str) -> Result<Access, String> {
        let credentials = match self.username {
            None => None,
            Some(username) => {
                let password = match (&self.password_file, &self.password_env) {
                    (Some(p), _) => Passphrase::from_file(&inv.resolve_path(p))
                        .map_err(|e| format!("{node}: password_file: {e}"))?,
                    (None, Some(var)) => {
                        let v = std::env::var(var)
                            .map_err(|_| format!("{node}: password_env: ${var} is not set"))?;
                        Passphrase::new(v, var).map_err(|e| format!("{node}: password_env: {e}"))?
                    }
                    (None, None) => return Err(format!("{node}: password_file: missing")),
                };
                crate::util::redact::register(password.expose());
                Some(Credentials { username, password })
            }
        };
        let resolve = |p: Option<PathBuf>| p.map(|p| inv.resolve_path(&p));
        Ok(Access {
            ca_file: resolve(self.ca_file),
            cert_file: resolve(self.cert_file),
            key_file: resolve(self.key_file),
            credentials,
        })
    }
}

impl Access {
    /// What makes two members' HTTP clients the same: their TLS files.
    pub(super) fn tls_files(&self) -> (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
        (
            self.ca_file.clone(),
            self.cert_file.clone(),
            self.key_file.clone(),
        )
    }

    /// The rustls configuration: without ca_file (an http:// member) a config that trusts
    /// nothing, because reqwest is built with no default crypto provider; with it, only that
    /// CA, and the client certificate when there is one. The error names the field.
    pub(super) fn tls_config(&self) -> Result<rustls::ClientConfig, String> {
        let builder = rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let roots = match &self.ca_file {
            None => rustls::RootCertStore::empty(),
            Some(ca) => tls::root_store(&Trust {
                ca: Some(ca.clone()),
                trust_dir: None,
            })
            .map_err(|e| format!("ca_file: {e}"))?,
        };
        let builder = builder.with_root_certificates(roots);
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                let chain = tls::load_certs(cert).map_err(|e| format!("cert_file: {e}"))?;
                let private = tls::load_key(key).map_err(|e| format!("key_file: {e}"))?;
                builder.with_client_auth_cert(chain, private).map_err(|e| {
                    format!(
                        "cert_file: {} with key_file {}: {e}",
                        cert.display(),
                        key.display()
                    )
                })
            }
            _ => Ok(builder.with_no_client_auth()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(f: impl FnOnce(&mut AccessFields)) -> AccessFields {
        let mut a = AccessFields::default();
        f(&mut a);
        a
    }

    #[test]
    fn each_refusal_names_its_field() {
        let p = |s: &str| Some(PathBuf::from(s));
        let cases: Vec<(&str, AccessFields, &str)> = vec![
            ("https", fields(|_| {}), "ca_file: required"),
            ("http", fields(|a| a.ca_file = p("ca.pem")), "ca_file: only"),
            ("http", fields(|a| a.key_file = p("k")), "key_file: only"),
            (
                "https",
                fields(|a| {
                    a.ca_file = p("ca.pem");
                    a.cert_file = p("c.pem");
                }),
                "key_file: required with cert_file",
            ),
            (
                "https",
                fields(|a| {
                    a.ca_file = p("ca.pem");
                    a.key_file = p("c.key");
                }),
                "cert_file: required with key_file",
            ),
            (
                "http",
                fields(|a| a.username = Some("root".into())),
                "password_file: required",
            ),
            (
                "http",
                fields(|a| a.password_env = Some("X".into())),
                "username: required",
            ),
            (
                "http",
                fields(|a| {
                    a.username = Some("root".into());
                    a.password_file = p("pw");
                    a.password_env = Some("X".into());
                }),
                "password_file: give",
            ),
            (
                "http",
                fields(|a| {
                    a.username = Some(" ".into());
                    a.password_file = p("pw");
                }),
                "username: empty",
            ),
        ];
        for (scheme, f, want) in cases {
            let err = f.validate(scheme).unwrap_err();
            assert!(err.starts_with(want), "{scheme} {f:?}: {err}");
        }
        let ok = fields(|a| {
            a.ca_file = p("ca.pem");
            a.cert_file = p("c.pem");
            a.key_file = p("c.key");
            a.username = Some("root".into());
            a.password_env = Some("ETCD_PW".into());
        });
        ok.validate("https").unwrap();
    }

    #[test]
    fn credentials_never_debug_print_the_password() {
        let c = Credentials {
            username: "root".into(),
            password: Passphrase::new("hunter2-secret", "test").unwrap(),
        };
        let shown = format!(
            "{:?}",
            Access {
                credentials: Some(c),
                ..Access::default()
            }
        );
        assert!(
            !shown.contains("hunter2") && shown.contains("root"),
            "{shown}"
        );
    }
}
