//! What one webhook event costs on DynamoDB, measured with `ReturnConsumedCapacity`: a new fact
//! (one read, one write) against a duplicate (one read, no write), and one page of a list.
//! The numbers are printed (`--nocapture`) for the performance notes.

use leenkies_domain::apply::{fold_into_order, FoldOutcome, RetryPolicy};
use leenkies_domain::order::facts::{Facts, TimelineEntry};
use leenkies_domain::ports::{OrderFilter, OrderQuery, OrderStore};

use crate::support::{order, Status};

#[tokio::test]
async fn given_a_duplicate_event_when_folded_then_it_costs_one_read_and_no_write() {
    let Some(store) = crate::support::dynamo_store().await else {
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
    // THEN the new event read once and wrote once, and (a sale) added to its month's dispute-
    // rate counters once; the duplicate only read
    assert!(matches!(first, Ok(FoldOutcome::Applied { .. })));
    assert!(matches!(again, Ok(FoldOutcome::Duplicate { .. })));
    assert_eq!(new_event.requests, 3);
    assert!(new_event.write_units > 0.0);
    assert_eq!(duplicate.requests, 1);
    assert_eq!(duplicate.write_units, 0.0);
    assert!(duplicate.read_units > 0.0);
}

#[tokio::test]
async fn given_many_orders_when_one_page_is_listed_then_the_cost_follows_the_page() {
    let Some(store) = crate::support::dynamo_store().await else {
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
    // THEN it is one Query of the keys-only index, one of the (empty) partition of orders
    // awaiting their PaymentIntent, and one BatchGetItem of the page's orders, reading about
    // the page, not the table
    assert_eq!(page.orders.len(), 25);
    assert_eq!(cost.requests, 3);
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

/// `n` distinct events for one order (one refund each, all within one second), folded at once,
/// one task each, with the default retry policy: how many were applied, how many conditional
/// writes were refused (each billed like a write, and in `write_units`), and what it consumed.
async fn burst(
    store: &std::sync::Arc<leenkies_adapters::dynamodb::DynamoStore>,
    order_id: &str,
    n: usize,
) -> (usize, u64, leenkies_adapters::dynamodb::Capacity) {
    use leenkies_domain::order::facts::{refund_rank, RefundFact, Reg};
    let before = store.consumed();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let at = 1_000;
        let refund = format!("re_burst_{i}");
        let fact = Facts {
            first_event_at: Some(at),
            last_event_at: Some(at),
            refunds: [(
                refund.clone(),
                RefundFact {
                    state: Reg::new(refund_rank("pending"), at, "pending".into()),
                    amount: 10,
                    created: Some(at),
                    failure_reason: None,
                },
            )]
            .into(),
            timeline: [TimelineEntry {
                at,
                kind: "refund_pending".into(),
                detail: refund,
            }]
            .into(),
            ..Facts::default()
        };
        let (store, order_id) = (store.clone(), order_id.to_owned());
        tasks.spawn(async move {
            fold_into_order(
                store.as_ref(),
                "acct_B",
                &order_id,
                &fact,
                RetryPolicy::default(),
            )
            .await
        });
    }
    let mut applied = 0;
    while let Some(outcome) = tasks.join_next().await {
        if matches!(outcome, Ok(Ok(FoldOutcome::Applied { .. }))) {
            applied += 1;
        }
    }
    let used = store.consumed().since(&before);
    // The store meters refused conditional writes (billed like the write they tried).
    (applied, used.failed_writes, used)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_a_burst_of_20_distinct_events_for_one_order_when_folded_at_once_then_all_apply() {
    let Some(store) = crate::support::dynamo_store().await else {
        return;
    };
    let store = std::sync::Arc::new(store);
    // GIVEN 20 distinct events for one order within one second (a burst Stripe can send)
    // WHEN they are folded at once
    let (applied, lost, used) = burst(&store, "pi_burst_20", 20).await;
    eprintln!("burst of 20: applied {applied}, lost conditional writes {lost}, {used:?}");
    // THEN every one is applied (none would answer 503), and the order holds all 20 (the
    // oldest in items of their own past the order item's 16)
    assert_eq!(applied, 20);
    let order = store
        .get_order("acct_B", "pi_burst_20")
        .await
        .unwrap()
        .unwrap();
    let kept_apart = store
        .list_spilled_refunds("acct_B", "pi_burst_20")
        .await
        .unwrap();
    assert_eq!(order.facts.refunds.len() + kept_apart.len(), 20);
    assert_eq!(order.facts.refunded_amount(), 20 * 10);
    // Larger bursts, printed for docs/performance.md (where the budget starts to run out).
    if std::env::var_os("LEENKIES_BURST_SWEEP").is_some() {
        for n in [40, 60, 80, 120] {
            let (applied, lost, used) = burst(&store, &format!("pi_burst_{n}"), n).await;
            eprintln!("burst of {n}: applied {applied}, lost conditional writes {lost}, {used:?}");
        }
    }
}
