//! `POST /local/ses-events` (contract section 10): one EventBridge event per request, as
//! EventBridge would deliver it to the `ses-events` Lambda, through the same handler. There is
//! no SES on one machine, so nothing here invents a delivery for the outbox: only the events
//! posted (e.g. `tests/fixtures/ses/` with the message id of an outbox email) are recorded.
//!
//! `200` when recorded or ignored (an unknown message id, an SES event type not recorded), `400`
//! when the body is not an SES event, `503` when the store failed (post it again).
//!
//! Nothing signs these events (in AWS only EventBridge can invoke the function), so the route
//! answers only peers on the loopback interface: anyone else gets `403` before the body is read.
//! Otherwise a customer who reads the Message-ID of their delivery email could post a forged
//! bounce to a reachable runner, and it would enter the dispute evidence.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Extension;
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

async fn receive(
    State(handler): State<Arc<SesEvents>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    // No peer address (a server built without it) is refused too: the check fails closed.
    if !peer.is_some_and(|Extension(ConnectInfo(addr))| addr.ip().to_canonical().is_loopback()) {
        tracing::warn!("SES event posted from a non-loopback peer refused");
        return Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "SES events are accepted from this machine only",
        )
        .into_response();
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use leenkies_domain::memory_store::MemoryStore;
    use tower::ServiceExt;

    async fn post_from(peer: Option<SocketAddr>) -> StatusCode {
        let store = Arc::new(MemoryStore::new());
        let app = router(SesEvents::new(store.clone(), store));
        let mut request = Request::post(PATH)
            .header("content-type", "application/json")
            .body(Body::from("not json"))
            .unwrap();
        if let Some(peer) = peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn given_a_peer_off_this_machine_when_it_posts_an_ses_event_then_403_before_the_body_is_read(
    ) {
        // GIVEN peers on another machine, and a server that does not know its peer
        for peer in ["192.0.2.7:40000", "[2001:db8::1]:40000", "10.0.0.2:1"] {
            // WHEN they post (a body that is not even an SES event)
            // THEN 403: the body is never read
            assert_eq!(
                post_from(Some(peer.parse().unwrap())).await,
                StatusCode::FORBIDDEN,
                "{peer}"
            );
        }
        assert_eq!(post_from(None).await, StatusCode::FORBIDDEN);
        // AND loopback peers (IPv4, IPv6, IPv4-mapped) reach the handler (400: not an SES event)
        for peer in ["127.0.0.1:40000", "[::1]:40000", "[::ffff:127.0.0.1]:40000"] {
            assert_eq!(
                post_from(Some(peer.parse().unwrap())).await,
                StatusCode::BAD_REQUEST,
                "{peer}"
            );
        }
    }
}
