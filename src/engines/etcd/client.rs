//! etcd's v3 JSON gateway (grpc-gateway, etcd 3.4: `POST /v3/...`): the calls drctl makes and
//! their wire types. 64-bit numbers are decimal strings in this JSON (ids exceed i64::MAX);
//! fields at their zero value are left out; keys and values are base64. Over https with the
//! member's CA (and a client certificate), and with etcd's auth: a token from
//! `auth/authenticate`, sent as the `Authorization` header, renewed once when refused.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use super::access::{Access, Credentials};
pub(crate) use super::error::{answered, EtcdError, Unreadable};
use super::error::{api_error, refused_token, transport};
use super::EtcdNode;

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

/// One member's connection: the HTTP client of its TLS settings, and its auth.
struct Conn {
    http: reqwest::Client,
    credentials: Option<Credentials>,
    /// None: not authenticated yet; Some(None): auth is not enabled; Some(Some(t)): a token.
    token: Mutex<Option<Option<String>>>,
}

/// An HTTP client for the gateway, with a per-call timeout: one connection per member of the
/// cluster file (its TLS files and its token: a token is the member's, gone when it restarts;
/// members with the same TLS files share one HTTP client and its pool), and a plain one for
/// any other url.
#[derive(Clone)]
pub(crate) struct Client {
    plain: Arc<Conn>,
    members: Arc<BTreeMap<String, Arc<Conn>>>,
}

/// A reqwest client over drctl's rustls (reqwest is built with no default crypto provider).
fn http_client(
    tls: rustls::ClientConfig,
    timeout: Option<Duration>,
) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().use_preconfigured_tls(tls);
    if let Some(t) = timeout {
        b = b.connect_timeout(t).timeout(t.max(Duration::from_secs(3)));
    }
    b.build().map_err(|e| e.to_string())
}

/// A client for a run's own HTTP steps (`http.request` in a runbook on etcd members).
pub(crate) fn plain_http() -> Result<reqwest::Client, String> {
    http_client(Access::default().tls_config()?, None)
}

impl Conn {
    fn new(http: reqwest::Client, credentials: Option<Credentials>) -> Arc<Conn> {
        Arc::new(Conn {
            http,
            credentials,
            token: Mutex::new(None),
        })
    }
}

impl Client {
    /// A client for plain-HTTP members without auth (the chaos writer's).
    pub(crate) fn new(timeout: Duration) -> Client {
        let http = http_client(
            Access::default()
                .tls_config()
                .expect("a config trusting nothing builds"),
            Some(timeout),
        )
        .expect("a client with a preconfigured TLS config builds");
        Client {
            plain: Conn::new(http, None),
            members: Arc::default(),
        }
    }

    /// A client for these members, with their TLS files read: the error names the member and
    /// the field.
    pub(crate) fn for_nodes(nodes: &[EtcdNode], timeout: Duration) -> Result<Client, String> {
        let mut c = Client::new(timeout);
        let mut https: BTreeMap<_, reqwest::Client> = BTreeMap::new();
        let mut members = BTreeMap::new();
        for n in nodes {
            let key = n.access.tls_files();
            let http = match https.get(&key) {
                Some(h) => h.clone(),
                None => {
                    let tls = n
                        .access
                        .tls_config()
                        .map_err(|e| format!("{}: {e}", n.name))?;
                    let h =
                        http_client(tls, Some(timeout)).map_err(|e| format!("{}: {e}", n.name))?;
                    https.insert(key, h.clone());
                    h
                }
            };
            members.insert(n.url.clone(), Conn::new(http, n.access.credentials.clone()));
        }
        c.members = Arc::new(members);
        Ok(c)
    }

    fn conn(&self, url: &str) -> &Conn {
        self.members.get(url).unwrap_or(&self.plain)
    }

