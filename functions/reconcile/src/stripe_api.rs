//! Stripe's API as recovery needs it, through `async-stripe`: list a connected account's events,
//! re-read one Dispute, Refund or PaymentIntent.
//!
//! - The requests are async-stripe's own (`ListEvent`, `RetrieveDispute`, …) sent as the
//!   connected account (`Stripe-Account`), except for `platform`, which is the platform itself.
//! - Responses are taken as generic JSON and handed on as the JSON Stripe sent: an event read
//!   here goes through the webhook's own lenient parser, byte-compatible with a webhook body,
//!   instead of through a second typed model that could disagree with it.
//! - One attempt per library call (`RequestStrategy::Once`); this module retries 429s, 5xx and
//!   network errors itself with exponential back-off, so every attempt gets its own log line and
//!   metric, and the pause is ours to bound.

use std::time::{Duration, Instant};

use leenkies_adapters::metrics::{self, Metrics};
use leenkies_domain::stripe::event::PLATFORM_SELLER;
use serde::Deserialize;
use stripe::{Client, ClientBuilder, RequestStrategy, StripeError};
use stripe_client_core::StripeRequest;
use stripe_core::dispute::RetrieveDispute;
use stripe_core::event::ListEvent;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::RetrieveRefund;
use stripe_types::RangeQueryTs;

/// Stripe's own API host; `STRIPE_API_BASE` replaces it (tests).
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// Stripe's page size ceiling.
pub const MAX_PAGE: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A 4xx other than 429: retrying will not help (bad key, account not connected, unknown id).
    #[error("Stripe refused {path} with status {status}")]
    Refused { path: String, status: u16 },
    /// Still 429/5xx/unreachable after every attempt.
    #[error("Stripe unavailable for {path} after {attempts} attempts: {last}")]
    Unavailable {
        path: String,
        attempts: u32,
        last: String,
    },
    #[error("Stripe's answer to {path} is unreadable: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("Stripe client configuration: {0}")]
    Config(String),
}

/// How hard to retry one call.
#[derive(Debug, Clone, Copy)]
pub struct ApiRetry {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for ApiRetry {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl ApiRetry {
    fn delay(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay)
    }
}

/// Where in the newest-first list a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The newest events.
    Newest,
    /// Events older than this one (Stripe's `starting_after`).
    OlderThan(String),
    /// The events just newer than this one (Stripe's `ending_before`): how we walk forward in time.
    NewerThan(String),
}

/// Which events: created at or after (`Since`) or strictly before (`Before`) a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Since(i64),
    Before(i64),
}

/// One event as listed: what progress needs, and the body for the webhook path.
#[derive(Debug, Clone)]
pub struct ListedEvent {
    pub id: String,
    pub created: i64,
    pub body: Vec<u8>,
}

/// One page, in Stripe's order (newest first).
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<ListedEvent>,
    pub has_more: bool,
}

/// An object `reconcile` re-reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Dispute,
    Refund,
    PaymentIntent,
}

#[derive(Deserialize)]
struct ListEnvelope {
    data: Vec<serde_json::Value>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct EventHead {
    id: String,
    #[serde(default)]
    created: i64,
}

/// The Stripe client of the recovery jobs.
#[derive(Clone)]
pub struct StripeApi {
    client: Client,
    retry: ApiRetry,
    metrics: Metrics,
}

impl std::fmt::Debug for StripeApi {
    // The client holds the secret key; nothing of it is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi").finish_non_exhaustive()
    }
}

/// The Stripe API version of every call this client makes, and so the shape of every object
/// reconcile re-reads. async-stripe 1.0.0-rc.10 sends the version its types were generated for
/// (`stripe_client_core::VERSION`) on every request and has no setting for another, so the
/// version is named here, put on the synthetic events built from those objects, and checked by a
/// test: upgrading async-stripe fails it until the re-read shapes have been looked at again.
/// Webhook events, and events listed from the Events API, keep the version they were rendered
/// with (their own `api_version`, the endpoint's: 2025-03-31.basil in the fixtures); the domain
/// reads both leniently, field by field.
pub const STRIPE_API_VERSION: &str = "2026-09-30.endive";

