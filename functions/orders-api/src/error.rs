//! Errors as the API answers them: one enum, mapped in one place to the shared vocabulary
//! (`leenkies_http::Problem`: status, code, message, `Retry-After`) and the contract's body
//! `{"error": {"code", "message"}}`, so no handler can leak internal details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leenkies_domain::ports::StoreError;
use leenkies_http::Problem;
pub use leenkies_http::{ErrorBody, ErrorDetail};

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
    /// The request conflicts with the resource's state (`409`), e.g. a closed dispute.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A dependency refused or failed (`502`); `message` is its own (e.g. Stripe's).
    #[error("{message}")]
    BadGateway { code: &'static str, message: String },
    /// A feature whose dependency is not configured here (`503`, no `Retry-After`).
    #[error("{message}")]
    NotConfigured { code: &'static str, message: String },
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
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::NotConfigured { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::BadGateway { code, .. }
            | ApiError::NotConfigured { code, .. } => code,
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
            ApiError::BadRequest { message, .. }
            | ApiError::Conflict { message, .. }
            | ApiError::BadGateway { message, .. }
            | ApiError::NotConfigured { message, .. } => message.clone(),
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

    /// The answer in the shared vocabulary.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Unauthorized => Problem::unauthorized(),
            ApiError::Unavailable => Problem::unavailable(),
            ApiError::Internal => Problem::internal(),
            other => Problem::new(other.status(), other.code(), other.message()),
        }
    }

    pub fn body(&self) -> ErrorBody {
        self.problem().body()
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
        self.problem().into_response()
    }
}
