//! `POST /orders/{order_id}/disputes/{dispute_id}/evidence` (contract section 9): every answer in
//! the contract's order, against the fake Stripe API. (The whole flow through the webhook on both
//! stores is `tests/all/dispute_evidence.rs` of the integration tests.)

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leenkies_adapters::stripe::{StripeConfig, StripeDisputes, StripeRetry};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::OrderStore;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};
use orders_api::router;

const URI: &str = "/orders/pi_ev/disputes/dp_pi_ev/evidence";

async fn setup(status: &str) -> (Arc<MemoryStore>, FakeStripe, Router) {
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .email("jordan.lee@example.com")
        .paid()
        .sent("msg-0001@email.amazonses.com")
        .dispute(status)
        .put(&store)
        .await;
    let fake = FakeStripe::start(&[SELLER_A]).await;
    fake.add_dispute(SELLER_A, "dp_pi_ev", status);
    let stripe = StripeDisputes::new(StripeConfig {
        api_key: FAKE_STRIPE_KEY.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    })
    .unwrap()
    .with_retry(StripeRetry {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
    });
    // The dispute's deadline is a week after the order: "now" is an hour after it.
    let app = router(
        state(store.clone())
            .with_disputes(Arc::new(stripe))
            .with_clock(Arc::new(|| T0 + 3600)),
    );
    (store, fake, app)
}

async fn post(
    app: &Router,
    uri: &str,
    token: Option<&str>,
    body: &[u8],
    content_type: Option<&str>,
) -> Resp {
    let mut r = Request::post(uri);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    send(app, r.body(Body::from(body.to_vec())).unwrap()).await
}

async fn post_json(app: &Router, uri: &str, body: serde_json::Value) -> Resp {
    post(
        app,
        uri,
        Some(&token(SELLER_A)),
        body.to_string().as_bytes(),
        Some("application/json"),
    )
    .await
}

#[tokio::test]
async fn given_a_draft_when_posted_then_200_the_fields_sent_and_saved_at_on_the_dispute() {
    let (store, fake, app) = setup("needs_response").await;
    // WHEN a draft is saved
    let r = post_json(
        &app,
        URI,
        serde_json::json!({"submit": false, "statement": "Sent on time."}),
    )
    .await;
    // THEN 200 with the contract's body
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["dispute_id"], "dp_pi_ev");
    assert_eq!(body["submitted"], false);
    assert_eq!(
        body["evidence"]["customer_email_address"],
        "jordan.lee@example.com"
    );
    assert!(body["evidence"]["receipt"]
        .as_str()
        .unwrap()
        .starts_with("file_"));
    assert_eq!(
        fake.dispute(SELLER_A, "dp_pi_ev").unwrap().submission_count,
        0
    );
    // AND the order records it on that dispute, with a timeline entry
    let order = get_as(&app, SELLER_A, "/orders/pi_ev").await.json();
    let evidence = &order["disputes"][0]["evidence"];
    assert!(evidence["saved_at"].is_string(), "{order}");
    assert!(evidence["submitted_at"].is_null());
    assert!(order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["kind"] == "evidence_saved"));
    assert_eq!(
        store
            .get_order(SELLER_A, "pi_ev")
            .await
            .unwrap()
            .unwrap()
            .facts
            .dispute_evidence
            .len(),
        1
    );
}

