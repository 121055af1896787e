//! etcd's v3 JSON gateway (grpc-gateway, etcd 3.4: `POST /v3/...`): the calls drctl makes and
//! their wire types. 64-bit numbers are decimal strings in this JSON (ids exceed i64::MAX);
//! fields at their zero value are left out; keys and values are base64.

use std::time::Duration;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

/// Why a call got no answer, or the answer etcd gave instead of one.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum EtcdError {
    /// No connection, or no answer in time.
    #[error("does not answer: {0}")]
    Unreachable(String),
    /// etcd answered with an error (gRPC code and message, e.g. "etcdserver: no leader").
    #[error("{message} (code {code})")]
    Api { code: i64, message: String },
    #[error("unexpected answer from {path}: {detail}")]
    Decode { path: String, detail: String },
}

impl EtcdError {
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, EtcdError::Unreachable(_))
    }
}

/// A u64 that the gateway writes as a string (or, from other writers, a number).
fn u64s<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        N(u64),
    }
    match N::deserialize(d)? {
        N::N(n) => Ok(n),
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Header {
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) cluster_id: u64,
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) member_id: u64,
    /// The key-value store's revision when the member answered.
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) revision: u64,
}

/// An answer that carries only what drctl reads of it: its header.
#[derive(Debug, Clone, Default, Deserialize)]
struct Headed {
    #[serde(default)]
    header: Header,
}

/// `maintenance/status`: what one member says about itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
    #[serde(default)]
    pub(crate) header: Header,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) db_size: u64,
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) db_size_in_use: u64,
    /// 0 when it knows no leader.
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) leader: u64,
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) raft_index: u64,
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) raft_term: u64,
    #[serde(default, deserialize_with = "u64s")]
    pub(crate) raft_applied_index: u64,
    #[serde(default)]
    pub(crate) errors: Vec<String>,
    #[serde(default)]
    pub(crate) is_learner: bool,
}

