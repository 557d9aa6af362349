//! Who may read what: the seller comes only from a verified token; every bad token is `401`; a
//! seller cannot tell another seller's order from a missing one.

use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use leenkies_domain::memory_store::MemoryStore;
use orders_api::{router, Auth};
use serde_json::json;

async fn seeded() -> (Arc<MemoryStore>, axum::Router) {
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_A1", T0)
        .email("a@example.com")
        .paid()
        .put(&store)
        .await;
    order(SELLER_B, "pi_B1", T0)
        .email("b@example.com")
        .paid()
        .put(&store)
        .await;
    let app = app(store.clone());
    (store, app)
}

async fn assert_unauthorized(app: &axum::Router, bearer: Option<&str>, why: &str) {
    let r = get(app, "/orders", bearer).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{why}: {}", r.text());
    assert_eq!(r.error_code(), "unauthorized", "{why}");
}

#[tokio::test]
async fn given_no_token_when_listing_then_401_with_the_error_body() {
    let (_, app) = seeded().await;
    assert_unauthorized(&app, None, "no token").await;
    let r = send(
        &app,
        Request::get("/orders")
            .header("authorization", "Basic dXNlcjpwYXNz")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "basic auth");
}

#[tokio::test]
async fn given_bad_tokens_when_listing_then_each_is_401() {
    // GIVEN a router and tokens that each break one rule
    let (_, app) = seeded().await;
    let later = now() + 3600;
    let wrong_key = encode(
        &Header::default(),
        &json!({"sub": SELLER_A, "exp": later}),
        &EncodingKey::from_secret(b"another secret"),
    )
    .unwrap();
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &json!({"sub": SELLER_A, "exp": later}),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"{SELLER_A}","exp":{later}}}"#))
    );
    let valid = token(SELLER_A);
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let tampered = format!(
        "{head}.{}.{sig}",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"{SELLER_B}","exp":{later}}}"#))
    );
    let cases = [
        (wrong_key, "signed with another key"),
        (tampered, "payload altered"),
        (alg_none, "alg none"),
        (hs512, "HS512"),
        (
            jwt(json!({"sub": SELLER_A, "exp": now() - 3600})),
            "expired",
        ),
        (
            jwt(json!({"sub": SELLER_A, "exp": later, "nbf": now() + 1800})),
            "nbf in the future",
        ),
        (jwt(json!({"sub": SELLER_A})), "no exp"),
        (
            jwt(json!({"seller": SELLER_A, "exp": later})),
            "no sub claim",
        ),
        (jwt(json!({"sub": 42, "exp": later})), "sub not a string"),
        (jwt(json!({"sub": "", "exp": later})), "empty sub"),
        ("not-a-jwt".to_owned(), "garbage"),
    ];
    // WHEN each is presented THEN 401
    for (t, why) in cases {
        assert_unauthorized(&app, Some(&t), why).await;
    }
    // AND the valid one is accepted
    assert_eq!(
        get(&app, "/orders", Some(&valid)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn given_a_seller_claim_not_shaped_like_a_stripe_account_when_presented_then_401_and_nothing_read(
) {
    // GIVEN seller A's orders, one of them provisional (listed under `SELLER#A#PROVISIONAL`)
    let (store, app) = seeded().await;
    let mut provisional = order(SELLER_A, "pi_A2", T0 + 10)
        .email("a@example.com")
        .paid()
        .build();
    provisional.facts.pi_created = None;
    leenkies_domain::ports::OrderStore::put_order(&*store, &provisional, None, &[])
        .await
        .unwrap();
    let later = now() + 3600;
    // WHEN well-signed tokens name a seller of another shape than `acct_` + letters and digits
    for sub in [
        format!("{SELLER_A}#PROVISIONAL"),
        format!("{SELLER_A}#ORDER#pi_A1"),
        "acct_".to_owned(),
        "user_123".to_owned(),
        "acct_A B".to_owned(),
        "acct_\u{202e}A".to_owned(),
        format!("acct_{}", "a".repeat(300)),
    ] {
        let t = jwt(json!({"sub": sub, "exp": later}));
        // THEN 401 on every route, as for a bad token
        for uri in ["/orders", "/orders/pi_A2", "/orders/export.csv"] {
            let r = get(&app, uri, Some(&t)).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{sub:?} {uri}");
            assert!(!r.text().contains("pi_A"), "{sub:?} {uri}");
        }
    }
    // AND `platform` and Stripe account ids are accepted
    for sub in ["platform", SELLER_A, "acct_B"] {
        let t = jwt(json!({"sub": sub, "exp": later}));
        assert_eq!(
            get(&app, "/orders", Some(&t)).await.status,
            StatusCode::OK,
            "{sub}"
        );
    }
}

#[tokio::test]
async fn given_tokens_issued_in_the_future_or_living_too_long_when_presented_then_401() {
    // GIVEN the local verifier (no issuer or audience configured)
    let (_, app) = seeded().await;
    let now = now();
    for (claims, why) in [
        (
            json!({"sub": SELLER_A, "iat": now + 3600, "exp": now + 7200}),
            "iat an hour ahead",
        ),
        (
            json!({"sub": SELLER_A, "iat": now, "exp": 253_402_300_799_i64}),
            "exp in year 9999",
        ),
        (
            json!({"sub": SELLER_A, "exp": 253_402_300_799_i64}),
            "exp in year 9999, no iat",
        ),
        (
            json!({"sub": SELLER_A, "iat": now, "exp": now + 8 * 24 * 3600}),
            "eight days",
        ),
        (
            json!({"sub": SELLER_A, "iat": "yesterday", "exp": now + 60}),
            "iat not a number",
        ),
    ] {
        // WHEN each is presented THEN 401
        assert_unauthorized(&app, Some(&jwt(claims)), why).await;
    }
    // AND a token issued a few seconds ahead (clock skew) or living a week is accepted
    for claims in [
        json!({"sub": SELLER_A, "iat": now + 10, "exp": now + 3600}),
        json!({"sub": SELLER_A, "iat": now, "exp": now + 7 * 24 * 3600}),
    ] {
        assert_eq!(
            get(&app, "/orders", Some(&jwt(claims))).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn given_an_issuer_and_audiences_configured_when_tokens_are_presented_then_both_are_required_and_checked(
) {
    // GIVEN JWT_ISSUER and JWT_AUDIENCE, as the HTTP API's authorizer is configured in AWS
    let store = Arc::new(MemoryStore::new());
    let mut state = state(store);
    state.auth = Auth::LocalHs256 {
        secret: JWT_SECRET.into(),
        seller_claim: "sub".into(),
        issuer: Some("https://issuer.example".into()),
        audiences: vec!["dashboard".into(), "cli".into()],
    };
    let app = router(state);
    let exp = now() + 600;
    let good =
        json!({"sub": SELLER_A, "exp": exp, "iss": "https://issuer.example", "aud": "dashboard"});
    assert_eq!(
        get(&app, "/orders", Some(&jwt(good))).await.status,
        StatusCode::OK
    );
    let other_aud =
        json!({"sub": SELLER_A, "exp": exp, "iss": "https://issuer.example", "aud": ["x", "cli"]});
    assert_eq!(
        get(&app, "/orders", Some(&jwt(other_aud))).await.status,
        StatusCode::OK
    );
    for (claims, why) in [
        (
            json!({"sub": SELLER_A, "exp": exp, "aud": "dashboard"}),
            "no iss",
        ),
        (
            json!({"sub": SELLER_A, "exp": exp, "iss": "https://evil.example", "aud": "dashboard"}),
            "other iss",
        ),
        (
            json!({"sub": SELLER_A, "exp": exp, "iss": "https://issuer.example"}),
            "no aud",
        ),
        (
            json!({"sub": SELLER_A, "exp": exp, "iss": "https://issuer.example", "aud": "other"}),
            "other aud",
        ),
    ] {
        // WHEN each is presented THEN 401
        assert_unauthorized(&app, Some(&jwt(claims)), why).await;
    }
}

#[tokio::test]
async fn given_a_configured_seller_claim_when_token_has_it_then_that_claim_decides() {
    // GIVEN SELLER_ID_CLAIM = "acct"
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_A1", T0).paid().put(&store).await;
    let mut state = state(store);
    state.auth = Auth::LocalHs256 {
        secret: JWT_SECRET.into(),
        seller_claim: "acct".into(),
        issuer: None,
        audiences: Vec::new(),
    };
    let app = router(state);
    // WHEN the token names seller A in `acct` (and something else in `sub`)
    let t = jwt(json!({"sub": "user_123", "acct": SELLER_A, "exp": now() + 60}));
    let r = get(&app, "/orders/pi_A1", Some(&t)).await;
    // THEN A's order is visible; a token with only `sub` is refused
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let only_sub = jwt(json!({"sub": SELLER_A, "exp": now() + 60}));
    assert_eq!(
        get(&app, "/orders", Some(&only_sub)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn given_seller_b_when_reading_an_order_of_a_then_404_identical_to_a_missing_one() {
    let (_, app) = seeded().await;
    // WHEN B asks for A's order, and for an order that does not exist
    let other = get_as(&app, SELLER_B, "/orders/pi_A1").await;
    let missing = get_as(&app, SELLER_B, "/orders/pi_nope").await;
    // THEN both are the same 404, byte for byte
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.error_code(), "not_found");
    assert_eq!(other.body, missing.body);
    // AND the evidence route hides it the same way
    let evidence = get_as(&app, SELLER_B, "/orders/pi_A1/evidence").await;
    assert_eq!(evidence.status, StatusCode::NOT_FOUND);
    assert_eq!(evidence.body, missing.body);
    // AND B's list holds only B's order
    let list = get_as(&app, SELLER_B, "/orders").await.json();
    let ids: Vec<&str> = list["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pi_B1"]);
}

#[tokio::test]
async fn given_seller_headers_or_query_when_listing_then_they_are_ignored() {
    // GIVEN B's token and attempts to claim A through a header and the query
    let (_, app) = seeded().await;
    let r = send(
        &app,
        Request::get("/orders?seller_id=acct_1QHx4R8cKdV3nWpT&sub=acct_1QHx4R8cKdV3nWpT")
            .header("authorization", format!("Bearer {}", token(SELLER_B)))
            .header("x-seller-id", SELLER_A)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // THEN only B's orders are listed
    let body = r.json();
    assert_eq!(body["orders"].as_array().unwrap().len(), 1);
    assert_eq!(body["orders"][0]["seller_id"], SELLER_B);
}

#[tokio::test]
async fn given_lambda_authorizer_when_claims_in_request_context_then_seller_from_them() {
    // GIVEN the Lambda mode, where API Gateway verified the JWT
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_A1", T0).paid().put(&store).await;
    let mut state = state(store);
    state.auth = Auth::LambdaAuthorizer {
        seller_claim: "sub".into(),
    };
    let app = router(state);
    let context: aws_lambda_events::apigw::ApiGatewayV2httpRequestContext =
        serde_json::from_value(json!({
            "http": {"method": "GET", "path": "/orders/pi_A1", "sourceIp": "203.0.113.9"},
            "authorizer": {"jwt": {"claims": {"sub": SELLER_A}, "scopes": null}}
        }))
        .unwrap();
    let mut request = Request::get("/orders/pi_A1").body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(lambda_http::request::RequestContext::ApiGatewayV2(context));
    // WHEN the request carries the authorizer's claims THEN the seller's order is served
    let r = send(&app, request).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // AND without a request context (or with only a bearer header) it is 401
    let bare = get(&app, "/orders/pi_A1", Some(&token(SELLER_A))).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
}
