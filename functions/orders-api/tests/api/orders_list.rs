//! `GET /orders`: every filter, complete newest-first pagination, cursors that cannot be forged or
//! replayed, and a `400` with a named code for every bad value.

use std::collections::HashSet;
use std::sync::Arc;

use crate::common::*;
use axum::http::StatusCode;
use leenkies_domain::memory_store::MemoryStore;
use serde_json::Value;

fn ids(body: &Value) -> Vec<String> {
    body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A mixed book of orders for seller A (and one for B).
async fn book() -> axum::Router {
    let store = Arc::new(MemoryStore::new());
    let s = &store;
    order(SELLER_A, "pi_paid", T0)
        .email("Jordan.Lee@Example.com")
        .paid()
        .put(s)
        .await;
    order(SELLER_A, "pi_failed", T0 + 100)
        .email("sam@example.org")
        .failed("insufficient_funds")
        .put(s)
        .await;
    order(SELLER_A, "pi_pending", T0 + 200)
        .email("jordan.lee@example.com")
        .put(s)
        .await;
    order(SELLER_A, "pi_refunded", T0 + 300)
        .email("priya@example.org")
        .paid()
        .refund(2500, "succeeded")
        .put(s)
        .await;
    order(SELLER_A, "pi_partial", T0 + 400)
        .email("jo@example.net")
        .paid()
        .refund(1000, "succeeded")
        .put(s)
        .await;
    order(SELLER_A, "pi_disputed", T0 + 500)
        .email("jordan@example.com")
        .paid()
        .dispute("needs_response")
        .put(s)
        .await;
    order(SELLER_B, "pi_other", T0 + 50)
        .email("jordan.lee@example.com")
        .paid()
        .put(s)
        .await;
    app(store)
}

async fn list(app: &axum::Router, query: &str) -> Vec<String> {
    let r = get_as(app, SELLER_A, &format!("/orders{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
    ids(&r.json())
}

#[tokio::test]
async fn given_a_book_of_orders_when_listing_then_newest_first_with_contract_fields() {
    let app = book().await;
    let r = get_as(&app, SELLER_A, "/orders").await;
    let body = r.json();
    assert_eq!(
        ids(&body),
        [
            "pi_disputed",
            "pi_partial",
            "pi_refunded",
            "pi_pending",
            "pi_failed",
            "pi_paid"
        ]
    );
    assert!(body["next_cursor"].is_null());
    let first = &body["orders"][0];
    for field in [
        "order_id",
        "seller_id",
        "reference",
        "product_id",
        "product_name",
        "customer_email",
        "amount",
        "currency",
        "payment_status",
        "refunded_amount",
        "failure",
        "dispute",
        "disputes",
        "early_fraud_warning",
        "access_revoked",
        "attention",
        "fulfillment",
        "created_at",
        "updated_at",
        "timeline",
    ] {
        assert!(first.get(field).is_some(), "order lacks {field}");
    }
    assert_eq!(first["created_at"], "2026-05-08T08:08:20Z");
}

#[tokio::test]
async fn given_each_status_when_filtering_then_only_those_orders() {
    let app = book().await;
    assert_eq!(
        list(&app, "?status=succeeded").await,
        ["pi_disputed", "pi_paid"]
    );
    assert_eq!(list(&app, "?status=failed").await, ["pi_failed"]);
    assert_eq!(list(&app, "?status=pending").await, ["pi_pending"]);
    assert_eq!(list(&app, "?status=refunded").await, ["pi_refunded"]);
    assert_eq!(
        list(&app, "?status=partially_refunded").await,
        ["pi_partial"]
    );
    assert_eq!(list(&app, "?status=canceled").await, Vec::<String>::new());
    assert_eq!(list(&app, "?status=disputed").await, ["pi_disputed"]);
}

#[tokio::test]
async fn given_an_email_when_filtering_then_case_insensitive_exact_or_prefix() {
    let app = book().await;
    // exact, any case
    assert_eq!(
        list(&app, "?email=JORDAN.LEE%40example.com").await,
        ["pi_pending", "pi_paid"]
    );
    // prefix
    assert_eq!(
        list(&app, "?email=jordan").await,
        ["pi_disputed", "pi_pending", "pi_paid"]
    );
    assert_eq!(
        list(&app, "?email=jo").await,
        ["pi_disputed", "pi_partial", "pi_pending", "pi_paid"]
    );
    // never another seller's order
    assert!(!list(&app, "?email=jordan.lee")
        .await
        .contains(&"pi_other".to_owned()));
}

#[tokio::test]
async fn given_email_and_status_when_filtering_then_both_apply() {
    let app = book().await;
    assert_eq!(
        list(&app, "?email=jordan&status=succeeded").await,
        ["pi_disputed", "pi_paid"]
    );
    assert_eq!(
        list(&app, "?email=jordan&status=pending").await,
        ["pi_pending"]
    );
    assert_eq!(
        list(&app, "?email=jordan&status=disputed").await,
        ["pi_disputed"]
    );
    assert_eq!(
        list(&app, "?email=sam&status=succeeded").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn given_from_and_to_when_filtering_then_inclusive_bounds_on_created_at() {
    let app = book().await;
    // T0+100 = 08:01:40, T0+300 = 08:05:00
    assert_eq!(
        list(&app, "?from=2026-05-08T08:01:40Z&to=2026-05-08T08:05:00Z").await,
        ["pi_refunded", "pi_pending", "pi_failed"]
    );
    // any offset is accepted
    assert_eq!(
        list(&app, "?from=2026-05-08T10:08:20%2B02:00").await,
        ["pi_disputed"]
    );
    assert_eq!(list(&app, "?to=2026-05-08T08:00:00Z").await, ["pi_paid"]);
}

#[tokio::test]
async fn given_unknown_params_when_listing_then_ignored() {
    let app = book().await;
    assert_eq!(list(&app, "?foo=bar&utm_source=x").await.len(), 6);
}

#[tokio::test]
async fn given_60_orders_when_paging_by_7_then_every_order_exactly_once_newest_first() {
    // GIVEN 60 orders, some sharing a created_at (the tie-break is the order id)
    let store = Arc::new(MemoryStore::new());
    for i in 0..60 {
        order(SELLER_A, &format!("pi_{i:03}"), T0 + (i / 3) * 60)
            .email(&format!("c{i}@example.com"))
            .paid()
            .put(&store)
            .await;
    }
    let app = app(store);
    // WHEN following next_cursor with limit 7
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/orders?limit=7&cursor={c}"),
            None => "/orders?limit=7".to_owned(),
        };
        let body = get_as(&app, SELLER_A, &uri).await.json();
        pages += 1;
        let page = ids(&body);
        assert!(page.len() <= 7);
        seen.extend(page);
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 20, "pagination does not end");
    }
    // THEN 9 pages, every order once, newest first
    assert_eq!(pages, 9);
    assert_eq!(seen.len(), 60);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 60);
    let mut expected: Vec<String> = (0..60).map(|i| format!("pi_{i:03}")).collect();
    expected.reverse();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn given_a_filtered_listing_when_paging_then_complete_too() {
    // GIVEN 30 orders of one customer, every third one pending, searched by email + status
    let store = Arc::new(MemoryStore::new());
    for i in 0..30 {
        let b = order(SELLER_A, &format!("pi_{i:02}"), T0 + i * 10).email("same@example.com");
        let b = if i % 3 == 0 { b } else { b.paid() };
        b.put(&store).await;
    }
    let app = app(store);
    let mut seen = Vec::new();
    let mut uri = "/orders?email=same&status=pending&limit=4".to_owned();
    loop {
        let body = get_as(&app, SELLER_A, &uri).await.json();
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/orders?email=same&status=pending&limit=4&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..30)
        .rev()
        .filter(|i| i % 3 == 0)
        .map(|i| format!("pi_{i:02}"))
        .collect();
    assert_eq!(seen, expected);
}

async fn first_cursor(app: &axum::Router, seller: &str, query: &str) -> String {
    let body = get_as(app, seller, &format!("/orders?limit=1{query}"))
        .await
        .json();
    body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned()
}

#[tokio::test]
async fn given_a_cursor_when_forged_altered_or_replayed_then_400_invalid_cursor() {
    // GIVEN both sellers with several orders
    let store = Arc::new(MemoryStore::new());
    for i in 0..3 {
        order(SELLER_A, &format!("pi_a{i}"), T0 + i)
            .email("x@example.com")
            .paid()
            .put(&store)
            .await;
        order(SELLER_B, &format!("pi_b{i}"), T0 + i)
            .email("x@example.com")
            .paid()
            .put(&store)
            .await;
    }
    let app = app(store);
    let a_cursor = first_cursor(&app, SELLER_A, "").await;
    let b_cursor = first_cursor(&app, SELLER_B, "").await;
    let filtered = first_cursor(&app, SELLER_A, "&status=succeeded").await;
    let (body, sig) = a_cursor.split_once('.').unwrap();
    let mut flipped = sig.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        (
            SELLER_B,
            format!("/orders?limit=1&cursor={a_cursor}"),
            "A's cursor replayed by B",
        ),
        (
            SELLER_A,
            format!("/orders?limit=1&cursor={b_cursor}"),
            "B's cursor replayed by A",
        ),
        (
            SELLER_A,
            format!("/orders?limit=1&status=failed&cursor={a_cursor}"),
            "other filters",
        ),
        (
            SELLER_A,
            format!("/orders?limit=1&cursor={filtered}"),
            "filters dropped",
        ),
        (
            SELLER_A,
            format!("/orders?limit=1&cursor={body}.{flipped}"),
            "signature altered",
        ),
        (
            SELLER_A,
            format!("/orders?limit=1&cursor={body}"),
            "no signature",
        ),
        (
            SELLER_A,
            "/orders?cursor=eyJmb28iOjF9.AAAA".to_owned(),
            "forged",
        ),
        (SELLER_A, "/orders?cursor=".to_owned(), "empty"),
    ];
    for (seller, uri, why) in cases {
        let r = get_as(&app, seller, &uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(r.error_code(), "invalid_cursor", "{why}");
    }
    // AND the genuine cursors still work, with another limit too
    for (seller, c) in [(SELLER_A, &a_cursor), (SELLER_B, &b_cursor)] {
        let r = get_as(&app, seller, &format!("/orders?limit=5&cursor={c}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(ids(&r.json()).len(), 2);
    }
}

#[tokio::test]
async fn given_bad_query_values_when_listing_then_400_naming_each() {
    let app = book().await;
    for (query, code) in [
        ("status=paid", "invalid_status"),
        ("status=", "invalid_status"),
        ("status=SUCCEEDED", "invalid_status"),
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=abc", "invalid_limit"),
        ("limit=-1", "invalid_limit"),
        ("limit=", "invalid_limit"),
        ("from=yesterday", "invalid_timestamp"),
        ("from=2026-05-08", "invalid_timestamp"),
        ("to=1778227200", "invalid_timestamp"),
        ("to=2026-13-01T00:00:00Z", "invalid_timestamp"),
        (
            "from=2026-05-09T00:00:00Z&to=2026-05-08T00:00:00Z",
            "invalid_range",
        ),
        ("email=", "invalid_email"),
        ("status=failed&status=succeeded", "duplicate_parameter"),
    ] {
        let r = get_as(&app, SELLER_A, &format!("/orders?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        assert_eq!(r.error_code(), code, "{query}");
    }
    // AND the edges of the limit are accepted
    for query in ["limit=1", "limit=100"] {
        assert_eq!(
            get_as(&app, SELLER_A, &format!("/orders?{query}"))
                .await
                .status,
            StatusCode::OK
        );
    }
}