/// One entry of `cluster/member/list`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Member {
    #[serde(rename = "ID", default, deserialize_with = "u64s")]
    pub(crate) id: u64,
    /// Empty for a member that was added but never started.
    #[serde(default)]
    pub(crate) name: String,
    #[serde(rename = "peerURLs", default)]
    pub(crate) peer_urls: Vec<String>,
    #[serde(rename = "clientURLs", default)]
    pub(crate) client_urls: Vec<String>,
    #[serde(default)]
    pub(crate) is_learner: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct MemberList {
    #[serde(default)]
    pub(crate) members: Vec<Member>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Alarm {
    #[serde(rename = "memberID", default, deserialize_with = "u64s")]
    pub(crate) member_id: u64,
    /// `NOSPACE`, `CORRUPT` (the gateway writes the enum's name).
    #[serde(default)]
    pub(crate) alarm: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Alarms {
    #[serde(default)]
    alarms: Vec<Alarm>,
}

/// An HTTP client for the gateway, with a per-call timeout.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
}

/// A reqwest builder for plain HTTP. rustls is configured anyway (trusting no CA) because
/// reqwest is built with no default crypto provider; drctl's is `util::tls`.
fn builder() -> Result<reqwest::ClientBuilder, String> {
    let tls = rustls::ClientConfig::builder_with_provider(crate::util::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(reqwest::Client::builder().use_preconfigured_tls(tls))
}

/// A client for a run's own HTTP steps (`http.request` in a runbook on etcd members).
pub(crate) fn plain_http() -> Result<reqwest::Client, String> {
    builder()?.build().map_err(|e| e.to_string())
}

impl Client {
    pub(crate) fn new(timeout: Duration) -> Client {
        let http = builder()
            .and_then(|b| {
                b.connect_timeout(timeout)
                    .timeout(timeout.max(Duration::from_secs(3)))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .expect("a client with a preconfigured TLS config builds");
        Client { http }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        url: &str,
        path: &str,
        body: Value,
    ) -> Result<T, EtcdError> {
        let resp = self
            .http
            .post(format!("{url}/v3/{path}"))
            .json(&body)
            .send()
            .await
            .map_err(|e| EtcdError::Unreachable(cause(&e)))?;
        let status = resp.status();
        let v: Value = resp
            .json()
            .await
            .map_err(|e| EtcdError::Unreachable(cause(&e)))?;
        if let Some(message) = v.get("error").and_then(Value::as_str) {
            return Err(EtcdError::Api {
                code: v.get("code").and_then(Value::as_i64).unwrap_or(-1),
                message: message.to_string(),
            });
        }
        if !status.is_success() {
            return Err(EtcdError::Api {
                code: i64::from(status.as_u16()),
                message: v.to_string(),
            });
        }
        serde_json::from_value(v).map_err(|e| EtcdError::Decode {
            path: path.to_string(),
            detail: e.to_string(),
        })
    }

    pub(crate) async fn status(&self, url: &str) -> Result<Status, EtcdError> {
        self.call(url, "maintenance/status", json!({})).await
    }

    pub(crate) async fn members(&self, url: &str) -> Result<MemberList, EtcdError> {
        self.call(url, "cluster/member/list", json!({})).await
    }

    pub(crate) async fn alarms(&self, url: &str) -> Result<Vec<Alarm>, EtcdError> {
        let a: Alarms = self
            .call(url, "maintenance/alarm", json!({"action": "GET"}))
            .await?;
        Ok(a.alarms)
    }

    /// move-leader: must be sent to the current leader.
    pub(crate) async fn move_leader(&self, leader_url: &str, target: u64) -> Result<(), EtcdError> {
        self.call::<Value>(
            leader_url,
            "maintenance/transfer-leadership",
            json!({"targetID": target.to_string()}),
        )
        .await
        .map(drop)
    }

    pub(crate) async fn remove_member(&self, url: &str, id: u64) -> Result<MemberList, EtcdError> {
        self.call(url, "cluster/member/remove", json!({"ID": id.to_string()}))
            .await
    }

    /// `member add` of a learner (allowed at once, while a voting member is refused for about
    /// 5 s after any membership change); the membership after it.
    pub(crate) async fn add_learner(
        &self,
        url: &str,
        peer_url: &str,
    ) -> Result<MemberList, EtcdError> {
        self.call(
            url,
            "cluster/member/add",
            json!({"peerURLs": [peer_url], "isLearner": true}),
        )
        .await
    }

    /// `member promote`: refused while the learner is not in sync with the leader.
    pub(crate) async fn promote(&self, url: &str, id: u64) -> Result<(), EtcdError> {
        self.call::<Value>(url, "cluster/member/promote", json!({"ID": id.to_string()}))
            .await
            .map(drop)
    }

    /// `snapshot save` of this one member's database (it works without quorum): the bytes of
    /// the streamed `{"result":{"blob":BASE64}}` objects, in order.
    pub(crate) async fn snapshot(&self, url: &str) -> Result<Vec<u8>, EtcdError> {
        let body = self
            .http
            .post(format!("{url}/v3/maintenance/snapshot"))
            .json(&json!({}))
            .send()
            .await
            .map_err(|e| EtcdError::Unreachable(cause(&e)))?
            .bytes()
            .await
            .map_err(|e| EtcdError::Unreachable(cause(&e)))?;
        let decode = |detail: String| EtcdError::Decode {
            path: "maintenance/snapshot".into(),
            detail,
        };
        let b = base64::engine::general_purpose::STANDARD;
        let mut db = Vec::new();
        for v in serde_json::Deserializer::from_slice(&body).into_iter::<Value>() {
            let v = v.map_err(|e| decode(e.to_string()))?;
            if let Some(e) = v.get("error") {
                return Err(EtcdError::Api {
                    code: v.get("code").and_then(Value::as_i64).unwrap_or(-1),
                    message: e.as_str().unwrap_or_default().to_string(),
                });
            }
            if let Some(blob) = v.pointer("/result/blob").and_then(Value::as_str) {
                db.extend(b.decode(blob).map_err(|e| decode(e.to_string()))?);
            }
        }
        if db.is_empty() {
            return Err(decode("an empty snapshot".into()));
        }
        Ok(db)
    }

    /// Puts one key; the store's revision that holds it.
    pub(crate) async fn put(&self, url: &str, key: &str, value: &str) -> Result<u64, EtcdError> {
        let b = base64::engine::general_purpose::STANDARD;
        let r: Headed = self
            .call(
                url,
                "kv/put",
                json!({"key": b.encode(key), "value": b.encode(value)}),
            )
            .await?;
        Ok(r.header.revision)
    }

    /// Deletes one key; how many keys went.
    pub(crate) async fn delete(&self, url: &str, key: &str) -> Result<u64, EtcdError> {
        #[derive(Deserialize)]
        struct Deleted {
            #[serde(default, deserialize_with = "u64s")]
            deleted: u64,
        }
        let b = base64::engine::general_purpose::STANDARD;
        let r: Deleted = self
            .call(url, "kv/deleterange", json!({"key": b.encode(key)}))
            .await?;
        Ok(r.deleted)
    }

    /// Every key under `prefix` (a linearizable read: it needs a leader).
    pub(crate) async fn keys(&self, url: &str, prefix: &str) -> Result<Vec<String>, EtcdError> {
        let b = base64::engine::general_purpose::STANDARD;
        let mut end = prefix.as_bytes().to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let r: Range = self
            .call(
                url,
                "kv/range",
                json!({"key": b.encode(prefix), "range_end": b.encode(end), "keys_only": true}),
            )
            .await?;
        r.kvs
            .iter()
            .map(|kv| {
                let raw = b.decode(&kv.key).map_err(|e| EtcdError::Decode {
                    path: "kv/range".into(),
                    detail: e.to_string(),
                })?;
                Ok(String::from_utf8_lossy(&raw).into_owned())
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Range {
    #[serde(default)]
    kvs: Vec<Kv>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Kv {
    #[serde(default)]
    key: String,
}

/// What went wrong in a few words: the innermost cause (`Connection refused (os error 111)`),
/// without reqwest's wrapping (the caller names the node).
fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut last = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        last = inner.to_string();
        src = inner.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real answers of etcd 3.4.23's gateway: u64 as strings, zero values left out.
    #[test]
    fn gateway_json_decodes() {
        let s: Status = serde_json::from_str(r#"{"header":{"cluster_id":"11225748411157391104","member_id":"17496614320493254894","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"17496614320493254894","raftIndex":"4","raftTerm":"2","raftAppliedIndex":"4","dbSizeInUse":"16384"}"#).unwrap();
        assert_eq!(s.header.cluster_id, 11225748411157391104);
        assert_eq!(s.leader, 17496614320493254894);
        assert_eq!((s.raft_index, s.raft_term, s.db_size), (4, 2, 20480));
        assert!(!s.is_learner && s.errors.is_empty());
        let m: MemberList = serde_json::from_str(r#"{"header":{"cluster_id":"1"},"members":[{"ID":"17496614320493254894","name":"a","peerURLs":["http://127.0.0.1:24002"],"clientURLs":["http://127.0.0.1:24001"]},{"ID":"8760168943085397273","peerURLs":["http://127.0.0.1:23093"],"isLearner":true}]}"#).unwrap();
        assert_eq!(m.members.len(), 2);
        assert!(m.members[1].is_learner && m.members[1].name.is_empty());
        let none: Status =
            serde_json::from_str(r#"{"raftIndex":"290","errors":["etcdserver: no leader"]}"#)
                .unwrap();
        assert_eq!((none.leader, none.raft_index), (0, 290));
    }
}
