//! The HTTPS client for the admin API: one shared connection pool, the passphrase on every call,
//! and errors that say which node failed and how (unreachable, untrusted certificate, refused).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

mod admin;

use super::*;
use crate::util::secret::Passphrase;
use crate::util::tls::{self, TlsError, Trust};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("TLS with {url} failed: {detail}")]
    Tls { url: String, detail: String },
    /// `maybe_slow`: the connection (TLS handshake) was made, so the process runs, and it was
    /// given less than the request timeout (the probe timeout): it may only be slow. Else not
    /// even the handshake finished within the connect timeout (stopped, or cut off), or it had
    /// the whole request timeout.
    #[error("{url} did not answer within {ms} ms")]
    Timeout {
        url: String,
        ms: u128,
        maybe_slow: bool,
    },
    /// Not asked: it let a request time out a moment ago (nothing was sent); `maybe_slow` as
    /// that timeout's.
    #[error(
        "{url} did not answer a request {ago_ms} ms ago; not asked again yet (nothing was sent)"
    )]
    Silent {
        url: String,
        ago_ms: u128,
        maybe_slow: bool,
    },
    #[error("{url} refused the request: {} [{}, HTTP {status}, request id {}]", body.message, body.code, body.request_id)]
    Api {
        url: String,
        status: u16,
        body: ErrorBody,
    },
    #[error("{url}: unexpected answer: {detail}")]
    Protocol { url: String, detail: String },
    #[error("invalid node URL '{url}': {detail}")]
    BadUrl { url: String, detail: String },
    #[error(transparent)]
    TlsConfig(#[from] TlsError),
    /// The node's certificate, made by `drctl certs` for another cluster.
    #[error(
        "{node} ({url}) presents a certificate of cluster {names}, not {expected}: it is not \
         counted or used as a member; issue it a certificate of this cluster \
         (`drctl certs issue {node} --cluster-name {expected}`)"
    )]
    CertificateCluster {
        url: String,
        node: String,
        names: String,
        expected: String,
    },
    /// The node answered, but it belongs to another cluster (same CA and passphrase).
    #[error(
        "{node} ({url}) belongs to cluster {cluster}, not {expected}: it is not counted or used \
         as a member; check its url in the cluster file, or the node's configuration"
    )]
    WrongCluster {
        url: String,
        node: String,
        cluster: String,
        expected: String,
    },
}

/// The cluster a calling node belongs to; a node of another cluster refuses the call.
pub(crate) const CLUSTER_HEADER: &str = "x-drctl-cluster";

impl ClientError {
    /// The node did not answer at all (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. }
                | ClientError::Timeout { .. }
                | ClientError::Silent { .. }
        )
    }

    /// It timed out (now or a moment ago) after its connection was made, before the request
    /// timeout: the process runs, so it may only be slow. A decision that a primary is gone asks it again, patiently
    /// ([`NodeClient::status_patiently`]), before believing it.
    pub fn maybe_slow(&self) -> bool {
        matches!(
            self,
            ClientError::Timeout {
                maybe_slow: true,
                ..
            } | ClientError::Silent {
                maybe_slow: true,
                ..
            }
        )
    }

    /// The stable error code the node returned, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { body, .. } => Some(body.code.as_str()),
            _ => None,
        }
    }
}

/// How to reach nodes: trust, timeouts, and who is calling.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub trust: Trust,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// The whole of a status-like read (status, health, members): an answer on a LAN takes
    /// milliseconds, so a node that does not answer costs this, not `request_timeout`.
    pub probe_timeout: Duration,
    pub operator: Option<String>,
    pub run_id: Option<String>,
    /// After a request to a node times out, further requests to it fail at once for this long
    /// (zero: never). A stopped process keeps accepting connections and answers nothing: without
    /// this, every call of a procedure would wait out its own timeout on it.
    pub quiet_after_timeout: Duration,
}

/// The probe timeout for a connect timeout: a hair over it, so that a node that cannot finish
/// a handshake fails on the connect timeout, which says so (`maybe_slow: false`), rather than
/// on a whole-request timeout that cannot tell.
pub(crate) fn probe_timeout(connect_timeout: Duration) -> Duration {
    connect_timeout + (connect_timeout / 10).max(Duration::from_millis(20))
}

