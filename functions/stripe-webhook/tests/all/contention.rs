//! Two Lambdas racing on one hot order: the fold re-reads and retries with back-off when another
//! writer wins the conditional write, and when retries run out it answers `503` (so Stripe
//! retries) without ever leaving a half-applied or wrong order.
//!
//! The rival is real, not a mocked error: before each of our writes to the order, the wrapper
//! store lets "another Lambda" write the order first (same facts, next version), so our
//! conditional write genuinely loses on the embedded store.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use leenkies_domain::apply::RetryPolicy;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::{
    ChargeLink, DownloadEntry, LinkWrite, OrderPage, OrderQuery, OrderStore, SpilledRefund,
    StoreError,
};
use leenkies_domain::stripe::signature::{sign, SigningSecrets};
use leenkies_domain::OrderRecord;
use leenkies_integration_tests::stripe::shared_event;
use serde_json::Value;
use stripe_webhook::{router, LiveMode, WebhookConfig, WebhookState};
use tower::ServiceExt;

const SECRET: &str = "whsec_contention";
const NOW: i64 = 1_778_900_000;
const SELLER_A: &str = "acct_1QHx4R8cKdV3nWpT";
/// ord_1002: a failed attempt, then a success.
const ORDER: &str = "pi_3Qzboq8cKdV3nWpT0QoIKERc";

/// The embedded store, with a rival writer that wins the next `rival_wins` races on orders.
struct Contended {
    inner: MemoryStore,
    rival_wins: AtomicU32,
    rival_writes: AtomicU32,
}

#[async_trait]
impl OrderStore for Contended {
    async fn get_order(&self, s: &str, o: &str) -> Result<Option<OrderRecord>, StoreError> {
        self.inner.get_order(s, o).await
    }

    async fn write_order(
        &self,
        record: &OrderRecord,
        expected: Option<u64>,
        links: &[LinkWrite],
        refunds: &[SpilledRefund],
    ) -> Result<(), StoreError> {
        let rival = self
            .rival_wins
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if rival {
            // Another Lambda writes the order between our read and our write.
            if let Some(mut current) = self
                .inner
                .get_order(&record.seller_id, &record.order_id)
                .await?
            {
                let seen = current.version;
                current.version += 1;
                self.inner.put_order(&current, Some(seen), &[]).await?;
                self.rival_writes.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.inner
            .write_order(record, expected, links, refunds)
            .await
    }

    async fn get_spilled_refunds(
        &self,
        s: &str,
        o: &str,
        ids: &[String],
    ) -> Result<Vec<SpilledRefund>, StoreError> {
        self.inner.get_spilled_refunds(s, o, ids).await
    }

    async fn list_spilled_refunds(
        &self,
        s: &str,
        o: &str,
    ) -> Result<Vec<SpilledRefund>, StoreError> {
        self.inner.list_spilled_refunds(s, o).await
    }

    async fn get_charge_link(&self, s: &str, c: &str) -> Result<Option<ChargeLink>, StoreError> {
        self.inner.get_charge_link(s, c).await
    }

    async fn put_charge_link(&self, l: &ChargeLink, e: Option<u64>) -> Result<(), StoreError> {
        self.inner.put_charge_link(l, e).await
    }

    async fn list_orders(&self, s: &str, q: &OrderQuery) -> Result<OrderPage, StoreError> {
        self.inner.list_orders(s, q).await
    }

    async fn record_download(
        &self,
        s: &str,
        o: &str,
        e: &DownloadEntry,
    ) -> Result<bool, StoreError> {
        self.inner.record_download(s, o, e).await
    }

    async fn list_downloads(&self, s: &str, o: &str) -> Result<Vec<DownloadEntry>, StoreError> {
        self.inner.list_downloads(s, o).await
    }

    async fn list_orders_by_card(
        &self,
        s: &str,
        brand: &str,
        fingerprint: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        self.inner
            .list_orders_by_card(s, brand, fingerprint, from, to, limit)
            .await
    }

    async fn add_to_rates(
        &self,
        s: &str,
        increments: &[leenkies_domain::rates::MonthIncrement],
    ) -> Result<(), StoreError> {
        self.inner.add_to_rates(s, increments).await
    }

    async fn get_rates(
        &self,
        s: &str,
        months: &[leenkies_domain::rates::Month],
    ) -> Result<
        std::collections::BTreeMap<
            leenkies_domain::rates::Month,
            leenkies_domain::rates::MonthCounts,
        >,
        StoreError,
    > {
        self.inner.get_rates(s, months).await
    }
}

fn app(store: Arc<Contended>, max_attempts: u32) -> axum::Router {
    let config = WebhookConfig::new(SigningSecrets::from_csv(SECRET), LiveMode::Any);
    let mut state = WebhookState::new(store, config).with_clock(|| NOW);
    state.ingest.retry = RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(8),
    };
    router(state)
}

async fn deliver(app: &axum::Router, file: &str) -> (StatusCode, Option<String>, Value) {
    let body = shared_event(file);
    let request = Request::post("/webhooks/stripe")
        .header("stripe-signature", sign(SECRET, NOW, &body))
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        retry_after,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn status_of(store: &Contended) -> String {
    let record = store.get_order(SELLER_A, ORDER).await.unwrap().unwrap();
    leenkies_domain::OrderView::of(&record)
        .payment_status
        .as_str()
        .to_owned()
}

fn contended() -> Arc<Contended> {
    Arc::new(Contended {
        inner: MemoryStore::new(),
        rival_wins: AtomicU32::new(0),
        rival_writes: AtomicU32::new(0),
    })
}

#[tokio::test]
async fn given_a_rival_winning_three_races_when_a_success_arrives_then_retried_and_applied() {
    // GIVEN a failed order, and a rival Lambda that wins the next three writes
    let store = contended();
    let app = app(store.clone(), 10);
    deliver(&app, "ord_1002__01__payment_intent.payment_failed.json").await;
    store.rival_wins.store(3, Ordering::SeqCst);
    // WHEN the success is delivered
    let (status, _, answer) = deliver(&app, "ord_1002__02__payment_intent.succeeded.json").await;
    // THEN it re-read and retried past the three lost races, and applied
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "applied");
    assert_eq!(store.rival_writes.load(Ordering::SeqCst), 3);
    assert_eq!(status_of(&store).await, "succeeded");
}

#[tokio::test]
async fn given_a_rival_winning_every_race_when_retries_run_out_then_503_and_no_wrong_state() {
    // GIVEN a failed order, and a rival that wins every write
    let store = contended();
    let app = app(store.clone(), 4);
    deliver(&app, "ord_1002__01__payment_intent.payment_failed.json").await;
    store.rival_wins.store(u32::MAX, Ordering::SeqCst);
    // WHEN the success is delivered
    let (status, retry_after, answer) =
        deliver(&app, "ord_1002__02__payment_intent.succeeded.json").await;
    // THEN 503 with Retry-After, so Stripe retries
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["error"]["code"], "unavailable");
    assert!(retry_after.is_some());
    assert_eq!(
        store.rival_writes.load(Ordering::SeqCst),
        4,
        "one try per attempt"
    );
    // AND the order is exactly as it was: still failed, nothing half-applied
    assert_eq!(status_of(&store).await, "failed");
    // WHEN the contention ends and Stripe retries
    store.rival_wins.store(0, Ordering::SeqCst);
    let (status, _, answer) = deliver(&app, "ord_1002__02__payment_intent.succeeded.json").await;
    // THEN applied as if the first delivery had never happened
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
    assert_eq!(status_of(&store).await, "succeeded");
}
