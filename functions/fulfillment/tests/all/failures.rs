//! Transient and permanent mail failures, store outages and crashed senders.

use crate::common;

use std::time::Duration;

use common::*;
use leenkies_domain::clock::now_secs;
use leenkies_domain::order::FulfillmentState;
use leenkies_domain::ports::MailError;
use leenkies_domain::OrderView;

/// Two paid orders (ord_1001, then ord_1002) as one batch of two records.
async fn two_paid_orders(h: &mut Harness) -> aws_lambda_events::event::dynamodb::Event {
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    for file in [
        "ord_1002__01__payment_intent.payment_failed.json",
        "ord_1002__02__payment_intent.succeeded.json",
    ] {
        h.fold(file).await;
    }
    h.drain();
    let (first, second) = (h.order(PAID).await, h.order(RETRIED).await);
    event(vec![
        h.record(None, Some(&first)),
        h.record(None, Some(&second)),
    ])
}

#[tokio::test]
async fn given_a_transient_failure_when_handled_then_reported_batch_stopped_and_retry_sends_once() {
    // GIVEN two paid orders and a mailer that is throttled once
    let mut h = Harness::new();
    let batch = two_paid_orders(&mut h).await;
    let first_seq = batch.records[0].change.sequence_number.clone().unwrap();
    let mailer = ScriptedMailer::new(vec![transient()], Ok("m-ok".into()));
    let f = fulfiller(&h, mailer.clone(), 5);
    // WHEN the batch is handled
    let response = f.handle_batch(batch.clone()).await;
    // THEN only the first record is reported, the second was not touched
    assert_eq!(failed_items(&response), vec![first_seq]);
    assert_eq!(mailer.calls().len(), 1);
    assert_eq!(
        OrderView::of(&h.order(PAID).await).fulfillment.status,
        "pending"
    );
    let first = h.order(PAID).await;
    assert_eq!(first.fulfillment.state, FulfillmentState::Pending);
    assert_eq!(first.fulfillment.attempts, 1);
    assert_eq!(h.order(RETRIED).await.fulfillment.attempts, 0);
    // AND WHEN Lambda retries from that record
    let response = f.handle_batch(batch).await;
    // THEN both orders are sent, the first exactly once more
    assert!(failed_items(&response).is_empty());
    let calls = mailer.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls.iter().filter(|e| e.order_id == PAID).count(), 2);
    assert_eq!(
        h.order(PAID).await.fulfillment.state,
        FulfillmentState::Sent
    );
    assert_eq!(
        h.order(RETRIED).await.fulfillment.state,
        FulfillmentState::Sent
    );
}

#[tokio::test]
async fn given_transient_failures_up_to_max_attempts_when_retried_then_failed_and_acknowledged() {
    // GIVEN a paid order and a mailer that is always throttled; at most 3 attempts
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let changes = h.drain();
    let mailer = ScriptedMailer::new(vec![], transient());
    let f = fulfiller(&h, mailer.clone(), 3);
    // WHEN Lambda retries the record until it is acknowledged
    let mut reported = 0;
    for _ in 0..3 {
        if !failed_items(&f.handle_batch(h.batch(&changes)).await).is_empty() {
            reported += 1;
        }
    }
    // THEN two retries were asked for, the third attempt gave up
    assert_eq!(reported, 2);
    assert_eq!(mailer.calls().len(), 3);
    let order = h.order(PAID).await;
    assert_eq!(order.fulfillment.state, FulfillmentState::Failed);
    assert!(order.attention().contains(&"fulfillment_failed"));
    assert_eq!(OrderView::of(&order).fulfillment.status, "failed");
    assert!(order
        .fulfillment
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("TooManyRequests"));
    // AND later records for it send nothing
    f.handle_batch(h.batch(&changes)).await;
    assert_eq!(mailer.calls().len(), 3);
}

#[tokio::test]
async fn given_a_rejection_when_handled_then_failed_at_once() {
    // GIVEN
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let mailer = ScriptedMailer::new(
        vec![Err(MailError::Rejected(
            "MessageRejected: Illegal address jordan.lee@example.com".into(),
        ))],
        Ok("m".into()),
    );
    let f = fulfiller(&h, mailer.clone(), 5);
    // WHEN
    let response = f.handle_batch(h.take_batch()).await;
    // THEN acknowledged, failed after one attempt, and the address is not in the stored error
    assert!(failed_items(&response).is_empty());
    let order = h.order(PAID).await;
    assert_eq!(order.fulfillment.state, FulfillmentState::Failed);
    assert_eq!(order.fulfillment.attempts, 1);
    assert!(order.attention().contains(&"fulfillment_failed"));
    let error = order.fulfillment.last_error.unwrap_or_default();
    assert!(
        error.contains("MessageRejected") && !error.contains("jordan.lee"),
        "{error}"
    );
    assert_eq!(mailer.calls().len(), 1);
}

#[tokio::test]
async fn given_an_expired_claim_of_a_crashed_sender_when_handled_then_taken_over_and_sent_once() {
    // GIVEN a paid order left `sending` by a sender that crashed, its lease run out
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    h.update(PAID, |o| {
        o.fulfillment.state = FulfillmentState::Sending;
        o.fulfillment.lease_until = Some(now_secs() - 5);
        o.fulfillment.attempts = 1;
    })
    .await;
    let changes = h.drain();
    let dir = tempfile::tempdir().unwrap();
    let f = fulfiller(&h, outbox(dir.path()), 5);
    // WHEN its records (and the retry of the original) are handled
    f.handle_batch(h.batch(&changes)).await;
    f.handle_batch(h.batch(&changes)).await;
    // THEN one email, recorded as the second attempt
    assert_eq!(emails(dir.path()).len(), 1);
    let order = h.order(PAID).await;
    assert_eq!(order.fulfillment.state, FulfillmentState::Sent);
    assert_eq!(order.fulfillment.attempts, 2);
}

#[tokio::test]
async fn given_a_live_claim_of_another_sender_when_it_does_not_finish_then_the_record_is_retried() {
    // GIVEN a claim that holds for another minute
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    h.update(PAID, |o| {
        o.fulfillment.state = FulfillmentState::Sending;
        o.fulfillment.lease_until = Some(now_secs() + 60);
        o.fulfillment.attempts = 1;
    })
    .await;
    let batch = h.take_batch();
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    let f = fulfiller(&h, mailer.clone(), 5).with_in_flight_wait(Duration::from_millis(300));
    // WHEN
    let response = f.handle_batch(batch).await;
    // THEN nothing is sent now, and the record is handed back to be looked at later
    assert_eq!(failed_items(&response).len(), 1);
    assert!(mailer.calls().is_empty());
}

#[tokio::test]
async fn given_the_store_down_when_handled_then_retried_and_sent_once_it_is_back() {
    // GIVEN a paid order and a store that stops answering
    let mut h = Harness::new();
    let batch = two_paid_orders(&mut h).await;
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    let f = fulfiller(&h, mailer.clone(), 5);
    h.store.set_unavailable(true);
    // WHEN / THEN the first record is handed back, nothing sent
    let response = f.handle_batch(batch.clone()).await;
    assert_eq!(failed_items(&response).len(), 1);
    assert!(mailer.calls().is_empty());
    // AND once the store is back, the retry sends each order once
    h.store.set_unavailable(false);
    assert!(failed_items(&f.handle_batch(batch).await).is_empty());
    assert_eq!(mailer.calls().len(), 2);
}
