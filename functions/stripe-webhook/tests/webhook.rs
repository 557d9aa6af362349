//! The webhook route end to end on the embedded store: answers, nothing written on refusal,
//! tenant isolation, livemode, drift tolerance, outages.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::Mode;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::signature::{sign, SigningSecrets};
use leenkies_domain::OrderView;
use serde_json::Value;
use stripe_webhook::{router, LiveMode, WebhookConfig, WebhookState};
use tower::ServiceExt;

const SECRET: &str = "whsec_test_handler";
const NOW: i64 = 1_778_900_000;
const SELLER_A: &str = "acct_1QHx4R8cKdV3nWpT";

fn fixture(name: &str) -> Vec<u8> {
    leenkies_integration_tests::stripe::shared_event(name)
}

fn app(store: Arc<MemoryStore>, mode: LiveMode) -> axum::Router {
    let config = WebhookConfig::new(SigningSecrets::from_csv(SECRET), mode);
    router(WebhookState::new(store, config).with_clock(|| NOW))
}

async fn post(app: &axum::Router, body: Vec<u8>, signature: Option<String>) -> (StatusCode, Value) {
    let mut req = Request::post("/webhooks/stripe").header("content-type", "application/json");
    if let Some(sig) = signature {
        req = req.header("stripe-signature", sig);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn signed(app: &axum::Router, body: Vec<u8>) -> (StatusCode, Value) {
    let sig = sign(SECRET, NOW, &body);
    post(app, body, Some(sig)).await
}

#[tokio::test]
async fn given_a_signed_success_when_posted_twice_then_applied_then_duplicate() {
    // GIVEN an empty store
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    let body = fixture("ord_1001__01__payment_intent.succeeded.json");
    // WHEN the same event arrives twice
    let (s1, b1) = signed(&app, body.clone()).await;
    let (s2, b2) = signed(&app, body).await;
    // THEN the first is applied and the second is a duplicate, both 200
    assert_eq!(
        (s1, b1["outcome"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
    assert_eq!(
        (s2, b2["outcome"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    assert_eq!(b1["received"], true);
    let order = store
        .get_order(SELLER_A, "pi_3QMpFn8cKdV3nWpT2DksRg19")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.version, 1, "a duplicate writes nothing");
}

#[tokio::test]
async fn given_bad_signatures_when_posted_then_400_and_nothing_written() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    let body = fixture("ord_1001__01__payment_intent.succeeded.json");
    let cases = [
        (None, "missing_signature"),
        (Some(sign("whsec_wrong", NOW, &body)), "invalid_signature"),
        (Some(sign(SECRET, NOW - 301, &body)), "stale_signature"),
        (Some(sign(SECRET, NOW + 301, &body)), "stale_signature"),
        (Some("t=abc,v1=00".to_owned()), "malformed_signature"),
        (Some(format!("t={NOW},v0=00")), "malformed_signature"),
    ];
    for (signature, code) in cases {
        // WHEN the delivery is badly signed
        let (status, answer) = post(&app, body.clone(), signature.clone()).await;
        // THEN 400 with the reason
        assert_eq!(status, StatusCode::BAD_REQUEST, "{signature:?}");
        assert_eq!(answer["error"]["code"], code, "{signature:?}");
    }
    // AND nothing was written
    assert_eq!(store.order_count(), 0);
}

#[tokio::test]
async fn given_a_signed_body_that_is_not_an_event_when_posted_then_400() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    for body in [
        &b"not json"[..],
        b"{}",
        b"[1,2]",
        br#"{"id":"evt_1","object":"event"}"#,
    ] {
        let (status, answer) = signed(&app, body.to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["error"]["code"], "invalid_body");
    }
    assert_eq!(store.order_count(), 0);
}

#[tokio::test]
async fn given_a_body_over_512_kib_when_posted_then_413_and_nothing_written() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    let mut body = fixture("ord_1001__01__payment_intent.succeeded.json");
    body.extend(std::iter::repeat_n(b' ', 512 * 1024));
    let (status, answer) = signed(&app, body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["error"]["code"], "payload_too_large");
    assert_eq!(store.order_count(), 0);
}

#[tokio::test]
async fn given_an_unknown_type_when_posted_then_ignored_and_no_order() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    let (status, answer) = signed(&app, fixture("misc__unknown_event_type.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["outcome"], "ignored");
    assert_eq!(store.order_count(), 0);
}

#[tokio::test]
async fn given_a_live_event_on_a_test_endpoint_when_posted_then_ignored() {
    // GIVEN an endpoint configured for test mode and a live event
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Only(Mode::Test));
    let (status, answer) =
        signed(&app, fixture("ord_1001__01__payment_intent.succeeded.json")).await;
    // THEN it is acknowledged and ignored
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["outcome"], "ignored");
    assert_eq!(answer["reason"], "livemode_mismatch");
    assert_eq!(store.order_count(), 0);
}

#[tokio::test]
async fn given_another_account_naming_the_same_payment_intent_then_orders_stay_apart() {
    // GIVEN seller A's paid order
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    signed(&app, fixture("ord_1001__01__payment_intent.succeeded.json")).await;
    // WHEN an event from account C names A's PaymentIntent and claims A's metadata, and fails
    let forged = String::from_utf8(fixture("ord_1002__01__payment_intent.payment_failed.json"))
        .unwrap()
        .replace("acct_1QHx4R8cKdV3nWpT", "acct_1QKz9T2uVwX3yZaB")
        .replace("pi_3Qzboq8cKdV3nWpT0QoIKERc", "pi_3QMpFn8cKdV3nWpT2DksRg19");
    let (status, _) = signed(&app, forged.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    // THEN A's order is untouched and C has its own
    let a = store
        .get_order(SELLER_A, "pi_3QMpFn8cKdV3nWpT2DksRg19")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.version, 1);
    assert_eq!(OrderView::of(&a).payment_status.as_str(), "succeeded");
    assert!(OrderView::of(&a).failure.is_none());
    let c = store
        .get_order("acct_1QKz9T2uVwX3yZaB", "pi_3QMpFn8cKdV3nWpT2DksRg19")
        .await
        .unwrap();
    assert_eq!(OrderView::of(&c.unwrap()).payment_status.as_str(), "failed");
}

#[tokio::test]
async fn given_a_newer_api_version_with_unknown_fields_when_posted_then_applied() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    let body = String::from_utf8(fixture("ord_1001__01__checkout.session.completed.json"))
        .unwrap()
        .replace("2025-03-31.basil", "2026-07-29.dahlia")
        .replace(
            "\"ui_mode\": \"hosted\"",
            "\"ui_mode\": \"elements\", \"brand_new\": {\"x\": [1]}",
        );
    let (status, answer) = signed(&app, body.into_bytes()).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
}

#[tokio::test]
async fn given_the_store_down_when_posted_then_503_and_the_retry_succeeds() {
    // GIVEN a store that is unreachable
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    store.set_unavailable(true);
    let body = fixture("ord_1009__02__charge.refunded.json");
    // WHEN Stripe delivers THEN a retryable 5xx without internal details
    let (status, answer) = signed(&app, body.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer["error"]["code"], "unavailable");
    assert!(
        !answer.to_string().contains("embedded"),
        "no internal detail leaks"
    );
    // AND when the store is back, the retried delivery is applied as if first
    store.set_unavailable(false);
    assert_eq!(store.order_count(), 0);
    let (status, answer) = signed(&app, body).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
}

#[tokio::test]
async fn given_a_refund_naming_only_its_charge_before_the_charge_then_applied_when_it_arrives() {
    // GIVEN a refund with no payment_intent, arriving first
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone(), LiveMode::Any);
    let refund = String::from_utf8(fixture("ord_1009__03__refund.created.json"))
        .unwrap()
        .replace(
            "\"payment_intent\": \"pi_3QqekS8cKdV3nWpT1ZAC7TCN\"",
            "\"payment_intent\": null",
        );
    let (status, answer) = signed(&app, refund.into_bytes()).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
    assert_eq!(
        store.order_count(),
        0,
        "kept under the charge, no order yet"
    );
    // WHEN the payment and the charge arrive
    signed(&app, fixture("ord_1009__01__payment_intent.succeeded.json")).await;
    let order = store
        .get_order(SELLER_A, "pi_3QqekS8cKdV3nWpT1ZAC7TCN")
        .await
        .unwrap()
        .unwrap();
    // THEN the refund is part of the order (PI names its latest_charge)
    let view = OrderView::of(&order);
    assert_eq!(view.refunded_amount, 2500);
    assert_eq!(view.payment_status.as_str(), "refunded");
}

#[tokio::test]
async fn given_a_client_that_writes_its_whole_oversized_body_first_when_posted_over_tcp_then_it_reads_413(
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // GIVEN the webhook served over real TCP, and a 600 KiB body with its true Content-Length
    let store = Arc::new(MemoryStore::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(store, LiveMode::Any))
            .await
            .unwrap();
    });
    let body = vec![b'x'; 600 * 1024];
    // WHEN a client writes headers and the whole body before reading (as Python's http.client)
    for round in 0..3 {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /webhooks/stripe HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Stripe-Signature: t=1,v1=00\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&body).await.unwrap();
        let mut answer = Vec::new();
        let read = socket.read_to_end(&mut answer).await;
        // THEN it reads the 413, not a connection reset
        assert!(read.is_ok(), "round {round}: {read:?}");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "round {round}: {answer:.200}"
        );
    }
    server.abort();
}
