//! `GET /orders/{order_id}` and `GET /orders/{order_id}/evidence`: the order as the contract shows
//! it, and the dispute evidence as JSON and as pasteable plain text.

use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::{DownloadEntry, OrderStore};
use leenkies_domain::OrderView;

#[tokio::test]
async fn given_a_folded_order_when_read_then_exactly_the_order_view() {
    // GIVEN ord_1001 folded from the shared fixtures
    let store = Arc::new(MemoryStore::new());
    for f in [
        "ord_1001__01__checkout.session.completed.json",
        "ord_1001__01__payment_intent.succeeded.json",
        "ord_1001__01__charge.succeeded.json",
    ] {
        deliver(&store, f).await;
    }
    let record = store
        .get_order(SELLER_A, "pi_3QMpFn8cKdV3nWpT2DksRg19")
        .await
        .unwrap()
        .expect("fixture order");
    let app = app(store);
    // WHEN it is read
    let r = get_as(&app, SELLER_A, "/orders/pi_3QMpFn8cKdV3nWpT2DksRg19").await;
    // THEN the body is the domain's view, nothing more
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        serde_json::to_value(OrderView::of(&record)).unwrap()
    );
    assert_eq!(r.json()["payment_status"], "succeeded");
    assert_eq!(r.json()["reference"], "ord_1001");
}

#[tokio::test]
async fn given_odd_order_ids_when_read_then_404() {
    let app = app(Arc::new(MemoryStore::new()));
    for id in [
        "pi_missing",
        "pi-with-dash",
        "%2E%2E",
        &"a".repeat(256),
        "pi%20x",
    ] {
        let r = get_as(&app, SELLER_A, &format!("/orders/{id}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(r.error_code(), "not_found");
    }
}

async fn disputed_order_with_downloads() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .email("jordan.lee@example.com")
        .reference("ord_1001")
        .paid()
        .sent("msg-0001@email.amazonses.com")
        .refund(500, "succeeded")
        .dispute("needs_response")
        .put(&store)
        .await;
    for (at, ip) in [(T0 + 60, "203.0.113.9"), (T0 + 3600, "198.51.100.7")] {
        store
            .record_download(
                SELLER_A,
                "pi_ev",
                &DownloadEntry {
                    at,
                    ip: Some(ip.into()),
                    user_agent: Some("Mozilla/5.0 (Macintosh)".into()),
                },
            )
            .await
            .unwrap();
    }
    store
}

#[tokio::test]
async fn given_a_disputed_order_when_evidence_is_asked_then_everything_stripe_needs() {
    let app = app(disputed_order_with_downloads().await);
    let r = get_as(&app, SELLER_A, "/orders/pi_ev/evidence").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let e = r.json();
    assert_eq!(e["customer_email"], "jordan.lee@example.com");
    assert_eq!(e["product_id"], "prod_lut_pack");
    assert_eq!(e["product_name"], "Cinematic LUT Pack");
    assert_eq!(e["amount"], 2500);
    assert_eq!(e["currency"], "usd");
    assert_eq!(e["purchase_date"], "2026-05-08T08:00:00Z");
    let mail = &e["confirmation_email"];
    assert_eq!(mail["recipient"], "jordan.lee@example.com");
    assert_eq!(mail["subject"], "Your download: Cinematic LUT Pack");
    assert_eq!(mail["sent_at"], "2026-05-08T08:00:05Z");
    assert_eq!(mail["message_id"], "msg-0001@email.amazonses.com");
    assert_eq!(e["delivery_receipt"]["status"], "sent");
    assert_eq!(
        e["delivery_receipt"]["message_id"],
        "msg-0001@email.amazonses.com"
    );
    let downloads = e["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 2);
    assert_eq!(downloads[0]["at"], "2026-05-08T08:01:00Z");
    assert_eq!(downloads[0]["ip"], "203.0.113.9");
    assert_eq!(downloads[0]["user_agent"], "Mozilla/5.0 (Macintosh)");
    assert_eq!(e["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(e["disputes"][0]["status"], "needs_response");
    // AND the timeline holds the payment, the email and both downloads, in time order
    let timeline = e["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for kind in ["payment_succeeded", "email_sent", "download"] {
        assert!(kinds.contains(&kind), "timeline lacks {kind}: {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "download").count(), 2);
    let times: Vec<&str> = timeline.iter().map(|t| t["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[tokio::test]
async fn given_accept_text_plain_when_evidence_is_asked_then_readable_text() {
    let app = app(disputed_order_with_downloads().await);
    let r = send(
        &app,
        Request::get("/orders/pi_ev/evidence")
            .header("authorization", format!("Bearer {}", token(SELLER_A)))
            .header("accept", "text/plain")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.text();
    for needle in [
        "ORDER pi_ev",
        "Customer email: jordan.lee@example.com",
        "Product: Cinematic LUT Pack (prod_lut_pack)",
        "Amount: 2500 USD",
        "Purchase date: 2026-05-08T08:00:00Z",
        "Subject: Your download: Cinematic LUT Pack",
        "Message id: msg-0001@email.amazonses.com",
        "DOWNLOADS (2)",
        "2026-05-08T08:01:00Z  IP 203.0.113.9  Mozilla/5.0 (Macintosh)",
        "TIMELINE",
    ] {
        assert!(text.contains(needle), "text lacks {needle:?}:\n{text}");
    }
    assert!(!text.contains('{'), "no JSON in the text rendering");
}

#[tokio::test]
async fn given_an_order_without_email_sent_when_evidence_then_confirmation_null() {
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_new", T0)
        .email("a@example.com")
        .paid()
        .put(&store)
        .await;
    let e = get_as(&app(store), SELLER_A, "/orders/pi_new/evidence")
        .await
        .json();
    assert!(e["confirmation_email"].is_null());
    assert_eq!(e["delivery_receipt"]["status"], "pending");
    assert_eq!(e["downloads"], serde_json::json!([]));
}
