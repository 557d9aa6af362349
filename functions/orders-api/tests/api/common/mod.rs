//! Shared test plumbing: a router over the embedded store, dev JWTs, request helpers, and order
//! builders (records built directly, or folded from the shared Stripe fixtures).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use jsonwebtoken::{encode, EncodingKey, Header};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::facts::{AttemptState, DisputeFact, FailedAttempt, RefundFact, Reg};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::Event;
use leenkies_domain::tokens::DownloadKey;
use leenkies_domain::OrderRecord;
use orders_api::{router, ApiState, Auth, ProductFiles};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const SELLER_A: &str = "acct_1QHx4R8cKdV3nWpT";
pub const SELLER_B: &str = "acct_B";
pub const JWT_SECRET: &str = "test-jwt-secret-of-reasonable-length";
pub const DOWNLOAD_KEY: &str = "test-download-key";
pub const CURSOR_KEY: &[u8] = b"test-cursor-key";
/// 2026-05-08T08:00:00Z
pub const T0: i64 = 1_778_227_200;
pub const DAY: i64 = 86_400;

pub fn now() -> i64 {
    leenkies_domain::clock::now_secs()
}

pub fn local_auth() -> Auth {
    Auth::LocalHs256 {
        secret: JWT_SECRET.into(),
        seller_claim: "sub".into(),
        issuer: None,
        audiences: Vec::new(),
    }
}

pub fn state(store: Arc<MemoryStore>) -> ApiState {
    ApiState::new(
        store.clone(),
        local_auth(),
        DownloadKey::new(DOWNLOAD_KEY),
        CURSOR_KEY.to_vec(),
        ProductFiles::LocalDir(None),
    )
    .with_settings(store.clone())
    // Export jobs in the same embedded store, with local links.
    .with_exports(orders_api::routes::exports::ExportsConfig {
        jobs: store,
        links: orders_api::routes::exports::ExportLinks::Local {
            base_url: "http://localhost".into(),
            key: EXPORT_LINK_KEY.to_vec(),
        },
        link_secs: 900,
    })
}

pub const EXPORT_LINK_KEY: &[u8] = b"test-export-link-key";

pub fn app(store: Arc<MemoryStore>) -> Router {
    router(state(store))
}