#[tokio::test]
async fn given_bodies_that_are_not_the_documented_json_then_400_invalid_body_and_nothing_sent() {
    let (store, fake, app) = setup("needs_response").await;
    let version = store
        .get_order(SELLER_A, "pi_ev")
        .await
        .unwrap()
        .unwrap()
        .version;
    let bad: [(&[u8], Option<&str>); 10] = [
        (b"", Some("application/json")),
        (b"", None),
        (b"not json", Some("application/json")),
        (b"{}", Some("application/json")),
        (b"{\"submit\": \"true\"}", Some("application/json")),
        (b"{\"submit\": 1}", Some("application/json")),
        (
            b"{\"submit\": true, \"statement\": 5}",
            Some("application/json"),
        ),
        (
            b"{\"submit\": true, \"extra\": 1}",
            Some("application/json"),
        ),
        (b"[true]", Some("application/json")),
        (b"{\"submit\": true}{", Some("application/json")),
    ];
    for (body, ct) in bad {
        let r = post(&app, URI, Some(&token(SELLER_A)), body, ct).await;
        let text = String::from_utf8_lossy(body);
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{text:?} {ct:?}: {}",
            r.text()
        );
        assert_eq!(r.error_code(), "invalid_body", "{text:?}");
    }
    // a body over axum's default limit is ours too, not a 413
    let huge = vec![b' '; 3 * 1024 * 1024];
    let r = post(
        &app,
        URI,
        Some(&token(SELLER_A)),
        &huge,
        Some("application/json"),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    assert!(fake.seen().is_empty(), "nothing sent to Stripe");
    assert_eq!(
        store
            .get_order(SELLER_A, "pi_ev")
            .await
            .unwrap()
            .unwrap()
            .version,
        version
    );
}

#[tokio::test]
async fn given_the_contracts_order_then_401_before_400_before_404_before_409() {
    let (_, fake, app) = setup("lost").await;
    let long = serde_json::json!({"submit": true, "statement": "x".repeat(20_001)});
    // 401 first, whatever the body
    let r = post(&app, URI, None, b"nonsense", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = post(&app, URI, Some("bad.token.here"), b"nonsense", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // 400 before 404: a bad body on an unknown order
    let r = post(
        &app,
        "/orders/pi_nope/disputes/dp_nope/evidence",
        Some(&token(SELLER_A)),
        b"{}",
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let r = post_json(
        &app,
        "/orders/pi_nope/disputes/dp_nope/evidence",
        long.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "statement_too_long")
    );
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("20000"));
    // 404: unknown order, unknown dispute, odd ids, another seller's: all alike
    for uri in [
        "/orders/pi_nope/disputes/dp_pi_ev/evidence",
        "/orders/pi_ev/disputes/dp_nope/evidence",
        "/orders/pi-ev/disputes/dp_pi_ev/evidence",
        "/orders/pi_ev/disputes/%2E%2E/evidence",
    ] {
        let r = post_json(&app, uri, serde_json::json!({"submit": true})).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{uri}"
        );
    }
    let r = post(
        &app,
        URI,
        Some(&token(SELLER_B)),
        b"{\"submit\": true}",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // 409: closed (here `lost`), from what we know
    let r = post_json(&app, URI, serde_json::json!({"submit": false})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "dispute_closed")
    );
    assert!(fake.seen().is_empty(), "Stripe is never called for these");
}

