//! `GET /health/webhooks`: the operator route that reads the webhook's heartbeat. It verifies
//! tokens through the orders API's one path (`Auth`), then requires the operator claim.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use jsonwebtoken::{encode, EncodingKey, Header};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::{Mode, OpsStore};
use orders_api::health::health_router_with_clock;
use orders_api::{Auth, OperatorClaim};
use serde_json::{json, Value};
use tower::ServiceExt;

const JWT_SECRET: &str = "jwt-test-secret";
// Friday 2026-05-08 12:00 UTC: business hours.
const NOW: i64 = 1_778_241_600;

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        challenge,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn token(claims: Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn local_auth() -> Auth {
    Auth::LocalHs256 {
        secret: JWT_SECRET.into(),
        seller_claim: "sub".into(),
        issuer: None,
        audiences: Vec::new(),
    }
}

fn get(bearer: Option<String>) -> Request<Body> {
    let mut req = Request::get("/health/webhooks");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn given_an_operator_token_when_reading_health_then_ages_and_staleness_are_answered() {
    // GIVEN live events last heard three hours ago, test events a minute ago
    let store = Arc::new(MemoryStore::new());
    store
        .note_event_received(Mode::Live, NOW - 3 * 3600)
        .await
        .unwrap();
    store
        .note_event_received(Mode::Test, NOW - 60)
        .await
        .unwrap();
    let app = health_router_with_clock(
        store.clone(),
        local_auth(),
        OperatorClaim::default(),
        StalePolicy::default(),
        Mode::Live,
        Arc::new(|| NOW),
    );
    // The token is checked against the real clock (a token lives at most a week), the health
    // figures against the fixed NOW.
    let exp = leenkies_domain::clock::now_secs() + 3600;

    // WHEN an operator asks
    let (status, _, body) = call(
        &app,
        get(Some(token(
            json!({"sub": "ops", "role": "operator", "exp": exp}),
        ))),
    )
    .await;

    // THEN each mode's last event and age, and stale (live is silent during business hours)
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["live"]["age_seconds"], 3 * 3600);
    assert_eq!(body["live"]["last_event_at"], "2026-05-08T09:00:00Z");
    assert_eq!(body["test"]["age_seconds"], 60);
    assert_eq!(body["stale"], true);

    // AND a seller's token is forbidden, no token is unauthorized
    let (status, _, _) = call(
        &app,
        get(Some(token(
            json!({"sub": "acct_1QHx4R8cKdV3nWpT", "exp": exp}),
        ))),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, challenge, _) = call(&app, get(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer"),
        "a 401 names its scheme"
    );
    let (status, _, _) = call(
        &app,
        get(Some(token(json!({"role": "operator", "exp": 1})))),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an expired token");
}

#[test]
fn given_claim_shapes_when_matched_then_lists_and_strings_both_work() {
    let claim = OperatorClaim::parse("groups=operator").unwrap();
    let claims = |v: Value| v.as_object().unwrap().clone();
    assert!(claim.matches(&claims(json!({"groups": ["seller", "operator"]}))));
    assert!(claim.matches(&claims(json!({"groups": "[seller operator]"}))));
    assert!(!claim.matches(&claims(json!({"groups": "operators"}))));
    assert!(!claim.matches(&claims(json!({"role": "operator"}))));
    assert_eq!(OperatorClaim::parse("nonsense"), None);
}

#[tokio::test]
async fn given_an_operator_token_not_valid_yet_when_reading_health_then_unauthorized() {
    // GIVEN an operator token whose `nbf` is an hour away (the seller path refuses these too)
    let store = Arc::new(MemoryStore::new());
    let app = health_router_with_clock(
        store,
        local_auth(),
        OperatorClaim::default(),
        StalePolicy::default(),
        Mode::Live,
        Arc::new(|| NOW),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let early = token(json!({"role": "operator", "exp": now + 7200, "nbf": now + 3600}));
    // WHEN it is used / THEN it is refused as the dashboard would refuse it
    let (status, _, body) = call(&app, get(Some(early))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn given_the_ops_store_down_when_reading_health_then_the_apis_retryable_answer() {
    // GIVEN an operator and an ops store that fails
    let app = health_router_with_clock(
        Arc::new(Failing),
        local_auth(),
        OperatorClaim::default(),
        StalePolicy::default(),
        Mode::Live,
        Arc::new(|| NOW),
    );
    let operator =
        token(json!({"role": "operator", "exp": leenkies_domain::clock::now_secs() + 3600}));
    // WHEN / THEN the same 503 body the orders API gives for a store outage
    let (status, _, body) = call(&app, get(Some(operator))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body["error"]["code"],
        orders_api::ApiError::Unavailable.code()
    );
}

struct Failing;

#[async_trait::async_trait]
impl OpsStore for Failing {
    async fn list_sellers(&self) -> Result<Vec<String>, leenkies_domain::ports::StoreError> {
        Err(unavailable())
    }
    async fn note_seller(&self, _: &str, _: i64) -> Result<(), leenkies_domain::ports::StoreError> {
        Err(unavailable())
    }
    async fn get_backfill_progress(
        &self,
        _: &str,
    ) -> Result<Option<leenkies_domain::ops::BackfillProgress>, leenkies_domain::ports::StoreError>
    {
        Err(unavailable())
    }
    async fn put_backfill_progress(
        &self,
        _: &leenkies_domain::ops::BackfillProgress,
    ) -> Result<(), leenkies_domain::ports::StoreError> {
        Err(unavailable())
    }
    async fn note_event_received(
        &self,
        _: Mode,
        _: i64,
    ) -> Result<(), leenkies_domain::ports::StoreError> {
        Err(unavailable())
    }
    async fn last_events(
        &self,
    ) -> Result<Vec<leenkies_domain::ops::LastEvent>, leenkies_domain::ports::StoreError> {
        Err(unavailable())
    }
}

fn unavailable() -> leenkies_domain::ports::StoreError {
    leenkies_domain::ports::StoreError::Unavailable("ops store down (test)".into())
}
