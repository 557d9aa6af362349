//! `POST /webhooks/stripe`: the steps of one delivery, each a named function.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use leenkies_adapters::metrics::{self, Metrics};
use leenkies_domain::clock::now_secs;
use leenkies_domain::ingest::{ingest, IngestDeps};
use leenkies_domain::ops::heartbeat::Heartbeat;
use leenkies_domain::ops::{Mode, OpsStore};
use leenkies_domain::ports::{OrderStore, StoreError};
use leenkies_domain::stripe::event::Event;
use leenkies_domain::stripe::signature;

use crate::config::{is_newer_api_version, WebhookConfig, MAX_BODY_BYTES};
use crate::response::{Ack, WebhookError};

/// Everything a delivery needs, built once at start-up and shared by every request.
#[derive(Clone)]
pub struct WebhookState {
    /// The ingestion use case's store, accepted mode and retry budget.
    pub ingest: IngestDeps,
    pub config: WebhookConfig,
    /// The clock, injectable so tests can check the replay window.
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// EMF metrics (stdout by default, which is where Lambda wants them).
    pub metrics: Metrics,
    /// Records sellers seen and the last delivery per mode, debounced; none: not recorded.
    pub heartbeat: Option<Heartbeat>,
    newer_version_logged: Arc<AtomicBool>,
}

impl WebhookState {
    pub fn new(store: Arc<dyn OrderStore>, config: WebhookConfig) -> Self {
        Self {
            ingest: IngestDeps::new(store, config.mode),
            config,
            clock: Arc::new(now_secs),
            metrics: Metrics::stdout("stripe-webhook"),
            heartbeat: None,
            newer_version_logged: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Records every seller seen and each mode's last delivery in `ops` (debounced, at most one
    /// write per key a minute), for the backfill's seller list and the staleness alarm.
    pub fn with_ops(mut self, ops: Arc<dyn OpsStore>) -> Self {
        self.heartbeat = Some(Heartbeat::new(ops));
        self
    }

    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

/// The webhook route, ready to be served by `lambda_http` or merged into the local runner.
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route(
            "/webhooks/stripe",
            post(receive).fallback(method_not_allowed),
        )
        .with_state(state)
}

/// Any method but `POST`: `405` with the error body and `Allow: POST`.
async fn method_not_allowed() -> Response {
    let mut response = WebhookError::MethodNotAllowed.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, axum::http::HeaderValue::from_static("POST"));
    response
}

/// What one request's log line says about the event (no email address, no secret).
#[derive(Default)]
struct Seen {
    event_id: Option<String>,
    event_type: Option<String>,
    account: Option<String>,
    livemode: Option<bool>,
}

async fn receive(State(state): State<WebhookState>, request: Request) -> Response {
    let started = Instant::now();
    let mut seen = Seen::default();
    let result = process(&state, request, &mut seen).await;
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.status().as_u16(),
    };
    let (outcome, reason, order_id) = match &result {
        Ok(ack) => (
            ack.outcome.as_str(),
            ack.outcome.reason().map(|r| r.as_str()),
            ack.outcome.order_id().map(str::to_owned),
        ),
        Err(e) => (e.code(), None, None),
    };
    let duration_us = started.elapsed().as_micros() as u64;
    record_metrics(&state.metrics, &seen, &result);
    if let (Some(heartbeat), Some(account), Some(livemode)) =
        (&state.heartbeat, &seen.account, seen.livemode)
    {
        // Only a validly signed, readable event gets here: Stripe is reaching us.
        heartbeat
            .beat(account, Mode::of(livemode), (state.clock)())
            .await;
    }
    match &result {
        Err(WebhookError::Store(e)) => tracing::error!(
            event_id = seen.event_id, event_type = seen.event_type, account = seen.account,
            outcome, status, duration_us, error = %e, "webhook delivery failed on a dependency"
        ),
        _ => tracing::info!(
            event_id = seen.event_id,
            event_type = seen.event_type,
            account = seen.account,
            livemode = seen.livemode,
            order_id,
            outcome,
            reason,
            status,
            duration_us,
            "webhook delivery"
        ),
    }
    match result {
        Ok(ack) => ack.into_response(),
        Err(e) => e.into_response(),
    }
}

