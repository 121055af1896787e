//! What can go wrong talking to etcd's gateway: no answer, an answer drctl cannot read (TLS,
//! auth: such a member is alive), or etcd's own error; and how a failed request is told apart.

use serde_json::Value;

/// Why a call got no answer, or the answer etcd gave instead of one.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum EtcdError {
    /// No connection, or no answer in time.
    #[error("does not answer: {0}")]
    Unreachable(String),
    /// It answers, but drctl cannot read it: such a member is alive (it may lead a quorum),
    /// never to be taken for a dead one.
    #[error("answers but cannot be read ({detail}) → fix {}", .why.fix())]
    Unreadable { why: Unreadable, detail: String },
    /// etcd answered with an error (gRPC code and message, e.g. "etcdserver: no leader").
    #[error("{message} (code {code})")]
    Api { code: i64, message: String },
    #[error("unexpected answer from {path}: {detail}")]
    Decode { path: String, detail: String },
    /// A call that needs a token, and authenticating got no answer: etcd authenticates through
    /// raft, so without a quorum it gives no token.
    #[error("{0}")]
    NoToken(String),
}

/// Why a member that answers cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// The TLS handshake failed: its certificate is not trusted, or it refused drctl's.
    Tls,
    /// etcd's auth refused drctl: wrong user or password, or no permission.
    Auth,
    /// drctl's token was refused (expired, or the member restarted): renewed once.
    Token,
    /// It answers HTTP, but not etcd's JSON gateway (an http:// url of an https:// member).
    NotEtcd,
    /// The gateway refuses a client certificate with a CommonName (HTTP 400), since
    /// CVE-2018-16886 (etcd-io/etcd#10366), once auth is on.
    CertName,
}

impl Unreadable {
    fn fix(self) -> &'static str {
        match self {
            Unreadable::Tls => "its ca_file (the CA that signed its certificate) or cert_file and key_file (a client certificate it trusts) in the cluster file",
            Unreadable::Auth | Unreadable::Token => "its username and password_file (or password_env) in the cluster file: the user needs etcd's root role",
            Unreadable::NotEtcd => "its url in the cluster file (https:// for a member that serves TLS, with ca_file)",
            Unreadable::CertName => "its cert_file: etcd's gateway refuses a client certificate with a CommonName when auth is on; use one without (its subject alternative name is enough)",
        }
    }
}

impl EtcdError {
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, EtcdError::Unreachable(_))
    }

    /// TLS or auth refused: the member answers, and a fix of the cluster file reads it.
    pub(crate) fn is_unreadable(&self) -> bool {
        matches!(self, EtcdError::Unreadable { .. })
    }

    /// An error of etcd's auth, which the gateway gives as messages (code 3 for an empty user
    /// name, 16 for a bad token, 7 for a permission): the texts of etcd 3.4's `rpctypes`. A
    /// streamed call (snapshot) says `auth: ...` instead of `etcdserver: ...`.
    fn api(code: i64, message: String) -> EtcdError {
        let why = if message.contains("invalid auth token")
            || message.contains("user name is empty")
        {
            Some(Unreadable::Token)
        } else if message.contains("authentication failed") || message.contains("permission denied")
        {
            Some(Unreadable::Auth)
        } else {
            None
        };
        match why {
            Some(why) => EtcdError::Unreadable {
                why,
                detail: message,
            },
            None => EtcdError::Api { code, message },
        }
    }

    /// What went wrong, without the fix (for a refusal that lists several members).
    pub(crate) fn brief(&self) -> String {
        match self {
            EtcdError::Unreadable { detail, .. } => detail.clone(),
            e => e.to_string(),
        }
    }

    fn token_refused(&self) -> bool {
        matches!(
            self,
            EtcdError::Unreadable {
                why: Unreadable::Token,
                ..
            }
        )
    }
}

/// Whether the member answered, even if drctl cannot read it: the test before anything that
/// needs it stopped (a fence, moving its data directory aside).
pub(crate) fn answered<T>(r: &Result<T, EtcdError>) -> bool {
    r.as_ref().map_or_else(|e| !e.is_unreachable(), |_| true)
}

/// The error of an answer, in either shape: `{"error": "...", "code": N}`, or a streamed
/// call's `{"error": {"grpc_code": N, "message": "..."}}`.
pub(super) fn api_error(v: &Value) -> Option<EtcdError> {
    let e = v.get("error")?;
    let (code, message) = match e.as_str() {
        Some(m) => (v.get("code").and_then(Value::as_i64), m),
        None => (
            e.get("grpc_code").and_then(Value::as_i64),
            e.get("message").and_then(Value::as_str).unwrap_or_default(),
        ),
    };
    Some(EtcdError::api(code.unwrap_or(-1), message.to_string()))
}

/// Whether a POST's answer is a refused token (the stream of a snapshot starts with it).
pub(super) fn refused_token((_, bytes): &(reqwest::StatusCode, bytes::Bytes)) -> bool {
    let first = serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok);
    first
        .as_ref()
        .and_then(api_error)
        .is_some_and(|e| e.token_refused())
}

/// A failed request: unreachable, unless the TLS handshake got an answer it refused (a
/// certificate not trusted, an alert from a member refusing drctl's certificate): that member
/// is alive.
pub(super) fn transport(e: &reqwest::Error) -> EtcdError {
    if e.is_timeout() {
        return EtcdError::Unreachable("timed out".into());
    }
    match tls_error(e) {
        Some(detail) => EtcdError::Unreadable {
            why: Unreadable::Tls,
            detail,
        },
        None => EtcdError::Unreachable(cause(e)),
    }
}

/// The rustls error in a chain of causes. `io::Error::source` skips the error it wraps (and
/// reqwest's TLS error is an io::Error in an io::Error), so each io::Error is opened by hand.
fn tls_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t.to_string());
        }
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// What went wrong in a few words: the innermost cause (`Connection refused (os error 111)`),
/// without reqwest's wrapping (the caller names the node).
fn cause(e: &reqwest::Error) -> String {
    let mut last = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        last = inner.to_string();
        src = inner.source();
    }
    last
}
