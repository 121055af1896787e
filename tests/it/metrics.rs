//! `GET /metrics` on real drnode nodes, scraped over HTTPS like Prometheus does and read by a real
//! Prometheus text parser (`prometheus-parse`): the values follow writes, roles, replication,
//! the lock and a lost primary; the scrape token opens the metrics and nothing else.

use std::path::Path;
use std::time::Duration;

use prometheus_parse::{Scrape, Value};

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// An HTTPS client that trusts the lab's CA, as a Prometheus scraper configured for it would.
struct Client {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    passphrase: String,
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Client {
    fn new(lab: &Lab) -> Client {
        let trust = drctl::util::tls::Trust {
            ca: Some(lab.dir.join("certs/ca.pem")),
            trust_dir: None,
        };
        let tls = drctl::util::tls::client_config(&trust).expect("lab CA");
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let passphrase = std::fs::read_to_string(lab.dir.join("passphrase"))
            .expect("lab passphrase")
            .trim()
            .to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Client {
            rt,
            http,
            passphrase,
        }
    }

    fn call(&self, method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        self.rt.block_on(async {
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = resp.text().await.expect("body");
            Answer {
                status,
                content_type,
                body,
            }
        })
    }

    /// Scrapes `/metrics` of the node at `url` and parses it.
    #[track_caller]
    fn scrape(&self, url: &str, token: &str) -> Scrape {
        let a = self.call("GET", &format!("{url}/metrics"), Some(token), None);
        assert_eq!(a.status, 200, "{url}/metrics: {}", a.body);
        assert!(
            a.content_type.starts_with("application/openmetrics-text"),
            "{}",
            a.content_type
        );
        assert!(a.body.ends_with("# EOF\n"), "{}", a.body);
        Scrape::parse(a.body.lines().map(|l| Ok(l.to_string()))).expect("a Prometheus text page")
    }

    fn write(&self, url: &str, key: &str) {
        let a = self.call(
            "PUT",
            &format!("{url}/v1/entries/{key}"),
            Some(&self.passphrase),
            Some(r#"{"value": "v"}"#),
        );
        assert_eq!(a.status, 200, "PUT {key} on {url}: {}", a.body);
    }
}

/// The value of the sample `name` whose labels include `labels`; None when there is none.
fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .find(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match &x.value {
            // OpenMetrics names a counter's family without `_total`: the classic parser calls
            // its samples untyped; the number is the same.
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{name} is not a number: {other:?}"),
        })
}

#[track_caller]
fn must(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(s, name, labels).unwrap_or_else(|| {
        let names: Vec<_> = s.samples.iter().map(|x| &x.metric).collect();
        panic!("no {name}{labels:?} in the scrape; metrics: {names:?}")
    })
}

fn url_of(lab: &Lab, name: &str) -> String {
    node(&lab.status(), name)["url"]
        .as_str()
        .expect("url")
        .to_string()
}

#[test]
fn metrics_follow_writes_roles_replication_the_lock_and_a_lost_primary() {
    let lab = Lab::up(2);
    lab.wait_converged(DEADLINE);
    let c = Client::new(&lab);
    let (p_url, r_url) = (url_of(&lab, "node-1"), url_of(&lab, "node-2"));
    let pass = c.passphrase.clone();

    let p = c.scrape(&p_url, &pass);
    let r = c.scrape(&r_url, &pass);
    assert_eq!(must(&p, "drnode_role", &[("role", "primary")]), 1.0);
    assert_eq!(must(&p, "drnode_role", &[("role", "replica")]), 0.0);
    assert_eq!(must(&r, "drnode_role", &[("role", "replica")]), 1.0);
    assert_eq!(must(&r, "drnode_role", &[("role", "primary")]), 0.0);
    assert_eq!(must(&p, "drnode_node_info", &[("name", "node-1")]), 1.0);
    let epoch = must(&p, "drnode_epoch", &[]);
    assert!(epoch >= 1.0, "epoch {epoch}");
    assert_eq!(must(&r, "drnode_epoch", &[]), epoch);
    for s in [&p, &r] {
        for m in ["node-1", "node-2"] {
            assert_eq!(
                must(s, "drnode_member", &[("member", m), ("state", "normal")]),
                1.0
            );
        }
        assert_eq!(must(s, "drnode_lock_held", &[]), 0.0);
    }
    assert_eq!(must(&r, "drnode_sync_phase", &[("phase", "partial")]), 1.0);
    assert_eq!(must(&r, "drnode_sync_auto", &[]), 1.0);
    let committed = |s: &Scrape| {
        value(
            s,
            "drnode_writes_total",
            &[("op", "put"), ("outcome", "committed")],
        )
        .unwrap_or(0.0)
    };
    let forwarded = |s: &Scrape| {
        value(
            s,
            "drnode_writes_total",
            &[("op", "put"), ("outcome", "forwarded")],
        )
        .unwrap_or(0.0)
    };
    let (p_committed, r_forwarded) = (committed(&p), forwarded(&r));
    let head = must(&p, "drnode_head_seq", &[]);

    // Five writes on the primary, two through the replica (which forwards them).
    for i in 0..5 {
        c.write(&p_url, &format!("metrics/p{i}"));
    }
    for i in 0..2 {
        c.write(&r_url, &format!("metrics/r{i}"));
    }
    let p = c.scrape(&p_url, &pass);
    assert_eq!(committed(&p), p_committed + 7.0);
    assert_eq!(forwarded(&c.scrape(&r_url, &pass)), r_forwarded + 2.0);
    let new_head = must(&p, "drnode_head_seq", &[]);
    assert!(new_head >= head + 7.0, "head {head} -> {new_head}");
    assert_eq!(must(&p, "drnode_applied_seq", &[]), new_head);
    assert_eq!(must(&p, "drnode_replication_lag_records", &[]), 0.0);
    // The PUTs were timed under their route's template.
    let puts = p
        .samples
        .iter()
        .find(|x| {
            x.metric == "drnode_http_request_duration_seconds"
                && x.labels.get("route") == Some("/v1/entries/*key")
                && x.labels.get("method") == Some("PUT")
        })
        .expect("a latency histogram of the PUTs");
    let Value::Histogram(buckets) = &puts.value else {
        panic!("not a histogram: {puts:?}")
    };
    let all = buckets
        .iter()
        .find(|b| b.less_than.is_infinite())
        .expect("+Inf bucket");
    assert!(all.count >= 7.0, "{buckets:?}");
    assert!(
        buckets.windows(2).all(|w| w[0].count <= w[1].count),
        "{buckets:?}"
    );

    // The replica catches up: its lag reaches 0 at the primary's head; its lag is always the
    // primary head it knows less what it applied.
    wait_for(
        "the replica's metrics at the primary's head",
        DEADLINE,
        || {
            let r = c.scrape(&r_url, &pass);
            let (known, applied) = (
                must(&r, "drnode_primary_head_seq", &[]),
                must(&r, "drnode_applied_seq", &[]),
            );
            let lag = must(&r, "drnode_replication_lag_records", &[]);
            assert_eq!(lag, (known - applied).max(0.0));
            (known == new_head && applied == new_head && lag == 0.0).then_some(())
        },
    );
    // The primary answered the replica's log pulls, and keeps answering them.
    let pulls = |s: &Scrape| value(s, "drnode_replication_requests_total", &[("kind", "log")]);
    let before = pulls(&c.scrape(&p_url, &pass)).expect("log pulls counted");
    assert!(before >= 1.0);
    wait_for("more log pulls", DEADLINE, || {
        (pulls(&c.scrape(&p_url, &pass))? > before).then_some(())
    });

    // The cluster lock, taken and released.
    let lock = r#"{"holder": "tester", "reason": "metrics test", "run_id": "run-metrics", "ttl_ms": 60000}"#;
    let a = c.call(
        "POST",
        &format!("{p_url}/v1/admin/lock"),
        Some(&pass),
        Some(lock),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let p = c.scrape(&p_url, &pass);
    assert_eq!(must(&p, "drnode_lock_held", &[]), 1.0);
    let left = must(&p, "drnode_lock_expires_seconds", &[]);
    assert!(left > 0.0 && left <= 60.0, "{left}");
    let a = c.call(
        "POST",
        &format!("{p_url}/v1/admin/unlock"),
        Some(&pass),
        Some(r#"{"run_id": "run-metrics"}"#),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(must(&c.scrape(&p_url, &pass), "drnode_lock_held", &[]), 0.0);

    // The primary is killed: the replica counts its failed pulls.
    lab.ok(&["lab", "kill", "node-1"]);
    wait_for("failed sync attempts on the replica", DEADLINE, || {
        let r = c.scrape(&r_url, &pass);
        (must(&r, "drnode_sync_failures", &[]) >= 2.0
            && must(&r, "drnode_sync_phase", &[("phase", "partial")]) == 0.0)
            .then_some(())
    });
    // A write the replica cannot forward is counted as refused.
    let refused = |s: &Scrape| {
        value(
            s,
            "drnode_writes_total",
            &[("op", "put"), ("outcome", "refused")],
        )
        .unwrap_or(0.0)
    };
    let before = refused(&c.scrape(&r_url, &pass));
    let a = c.call(
        "PUT",
        &format!("{r_url}/v1/entries/metrics/lost"),
        Some(&pass),
        Some(r#"{"value": "v"}"#),
    );
    assert_ne!(a.status, 200, "{}", a.body);
    assert_eq!(refused(&c.scrape(&r_url, &pass)), before + 1.0);
}

fn write_secret(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn the_scrape_token_opens_the_metrics_and_nothing_else() {
    let lab = Lab::up(1);
    let c = Client::new(&lab);
    let dir = lab.node_dir("node-1");
    let config = dir.join("drnode.yaml");
    let original = std::fs::read_to_string(&config).unwrap();

    // The passphrase itself as the token is refused: a scraper gets a credential of its own.
    write_secret(&dir.join("metrics-token"), &c.passphrase);
    std::fs::write(
        &config,
        format!("{original}metrics_token_file: metrics-token\n"),
    )
    .unwrap();
    run(command(drnode_bin(), lab.cwd())
        .args(["check-config", "--config"])
        .arg(&config))
    .exit(2)
    .stderr_has("metrics_token_file: the metrics token is the cluster passphrase");

    write_secret(&dir.join("metrics-token"), "scrape-only-token\n");
    lab.ok(&["lab", "restart", "node-1"]);
    let url = url_of(&lab, "node-1");
    let s = c.scrape(&url, "scrape-only-token");
    assert_eq!(must(&s, "drnode_role", &[("role", "primary")]), 1.0);
    let refused_before = value(&s, "drnode_auth_refused_total", &[]).unwrap_or(0.0);

    let metrics = format!("{url}/metrics");
    assert_eq!(c.call("GET", &metrics, None, None).status, 401);
    assert_eq!(c.call("GET", &metrics, Some("wrong"), None).status, 401);
    // The token reads nothing else, and changes nothing.
    let node = format!("{url}/v1/node");
    assert_eq!(
        c.call("GET", &node, Some("scrape-only-token"), None).status,
        401
    );
    let put = format!("{url}/v1/entries/k");
    let a = c.call(
        "PUT",
        &put,
        Some("scrape-only-token"),
        Some(r#"{"value": "v"}"#),
    );
    assert_eq!(a.status, 401, "{}", a.body);
    // The passphrase still scrapes; the refusals are counted.
    let s = c.scrape(&url, &c.passphrase);
    assert_eq!(
        must(&s, "drnode_auth_refused_total", &[]),
        refused_before + 4.0
    );
    assert!(
        !lab.run(&["events", "--node", "node-1", "--json"])
            .stdout()
            .contains("scrape-only-token"),
        "the token reached the event log"
    );
}