/// One metric line per delivery: its type and outcome; plus signature failures and fold
/// contention on their own, for the alarms.
fn record_metrics(metrics: &Metrics, seen: &Seen, result: &Result<Ack, WebhookError>) {
    let outcome = match result {
        Ok(ack) => ack.outcome.metric_name(),
        Err(e) => e.code(),
    };
    let event_type = seen.event_type.as_deref().unwrap_or("unknown");
    metrics.count(
        metrics::WEBHOOK_EVENTS,
        &[("EventType", event_type), ("Outcome", outcome)],
        1,
    );
    match result {
        Err(WebhookError::Signature(_)) => metrics.count(metrics::SIGNATURE_FAILURES, &[], 1),
        Err(WebhookError::Store(StoreError::Contention | StoreError::Conflict)) => {
            metrics.count(metrics::FOLD_CONFLICTS, &[], 1)
        }
        _ => {}
    }
}

async fn process(
    state: &WebhookState,
    request: Request,
    seen: &mut Seen,
) -> Result<Ack, WebhookError> {
    let (parts, body) = request.into_parts();
    let body = read_body(&parts.headers, body).await?;
    verify_source(state, &parts.headers, &body)?;
    let event = Event::parse(&body)?;
    seen.event_id = Some(event.id.clone());
    seen.event_type = Some(event.kind.clone());
    seen.account = Some(event.seller_id().to_owned());
    seen.livemode = Some(event.livemode);
    note_api_version(state, &event);
    let outcome = ingest(&event, &state.ingest).await?;
    Ok(Ack {
        event_id: event.id,
        outcome,
    })
}

/// Bytes of an over-limit body read and dropped before answering `413`: a client that writes
/// its whole body before reading the answer (Python's `http.client`) then gets the `413` instead
/// of a connection reset. Past this bound the connection is simply closed.
const DRAIN_LIMIT_BYTES: usize = 8 * 1024 * 1024;

/// Reads the raw body (the signed bytes), refusing more than the limit before buffering it all.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<bytes::Bytes, WebhookError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        drain(body).await;
        return Err(WebhookError::TooLarge(MAX_BODY_BYTES));
    }
    let mut stream = body.into_data_stream();
    let mut buffer = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        // A read that fails for any other reason (the client went away, a broken chunked
        // encoding) is a bad request, not an oversized one.
        let chunk = chunk.map_err(|_| WebhookError::Unreadable)?;
        if buffer.len() + chunk.len() > MAX_BODY_BYTES {
            drain_stream(stream, buffer.len() + chunk.len()).await;
            return Err(WebhookError::TooLarge(MAX_BODY_BYTES));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

async fn drain(body: Body) {
    drain_stream(body.into_data_stream(), 0).await;
}

/// Reads and drops what is left of a body, up to [`DRAIN_LIMIT_BYTES`] in all.
async fn drain_stream(mut stream: axum::body::BodyDataStream, mut read: usize) {
    while read <= DRAIN_LIMIT_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

/// The signature over the raw bytes, against every configured secret.
fn verify_source(
    state: &WebhookState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), WebhookError> {
    let header = match headers
        .get_all("stripe-signature")
        .iter()
        .collect::<Vec<_>>()[..]
    {
        [] => return Err(signature::SignatureError::Missing.into()),
        [one] => one
            .to_str()
            .map_err(|_| signature::SignatureError::Malformed("not visible ASCII"))?,
        // Two headers are as ambiguous as two `t` elements.
        _ => return Err(signature::SignatureError::Malformed("more than one header").into()),
    };
    signature::verify(
        header,
        body,
        &state.config.secrets,
        (state.clock)(),
        state.config.tolerance_secs,
    )?;
    Ok(())
}

/// A newer API version than ours is processed (parsing is lenient) and logged once.
fn note_api_version(state: &WebhookState, event: &Event<'_>) {
    if let Some(version) = event.api_version.as_deref() {
        if is_newer_api_version(version, &state.config.api_version)
            && !state.newer_version_logged.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(event_api_version = version, configured = %state.config.api_version,
                "Stripe sends a newer API version than the one configured; processing leniently");
        }
    }
}
