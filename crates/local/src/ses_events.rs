//! `POST /local/ses-events` (contract section 10): one EventBridge event per request, as
//! EventBridge would deliver it to the `ses-events` Lambda, through the same handler. There is
//! no SES on one machine, so nothing here invents a delivery for the outbox: only the events
//! posted (e.g. `tests/fixtures/ses/` with the message id of an outbox email) are recorded.
//!
//! `200` when recorded or ignored (an unknown message id, an SES event type not recorded), `400`
//! when the body is not an SES event, `503` when the store failed (post it again).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fulfillment::ses_events::{SesEvents, SesEventsError};
use leenkies_http::Problem;
use serde_json::json;

pub const PATH: &str = "/local/ses-events";

pub fn router(handler: SesEvents) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .with_state(Arc::new(handler))
}

async fn receive(State(handler): State<Arc<SesEvents>>, body: Bytes) -> Response {
    match handler.handle(&body).await {
        Ok(outcome) => {
            (StatusCode::OK, Json(json!({ "outcome": outcome.as_str() }))).into_response()
        }
        Err(SesEventsError::NotAnSesEvent(e)) => {
            Problem::new(StatusCode::BAD_REQUEST, "not_an_ses_event", e.to_string()).into_response()
        }
        // Every store error here is worth another try: the same answer as every function's.
        Err(SesEventsError::Store(_)) => Problem::unavailable().into_response(),
    }
}
