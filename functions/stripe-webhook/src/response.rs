//! The webhook's answers: each outcome and each error mapped to one status code and body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use leenkies_domain::ports::StoreError;
use leenkies_domain::stripe::event::EventParseError;
use leenkies_domain::stripe::signature::SignatureError;
use serde::Serialize;

/// A `200` acknowledgement (contract: applied, already applied, or ignored).
#[derive(Debug, Serialize)]
pub struct Ack {
    pub received: bool,
    pub outcome: &'static str,
    pub event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

impl IntoResponse for Ack {
    fn into_response(self) -> Response {
        (StatusCode::OK, Json(self)).into_response()
    }
}

/// Why a delivery was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Body(#[from] EventParseError),
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("request body could not be read")]
    Unreadable,
    #[error("only POST is allowed on this path")]
    MethodNotAllowed,
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl WebhookError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::Signature(_) | WebhookError::Body(_) | WebhookError::Unreadable => {
                StatusCode::BAD_REQUEST
            }
            WebhookError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebhookError::Store(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Signature(SignatureError::Missing) => "missing_signature",
            WebhookError::Signature(SignatureError::Stale) => "stale_signature",
            WebhookError::Signature(SignatureError::Malformed(_) | SignatureError::NoV1) => {
                "malformed_signature"
            }
            WebhookError::Signature(SignatureError::Mismatch) => "invalid_signature",
            WebhookError::Body(_) | WebhookError::Unreadable => "invalid_body",
            WebhookError::TooLarge(_) => "payload_too_large",
            WebhookError::MethodNotAllowed => "method_not_allowed",
            WebhookError::Store(e) if e.is_transient() => "store_unavailable",
            WebhookError::Store(_) => "internal_error",
        }
    }

    /// What the sender is told. Store details stay in our logs, never in the answer.
    fn public_message(&self) -> String {
        match self {
            WebhookError::Store(e) if e.is_transient() => {
                "a dependency is unavailable; retry later".to_owned()
            }
            WebhookError::Store(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}