#[tokio::test]
async fn given_no_stripe_key_then_503_after_the_other_checks() {
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .paid()
        .dispute("needs_response")
        .put(&store)
        .await;
    let app = router(state(store).with_clock(Arc::new(|| T0 + 3600)));
    let r = post_json(&app, URI, serde_json::json!({"submit": true})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "stripe_not_configured")
    );
    let r = post_json(
        &app,
        "/orders/pi_ev/disputes/dp_other/evidence",
        serde_json::json!({"submit": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_stripe_refuses_then_502_with_stripes_message_and_nothing_recorded() {
    // GIVEN Stripe thinks the dispute is closed while we still see it open
    let (store, fake, app) = setup("needs_response").await;
    fake.add_dispute(SELLER_A, "dp_pi_ev", "won");
    let before = store.get_order(SELLER_A, "pi_ev").await.unwrap().unwrap();
    // WHEN submitted
    let r = post_json(&app, URI, serde_json::json!({"submit": true})).await;
    // THEN 502 with Stripe's words, nothing recorded as sent: no timeline entry, no time saved
    // or submitted, only Stripe's words as `last_error`; the refused call's idempotency
    // generation moved on, so the next request is really tried again
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::BAD_GATEWAY, "stripe_refused")
    );
    assert_eq!(
        r.json()["error"]["message"],
        "This dispute is already closed."
    );
    let after = store.get_order(SELLER_A, "pi_ev").await.unwrap().unwrap();
    let shown = |r: &leenkies_domain::OrderRecord| {
        serde_json::to_value(leenkies_domain::OrderView::of(r)).unwrap()
    };
    assert_eq!(
        shown(&before)["disputes"][0]["evidence"],
        serde_json::Value::Null
    );
    assert_eq!(
        shown(&after)["disputes"][0]["evidence"],
        serde_json::json!({"saved_at": null, "submitted_at": null, "submitted_by": null,
            "accepted_at": null, "statement": null,
            "last_error": "Stripe refused (400): This dispute is already closed."})
    );
    assert_eq!(after.facts.timeline, before.facts.timeline);
    let generations = &after.facts.dispute_evidence["dp_pi_ev"];
    assert_eq!(
        (generations.upload_generation, generations.update_generation),
        (0, 1)
    );
}

#[tokio::test]
async fn given_a_submission_then_a_second_is_409_without_calling_stripe() {
    let (_, fake, app) = setup("needs_response").await;
    let r = post_json(&app, URI, serde_json::json!({"submit": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["submitted"], true);
    let calls = fake.seen().len();
    let r = post_json(&app, URI, serde_json::json!({"submit": false})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "already_submitted")
    );
    assert_eq!(fake.seen().len(), calls);
    let order = get_as(&app, SELLER_A, "/orders/pi_ev").await.json();
    assert!(order["disputes"][0]["evidence"]["submitted_at"].is_string());
}

#[tokio::test]
async fn given_an_open_dispute_when_previewed_then_what_would_be_sent_without_calling_stripe() {
    let (_, fake, app) = setup("needs_response").await;
    // WHEN the seller reads the preview
    let r = get(&app, URI, Some(&token(SELLER_A))).await;
    // THEN the fields and documents, and no Stripe call
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["dispute_id"], "dp_pi_ev");
    assert_eq!(
        body["evidence"]["customer_email_address"],
        "jordan.lee@example.com"
    );
    assert_eq!(body["evidence"]["service_date"], "2026-05-08");
    let files: Vec<&str> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["customer_communication", "receipt"]);
    assert_eq!(body["stripe_configured"], true);
    assert!(fake.seen().is_empty());
    // another seller: 404
    let r = get(&app, URI, Some(&token(SELLER_B))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_an_open_dispute_when_accepted_then_closed_in_stripe_and_no_more_filing() {
    let (_, fake, app) = setup("needs_response").await;
    let accept = "/orders/pi_ev/disputes/dp_pi_ev/accept";
    // WHEN the seller accepts
    let r = post(&app, accept, Some(&token(SELLER_A)), b"", None).await;
    // THEN 200 with the dispute, accepted_at recorded, Stripe closed it once as the seller
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["evidence"]["accepted_at"].is_string());
    assert_eq!(
        fake.closes(),
        [(SELLER_A.to_owned(), "dp_pi_ev".to_owned())]
    );
    assert!(fake.seen().iter().all(|s| s.idempotency_key.is_some()));
    // AND filing or accepting again is 409 dispute_closed, Stripe not called
    let calls = fake.seen().len();
    let r = post_json(&app, URI, serde_json::json!({"submit": true})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "dispute_closed")
    );
    let r = post(&app, accept, Some(&token(SELLER_A)), b"", None).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "dispute_closed")
    );
    assert_eq!(fake.seen().len(), calls);
}

#[tokio::test]
async fn given_a_passed_deadline_then_409_past_due_before_stripe_is_asked() {
    let (_, fake, _) = setup("needs_response").await;
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .email("jordan.lee@example.com")
        .paid()
        .dispute("needs_response")
        .put(&store)
        .await;
    // "now" a year later: the week's deadline has passed
    let app = router(state(store).with_clock(Arc::new(|| T0 + 365 * DAY)));
    let r = post_json(&app, URI, serde_json::json!({"submit": true})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "past_due")
    );
    assert!(fake.seen().is_empty());
}
