//! The DynamoDB ops items against DynamoDB Local, with the same expectations as the embedded
//! store: sellers listed by `Query`, progress round-trips, the heartbeat never goes backwards.
//!
//! Needs `DYNAMODB_ENDPOINT` (DynamoDB Local); `LEENKIES_SKIP_DYNAMODB=1` skips on purpose.

use std::collections::BTreeMap;

use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::setup;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::{BackfillProgress, Mode, OpsStore, StreamProgress};

/// The ops items in a fresh orders table on DynamoDB Local (as in AWS: one table), or `None`
/// when skipped on purpose.
pub async fn dynamo_ops() -> Option<DynamoOps> {
    let endpoint = crate::support::dynamodb_endpoint()?;
    let client = setup::client(Some(&endpoint)).await;
    let table = crate::support::fresh_table();
    setup::ensure_table(&client, &table)
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
