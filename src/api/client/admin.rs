//! The admin, replication and package calls of the client (the transport is in `mod.rs`).

use std::time::Duration;

use reqwest::Method;

use super::NodeClient;
use crate::api::*;

impl NodeClient {
    /// Long-polls the primary's log; the timeout covers the poll.
    pub async fn repl_log(&self, query: &LogQuery) -> Result<LogResponse, ClientError> {
        let url = self.endpoint(&["v1", "repl", "log"]);
        let req = self
            .request(Method::GET, url)
            .query(query)
            .timeout(self.request_timeout + Duration::from_millis(query.wait_ms));
        self.json(req).await
    }

    /// Opens the snapshot stream; the caller reads the NDJSON body.
    pub async fn snapshot(&self, timeout: Duration) -> Result<reqwest::Response, ClientError> {
        let req = self
            .request(Method::GET, self.endpoint(&["v1", "repl", "snapshot"]))
            .timeout(timeout);
        self.send(req).await
    }

    /// Reads the next chunk of a streamed response, with the error classified.
    pub async fn chunk(
        &self,
        resp: &mut reqwest::Response,
    ) -> Result<Option<bytes::Bytes>, ClientError> {
        let started = std::time::Instant::now();
        resp.chunk().await.map_err(|e| self.classify(e, started))
    }

    pub async fn promote(
        &self,
        epoch: u64,
        procedure: Option<&str>,
    ) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "promote"]),
            &PromoteRequest {
                epoch,
                procedure: procedure.map(str::to_string),
            },
        )
        .await
    }

    pub async fn follow(&self, req: &FollowRequest) -> Result<NodeStatus, ClientError> {
        self.post(self.endpoint(&["v1", "admin", "follow"]), req)
            .await
    }

    pub async fn standalone(&self) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "standalone"]),
            &serde_json::json!({}),
        )
        .await
    }

    /// Records an event in this node's log (a procedure's start and end).
    pub async fn record_event(
        &self,
        kind: &str,
        message: &str,
        success: Option<bool>,
    ) -> Result<serde_json::Value, ClientError> {
        self.post(
            self.endpoint(&["v1", "events"]),
            &NewEventRequest {
                kind: kind.to_string(),
                message: message.to_string(),
                success,
            },
        )
        .await
    }

    pub async fn set_role(
        &self,
        role: &str,
        holder: &str,
        epoch: u64,
    ) -> Result<WriteAck, ClientError> {
        self.post(
            self.endpoint(&["v1", "roles", role]),
            &SetRoleRequest {
                holder: holder.to_string(),
                epoch,
            },
        )
        .await
    }

    pub async fn release_role(&self, role: &str) -> Result<serde_json::Value, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "release-role"]),
            &serde_json::json!({ "role": role }),
        )
        .await
    }

    pub async fn drop_member(&self, host_id: &str) -> Result<serde_json::Value, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "drop-member"]),
            &DropMemberRequest {
                host_id: host_id.to_string(),
            },
        )
        .await
    }

    pub async fn set_services(&self, running: bool) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "services"]),
            &ServicesRequest { running },
        )
        .await
    }

    pub async fn set_maintenance(
        &self,
        maintenance: Option<Maintenance>,
    ) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "maintenance"]),
            &MaintenanceRequest { maintenance },
        )
        .await
    }

    pub async fn packages(&self) -> Result<Vec<PackageInfo>, ClientError> {
        self.get(self.endpoint(&["v1", "packages"])).await
    }

    pub async fn download_package(&self, name: &str) -> Result<bytes::Bytes, ClientError> {
        let started = std::time::Instant::now();
        let resp = self
            .send(self.request(Method::GET, self.endpoint(&["v1", "packages", name])))
            .await?;
        resp.bytes().await.map_err(|e| self.classify(e, started))
    }

    pub async fn upload_package(
        &self,
        name: &str,
        body: bytes::Bytes,
    ) -> Result<PackageInfo, ClientError> {
        let req = self
            .request(Method::PUT, self.endpoint(&["v1", "packages", name]))
            .body(body);
        self.json(req).await
    }

    pub async fn delete_package(&self, name: &str) -> Result<serde_json::Value, ClientError> {
        let req = self.request(Method::DELETE, self.endpoint(&["v1", "packages", name]));
        self.json(req).await
    }

    pub async fn drain(&self, ttl_ms: u64) -> Result<DrainResponse, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "drain"]),
            &DrainRequest { ttl_ms },
        )
        .await
    }

    pub async fn undrain(&self) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "undrain"]),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn lock(&self, req: &LockRequest) -> Result<LockInfo, ClientError> {
        self.post(self.endpoint(&["v1", "admin", "lock"]), req)
            .await
    }

    pub async fn unlock(&self, run_id: &str) -> Result<serde_json::Value, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "unlock"]),
            &UnlockRequest {
                run_id: run_id.to_string(),
            },
        )
        .await
    }

    pub async fn fence(&self, epoch: u64, reason: &str) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "fence"]),
            &FenceRequest {
                epoch,
                reason: reason.to_string(),
                same_epoch: false,
            },
        )
        .await
    }

    /// Tells a primary that another primary holds its epoch: both must stop writing.
    pub async fn fence_same_epoch(
        &self,
        epoch: u64,
        reason: &str,
    ) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "fence"]),
            &FenceRequest {
                epoch,
                reason: reason.to_string(),
                same_epoch: true,
            },
        )
        .await
    }

    /// This node's log records after `after_seq`, any role.
    pub async fn read_log(
        &self,
        after_seq: u64,
        limit: u64,
    ) -> Result<Vec<LogRecord>, ClientError> {
        let mut url = self.endpoint(&["v1", "log"]);
        url.query_pairs_mut()
            .append_pair("after_seq", &after_seq.to_string())
            .append_pair("limit", &limit.to_string());
        self.get(url).await
    }

    /// The seq range of each epoch in this node's log.
    pub async fn terms(&self) -> Result<Vec<Term>, ClientError> {
        self.get(self.endpoint(&["v1", "repl", "terms"])).await
    }

    pub async fn set_sync_auto(&self, on: bool) -> Result<NodeStatus, ClientError> {
        self.post(
            self.endpoint(&["v1", "admin", "sync-auto"]),
            &SyncAutoRequest { on },
        )
        .await
    }
}