impl StripeApi {
    /// A client for `api_key` against `api_base` (`https://api.stripe.com` or a test double).
    pub fn new(api_key: &str, api_base: &str, metrics: Metrics) -> Result<Self, ApiError> {
        // Two TLS crypto back-ends are linked (the AWS SDK's and reqwest's); rustls then needs a
        // process default before any client is built. Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // async-stripe appends `v1/…` to the base as given: it needs the trailing slash.
        let base = format!("{}/", api_base.trim_end_matches('/'));
        let client = ClientBuilder::new(api_key.trim())
            .url(base)
            .request_strategy(RequestStrategy::Once)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ApiError::Config(e.to_string()))?;
        Ok(Self {
            client,
            retry: ApiRetry::default(),
            metrics,
        })
    }

    pub fn with_retry(mut self, retry: ApiRetry) -> Self {
        self.retry = retry;
        self
    }

    /// One page of `account`'s events of `types`.
    pub async fn list_events(
        &self,
        account: &str,
        types: &[String],
        created: Created,
        cursor: &Cursor,
        limit: i64,
    ) -> Result<EventPage, ApiError> {
        let mut request = ListEvent::new()
            .types(types.to_vec())
            .limit(limit.clamp(1, MAX_PAGE))
            .created(match created {
                Created::Since(t) => RangeQueryTs::gte(t),
                Created::Before(t) => RangeQueryTs::lt(t),
            });
        request = match cursor {
            Cursor::Newest => request,
            Cursor::OlderThan(id) => request.starting_after(id.clone()),
            Cursor::NewerThan(id) => request.ending_before(id.clone()),
        };
        let path = "/v1/events";
        let value = self.call(account, path, &request).await?;
        let unreadable = |reason: String| ApiError::Unreadable {
            path: path.into(),
            reason,
        };
        let envelope: ListEnvelope =
            serde_json::from_value(value).map_err(|e| unreadable(e.to_string()))?;
        let mut events = Vec::with_capacity(envelope.data.len());
        for event in envelope.data {
            let head: EventHead =
                serde_json::from_value(event.clone()).map_err(|e| unreadable(e.to_string()))?;
            let body = serde_json::to_vec(&event).map_err(|e| unreadable(e.to_string()))?;
            events.push(ListedEvent {
                id: head.id,
                created: head.created,
                body,
            });
        }
        Ok(EventPage {
            events,
            has_more: envelope.has_more,
        })
    }

    /// The current state of one object of `account`, as Stripe's JSON.
    pub async fn retrieve(
        &self,
        account: &str,
        kind: ObjectKind,
        id: &str,
    ) -> Result<serde_json::Value, ApiError> {
        match kind {
            ObjectKind::Dispute => {
                self.call(account, "/v1/disputes/{id}", &RetrieveDispute::new(id))
                    .await
            }
            ObjectKind::Refund => {
                self.call(account, "/v1/refunds/{id}", &RetrieveRefund::new(id))
                    .await
            }
            ObjectKind::PaymentIntent => {
                self.call(
                    account,
                    "/v1/payment_intents/{id}",
                    &RetrievePaymentIntent::new(id),
                )
                .await
            }
        }
    }

    /// Sends one request with retries; each attempt is one log line and one metric.
    async fn call<R: StripeRequest>(
        &self,
        account: &str,
        path: &str,
        request: &R,
    ) -> Result<serde_json::Value, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let mut custom = request.build().customize::<miniserde::json::Value>();
            if account != PLATFORM_SELLER {
                custom = custom.account_id(stripe::AccountId::from(account));
            }
            let result = custom.send(&self.client).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            let failure = match result {
                Ok(value) => {
                    self.log_call(path, account, attempt, 200, "ok", duration_ms);
                    let text = miniserde::json::to_string(&value);
                    return serde_json::from_str(&text).map_err(|e| ApiError::Unreadable {
                        path: path.into(),
                        reason: e.to_string(),
                    });
                }
                Err(e) => e,
            };
            let (status, retryable) = classify(&failure);
            let last_try = attempt >= self.retry.max_attempts;
            let outcome = match (retryable, last_try) {
                (true, false) => "retried",
                _ => "failed",
            };
            self.log_call(path, account, attempt, status, outcome, duration_ms);
            if !retryable {
                return Err(match failure {
                    StripeError::ConfigError(e) => ApiError::Config(e),
                    _ => ApiError::Refused {
                        path: path.into(),
                        status,
                    },
                });
            }
            if last_try {
                return Err(ApiError::Unavailable {
                    path: path.into(),
                    attempts: attempt,
                    last: describe(&failure, status),
                });
            }
            tokio::time::sleep(self.retry.delay(attempt - 1)).await;
        }
    }

    fn log_call(
        &self,
        path: &str,
        account: &str,
        attempt: u32,
        status: u16,
        outcome: &'static str,
        duration_ms: u64,
    ) {
        tracing::info!(
            api = "stripe",
            method = "GET",
            path,
            account,
            attempt,
            status,
            outcome,
            duration_ms,
            "stripe api call"
        );
        self.metrics
            .count(metrics::STRIPE_API_CALLS, &[("Outcome", outcome)], 1);
    }
}

/// The HTTP status (0 when none came back) and whether waiting may help.
fn classify(error: &StripeError) -> (u16, bool) {
    match error {
        StripeError::Stripe(_, status) => (*status, *status == 429 || *status >= 500),
        // An error body that is not Stripe's JSON comes from something between us and Stripe
        // (a proxy's 502 page): transient as well.
        StripeError::JSONDeserialize(_) | StripeError::ClientError(_) | StripeError::Timeout => {
            (0, true)
        }
        StripeError::ConfigError(_) => (0, false),
    }
}

/// A short description without the response body (which may carry customer data).
fn describe(error: &StripeError, status: u16) -> String {
    match error {
        StripeError::Stripe(_, _) => format!("status {status}"),
        StripeError::JSONDeserialize(_) => "unreadable error response".into(),
        StripeError::ClientError(e) => format!("network: {e}"),
        StripeError::Timeout => "timeout".into(),
        StripeError::ConfigError(e) => e.clone(),
    }
}

#[cfg(test)]
mod version_tests {
    use super::STRIPE_API_VERSION;

    #[test]
    fn given_the_client_when_built_then_its_api_version_is_the_one_named_here() {
        // GIVEN the version async-stripe sends on every request
        let sent = stripe_client_core::VERSION.as_str();
        // THEN it is the version our re-read shapes were checked against
        assert_eq!(sent, STRIPE_API_VERSION);
    }
}