    /// One POST: the answer's HTTP status and body, or why there is none.
    async fn post(
        &self,
        conn: &Conn,
        url: &str,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes), EtcdError> {
        let mut req = conn.http.post(format!("{url}/v3/{path}")).json(body);
        if let Some(t) = token {
            req = req.header(reqwest::header::AUTHORIZATION, t);
        }
        let resp = req.send().await.map_err(|e| transport(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| transport(&e))?;
        Ok((status, bytes))
    }

    /// A token for the member: the one it gave, else a new one (`auth/authenticate`, a raft
    /// request: it needs a quorum). None without credentials, or when auth is not enabled.
    async fn token(
        &self,
        conn: &Conn,
        url: &str,
        renew: bool,
    ) -> Result<Option<String>, EtcdError> {
        let Some(c) = &conn.credentials else {
            return Ok(None);
        };
        if !renew {
            if let Some(t) = conn.token.lock().expect("token lock").clone() {
                return Ok(t);
            }
        }
        let body = json!({"name": c.username, "password": c.password.expose()});
        let (status, bytes) = self
            .post(conn, url, "auth/authenticate", &body, None)
            .await?;
        let token = match decode::<Value>("auth/authenticate", status, &bytes) {
            Ok(v) => Some(
                v.get("token")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ),
            Err(EtcdError::Api { message, .. })
                if message.contains("authentication is not enabled") =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        *conn.token.lock().expect("token lock") = Some(token.clone());
        Ok(token)
    }

    /// Makes sure the member takes drctl's credentials (authenticating unless it has a token
    /// already): its status and membership are read without them.
    pub(crate) async fn authenticated(&self, url: &str) -> Result<(), EtcdError> {
        self.token(self.conn(url), url, false).await.map(drop)
    }

    /// A POST with the member's token, got (or renewed) once when refused.
    async fn authorized(
        &self,
        url: &str,
        path: &str,
        body: &Value,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes), EtcdError> {
        let conn = self.conn(url);
        // The token it gave, if any: authenticating only when a call needs it, as status and
        // the member list do not (authenticating goes through raft: without a quorum it
        // waits for the timeout, and a learner refuses it).
        let token = conn.token.lock().expect("token lock").clone().flatten();
        let r = self.post(conn, url, path, body, token.as_deref()).await?;
        if conn.credentials.is_none() || !refused_token(&r) {
            return Ok(r);
        }
        // It answered: a renewal that gets no answer is etcd's auth without a quorum.
        let token = match self.token(conn, url, true).await {
            Err(EtcdError::Unreachable(why)) => {
                return Err(EtcdError::NoToken(format!(
                    "{path} needs a token and authenticating got no answer ({why}): etcd \
                     authenticates through raft, so without a quorum it gives no token"
                )))
            }
            t => t?,
        };
        self.post(conn, url, path, body, token.as_deref()).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        url: &str,
        path: &str,
        body: Value,
    ) -> Result<T, EtcdError> {
        let (status, bytes) = self.authorized(url, path, &body).await?;
        decode(path, status, &bytes)
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
        let (_, body) = self
            .authorized(url, "maintenance/snapshot", &json!({}))
            .await?;
        let decode = |detail: String| EtcdError::Decode {
            path: "maintenance/snapshot".into(),
            detail,
        };
        let b = base64::engine::general_purpose::STANDARD;
        let mut db = Vec::new();
        for v in serde_json::Deserializer::from_slice(&body).into_iter::<Value>() {
            let v = v.map_err(|e| decode(e.to_string()))?;
            if let Some(e) = api_error(&v) {
                return Err(e);
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

    /// Turns etcd's auth on (a lab's setup): `user` with `password` and the root role. A rerun
    /// finds the user and the role there.
    pub(crate) async fn enable_auth(
        &self,
        url: &str,
        user: &str,
        password: &str,
    ) -> Result<(), EtcdError> {
        let exists = |e: &EtcdError| e.to_string().contains("already exists");
        let steps = [
            ("auth/user/add", json!({"name": user, "password": password})),
            ("auth/role/add", json!({"name": "root"})),
            ("auth/user/grant", json!({"user": user, "role": "root"})),
            ("auth/enable", json!({})),
        ];
        for (path, body) in steps {
            match self.call::<Value>(url, path, body).await {
                Err(e) if !exists(&e) => return Err(e),
                _ => {}
            }
        }
        Ok(())
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

/// One answer as `T`, or the error it carries. An answer that is not JSON comes from
/// something that is not etcd's gateway (a plain-HTTP request to a TLS port gets
/// "Client sent an HTTP request to an HTTPS server.").
fn decode<T: DeserializeOwned>(
    path: &str,
    status: reqwest::StatusCode,
    bytes: &[u8],
) -> Result<T, EtcdError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| {
        let text = String::from_utf8_lossy(bytes);
        EtcdError::Unreadable {
            why: if text.contains("CommonName of client") {
                Unreadable::CertName
            } else {
                Unreadable::NotEtcd
            },
            detail: format!(
                "HTTP {} and no JSON: {}",
                status.as_u16(),
                text.chars().take(100).collect::<String>().trim()
            ),
        }
    })?;
    if let Some(e) = api_error(&v) {
        return Err(e);
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
