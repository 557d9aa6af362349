//! What one webhook event costs on DynamoDB, measured with `ReturnConsumedCapacity`: a new fact
//! (one read, one write) against a duplicate (one read, no write), and one page of a list.
//! The numbers are printed (`--nocapture`) for the performance notes.

mod support;

use leenkies_domain::apply::{fold_into_order, FoldOutcome, RetryPolicy};
use leenkies_domain::order::facts::{Facts, TimelineEntry};
use leenkies_domain::ports::{OrderFilter, OrderQuery, OrderStore};

use support::{order, Status};

#[tokio::test]
async fn given_a_duplicate_event_when_folded_then_it_costs_one_read_and_no_write() {
    let Some(store) = support::dynamo_store().await else {
        return;
    };
    let fact = Facts {
        first_event_at: Some(100),
        pi_created: Some(100),
        timeline: [TimelineEntry {
            at: 100,
            kind: "payment_succeeded".into(),
            detail: "pi_c".into(),
        }]
        .into(),
        succeeded_at: Some(100),
        ..Facts::default()
    };

    // GIVEN a new event
    let before = store.consumed();
    let first = fold_into_order(&store, "acct_C", "pi_c", &fact, RetryPolicy::default()).await;
    let new_event = store.consumed().since(&before);
    // WHEN the same event is delivered again
    let before = store.consumed();
    let again = fold_into_order(&store, "acct_C", "pi_c", &fact, RetryPolicy::default()).await;
    let duplicate = store.consumed().since(&before);

    eprintln!("new event:  {new_event:?}");
    eprintln!("duplicate:  {duplicate:?}");
    // THEN the new event read once and wrote once; the duplicate only read
    assert!(matches!(first, Ok(FoldOutcome::Applied { .. })));
    assert!(matches!(again, Ok(FoldOutcome::Duplicate { .. })));
    assert_eq!(new_event.requests, 2);
    assert!(new_event.write_units > 0.0);
    assert_eq!(duplicate.requests, 1);
    assert_eq!(duplicate.write_units, 0.0);
    assert!(duplicate.read_units > 0.0);
}

#[tokio::test]
async fn given_many_orders_when_one_page_is_listed_then_the_cost_follows_the_page() {
    let Some(store) = support::dynamo_store().await else {
        return;
    };
    // GIVEN 120 orders of one seller
    for i in 0..120 {
        let r = order(
            "acct_C",
            &format!("pi_{i:03}"),
            1_000 + i,
            None,
            Status::Succeeded,
        );
        store.put_order(&r, None, &[]).await.unwrap();
    }
    // WHEN one page of 25 is read
    let before = store.consumed();
    let query = OrderQuery {
        filter: OrderFilter::All,
        from: None,
        to: None,
        limit: 25,
        after: None,
    };
    let page = store.list_orders("acct_C", &query).await.unwrap();
    let cost = store.consumed().since(&before);
    eprintln!("page of 25 out of 120: {cost:?}");
    // THEN it is one Query, reading about the page, not the table
    assert_eq!(page.orders.len(), 25);
    assert_eq!(cost.requests, 1);
    assert!(cost.read_units > 0.0);
    let all = {
        let before = store.consumed();
        let q = OrderQuery {
            limit: 120,
            ..query
        };
        store.list_orders("acct_C", &q).await.unwrap();
        store.consumed().since(&before)
    };
    eprintln!("all 120 in one page:  {all:?}");
    assert!(cost.read_units * 2.0 < all.read_units);
}