/// A client bound to one node URL. Cheap to clone; clones share the connection pool, and
/// whether the node just let a request time out.
#[derive(Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    base: Url,
    passphrase: Passphrase,
    operator: Option<String>,
    run_id: Option<String>,
    /// Sent with every call (nodes calling their peers), so that a peer of another cluster
    /// refuses instead of replicating or registering across clusters.
    cluster: Option<String>,
    request_timeout: Duration,
    probe_timeout: Duration,
    /// To ask on a connection of its own ([`NodeClient::status_patiently`]).
    trust: Trust,
    connect_timeout: Duration,
    quiet_after_timeout: Duration,
    /// When a request to this node last timed out, and whether it may only be slow.
    timed_out_at: Arc<Mutex<Option<(Instant, bool)>>>,
}

/// Builds the shared reqwest client for `options`.
pub(crate) fn http_client(options: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    let tls = tls::client_config(&options.trust)?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(options.connect_timeout)
        // The peer's certificate, to compare the cluster it names (`certificate_cluster`).
        .tls_info(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .map_err(|e| ClientError::Protocol {
            url: String::new(),
            detail: e.to_string(),
        })
}

/// Checks a node URL: `https://host:port` with nothing else.
pub(crate) fn parse_node_url(url: &str) -> Result<Url, ClientError> {
    let bad = |detail: &str| ClientError::BadUrl {
        url: url.to_string(),
        detail: detail.to_string(),
    };
    let parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if parsed.scheme() != "https" {
        return Err(bad("only https:// is supported"));
    }
    match parsed.host() {
        None => return Err(bad("no host")),
        Some(url::Host::Domain(d)) => {
            crate::util::names::validate_hostname(d).map_err(|e| bad(&e.to_string()))?
        }
        Some(_) => {}
    }
    Ok(parsed)
}

impl NodeClient {
    pub fn new(
        http: reqwest::Client,
        url: &str,
        passphrase: Passphrase,
        options: &ClientOptions,
    ) -> Result<Self, ClientError> {
        Ok(NodeClient {
            http,
            base: parse_node_url(url)?,
            passphrase,
            operator: options.operator.clone(),
            run_id: options.run_id.clone(),
            cluster: None,
            request_timeout: options.request_timeout,
            probe_timeout: options.probe_timeout,
            trust: options.trust.clone(),
            connect_timeout: options.connect_timeout,
            quiet_after_timeout: options.quiet_after_timeout,
            timed_out_at: Arc::new(Mutex::new(None)),
        })
    }

    /// The same client, marking its calls as part of procedure run `run_id`.
    pub fn with_run_id(&self, run_id: &str) -> NodeClient {
        let mut c = self.clone();
        c.run_id = Some(run_id.to_string());
        c
    }

    /// The same client, telling every node it calls that the caller belongs to `cluster`.
    pub fn with_cluster(mut self, cluster: &str) -> NodeClient {
        self.cluster = Some(cluster.to_string());
        self
    }

    pub fn url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("https URLs have paths");
            path.clear();
            for s in segments {
                path.push(s);
            }
        }
        url
    }

    fn key_endpoint(&self, prefix: &[&str], key: &str) -> Url {
        let mut segments: Vec<&str> = prefix.to_vec();
        segments.extend(key.split('/'));
        self.endpoint(&segments)
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, url)
            .timeout(self.request_timeout)
            .bearer_auth(self.passphrase.expose());
        if let Some(op) = &self.operator {
            req = req.header(OPERATOR_HEADER, op);
        }
        if let Some(run) = &self.run_id {
            req = req.header(RUN_ID_HEADER, run);
        }
        if let Some(cluster) = &self.cluster {
            req = req.header(CLUSTER_HEADER, cluster);
        }
        req
    }

    fn classify(&self, e: reqwest::Error, started: std::time::Instant) -> ClientError {
        let url = self.url().to_string();
        if let Some(tls) = find_rustls(&e) {
            let detail = match tls {
                rustls::Error::InvalidCertificate(c) => {
                    format!("the node's certificate is not trusted ({c:?})")
                }
                other => other.to_string(),
            };
            return ClientError::Tls { url, detail };
        }
        if e.is_timeout() {
            return ClientError::Timeout {
                url,
                ms: started.elapsed().as_millis(),
                maybe_slow: !e.is_connect() && started.elapsed() < self.request_timeout,
            };
        }
        // The innermost cause says what happened ("Connection refused (os error 111)").
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        if e.is_connect() || e.is_request() || e.is_body() {
            ClientError::Unreachable { url, detail }
        } else {
            ClientError::Protocol { url, detail }
        }
    }

    /// Forgets that the node let a request time out (its owner knows it was woken up).
    pub fn forget_timeout(&self) {
        *self.timed_out_at.lock().expect("not poisoned") = None;
    }

    /// Remembers a timeout (to answer at once for a while), forgets it on any answer.
    fn note(&self, result: &Result<reqwest::Response, ClientError>) {
        let timed_out = match result {
            Err(ClientError::Timeout { ms, maybe_slow, .. }) => {
                // What `DRCTL_LOG=debug` counts: each time a command waited for a node in vain.
                tracing::debug!(
                    url = self.url(),
                    ms,
                    maybe_slow,
                    "waited in vain for an answer"
                );
                Some(*maybe_slow)
            }
            _ => None,
        };
        if self.quiet_after_timeout.is_zero() {
            return;
        }
        let mut at = self.timed_out_at.lock().expect("not poisoned");
        *at = timed_out.map(|maybe_slow| (Instant::now(), maybe_slow));
    }

    /// The remembered timeout, as the error a request meets instead of waiting again.
    fn quiet(&self) -> Option<ClientError> {
        let quiet = *self.timed_out_at.lock().expect("not poisoned");
        quiet
            .filter(|(at, _)| at.elapsed() < self.quiet_after_timeout)
            .map(|(at, maybe_slow)| ClientError::Silent {
                url: self.url().to_string(),
                ago_ms: at.elapsed().as_millis(),
                maybe_slow,
            })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        if let Some(silent) = self.quiet() {
            return Err(silent);
        }
        let started = std::time::Instant::now();
        let result = req.send().await.map_err(|e| self.classify(e, started));
        self.note(&result);
        let resp = result?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.classify(e, started))?;
        let body = serde_json::from_str::<ErrorBody>(&text).unwrap_or_else(|_| ErrorBody {
            code: status
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace(' ', "_"),
            message: text.chars().take(200).collect(),
            request_id: "-".into(),
        });
        Err(ClientError::Api {
            url: self.url().to_string(),
            status: status.as_u16(),
            body,
        })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let started = std::time::Instant::now();
        let resp = self.send(req).await?;
        let bytes = resp.bytes().await.map_err(|e| self.classify(e, started))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            url: self.url().to_string(),
            detail: format!("cannot decode the answer: {e}"),
        })
    }

    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, ClientError> {
        self.json(self.request(Method::GET, url)).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        url: Url,
        body: &B,
    ) -> Result<T, ClientError> {
        self.json(self.request(Method::POST, url).json(body)).await
    }

    /// A status-like read: the short probe timeout.
    fn probe(&self, url: Url) -> reqwest::RequestBuilder {
        self.request(Method::GET, url).timeout(self.probe_timeout)
    }

    pub async fn health(&self) -> Result<Health, ClientError> {
        let req = self
            .http
            .get(self.endpoint(&["v1", "health"]))
            .timeout(self.probe_timeout);
        self.json(req).await
    }

    pub async fn status(&self) -> Result<NodeStatus, ClientError> {
        self.json(self.probe(self.endpoint(&["v1", "node"]))).await
    }

    /// The node's status, with the DER certificate it presented.
    pub async fn status_with_certificate(
        &self,
    ) -> Result<(NodeStatus, Option<Vec<u8>>), ClientError> {
        let req = self.probe(self.endpoint(&["v1", "node"]));
        self.certified_status(req).await
    }

    /// The status, asked as before the probe timeout existed: on a connection of its own
    /// (a process that does not run cannot finish the handshake within the connect timeout),
    /// then the whole request timeout for the answer, whatever was remembered. For a node that
    /// timed out after connecting ([`ClientError::maybe_slow`]), before it is taken for gone.
    pub async fn status_patiently(&self) -> Result<(NodeStatus, Option<Vec<u8>>), ClientError> {
        let own = http_client(&ClientOptions {
            trust: self.trust.clone(),
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            probe_timeout: self.request_timeout,
            operator: None,
            run_id: None,
            quiet_after_timeout: Duration::ZERO,
        })?;
        let req = NodeClient {
            http: own,
            ..self.clone()
        }
        .request(Method::GET, self.endpoint(&["v1", "node"]));
        self.forget_timeout();
        self.certified_status(req).await
    }

    async fn certified_status(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(NodeStatus, Option<Vec<u8>>), ClientError> {
        let started = std::time::Instant::now();
        let resp = self.send(req).await?;
        let cert = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate())
            .map(<[u8]>::to_vec);
        let bytes = resp.bytes().await.map_err(|e| self.classify(e, started))?;
        let status = serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            url: self.url().to_string(),
            detail: format!("cannot decode the answer: {e}"),
        })?;
        Ok((status, cert))
    }

    pub async fn get_entry(&self, key: &str) -> Result<Option<Entry>, ClientError> {
        match self.get(self.key_endpoint(&["v1", "entries"], key)).await {
            Ok(e) => Ok(Some(e)),
            Err(e) if e.code() == Some("not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_entry(&self, key: &str, value: &str) -> Result<WriteAck, ClientError> {
        let req = self
            .request(Method::PUT, self.key_endpoint(&["v1", "entries"], key))
            .json(&PutEntryRequest {
                value: value.to_string(),
            });
        self.json(req).await
    }

    pub async fn delete_entry(&self, key: &str) -> Result<WriteAck, ClientError> {
        let req = self.request(Method::DELETE, self.key_endpoint(&["v1", "entries"], key));
        self.json(req).await
    }

    pub async fn list_entries(&self, prefix: Option<&str>) -> Result<Vec<Entry>, ClientError> {
        let mut url = self.endpoint(&["v1", "entries"]);
        if let Some(p) = prefix {
            url.query_pairs_mut().append_pair("prefix", p);
        }
        self.get(url).await
    }

    pub async fn members(&self) -> Result<Vec<Member>, ClientError> {
        self.json(self.probe(self.endpoint(&["v1", "members"])))
            .await
    }

    pub async fn add_member(&self, member: &Member) -> Result<Member, ClientError> {
        self.post(self.endpoint(&["v1", "members"]), member).await
    }

    pub async fn events(&self, after: u64, limit: u64) -> Result<Vec<Event>, ClientError> {
        let mut url = self.endpoint(&["v1", "events"]);
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("limit", &limit.to_string());
        self.get(url).await
    }

    pub async fn get_local(&self, name: &str) -> Result<Option<String>, ClientError> {
        match self
            .get::<SettingValue>(self.endpoint(&["v1", "local", name]))
            .await
        {
            Ok(v) => Ok(Some(v.value)),
            Err(e) if e.code() == Some("not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_local(&self, name: &str, value: &str) -> Result<SettingValue, ClientError> {
        let req = self
            .request(Method::PUT, self.endpoint(&["v1", "local", name]))
            .json(&SettingValue {
                value: value.to_string(),
            });
        self.json(req).await
    }

    pub async fn get_setting(&self, name: &str) -> Result<Option<String>, ClientError> {
        match self
            .get::<SettingValue>(self.endpoint(&["v1", "settings", name]))
            .await
        {
            Ok(v) => Ok(Some(v.value)),
            Err(e) if e.code() == Some("not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_setting(&self, name: &str, value: &str) -> Result<WriteAck, ClientError> {
        let req = self
            .request(Method::PUT, self.endpoint(&["v1", "settings", name]))
            .json(&SettingValue {
                value: value.to_string(),
            });
        self.json(req).await
    }

    /// The raw escape hatch: any method and path, any JSON body; returns status and body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(StatusCode, serde_json::Value), ClientError> {
        let url = self.base.join(path).map_err(|e| ClientError::BadUrl {
            url: path.to_string(),
            detail: e.to_string(),
        })?;
        let mut req = self.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let started = std::time::Instant::now();
        let resp = req.send().await.map_err(|e| self.classify(e, started))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.classify(e, started))?;
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            })
        };
        Ok((status, value))
    }
}

/// The cluster a certificate made by `drctl certs` names (its subject's organisation; DESIGN §3:
/// node certificates carry the cluster). None for a certificate of any other PKI, which drctl
/// does not judge.
pub(crate) fn certificate_cluster(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let by_drctl = cert
        .issuer()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .any(|cn| cn.starts_with("drctl CA "));
    if !by_drctl {
        return None;
    }
    let organisation = cert
        .subject()
        .iter_organization()
        .find_map(|o| o.as_str().ok().map(str::to_string));
    organisation
}

/// Finds a rustls error in an error chain. `io::Error` hides the error it wraps from
/// `source()`, and hyper nests several of them, so look inside those too.
fn find_rustls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if let Some(found) = find_rustls(inner) {
            return Some(found);
        }
    }
    e.source().and_then(find_rustls)
}

/// Checks an entry key, on both sides of the wire: `/`-separated segments, none empty, `.` or
/// `..`, no control characters, at most 512 bytes.
pub(crate) fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.len() > 512 {
        return Err(format!("the key is {} bytes; the limit is 512", key.len()));
    }
    if key.chars().any(|c| c.is_control()) {
        return Err("the key contains a control character".into());
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!("'{key}' has an empty, '.' or '..' path segment"));
    }
    Ok(())
}
