//! DynamoDB Local for the recovery tests. Until the DynamoDB `OrderStore` adapter is merged, the
//! orders stay embedded and the operations items (sellers, progress) live in DynamoDB; once it is,
//! `dynamo_stores` puts both in one table created by `ensure_table` (see docs/operations.md).

use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_domain::memory_store::MemoryStore;

use super::Stores;

/// `DYNAMODB_ENDPOINT`, `None` when `LEENKIES_SKIP_DYNAMODB=1`, else a failing test.
pub fn endpoint() -> Option<String> {
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("LEENKIES_SKIP_DYNAMODB").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: DynamoDB variant (LEENKIES_SKIP_DYNAMODB=1)");
            None
        }
        _ => panic!(
            "DYNAMODB_ENDPOINT is not set: start DynamoDB Local and set it, or set \
             LEENKIES_SKIP_DYNAMODB=1 to skip the DynamoDB variants on purpose"
        ),
    }
}

pub async fn dynamo_stores() -> Option<Stores> {
    let endpoint = endpoint()?;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "static",
        ))
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = format!(
        "recovery-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    Some(Stores {
        orders: Arc::new(MemoryStore::new()),
        ops: Arc::new(DynamoOps::new(client, table)),
    })
}
