//! DynamoDB Local for the recovery tests: orders and operations items (sellers, progress) in one
//! table created by `ensure_table`, exactly as in AWS.

use std::sync::Arc;

use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::{setup, DynamoStore};
use leenkies_integration_tests::env::{dynamodb_endpoint, unique_table};

use super::Stores;

/// Both stores on a fresh table of DynamoDB Local; `None` only when `LEENKIES_SKIP_DYNAMODB=1`.
pub async fn dynamo_stores() -> Option<Stores> {
    let endpoint = dynamodb_endpoint()?;
    let client = setup::client(Some(&endpoint)).await;
    let table = unique_table("recovery");
    setup::ensure_table(&client, &table)
        .await
        .expect("create table");
    Some(Stores {
        orders: Arc::new(DynamoStore::new(client.clone(), table.clone())),
        ops: Arc::new(DynamoOps::new(client, table)),
    })
}
