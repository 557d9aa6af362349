//! Table setup and failure mapping: `ensure_table` is idempotent, and a store that cannot be
//! reached answers `Unavailable` (so Stripe gets a 5xx and retries), never a wrong answer.

use leenkies_adapters::dynamodb::{ensure_table, setup, DynamoStore};
use leenkies_domain::ports::{OrderStore, StoreError};

#[tokio::test]
async fn given_an_existing_table_when_ensured_again_then_it_is_left_as_is() {
    let Some(store) = crate::support::dynamo_store().await else {
        return;
    };
    // GIVEN a table with an order in it
    let record =
        crate::support::order("acct_A", "pi_1", 100, None, crate::support::Status::Pending);
    store.put_order(&record, None, &[]).await.unwrap();
    // WHEN the table is ensured twice more
    ensure_table(store.client(), store.table()).await.unwrap();
    ensure_table(store.client(), store.table()).await.unwrap();
    // THEN the order is still there
    assert_eq!(store.get_order("acct_A", "pi_1").await, Ok(Some(record)));
}

#[tokio::test]
async fn given_no_dynamodb_at_the_endpoint_when_reading_then_unavailable() {
    // GIVEN an endpoint where nothing listens (port 9 on loopback: discard, closed here)
    let client = setup::client(Some("http://127.0.0.1:9")).await;
    let store = DynamoStore::new(client, "leenkies-orders");
    // WHEN an order is read
    let got = store.get_order("acct_A", "pi_1").await;
    // THEN the store is unavailable: retryable, not "no such order"
    assert!(matches!(got, Err(StoreError::Unavailable(_))), "{got:?}");
    assert!(got.unwrap_err().is_transient());
}
