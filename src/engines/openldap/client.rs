//! One LDAP session to one slapd: bind (simple, or SASL EXTERNAL over ldapi), search, modify,
//! add. Every error names the node and what was being done.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, LdapConnSettings, Mod, Scope, SearchEntry};

use super::LdapNode;

#[derive(Debug, Clone, thiserror::Error)]
pub enum LdapError {
    /// The server does not answer (connection refused, timeout): it is down for our purposes.
    #[error("{node}: cannot connect to {url}: {detail}")]
    Unreachable {
        node: String,
        url: String,
        detail: String,
    },
    /// The connection broke or an operation got no answer in time.
    #[error("{node}: {what}: no answer ({detail})")]
    Lost {
        node: String,
        what: String,
        detail: String,
    },
    #[error("{node}: {what}: {detail}")]
    Op {
        node: String,
        what: String,
        detail: String,
    },
}

impl LdapError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, LdapError::Unreachable { .. } | LdapError::Lost { .. })
    }
}

/// A step's LDAP failure; one that got no answer may still take effect.
impl From<LdapError> for crate::engine::ProcError {
    fn from(e: LdapError) -> Self {
        let mut p = crate::engine::ProcError::failed(e.to_string());
        p.unanswered = matches!(e, LdapError::Lost { .. });
        p
    }
}

/// Whether a node let a connect or bind time out a moment ago, so that later connects within
/// the window fail at once instead of waiting again: a stopped slapd accepts connections and
/// answers nothing, and each probe of a procedure paid the whole timeout on it (OpenLDAP's
/// repoint-primary drill, with a paused consumer: 6.2 s). Clones share it; the default is off.
#[derive(Clone, Default)]
pub struct Quiet(Option<Arc<QuietCell>>);

struct QuietCell {
    window: Duration,
    since: Mutex<Option<Instant>>,
}

impl Quiet {
    /// How long a command leaves a node alone after it let a connect of `timeout` run out:
    /// three timeouts, as drnode's clients do.
    pub fn window(timeout: Duration) -> Duration {
        timeout.max(Duration::from_millis(200)) * 3
    }

    /// A new memory: a timeout silences the node for `window`.
    pub fn new(window: Duration) -> Quiet {
        Quiet(Some(Arc::new(QuietCell {
            window,
            since: Mutex::new(None),
        })))
    }

    /// How long ago the node last timed out, if within the window.
    fn silent_for(&self) -> Option<Duration> {
        let cell = self.0.as_ref()?;
        let since = (*cell.since.lock().expect("not poisoned"))?;
        Some(since.elapsed()).filter(|ago| *ago < cell.window)
    }

    fn note(&self, timed_out: bool) {
        if let Some(cell) = &self.0 {
            *cell.since.lock().expect("not poisoned") = timed_out.then(Instant::now);
        }
    }

    /// Forgets a timeout: whoever woke the node knows it answers again.
    pub fn forget(&self) {
        self.note(false);
    }
}

/// A bound session.
pub struct Session {
    node: String,
    ldap: ldap3::Ldap,
    /// ldap3's timeout covers one operation: set again before each.
    op_timeout: Duration,
}

impl LdapNode {
    /// This node with a memory of its own for timeouts (see [`Quiet`]): a run's nodes, so a
    /// silent node costs the run one timeout, not one per probe.
    pub fn quiet_for(&self, window: Duration) -> LdapNode {
        LdapNode {
            quiet: Quiet::new(window),
            ..self.clone()
        }
    }

    /// Connects and binds; a refused or timed-out connection is `Unreachable`, and so is a
    /// node that timed out a moment ago (not asked again: nothing is sent).
    pub async fn connect(&self, timeout: Duration) -> Result<Session, LdapError> {
        let url = match &self.ldapi {
            Some(sock) => format!("ldapi://{}", sock.display().to_string().replace('/', "%2F")),
            None => self.url.clone(),
        };
        if let Some(ago) = self.quiet.silent_for() {
            return Err(LdapError::Unreachable {
                node: self.name.clone(),
                url,
                detail: format!(
                    "it did not answer {} ms ago; not asked again yet (nothing was sent)",
                    ago.as_millis()
                ),
            });
        }
        self.connect_now(url, timeout).await
    }

