//! `POST /orders/{order_id}/resend` and `HEAD /downloads/{token}` (contract section 10), over
//! the embedded store, with the outbox folder as the mailer: the refusals in the contract's
//! order, the daily limit with `Retry-After`, one email per accepted request, a new link per
//! email while every emailed link keeps working, the resend in the timeline and the evidence,
//! and a HEAD that answers without logging a download.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leenkies_adapters::mail::OutboxMailer;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::tokens::{DownloadClaims, DownloadKey};
use orders_api::router;
use orders_api::routes::resend::ResendConfig;

const ORDER: &str = "pi_3QMpFn8cKdV3nWpT2DksRg19";

struct World {
    app: Router,
    store: Arc<MemoryStore>,
    outbox: tempfile::TempDir,
    clock: Arc<AtomicI64>,
}

fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let outbox = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(T0 + DAY));
    let c = clock.clone();
    let state = state(store.clone())
        .with_clock(Arc::new(move || c.load(Ordering::SeqCst)))
        .with_resend(ResendConfig {
            mailer: Arc::new(OutboxMailer::new(outbox.path())),
            messages: store.clone(),
            public_base_url: "https://shop.example".into(),
            profiles: None,
            lease_secs: 60,
        });
    World {
        app: router(state),
        store,
        outbox,
        clock,
    }
}

