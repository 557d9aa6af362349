//! Errors as the API answers them: one enum, mapped to a status code and the contract's body
//! `{"error": {"code", "message"}}` in one place, so no handler can leak internal details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use leenkies_domain::ports::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every 4xx/5xx answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_status`, `not_found`, `unauthorized`.
    pub code: String,
    /// A human sentence; never contains internal details.
    pub message: String,
}

/// How long a client should wait before retrying after a store outage.
const RETRY_AFTER_SECS: &str = "2";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query or path value the API cannot accept (`400`). `code` names which.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No token, or a token that does not verify (`401`).
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A download token whose signature does not match (`403`).
    #[error("forbidden")]
    Forbidden,
    /// A valid token without the operator claim on an operator route (`403`).
    #[error("this route is for operators")]
    NotOperator,
    /// Missing, or another seller's: deliberately indistinguishable (`404`).
    #[error("not found")]
    NotFound,
    /// Known path, wrong method (`405`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The customer's access to the product was revoked (`410`).
    #[error("access revoked")]
    Gone,
    /// The store did not answer or throttled: retry (`503` with `Retry-After`).
    #[error("store unavailable")]
    Unavailable,
    /// Anything else; details are logged, never returned (`500`).
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::NotOperator => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Gone => StatusCode::GONE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden | ApiError::NotOperator => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Gone => "gone",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::BadRequest { message, .. } => message.clone(),
            ApiError::Unauthorized => "a valid bearer token is required".into(),
            ApiError::Forbidden => "this link is not valid".into(),
            ApiError::NotOperator => "this route is for operators".into(),
            ApiError::NotFound => "not found".into(),
            ApiError::MethodNotAllowed => "method not allowed on this path".into(),
            ApiError::Gone => "access to this product has been revoked".into(),
            ApiError::Unavailable => "temporarily unavailable, please retry".into(),
            ApiError::Internal => "internal error".into(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.message(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if let StoreError::TooBroad(_) = e {
            return ApiError::bad_request(
                "prefix_too_broad",
                format!(
                    "too many customer emails start with this; type more of the address \
                     (at most {} addresses per search)",
                    leenkies_domain::ports::MAX_EMAIL_SEARCH_ADDRESSES
                ),
            );
        }
        // The detail goes to the log only: clients learn "retry" or "internal", nothing more.
        if e.is_transient() {
            tracing::warn!(error = %e, "store unavailable");
            ApiError::Unavailable
        } else {
            tracing::error!(error = %e, "store returned an unreadable item");
            ApiError::Internal
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthorized) {
            // RFC 6750: a 401 names the scheme the client should use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ApiError::Unavailable) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}
