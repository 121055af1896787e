//! `http.request`: call another vendor's admin API over rustls (the cluster CA, or a CA file the
//! step names). An `unless` guard (a GET answering an expected status) makes it idempotent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::ctx::RunbookCtx;
use crate::engine::{Check, ProcError};
use crate::util::tls::Trust;

#[derive(Debug, Clone, Serialize)]
pub struct HttpCall {
    pub method: String,
    pub url: String,
    pub body: Option<serde_json::Value>,
    /// Values are not shown in reports: they often hold credentials.
    #[serde(serialize_with = "redacted")]
    pub headers: BTreeMap<String, String>,
    pub expect_status: Option<u16>,
    /// Already done when a GET of this URL answers this status.
    pub unless: Option<(String, u16)>,
    pub ca: Option<PathBuf>,
}

fn redacted<S: serde::Serializer>(
    headers: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(headers.keys().map(|k| (k, "(redacted)")))
}

impl HttpCall {
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    pub fn changes(&self) -> bool {
        self.method != "GET"
    }

    fn client(&self, cx: &RunbookCtx) -> Result<reqwest::Client, ProcError> {
        let Some(ca) = &self.ca else {
            return Ok(cx.shared.http.clone());
        };
        let tls = crate::util::tls::client_config(&Trust {
            ca: Some(ca.clone()),
            trust_dir: None,
        })
        .map_err(|e| ProcError::usage(e.to_string()))?;
        reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .no_proxy()
            .build()
            .map_err(|e| ProcError::usage(format!("http client: {e}")))
    }

    async fn send(
        &self,
        cx: &RunbookCtx,
        method: &str,
        url: &str,
        with_body: bool,
    ) -> Result<(u16, String), ProcError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| ProcError::usage(format!("bad HTTP method {method}")))?;
        let mut req = self
            .client(cx)?
            .request(method, url)
            .timeout(cx.cluster.step_timeout);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let (true, Some(b)) = (with_body, &self.body) {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                ProcError::timed_out(format!(
                    "{url}: {e}; the outcome is unknown: look at the service"
                ))
            } else {
                ProcError::failed(format!("{url}: {e}"))
            }
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        Ok((status, text))
    }

    pub async fn check(&self, cx: &RunbookCtx) -> Result<Check, ProcError> {
        if let Some((url, want)) = &self.unless {
            let (status, _) = self.send(cx, "GET", url, false).await?;
            if status == *want {
                return Ok(Check::Done(format!("GET {url} answers {status}")));
            }
        }
        Ok(Check::ToDo)
    }

    pub async fn apply(&self, cx: &RunbookCtx) -> Result<Option<String>, ProcError> {
        let (status, body) = self.send(cx, &self.method, &self.url, true).await?;
        cx.output("status", status.to_string());
        cx.output("body", body.clone());
        let ok = match self.expect_status {
            Some(s) => status == s,
            None => (200..300).contains(&status),
        };
        if !ok {
            return Err(ProcError::failed(format!(
                "{} answered {status}: {}",
                self.describe(),
                body.chars().take(300).collect::<String>()
            )));
        }
        Ok(Some(format!("{status}")))
    }

    pub async fn verify(&self, cx: &RunbookCtx) -> Result<Option<String>, ProcError> {
        match self.check(cx).await? {
            Check::ToDo if self.unless.is_some() => Err(ProcError::failed(format!(
                "{} succeeded but its `unless` guard still does not hold",
                self.describe()
            ))),
            _ => Ok(None),
        }
    }
}
