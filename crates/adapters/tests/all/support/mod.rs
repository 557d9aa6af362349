//! Shared by the adapter tests: building orders in a given state, reading every page, and a
//! `DynamoStore` on a fresh table of DynamoDB Local (or a clear failure when there is none).

#[macro_use]
pub mod sweep_world;

use leenkies_adapters::dynamodb::{ensure_table, setup, DynamoStore};
use leenkies_domain::order::facts::{refund_rank, AttemptState, DisputeFact, RefundFact, Reg};
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::{OrderFilter, OrderPage, OrderQuery, OrderStore};

/// The payment state an order fixture is put in.
#[derive(Debug, Clone, Copy)]
pub enum Status {
    Pending,
    Succeeded,
    Failed,
    Refunded,
}

/// An order at version 1 created at `created`, with an optional customer email.
pub fn order(
    seller: &str,
    order_id: &str,
    created: i64,
    email: Option<&str>,
    status: Status,
) -> OrderRecord {
    let mut r = OrderRecord::new(seller, order_id);
    r.version = 1;
    r.facts.pi_created = Some(created);
    r.facts.first_event_at = Some(created);
    r.facts.last_event_at = Some(created + 10);
    r.facts.amount = Some(Reg::new(0, created, 1_000));
    r.facts.currency = Some(Reg::new(0, created, "usd".into()));
    r.facts.product_id = Some(Reg::new(0, created, "prod_lut_pack".into()));
    r.facts.customer_email = email.map(|e| Reg::new(0, created, e.to_owned()));
    match status {
        Status::Pending => {}
        Status::Succeeded => r.facts.succeeded_at = Some(created + 1),
        Status::Failed => r.facts.attempt = Some(Reg::new(0, created + 1, AttemptState::Failed)),
        Status::Refunded => {
            r.facts.succeeded_at = Some(created + 1);
            r.facts.refunds.insert(
                "re_full".into(),
                RefundFact {
                    state: Reg::new(refund_rank("succeeded"), created + 2, "succeeded".into()),
                    amount: 1_000,
                    created: Some(created + 2),
                    failure_reason: None,
                },
            );
        }
    }
    r
}

/// Adds an open dispute to an order.
pub fn add_dispute(record: &mut OrderRecord, dispute_id: &str) {
    let at = record.facts.created_at() + 5;
    record.facts.disputes.insert(
        dispute_id.to_owned(),
        DisputeFact {
            history: Default::default(),
            state: Reg::new(0, at, "needs_response".into()),
            reason: Some(Reg::new(0, at, "fraudulent".into())),
            amount: Some(Reg::new(0, at, 1_000)),
            evidence_due_by: Some(Reg::new(0, at, at + 86_400)),
            created: Some(at),
            funds_withdrawn: false,
            funds_reinstated: false,
            ..Default::default()
        },
    );
}

/// Every page of a listing, following `next` until the last page.
pub async fn all_pages(
    store: &dyn OrderStore,
    seller: &str,
    filter: OrderFilter,
    from: Option<i64>,
    to: Option<i64>,
    limit: usize,
) -> Vec<OrderPage> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let query = OrderQuery {
            filter: filter.clone(),
            from,
            to,
            limit,
            after: after.take(),
        };
        let page = store
            .list_orders(seller, &query)
            .await
            .expect("list_orders");
        after = page.next.clone();
        pages.push(page);
        if after.is_none() {
            return pages;
        }
        assert!(pages.len() < 1_000, "pagination does not end");
    }
}

pub fn ids<'a>(orders: impl Iterator<Item = &'a OrderRecord>) -> Vec<&'a str> {
    orders.map(|o| o.order_id.as_str()).collect()
}

/// DynamoDB Local's endpoint, or `None` when the DynamoDB tests are skipped on purpose.
/// Panics (fails the test) when neither is set: a missing emulator must never pass silently.
pub fn dynamodb_endpoint() -> Option<String> {
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("LEENKIES_SKIP_DYNAMODB").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: DynamoDB variant (LEENKIES_SKIP_DYNAMODB=1)");
            None
        }
        _ => panic!(
            "DYNAMODB_ENDPOINT is not set: start DynamoDB Local \
             (`bash infra/dynamodb-local.sh start 8000`) and set \
             DYNAMODB_ENDPOINT=http://127.0.0.1:8000, or set LEENKIES_SKIP_DYNAMODB=1 to skip \
             the DynamoDB variants on purpose"
        ),
    }
}

/// A fresh table name, so tests never see each other's items.
pub fn fresh_table() -> String {
    format!("conformance-{}", uuid::Uuid::new_v4().simple())
}

/// A `DynamoStore` on a fresh table of DynamoDB Local.
pub async fn dynamo_store() -> Option<DynamoStore> {
    let endpoint = dynamodb_endpoint()?;
    let client = setup::client(Some(&endpoint)).await;
    let table = fresh_table();
    ensure_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("creating table {table} on {endpoint}: {e}"));
    Some(DynamoStore::new(client, table))
}

/// Runs every listed scenario once per store: on the embedded `MemoryStore` (the reference) and
/// on `DynamoStore` against DynamoDB Local, with the same expectations. Each scenario is an
/// `async fn(Arc<S>)` in the invoking file; the DynamoDB variant fails without
/// `DYNAMODB_ENDPOINT` unless `LEENKIES_SKIP_DYNAMODB=1`.
#[allow(unused_macros)] // only the test files with scenarios on both stores invoke it
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(std::sync::Arc::new(
                        leenkies_domain::memory_store::MemoryStore::new(),
                    ))
                    .await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(store) = crate::support::dynamo_store().await else { return };
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}
