//! One error vocabulary for every HTTP function: the webhook, the orders API with its
//! operator routes, and the local runner's own routes answer an error the same way: a stable
//! machine-readable `code`, a human `message` that never carries internal details, the status,
//! and `Retry-After` when waiting helps. The body is contract section 5's
//! `{"error": {"code", "message"}}` everywhere.
//!
//! Each function keeps its own error enum (what can go wrong there) and maps it to a [`Problem`]
//! in one place; the shapes every function shares (a store that did not answer, a bad token, an
//! internal error) are built here once, so they cannot drift apart.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Seconds a client is asked to wait after a dependency (the store) did not answer. Stripe
/// retries webhooks on its own schedule whatever this says; API clients and the dashboard wait
/// this long.
pub const RETRY_AFTER_SECS: u32 = 2;

/// The error body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_status`, `not_found`, `unauthorized`.
    pub code: String,
    /// A human sentence; never contains internal details.
    pub message: String,
}

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// `Retry-After` in seconds.
    pub retry_after: Option<u32>,
    /// `WWW-Authenticate: Bearer` (RFC 6750: a `401` names the scheme to use).
    pub bearer_challenge: bool,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
            bearer_challenge: false,
        }
    }

    /// A dependency (the store) did not answer or throttled: `503`, retry after
    /// [`RETRY_AFTER_SECS`].
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "temporarily unavailable, please retry",
        )
        .with_retry_after(RETRY_AFTER_SECS)
    }

    /// No bearer token, or one that does not verify.
    pub fn unauthorized() -> Self {
        Self {
            bearer_challenge: true,
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required",
            )
        }
    }

    /// Anything else; the details belong in the log, never in the answer.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    pub fn with_retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.clone().into_owned(),
                message: self.message.clone(),
            },
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if self.bearer_challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_the_shared_problems_when_answered_then_status_body_and_headers_match_the_vocabulary() {
        // GIVEN the answers every function shares
        let cases = [
            (Problem::unavailable(), 503, "unavailable", Some("2"), None),
            (
                Problem::unauthorized(),
                401,
                "unauthorized",
                None,
                Some("Bearer"),
            ),
            (Problem::internal(), 500, "internal", None, None),
        ];
        for (problem, status, code, retry_after, challenge) in cases {
            // WHEN each is turned into a response
            let body = problem.body();
            let response = problem.into_response();
            // THEN the status, the code and the headers are the vocabulary's
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(body.error.code, code);
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
            };
            assert_eq!(header(header::RETRY_AFTER).as_deref(), retry_after);
            assert_eq!(header(header::WWW_AUTHENTICATE).as_deref(), challenge);
        }
    }
}
