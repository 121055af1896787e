//! The node's one error type and its mapping to HTTP, in exactly one place: every error body
//! carries a stable `code`, a message and the request id.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::ErrorBody;

tokio::task_local! {
    /// The id of the request being served; set by the request-id middleware.
    pub static REQUEST_ID: String;
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("wrong or missing cluster passphrase")]
    Unauthorized,
    #[error("this node belongs to cluster {mine}; the calling node belongs to cluster {theirs}: refused")]
    WrongCluster { mine: String, theirs: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("this node is {role}, not the primary{}", primary.as_ref().map(|p| format!("; the primary is {p}")).unwrap_or_default())]
    NotPrimary {
        role: String,
        primary: Option<String>,
    },
    #[error("this node is fenced and refuses writes: {reason}")]
    Fenced { reason: String },
    #[error("writes are paused: {reason}; retry in {retry_after_s} s")]
    Unavailable { reason: String, retry_after_s: u64 },
    #[error("{0}")]
    StaleEpoch(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{role} holder {holder} does not answer: seize the role first (`drctl seize-roles --to NODE --role {role}`)")]
    RoleHolderDown { role: String, holder: String },
    #[error("{0}")]
    Removed(String),
    #[error("the cluster lock is held by {holder} ({reason}, run {run_id}, {owner}) for {} more; wait for that run to end, continue it with `drctl run --resume {run_id}` if it was killed, or use --break-lock if it is dead", crate::util::duration::human(std::time::Duration::from_secs(*.expires_in_s)))]
    Locked {
        holder: String,
        reason: String,
        run_id: String,
        owner: String,
        expires_in_s: u64,
    },
    #[error("cannot reach the primary {url}: {detail}")]
    Upstream { url: String, detail: String },
    /// The node's disk (or the store's file system) is full: writes are refused, reads served.
    #[error("this node's disk is full: writes are refused until space is freed ({0})")]
    DiskFull(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// An error answered by the primary a write was forwarded to, passed through as it was.
    #[error("{}", body.message)]
    Remote { status: u16, body: ErrorBody },
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::WrongCluster { .. } => "wrong_cluster",
            ApiError::NotFound { .. } => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NotPrimary { .. } => "not_primary",
            ApiError::Fenced { .. } => "fenced",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::StaleEpoch(_) => "stale_epoch",
            ApiError::Conflict(_) => "conflict",
            ApiError::Locked { .. } => "locked",
            ApiError::RoleHolderDown { .. } => "role_holder_down",
            ApiError::Removed(_) => "removed",
            ApiError::Upstream { .. } => "upstream_unreachable",
            ApiError::DiskFull(_) => "insufficient_storage",
            ApiError::Internal(_) => "internal",
            ApiError::Remote { .. } => "remote",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::WrongCluster { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotPrimary { .. }
            | ApiError::Fenced { .. }
            | ApiError::StaleEpoch(_)
            | ApiError::Locked { .. }
            | ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable { .. } | ApiError::RoleHolderDown { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Removed(_) => StatusCode::GONE,
            ApiError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ApiError::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Remote { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound { what: what.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = REQUEST_ID
            .try_with(Clone::clone)
            .unwrap_or_else(|_| "-".into());
        if let ApiError::Remote { status, body } = self {
            // A forwarded write the primary refused keeps the primary's answer, Retry-After
            // included for a drain.
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut resp = (status, Json(body)).into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                resp.headers_mut()
                    .insert("retry-after", HeaderValue::from(1u64));
            }
            return resp;
        }
        if matches!(self, ApiError::Internal(_)) {
            tracing::error!(request_id, error = %self, "internal error");
        }
        let body = ErrorBody {
            code: self.code().to_string(),
            message: self.to_string(),
            request_id,
        };
        let mut resp = (self.status(), Json(body)).into_response();
        if let ApiError::Unavailable { retry_after_s, .. } = self {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after_s));
        }
        resp
    }
}

impl From<crate::node::store::StoreError> for ApiError {
    fn from(e: crate::node::store::StoreError) -> Self {
        if e.is_disk_full() {
            ApiError::DiskFull(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<crate::node::nodedb::NodeDbError> for ApiError {
    fn from(e: crate::node::nodedb::NodeDbError) -> Self {
        if e.is_disk_full() {
            ApiError::DiskFull(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// Maps a file error: a full disk refuses the write (507), anything else is internal.
pub fn io_error(what: &str, e: std::io::Error) -> ApiError {
    // By kind too: an error wrapped with its path (tempfile does) has no raw OS code.
    let full = matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(
        e.raw_os_error(),
        Some(code) if code == nix::errno::Errno::ENOSPC as i32 || code == nix::errno::Errno::EDQUOT as i32
    );
    if full {
        ApiError::DiskFull(format!("{what}: {e}"))
    } else {
        ApiError::Internal(format!("{what}: {e}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
