//! No email for orders that are not (or no longer) owed one, and records that are not orders
//! never block the batch.

use crate::common;

use common::*;
use leenkies_domain::order::facts::{DisputeFact, Reg};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::OrderRecord;
use leenkies_domain::OrderView;

#[tokio::test]
async fn given_a_failed_payment_when_handled_then_no_email() {
    // GIVEN ord_1002's failed attempt only
    let mut h = Harness::new();
    h.fold("ord_1002__01__payment_intent.payment_failed.json")
        .await;
    h.fold("ord_1002__01__charge.failed.json").await;
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    // WHEN its records are handled
    let response = fulfiller(&h, mailer.clone(), 5)
        .handle_batch(h.take_batch())
        .await;
    // THEN nothing is sent and nothing is retried
    assert!(failed_items(&response).is_empty());
    assert!(mailer.calls().is_empty());
    assert_eq!(
        OrderView::of(&h.order(RETRIED).await).fulfillment.status,
        "pending"
    );
}

#[tokio::test]
async fn given_a_pending_payment_when_handled_then_no_email() {
    // GIVEN an order with a customer and a product but no payment yet
    let mut h = Harness::new();
    let mut order = OrderRecord::new(SELLER, "pi_pending");
    order.version = 1;
    order.facts.customer_email = Some(Reg::new(0, 1, "jo@example.com".into()));
    order.facts.product_id = Some(Reg::new(0, 1, "prod_x".into()));
    h.store.put_order(&order, None, &[]).await.unwrap();
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    // WHEN
    let response = fulfiller(&h, mailer.clone(), 5)
        .handle_batch(h.take_batch())
        .await;
    // THEN
    assert!(failed_items(&response).is_empty());
    assert!(mailer.calls().is_empty());
}

#[tokio::test]
async fn given_a_refund_folded_in_before_the_record_is_handled_when_handled_then_no_email_and_skipped(
) {
    // GIVEN ord_1009 paid and then fully refunded before fulfillment runs
    let mut h = Harness::new();
    h.fold("ord_1009__01__payment_intent.succeeded.json").await;
    h.fold("ord_1009__02__charge.refunded.json").await;
    h.fold("ord_1009__03__refund.created.json").await;
    let changes = h.drain();
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    // WHEN the records are handled, the first one still showing a paid order
    assert!(changes[0].new.awaiting_delivery());
    let response = fulfiller(&h, mailer.clone(), 5)
        .handle_batch(h.batch(&changes))
        .await;
    // THEN the re-read sees the refund: no email, and the seller sees `skipped`
    assert!(failed_items(&response).is_empty());
    assert!(mailer.calls().is_empty());
    assert_eq!(
        OrderView::of(&h.order(REFUNDED).await).fulfillment.status,
        "skipped"
    );
}

#[tokio::test]
async fn given_a_lost_dispute_before_the_send_when_handled_then_no_email() {
    // GIVEN a paid order whose dispute is lost before its record is handled
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let changes = h.drain();
    h.update(PAID, |o| {
        o.facts.disputes.insert(
            "du_1".into(),
            DisputeFact {
                history: Default::default(),
                state: Reg::new(3, 1_778_300_000, "lost".into()),
                reason: Some(Reg::new(0, 1_778_300_000, "fraudulent".into())),
                amount: Some(Reg::new(0, 1_778_300_000, 2500)),
                evidence_due_by: None,
                created: Some(1_778_300_000),
                funds_withdrawn: true,
                funds_reinstated: false,
                ..Default::default()
            },
        );
    })
    .await;
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    // WHEN the (stale) paid record is handled
    let response = fulfiller(&h, mailer.clone(), 5)
        .handle_batch(h.batch(&changes))
        .await;
    // THEN no email; access is revoked and the seller sees `skipped`
    assert!(failed_items(&response).is_empty());
    assert!(mailer.calls().is_empty());
    let view = OrderView::of(&h.order(PAID).await);
    assert!(view.access_revoked);
    assert_eq!(view.fulfillment.status, "skipped");
}

#[tokio::test]
async fn given_non_order_remove_and_undecodable_records_when_handled_then_skipped_and_the_next_is_sent(
) {
    // GIVEN a charge-link image, a REMOVE, an order image that cannot be decoded, then a paid order
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let paid = h.order(PAID).await;
    h.drain();
    let mut link = h.record(None, Some(&paid));
    link.change.new_image.insert(
        "kind".into(),
        serde_dynamo::AttributeValue::S("charge_link".into()),
    );
    let remove = h.record(Some(&paid), None);
    let mut garbage = h.record(None, Some(&paid));
    // The facts, under whichever attribute name the item was stored with (`dynamodb::names`).
    for facts in ["facts", "f"] {
        if let Some(value) = garbage.change.new_image.get_mut(facts) {
            *value = serde_dynamo::AttributeValue::S("garbage".into());
        }
    }
    assert!(matches!(
        fulfillment::stream::decode(&garbage),
        fulfillment::stream::Change::Skip {
            reason: "undecodable",
            ..
        }
    ));
    let good = h.record(None, Some(&paid));
    let mailer = ScriptedMailer::new(vec![], Ok("m".into()));
    // WHEN they come in one batch
    let response = fulfiller(&h, mailer.clone(), 5)
        .handle_batch(event(vec![link, remove, garbage, good]))
        .await;
    // THEN none fails the batch and the paid order is mailed once
    assert!(failed_items(&response).is_empty());
    assert_eq!(mailer.calls().len(), 1);
}
