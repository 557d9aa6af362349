//! Shared by the recovery tests: the fixture events, stores, and log capture (the fake Stripe is
//! the test support's one, `leenkies_integration_tests::fake_stripe`).

pub mod dynamo;

use std::io::Write;
use std::sync::{Arc, Mutex};

use leenkies_adapters::metrics::{Captured, Metrics};
use leenkies_domain::ingest::{ingest_body, IngestDeps};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::ModeFilter;
use leenkies_domain::ops::OpsStore;
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::{OrderFilter, OrderQuery, OrderStore};
use reconcile::stripe_api::{ApiRetry, StripeApi};
use serde_json::Value;

/// The shared fixture events (`$LEENKIES_SHARED`, else `shared/` beside the repository): one
/// lookup for every test, in the shared test support.
fn fixtures_dir() -> std::path::PathBuf {
    let dir = leenkies_integration_tests::stripe::shared_fixtures().join("events");
    assert!(
        dir.is_dir(),
        "the shared Stripe fixtures are missing: {}",
        dir.display()
    );
    dir
}

/// Every fixture event, in file order (the order the webhook would see).
pub fn fixture_events() -> Vec<Value> {
    let dir = fixtures_dir();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

pub fn accounts(events: &[Value]) -> Vec<String> {
    let mut a: Vec<String> = events
        .iter()
        .filter_map(|e| e["account"].as_str().map(str::to_owned))
        .collect();
    a.sort();
    a.dedup();
    a
}

/// The stores one test runs against: orders and operations items.
#[derive(Clone)]
pub struct Stores {
    pub orders: Arc<dyn OrderStore>,
    pub ops: Arc<dyn OpsStore>,
}

pub fn memory_stores() -> Stores {
    let store = Arc::new(MemoryStore::new());
    Stores {
        orders: store.clone(),
        ops: store,
    }
}

/// The ingestion use case over `orders`, accepting both modes (as the webhook's default).
pub fn webhook(orders: Arc<dyn OrderStore>) -> IngestDeps {
    IngestDeps::new(orders, ModeFilter::Any)
}

/// Delivers events as the webhook would (after the signature).
pub async fn deliver(state: &IngestDeps, events: &[Value]) {
    for e in events {
        ingest_body(&serde_json::to_vec(e).unwrap(), state)
            .await
            .expect("delivery");
    }
}

pub fn api(base: &str, metrics: Metrics) -> StripeApi {
    StripeApi::new(
        leenkies_integration_tests::fake_stripe::FAKE_STRIPE_KEY,
        base,
        metrics,
    )
    .unwrap()
    .with_retry(ApiRetry {
        max_attempts: 4,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(20),
    })
}

/// Every order of every account, sorted, without versions (which count writes, not state).
pub async fn all_orders(store: &dyn OrderStore, accounts: &[String]) -> Vec<OrderRecord> {
    let mut out = Vec::new();
    for a in accounts {
        let page = store
            .list_orders(
                a,
                &OrderQuery {
                    filter: OrderFilter::All,
                    from: None,
                    to: None,
                    limit: 1000,
                    after: None,
                },
            )
            .await
            .unwrap();
        out.extend(page.orders);
    }
    out.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    out
}

pub fn without_versions(mut orders: Vec<OrderRecord>) -> Vec<OrderRecord> {
    for o in &mut orders {
        o.version = 0;
    }
    orders
}

/// JSON log lines written while a guard is held (this thread's subscriber).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    pub fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let buffer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_writer(move || buffer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_metrics() -> (Metrics, Captured) {
    Metrics::capture("reconcile")
}
