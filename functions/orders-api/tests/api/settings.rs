//! `GET`/`PUT /settings` (contract section 11): defaults until saved, every field kept, a bad
//! change refused naming the field with nothing saved, one record per seller.

use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leenkies_domain::memory_store::MemoryStore;
use serde_json::json;

async fn put(app: &Router, seller: Option<&str>, body: &str) -> Resp {
    let mut r = Request::put("/settings").header("content-type", "application/json");
    if let Some(s) = seller {
        r = r.header("authorization", format!("Bearer {}", token(s)));
    }
    send(app, r.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn given_nothing_saved_when_read_then_the_contracts_defaults() {
    let app = app(Arc::new(MemoryStore::new()));
    let r = get(&app, "/settings", Some(&token(SELLER_A))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({
            "dispute_auto_submit": "strong_evidence",
            "dispute_auto_submit_hours": 48,
            "refund_policy": null,
            "refund_policy_disclosure": null,
            "efw_auto_refund": "off",
            "notify_email": null,
            "notify": {"dispute": true, "delivery_failed": true, "failure_pattern": true, "early_fraud_warning": true}
        })
    );
}

#[tokio::test]
async fn given_a_partial_change_when_put_then_in_force_for_that_seller_only() {
    let app = app(Arc::new(MemoryStore::new()));
    // WHEN seller A changes two keys
    let r = put(
        &app,
        Some(SELLER_A),
        r#"{"dispute_auto_submit": "always", "refund_policy": "No refunds after download."}"#,
    )
    .await;
    // THEN the settings now in force, read back the same; seller B keeps the defaults
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["dispute_auto_submit"], "always");
    assert_eq!(r.json()["dispute_auto_submit_hours"], 48);
    let a = get(&app, "/settings", Some(&token(SELLER_A))).await.json();
    assert_eq!(a, r.json());
    let b = get(&app, "/settings", Some(&token(SELLER_B))).await.json();
    assert_eq!(b["dispute_auto_submit"], "strong_evidence");
    assert_eq!(b["refund_policy"], serde_json::Value::Null);
}

#[tokio::test]
async fn given_bad_changes_when_put_then_400_naming_the_field_and_nothing_saved() {
    let app = app(Arc::new(MemoryStore::new()));
    put(&app, Some(SELLER_A), r#"{"dispute_auto_submit_hours": 72}"#).await;
    for (body, field) in [
        (
            r#"{"dispute_auto_submit_hours": 12}"#,
            "dispute_auto_submit_hours",
        ),
        (
            r#"{"dispute_auto_submit": "off", "colour": "red"}"#,
            "colour",
        ),
        (r#"{"notify": {"dispute": "no"}}"#, "notify.dispute"),
        (r#"{"notify_email": "not an address"}"#, "notify_email"),
        (r#"[]"#, "settings"),
        (r#"not json"#, "JSON object"),
    ] {
        let r = put(&app, Some(SELLER_A), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.error_code(), "invalid_settings", "{body}");
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(field), "{body}: {message}");
    }
    let now = get(&app, "/settings", Some(&token(SELLER_A))).await.json();
    assert_eq!(now["dispute_auto_submit_hours"], 72);
    assert_eq!(now["dispute_auto_submit"], "strong_evidence");
}

#[tokio::test]
async fn given_no_token_then_401() {
    let app = app(Arc::new(MemoryStore::new()));
    assert_eq!(
        get(&app, "/settings", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        put(&app, None, r#"{"dispute_auto_submit": "off"}"#)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
