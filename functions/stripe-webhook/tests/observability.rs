//! What operators see of the webhook: one EMF metric line per delivery (type and outcome,
//! signature failures), the debounced "last event received" per mode and the sellers seen.
//! (`GET /health/webhooks`, which reads them, is the orders API's: its `tests/health.rs`.)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leenkies_adapters::metrics::{self, Metrics};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::{Mode, OpsStore};
use leenkies_domain::stripe::signature::{sign, SigningSecrets};
use serde_json::Value;
use stripe_webhook::{router, LiveMode, WebhookConfig, WebhookState};
use tower::ServiceExt;

const SECRET: &str = "whsec_test_observability";
// Friday 2026-05-08 12:00 UTC: business hours.
const NOW: i64 = 1_778_241_600;

fn fixture(name: &str) -> Vec<u8> {
    leenkies_integration_tests::stripe::shared_event(name)
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn delivery(body: Vec<u8>, signature: &str) -> Request<Body> {
    Request::post("/webhooks/stripe")
        .header("stripe-signature", signature)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn given_deliveries_when_received_then_metrics_heartbeat_and_sellers_are_recorded() {
    // GIVEN a webhook with captured metrics and the embedded store as its ops store
    let store = Arc::new(MemoryStore::new());
    let (metrics, captured) = Metrics::capture("stripe-webhook");
    let config = WebhookConfig::new(SigningSecrets::from_csv(SECRET), LiveMode::Any);
    let app = router(
        WebhookState::new(store.clone(), config)
            .with_clock(|| NOW)
            .with_metrics(metrics)
            .with_ops(store.clone()),
    );
    let body = fixture("ord_1001__01__payment_intent.succeeded.json");

    // WHEN it is delivered twice, then once with a wrong signature
    for _ in 0..2 {
        let (status, _) = call(&app, delivery(body.clone(), &sign(SECRET, NOW, &body))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = call(
        &app,
        delivery(body.clone(), &sign("whsec_wrong", NOW, &body)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // THEN the metrics count each outcome by type, and the signature failure
    let dims = |outcome| {
        [
            ("EventType", "payment_intent.succeeded"),
            ("Outcome", outcome),
        ]
    };
    assert_eq!(captured.sum(metrics::WEBHOOK_EVENTS, &dims("applied")), 1.0);
    assert_eq!(
        captured.sum(metrics::WEBHOOK_EVENTS, &dims("duplicate")),
        1.0
    );
    assert_eq!(
        captured.sum(
            metrics::WEBHOOK_EVENTS,
            &[("EventType", "unknown"), ("Outcome", "invalid_signature")]
        ),
        1.0
    );
    assert_eq!(captured.sum(metrics::SIGNATURE_FAILURES, &[]), 1.0);
    assert_eq!(captured.lines().len(), 4);
    // AND the live heartbeat and the seller were written once (debounced), not per delivery
    let last = store.last_events().await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!((last[0].mode, last[0].at), (Mode::Live, NOW));
    assert_eq!(
        store.list_sellers().await.unwrap(),
        vec!["acct_1QHx4R8cKdV3nWpT"]
    );
    assert_eq!(store.ops_write_count(), 2);
}