    async fn connect_now(&self, url: String, timeout: Duration) -> Result<Session, LdapError> {
        // Only a timeout silences the node: a refused connection fails at once anyway.
        let timed_out = |e: &ldap3::LdapError| {
            if matches!(e, ldap3::LdapError::Timeout { .. }) {
                // What `DRCTL_LOG=debug` counts: each time a command waited for a node in vain.
                let ms = timeout.as_millis();
                tracing::debug!(url = self.url, ms, "waited in vain for an answer");
                self.quiet.note(true);
            }
        };
        let mut settings = LdapConnSettings::new().set_conn_timeout(timeout);
        if let Some(ca) = self
            .ca_file
            .as_ref()
            .filter(|_| url.starts_with("ldaps://"))
        {
            let trust = crate::util::tls::Trust {
                ca: Some(ca.clone()),
                trust_dir: None,
            };
            let config = crate::util::tls::client_config(&trust).map_err(|e| LdapError::Op {
                node: self.name.clone(),
                what: "read ca_file".into(),
                detail: e.to_string(),
            })?;
            settings = settings.set_config(std::sync::Arc::new(config));
        }
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &url)
            .await
            .map_err(|e| {
                timed_out(&e);
                let detail = e.to_string();
                // A TLS handshake that failed on the certificate is an answer: the server
                // runs, and drctl cannot tell what it is doing.
                if detail.contains("certificate") {
                    LdapError::Op {
                        node: self.name.clone(),
                        what: format!("TLS handshake with {url}"),
                        detail: format!(
                            "{detail}: its certificate is not trusted (ca_file must be the CA \
                             that signed it, for the host the url names)"
                        ),
                    }
                } else {
                    LdapError::Unreachable {
                        node: self.name.clone(),
                        url: url.clone(),
                        detail,
                    }
                }
            })?;
        ldap3::drive!(conn);
        // A bind is answered at once by a live slapd; one that accepts the connection but never
        // answers (stopped, wedged) costs this one short timeout, not the long operation one.
        ldap.with_timeout(timeout);
        let bound = match &self.ldapi {
            Some(_) => ldap.sasl_external_bind().await,
            None => {
                ldap.simple_bind(&self.bind_dn, self.password.expose())
                    .await
            }
        };
        let op = |detail: String| LdapError::Op {
            node: self.name.clone(),
            what: format!("bind as {}", self.bind_dn),
            detail,
        };
        match bound {
            Ok(r) => {
                r.success().map_err(|e| op(e.to_string()))?;
            }
            Err(e) => {
                timed_out(&e);
                return Err(LdapError::Unreachable {
                    node: self.name.clone(),
                    url,
                    detail: e.to_string(),
                });
            }
        }
        self.quiet.forget();
        Ok(Session {
            node: self.name.clone(),
            ldap,
            op_timeout: timeout * 10,
        })
    }
}

impl Session {
    /// A server's answer is an `Op` error; a broken or hung connection means it is unreachable.
    fn op(&self, what: impl Into<String>, e: ldap3::LdapError) -> LdapError {
        match e {
            ldap3::LdapError::LdapResult { .. } => LdapError::Op {
                node: self.node.clone(),
                what: what.into(),
                detail: e.to_string(),
            },
            _ => LdapError::Lost {
                node: self.node.clone(),
                what: what.into(),
                detail: e.to_string(),
            },
        }
    }

    /// Searches; "no such object" is an empty answer.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, LdapError> {
        let what = format!("search {base} {filter}");
        let r = self
            .ldap
            .with_timeout(self.op_timeout)
            .search(base, scope, filter, attrs.to_vec())
            .await
            .map_err(|e| self.op(&what, e))?;
        if r.1.rc == 32 {
            return Ok(Vec::new());
        }
        let (entries, _) = r.success().map_err(|e| self.op(&what, e))?;
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// One entry, if it exists.
    pub async fn read(
        &mut self,
        dn: &str,
        attrs: &[&str],
    ) -> Result<Option<SearchEntry>, LdapError> {
        Ok(self
            .search(dn, Scope::Base, "(objectClass=*)", attrs)
            .await?
            .into_iter()
            .next())
    }

    pub async fn modify(&mut self, dn: &str, mods: Vec<Mod<String>>) -> Result<(), LdapError> {
        let what = format!("modify {dn}");
        self.ldap
            .with_timeout(self.op_timeout)
            .modify(dn, mods)
            .await
            .map_err(|e| self.op(&what, e))?
            .success()
            .map_err(|e| self.op(&what, e))?;
        Ok(())
    }

    pub async fn add(
        &mut self,
        dn: &str,
        attrs: Vec<(String, HashSet<String>)>,
    ) -> Result<(), LdapError> {
        let what = format!("add {dn}");
        self.ldap
            .with_timeout(self.op_timeout)
            .add(dn, attrs)
            .await
            .map_err(|e| self.op(&what, e))?
            .success()
            .map_err(|e| self.op(&what, e))?;
        Ok(())
    }

    pub async fn delete(&mut self, dn: &str) -> Result<(), LdapError> {
        let what = format!("delete {dn}");
        self.ldap
            .with_timeout(self.op_timeout)
            .delete(dn)
            .await
            .map_err(|e| self.op(&what, e))?
            .success()
            .map_err(|e| self.op(&what, e))?;
        Ok(())
    }

    pub async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }
}

/// A set of one value, for `Mod`.
pub(super) fn one(v: impl Into<String>) -> HashSet<String> {
    HashSet::from([v.into()])
}

/// The first value of an attribute (case-insensitive name).
pub(super) fn first(e: &SearchEntry, attr: &str) -> Option<String> {
    values(e, attr).into_iter().next()
}

/// All values of an attribute (case-insensitive name).
pub(super) fn values(e: &SearchEntry, attr: &str) -> Vec<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
