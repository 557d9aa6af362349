//! The webhook's answers: each outcome and each error mapped to one status code and body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use leenkies_domain::ingest::{IgnoreReason, IngestError, IngestOutcome};
use leenkies_domain::ports::StoreError;
use leenkies_domain::stripe::event::EventParseError;
use leenkies_domain::stripe::signature::SignatureError;
use leenkies_http::Problem;
use serde::Serialize;

/// A `200` acknowledgement (contract: applied, already applied, or ignored), from the ingestion
/// outcome. The body is `{"received": true, "outcome", "event_id", "order_id"?, "reason"?}`;
/// `reason` names why an event was ignored (`IgnoreReason::as_str`): `livemode_mismatch`,
/// `unhandled_type`, `no_payment_reference`, `unreadable_object`, or `implausible_id` (an
/// account or object id of another shape than Stripe's, or longer than its documented 255
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub event_id: String,
    pub outcome: IngestOutcome,
}

#[derive(Serialize)]
struct AckBody<'a> {
    received: bool,
    outcome: &'static str,
    event_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

impl Serialize for Ack {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AckBody {
            received: true,
            outcome: self.outcome.as_str(),
            event_id: &self.event_id,
            order_id: self.outcome.order_id(),
            reason: self.outcome.reason().map(IgnoreReason::as_str),
        }
        .serialize(serializer)
    }
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

impl From<IngestError> for WebhookError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::NotAnEvent(e) => WebhookError::Body(e),
            IngestError::Store(e) => WebhookError::Store(e),
        }
    }
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
            WebhookError::Store(e) if e.is_transient() => "unavailable",
            WebhookError::Store(_) => "internal",
        }
    }

    /// The answer in the shared vocabulary (`leenkies_http`): a store that did not answer is the
    /// same `503 unavailable` with `Retry-After` as from every other function. Store details stay
    /// in our logs, never in the answer.
    pub fn problem(&self) -> Problem {
        match self {
            WebhookError::Store(e) if e.is_transient() => Problem::unavailable(),
            WebhookError::Store(_) => Problem::internal(),
            other => Problem::new(other.status(), other.code(), other.to_string()),
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