async fn resend(app: &Router, seller: &str, order_id: &str, key: Option<&str>) -> Resp {
    let mut request = Request::post(format!("/orders/{order_id}/resend"))
        .header("authorization", format!("Bearer {}", token(seller)));
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

fn emails(w: &World) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(w.outbox.path())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "eml"));
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn link_in(email: &str) -> String {
    let start = email.find("/downloads/").expect("a download link");
    email[start + "/downloads/".len()..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap()
        .to_owned()
}

async fn sent_order(w: &World) {
    order(SELLER_A, ORDER, T0)
        .email("jordan.lee@example.com")
        .paid()
        .sent("0100-first")
        .put(&w.store)
        .await;
}

#[tokio::test]
async fn given_a_sent_order_when_resent_then_202_a_new_working_link_and_the_old_one_still_works() {
    // GIVEN a paid order whose first email went out with the first link
    let w = world();
    sent_order(&w).await;
    let first_link = DownloadKey::new(DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: SELLER_A.into(),
        order_id: ORDER.into(),
        product_id: "prod_lut_pack".into(),
    });
    // WHEN the seller resends twice
    let a = resend(&w.app, SELLER_A, ORDER, None).await;
    let b = resend(&w.app, SELLER_A, ORDER, None).await;
    // THEN 202 with SES's (here the outbox's) message id, one email each, to the customer
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text());
    assert_eq!(b.status, StatusCode::ACCEPTED);
    let (ida, idb) = (
        a.json()["message_id"].clone(),
        b.json()["message_id"].clone(),
    );
    assert!(ida.is_string() && ida != idb);
    let mails = emails(&w);
    assert_eq!(mails.len(), 2);
    assert!(mails
        .iter()
        .all(|m| m.contains("To: jordan.lee@example.com")));
    // AND each email's link differs from the other and from the first email's
    let (la, lb) = (link_in(&mails[0]), link_in(&mails[1]));
    assert_ne!(la, lb);
    assert_ne!(la, first_link);
    // AND every one of them still opens the product
    for t in [&first_link, &la, &lb] {
        let r = get(&w.app, &format!("/downloads/{t}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{t}");
    }
    // AND the resends are in the timeline and in the evidence
    let o = get_as(&w.app, SELLER_A, &format!("/orders/{ORDER}"))
        .await
        .json();
    let resent = o["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "email_resent")
        .count();
    assert_eq!(resent, 2);
    assert_eq!(o["fulfillment"]["resends"].as_array().unwrap().len(), 2);
    let e = get_as(&w.app, SELLER_A, &format!("/orders/{ORDER}/evidence"))
        .await
        .text();
    assert!(e.contains("email_resent"), "{e}");
}

#[tokio::test]
async fn given_five_resends_within_a_day_when_a_sixth_then_429_with_retry_after_and_no_email() {
    let w = world();
    sent_order(&w).await;
    for _ in 0..5 {
        assert_eq!(
            resend(&w.app, SELLER_A, ORDER, None).await.status,
            StatusCode::ACCEPTED
        );
        w.clock.fetch_add(60, Ordering::SeqCst);
    }
    // WHEN a sixth comes within 24 hours of the first
    let r = resend(&w.app, SELLER_A, ORDER, None).await;
    // THEN 429, nothing sent, and when to come back
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.error_code(), "too_many_resends");
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(wait, DAY - 5 * 60);
    assert_eq!(emails(&w).len(), 5);
    // AND once the first resend is a day old, one more goes out
    w.clock.fetch_add(wait, Ordering::SeqCst);
    assert_eq!(
        resend(&w.app, SELLER_A, ORDER, None).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn given_a_retried_request_with_its_key_when_resent_then_the_same_message_and_one_email() {
    let w = world();
    sent_order(&w).await;
    let a = resend(&w.app, SELLER_A, ORDER, Some("click-42")).await;
    let b = resend(&w.app, SELLER_A, ORDER, Some("click-42")).await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(a.json()["message_id"], b.json()["message_id"]);
    assert_eq!(emails(&w).len(), 1);
    let bad = resend(&w.app, SELLER_A, ORDER, Some("a b")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn given_orders_that_cannot_be_resent_when_resent_then_404_or_409_and_nothing_sent() {
    let w = world();
    // another seller's order, an unpaid one, a revoked one, one whose first email is pending
    order(SELLER_B, "pi_b", T0)
        .email("b@example.com")
        .paid()
        .sent("0100-b")
        .put(&w.store)
        .await;
    order(SELLER_A, "pi_unpaid", T0)
        .email("c@example.com")
        .put(&w.store)
        .await;
    order(SELLER_A, "pi_revoked", T0)
        .email("c@example.com")
        .paid()
        .sent("0100-r")
        .refund(2500, "succeeded")
        .put(&w.store)
        .await;
    order(SELLER_A, "pi_pending", T0)
        .email("c@example.com")
        .paid()
        .put(&w.store)
        .await;
    let cases = [
        ("pi_b", StatusCode::NOT_FOUND, "not_found"),
        ("pi_missing", StatusCode::NOT_FOUND, "not_found"),
        ("pi_unpaid", StatusCode::CONFLICT, "order_not_paid"),
        ("pi_revoked", StatusCode::CONFLICT, "access_revoked"),
        ("pi_pending", StatusCode::CONFLICT, "first_email_not_sent"),
    ];
    for (id, status, code) in cases {
        let r = resend(&w.app, SELLER_A, id, None).await;
        assert_eq!(r.status, status, "{id}: {}", r.text());
        assert_eq!(r.error_code(), code, "{id}");
    }
    // AND without a token: 401
    let r = send(
        &w.app,
        Request::post(format!("/orders/{ORDER}/resend"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(emails(&w).is_empty());
    // AND the other seller's order is untouched
    let b = w.store.get_order(SELLER_B, "pi_b").await.unwrap().unwrap();
    assert!(b.fulfillment.resends.is_empty());
}

#[tokio::test]
async fn given_a_valid_link_when_probed_with_head_then_200_headers_only_and_nothing_logged() {
    let w = world();
    sent_order(&w).await;
    let t = DownloadKey::new(DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: SELLER_A.into(),
        order_id: ORDER.into(),
        product_id: "prod_lut_pack".into(),
    });
    // WHEN a HEAD comes (a mail scanner, a link checker)
    let r = send(
        &w.app,
        Request::head(format!("/downloads/{t}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // THEN the same status and headers as a GET, no body, and no download logged
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(w
        .store
        .list_downloads(SELLER_A, ORDER)
        .await
        .unwrap()
        .is_empty());
    // AND a GET still logs exactly one
    let g = get(&w.app, &format!("/downloads/{t}"), None).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(
        w.store.list_downloads(SELLER_A, ORDER).await.unwrap().len(),
        1
    );
}

async fn resend_with(app: &Router, seller: &str, order_id: &str, body: &str) -> Resp {
    let request = Request::post(format!("/orders/{order_id}/resend"))
        .header("authorization", format!("Bearer {}", token(seller)))
        .header("content-type", "application/json");
    send(app, request.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn given_a_corrected_address_when_resent_then_it_goes_there_and_the_order_keeps_stripes() {
    // GIVEN a paid order whose first email went out to the address from Stripe
    let w = world();
    sent_order(&w).await;
    // WHEN the seller resends to the address the customer gave after the bounce
    let r = resend_with(
        &w.app,
        SELLER_A,
        ORDER,
        r#"{"email": " jordan.lee@example.org "}"#,
    )
    .await;
    // THEN SES (the outbox) got one email, to that address alone
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let mails = emails(&w);
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("To: jordan.lee@example.org"),
        "{}",
        mails[0]
    );
    assert!(!mails[0].contains("jordan.lee@example.com"));
    // AND the order keeps Stripe's address; the resend, the timeline and the evidence name it
    let order = get_as(&w.app, SELLER_A, &format!("/orders/{ORDER}"))
        .await
        .json();
    assert_eq!(order["customer_email"], "jordan.lee@example.com");
    let resends = order["fulfillment"]["resends"].as_array().unwrap();
    assert_eq!(resends[0]["recipient"], "jordan.lee@example.org");
    assert!(order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["kind"] == "email_resent"
            && t["detail"]
                .as_str()
                .unwrap()
                .contains("to jordan.lee@example.org")));
    let evidence = get_as(&w.app, SELLER_A, &format!("/orders/{ORDER}/evidence"))
        .await
        .text();
    assert!(evidence.contains("jordan.lee@example.org"));
    // AND a plain resend afterwards goes to Stripe's address again
    let again = resend_with(&w.app, SELLER_A, ORDER, "{}").await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert!(emails(&w)[1].contains("To: jordan.lee@example.com"));
}

#[tokio::test]
async fn given_a_bad_address_or_body_when_resent_then_400_and_nothing_is_sent_or_recorded() {
    // GIVEN a paid order whose first email went out
    let w = world();
    sent_order(&w).await;
    let before = w.store.get_order(SELLER_A, ORDER).await.unwrap().unwrap();
    // WHEN the seller sends anything but one plain address, or a body that is no JSON object
    for (body, code) in [
        (r#"{"email": "jordan.lee@@example.org"}"#, "invalid_email"),
        (
            r#"{"email": "a@example.org, b@example.org"}"#,
            "invalid_email",
        ),
        (
            r#"{"email": "Jordan <jordan@example.org>"}"#,
            "invalid_email",
        ),
        (
            r#"{"email": "jordan@example.org\r\nBcc: x@evil.test"}"#,
            "invalid_email",
        ),
        (r#"{"email": "jordan@localhost"}"#, "invalid_email"),
        (r#"{"email": ""}"#, "invalid_email"),
        (r#"{"email": 42}"#, "invalid_email"),
        ("not json", "invalid_body"),
        (r#"["jordan@example.org"]"#, "invalid_body"),
    ] {
        let r = resend_with(&w.app, SELLER_A, ORDER, body).await;
        // THEN 400 with the code, and nothing is sent or changed
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.error_code(), code, "{body}");
    }
    assert!(emails(&w).is_empty());
    assert_eq!(
        w.store.get_order(SELLER_A, ORDER).await.unwrap().unwrap(),
        before
    );
}
