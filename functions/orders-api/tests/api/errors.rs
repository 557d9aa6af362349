//! The edges: wrong method `405`, unknown path `404`, store outage `503` with `Retry-After` and no
//! internal detail, all in the contract's error body.

use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use leenkies_domain::memory_store::MemoryStore;

#[tokio::test]
async fn given_a_known_path_when_wrong_method_then_405_error_body() {
    let app = app(Arc::new(MemoryStore::new()));
    for (method, uri) in [
        ("POST", "/orders"),
        ("DELETE", "/orders/pi_1"),
        ("PUT", "/stats/failures"),
        ("POST", "/downloads/x.y"),
    ] {
        let r = send(
            &app,
            Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", format!("Bearer {}", token(SELLER_A)))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(r.error_code(), "method_not_allowed");
    }
}

#[tokio::test]
async fn given_an_unknown_path_when_requested_then_404_error_body() {
    let app = app(Arc::new(MemoryStore::new()));
    for uri in [
        "/",
        "/nope",
        "/orders/pi_1/evidence/more",
        "/health/webhooks",
    ] {
        let r = get_as(&app, SELLER_A, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.error_code(), "not_found");
    }
}

#[tokio::test]
async fn given_the_store_is_down_when_reading_then_503_with_retry_after_and_no_detail() {
    // GIVEN an unavailable store
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone());
    store.set_unavailable(true);
    for uri in [
        "/orders",
        "/orders/pi_1",
        "/orders/pi_1/evidence",
        "/orders/export.csv",
        "/stats/failures",
    ] {
        // WHEN any dashboard route is read
        let r = get_as(&app, SELLER_A, uri).await;
        // THEN 503, Retry-After, and nothing of the internal error
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(r.header("retry-after").is_some(), "{uri}");
        assert_eq!(r.error_code(), "unavailable");
        assert!(!r.text().contains("embedded"), "{uri} leaks: {}", r.text());
    }
}
