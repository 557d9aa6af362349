//! The stream reader on DynamoDB Local's real stream: an order's creation and its update arrive as
//! INSERT then MODIFY, with images the fulfillment function decodes (`item::order_from_image`).

use std::time::Duration;

use leenkies_adapters::dynamodb::item::order_from_image;
use leenkies_adapters::dynamodb::{setup, StreamReader};
use leenkies_domain::ports::OrderStore;

use crate::support::{order, Status};

#[tokio::test]
async fn given_an_order_created_then_updated_when_the_stream_is_read_then_insert_then_modify() {
    let Some(store) = crate::support::dynamo_store().await else {
        return;
    };
    let endpoint = crate::support::dynamodb_endpoint().expect("endpoint checked above");
    let mut reader = StreamReader::open(
        store.client(),
        setup::streams_client(Some(&endpoint)).await,
        store.table(),
    )
    .await
    .expect("stream found");

    // GIVEN an order created, then updated (paid)
    let v1 = order(
        "acct_S",
        "pi_s1",
        100,
        Some("s@example.com"),
        Status::Pending,
    );
    store.put_order(&v1, None, &[]).await.unwrap();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.facts.succeeded_at = Some(101);
    store.put_order(&v2, Some(1), &[]).await.unwrap();

    // WHEN the stream is polled until both changes are seen (bounded)
    let mut records = Vec::new();
    for _ in 0..300 {
        records.extend(reader.next_batch().await.expect("next_batch"));
        if records.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // THEN an INSERT with only a new image, then a MODIFY with both, decode to the orders
    assert_eq!(records.len(), 2, "{records:#?}");
    let (insert, modify) = (&records[0], &records[1]);
    assert_eq!(insert.event_name, "INSERT");
    assert_eq!(modify.event_name, "MODIFY");
    assert_eq!(
        order_from_image(insert.change.new_image.clone()).unwrap(),
        Some(v1.clone())
    );
    assert!(insert.change.old_image.is_empty());
    assert_eq!(
        order_from_image(modify.change.old_image.clone()).unwrap(),
        Some(v1)
    );
    assert_eq!(
        order_from_image(modify.change.new_image.clone()).unwrap(),
        Some(v2)
    );
    for r in &records {
        assert!(r.change.sequence_number.is_some());
        assert_eq!(r.event_source.as_deref(), Some("aws:dynamodb"));
        assert_eq!(r.event_source_arn.as_deref(), Some(reader.stream_arn()));
        assert_eq!(
            r.change
                .stream_view_type
                .as_ref()
                .map(|v| v.to_string())
                .as_deref(),
            Some("NEW_AND_OLD_IMAGES")
        );
        assert!(r.change.keys.contains_key("pk"));
    }
    let seq = |r: &aws_lambda_events::event::dynamodb::EventRecord| {
        r.change.sequence_number.clone().unwrap_or_default()
    };
    assert!(seq(insert) < seq(modify) || seq(insert).len() < seq(modify).len());

    // AND a later poll with nothing new returns an empty batch
    assert!(reader.next_batch().await.expect("next_batch").is_empty());
}