/// An HS256 token with these claims.
pub fn jwt(claims: Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

/// A valid dashboard token for `seller`, valid for an hour.
pub fn token(seller: &str) -> String {
    jwt(json!({"sub": seller, "exp": now() + 3600, "iat": now()}))
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the contract's error body and returns its code.
    pub fn error_code(&self) -> String {
        let body = self.json();
        assert!(
            body["error"]["message"].is_string(),
            "error body lacks a message: {body}"
        );
        body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("error body lacks a code: {body}"))
            .to_owned()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Resp {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

/// `GET uri` with an optional bearer token.
pub async fn get(app: &Router, uri: &str, bearer: Option<&str>) -> Resp {
    let mut request = Request::get(uri);
    if let Some(t) = bearer {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

/// `GET uri` as seller `seller`.
pub async fn get_as(app: &Router, seller: &str, uri: &str) -> Resp {
    get(app, uri, Some(&token(seller))).await
}

/// A paid order built directly from facts.
pub struct OrderBuilder(OrderRecord);

pub fn order(seller: &str, order_id: &str, created_at: i64) -> OrderBuilder {
    let mut r = OrderRecord::new(seller, order_id);
    r.version = 1;
    r.facts.pi_created = Some(created_at);
    r.facts.first_event_at = Some(created_at);
    r.facts.last_event_at = Some(created_at);
    r.facts.amount = Some(Reg::new(0, created_at, 2500));
    r.facts.currency = Some(Reg::new(0, created_at, "usd".into()));
    r.facts.product_id = Some(Reg::new(0, created_at, "prod_lut_pack".into()));
    r.facts.product_name = Some(Reg::new(0, created_at, "Cinematic LUT Pack".into()));
    OrderBuilder(r)
}

impl OrderBuilder {
    fn at(&self) -> i64 {
        self.0.facts.created_at()
    }

    pub fn email(mut self, email: &str) -> Self {
        self.0.facts.customer_email = Some(Reg::new(0, self.at(), email.into()));
        self
    }

    pub fn reference(mut self, r: &str) -> Self {
        self.0.facts.reference = Some(Reg::new(0, self.at(), r.into()));
        self
    }

    pub fn product(mut self, id: &str, name: &str) -> Self {
        let at = self.at();
        self.0.facts.product_id = Some(Reg::new(0, at, id.into()));
        self.0.facts.product_name = Some(Reg::new(0, at, name.into()));
        self
    }

    pub fn paid(mut self) -> Self {
        self.0.facts.succeeded_at = Some(self.at() + 1);
        self
    }

    /// A failed attempt with this decline code (the latest attempt, so the order is `failed`).
    pub fn failed(mut self, decline_code: &str) -> Self {
        let at = self.at();
        self.0.facts.attempt = Some(Reg::new(0, at, AttemptState::Failed));
        self.0.facts.failures.insert(
            format!("ch_{}", self.0.order_id),
            FailedAttempt {
                at,
                decline_code: Some(Reg::new(0, at, decline_code.into())),
                ..Default::default()
            },
        );
        self
    }

    pub fn refund(mut self, amount: i64, status: &str) -> Self {
        let at = self.at() + 10;
        self.0.facts.refunds.insert(
            format!("re_{}", self.0.order_id),
            RefundFact {
                state: Reg::new(
                    leenkies_domain::order::facts::refund_rank(status),
                    at,
                    status.into(),
                ),
                amount,
                created: Some(at),
                failure_reason: None,
            },
        );
        self
    }

    pub fn dispute(mut self, status: &str) -> Self {
        let at = self.at() + 20;
        self.0.facts.disputes.insert(
            format!("dp_{}", self.0.order_id),
            DisputeFact {
                history: Default::default(),
                state: Reg::new(
                    leenkies_domain::order::facts::dispute_rank(status),
                    at,
                    status.into(),
                ),
                reason: Some(Reg::new(0, at, "fraudulent".into())),
                amount: Some(Reg::new(0, at, 2500)),
                evidence_due_by: Some(Reg::new(0, at, at + 7 * DAY)),
                created: Some(at),
                funds_withdrawn: false,
                funds_reinstated: false,
                ..Default::default()
            },
        );
        self
    }

    pub fn sent(mut self, message_id: &str) -> Self {
        let f = &mut self.0.fulfillment;
        f.state = leenkies_domain::order::FulfillmentState::Sent;
        f.sent_at = Some(self.0.facts.created_at() + 5);
        f.message_id = Some(message_id.into());
        f.recipient = self.0.facts.customer_email().map(str::to_owned);
        f.subject = Some("Your download: Cinematic LUT Pack".into());
        // As fulfillment records it: the product the email's link names.
        f.product_id = self.0.facts.product_id().map(str::to_owned);
        self
    }

    pub fn build(self) -> OrderRecord {
        self.0
    }

    pub async fn put(self, store: &MemoryStore) -> OrderRecord {
        let record = self.0;
        store.put_order(&record, None, &[]).await.unwrap();
        record
    }
}

pub fn fixtures_dir() -> PathBuf {
    leenkies_integration_tests::stripe::shared_fixtures().join("events")
}

/// Records the order's delivery email as sent with a link to `product_id`, as fulfillment does
/// (a download link serves only a product its order's emails named).
pub async fn emailed(store: &MemoryStore, seller: &str, order_id: &str, product_id: &str) {
    let current = store.get_order(seller, order_id).await.unwrap().unwrap();
    let mut next = current.clone();
    next.version = current.version + 1;
    let f = &mut next.fulfillment;
    f.state = leenkies_domain::order::FulfillmentState::Sent;
    f.sent_at = Some(current.facts.created_at() + 5);
    f.message_id = Some(format!("0100-{order_id}"));
    f.product_id = Some(product_id.to_owned());
    store
        .put_order(&next, Some(current.version), &[])
        .await
        .unwrap();
}

/// Folds one shared fixture event into the store, as the webhook would.
pub async fn deliver(store: &MemoryStore, file: &str) {
    let body = std::fs::read(fixtures_dir().join(file)).unwrap();
    let event = Event::parse(&body).unwrap();
    if let Interpretation::Fold(folding) = interpret(&event).unwrap() {
        fold(store, &folding, RetryPolicy::default()).await.unwrap();
    }
}
