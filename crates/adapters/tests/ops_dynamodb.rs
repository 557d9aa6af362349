//! The DynamoDB ops items against DynamoDB Local, with the same expectations as the embedded
//! store: sellers listed by `Query`, progress round-trips, the heartbeat never goes backwards.
//!
//! Needs `DYNAMODB_ENDPOINT` (DynamoDB Local); `LEENKIES_SKIP_DYNAMODB=1` skips on purpose.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::{BackfillProgress, Mode, OpsStore, StreamProgress};

/// A fresh pk/sk table on DynamoDB Local (the ops items need no index), or `None` when skipped.
pub async fn dynamo_ops() -> Option<DynamoOps> {
    let endpoint = match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("LEENKIES_SKIP_DYNAMODB").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: DynamoDB variant (LEENKIES_SKIP_DYNAMODB=1)");
            return None;
        }
        _ => panic!(
            "DYNAMODB_ENDPOINT is not set: start DynamoDB Local and set it, or set \
             LEENKIES_SKIP_DYNAMODB=1 to skip the DynamoDB variants on purpose"
        ),
    };
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
        "ops-{}",
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
    Some(DynamoOps::new(client, table))
}

/// The conformance expectations, for any `OpsStore`.
async fn conforms(ops: &dyn OpsStore) {
    // GIVEN nothing; WHEN sellers are noted twice THEN each is listed once, sorted
    assert!(ops.list_sellers().await.unwrap().is_empty());
    for (seller, at) in [("acct_b", 10), ("acct_a", 11), ("acct_b", 12)] {
        ops.note_seller(seller, at).await.unwrap();
    }
    assert_eq!(ops.list_sellers().await.unwrap(), vec!["acct_a", "acct_b"]);

    // WHEN heartbeats arrive out of order THEN the latest stays
    ops.note_event_received(Mode::Live, 100).await.unwrap();
    ops.note_event_received(Mode::Live, 90).await.unwrap();
    ops.note_event_received(Mode::Test, 50).await.unwrap();
    let mut last: Vec<(Mode, i64)> = ops
        .last_events()
        .await
        .unwrap()
        .iter()
        .map(|l| (l.mode, l.at))
        .collect();
    last.sort();
    assert_eq!(last, vec![(Mode::Live, 100), (Mode::Test, 50)]);

    // WHEN progress is stored THEN it reads back identical, and replaced on the next put
    assert_eq!(ops.get_backfill_progress("acct_a").await.unwrap(), None);
    let mut progress = BackfillProgress {
        account: "acct_a".into(),
        streams: BTreeMap::from([(
            "types1of2".to_owned(),
            StreamProgress {
                types: vec!["charge.succeeded".into()],
                since: 1_000,
                last_event_id: Some("evt_1".into()),
                last_event_created: Some(1_100),
                pages: 1,
                events: 3,
                caught_up_at: None,
            },
        )]),
        updated_at: 1_200,
    };
    ops.put_backfill_progress(&progress).await.unwrap();
    assert_eq!(
        ops.get_backfill_progress("acct_a").await.unwrap().as_ref(),
        Some(&progress)
    );
    progress.updated_at = 1_300;
    ops.put_backfill_progress(&progress).await.unwrap();
    assert_eq!(
        ops.get_backfill_progress("acct_a")
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        1_300
    );
}

#[tokio::test]
async fn given_the_embedded_store_when_used_as_ops_store_then_it_conforms() {
    conforms(&MemoryStore::new()).await;
}

#[tokio::test]
async fn given_dynamodb_when_used_as_ops_store_then_it_conforms() {
    let Some(ops) = dynamo_ops().await else {
        return;
    };
    conforms(&ops).await;
}
