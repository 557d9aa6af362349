//! Exactly one email per paid order, whatever the duplicates and races.

use crate::common;

use std::sync::Arc;

use common::*;
use leenkies_domain::order::FulfillmentState;
use leenkies_domain::ports::{MailError, Mailer, OutgoingEmail};
use leenkies_domain::tokens::{DownloadClaims, DownloadKey};
use leenkies_domain::OrderView;

#[tokio::test]
async fn given_a_paid_order_when_its_change_is_handled_then_one_email_with_a_signed_link() {
    // GIVEN ord_1001 paid through the webhook's code path
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let dir = tempfile::tempdir().unwrap();
    let f = fulfiller(&h, outbox(dir.path()), 5);
    // WHEN its stream records are handled
    let response = f.handle_batch(h.take_batch()).await;
    // THEN one email, no failure, and the order shows it sent
    assert!(failed_items(&response).is_empty());
    let emails = emails(dir.path());
    assert_eq!(emails.len(), 1);
    let order = h.order(PAID).await;
    let view = OrderView::of(&order);
    assert_eq!(view.fulfillment.status, "sent");
    assert!(view.fulfillment.sent_at.is_some());
    assert_eq!(
        view.fulfillment.message_id.as_deref(),
        order.fulfillment.message_id.as_deref()
    );
    assert_eq!(
        order.fulfillment.recipient.as_deref(),
        Some("jordan.lee@example.com")
    );
    // AND the email names the product, the date and the order, and carries a link that opens
    // exactly this order
    let eml = &emails[0];
    assert!(eml.contains("To: jordan.lee@example.com"));
    assert!(eml.contains("Subject: Your download: Cinematic LUT Pack"));
    assert!(eml.contains(PAID));
    // (the purchase date in words, as a receipt says it: "May 8, 2026")
    assert!(eml.contains(&leenkies_domain::fulfillment::date_in_words(
        order.facts.created_at()
    )));
    let start = eml
        .find("https://shop.example/downloads/")
        .expect("link present");
    let token: String = eml[start + "https://shop.example/downloads/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    assert_eq!(
        DownloadKey::new(KEY).verify(&token),
        Ok(DownloadClaims {
            seller_id: SELLER.into(),
            order_id: PAID.into(),
            product_id: "prod_lut_pack".into(),
        })
    );
}

#[tokio::test]
async fn given_the_same_record_twice_and_a_redelivered_batch_when_handled_then_one_email() {
    // GIVEN a paid order and its stream record
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let changes = h.drain();
    let dir = tempfile::tempdir().unwrap();
    let f = fulfiller(&h, outbox(dir.path()), 5);
    // WHEN the record comes twice in one batch, and the whole batch is delivered again
    let twice = [changes.clone(), changes.clone()].concat();
    assert!(failed_items(&f.handle_batch(h.batch(&twice)).await).is_empty());
    assert!(failed_items(&f.handle_batch(h.batch(&twice)).await).is_empty());
    // AND the duplicate Stripe deliveries of ord_1001 arrive and are streamed too
    h.fold("ord_1001__01__charge.succeeded.json").await;
    h.fold("ord_1001__01__checkout.session.completed.json")
        .await;
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    f.handle_batch(h.take_batch()).await;
    // THEN one email
    assert_eq!(emails(dir.path()).len(), 1);
    assert_eq!(h.order(PAID).await.fulfillment.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_8_concurrent_batches_for_one_order_when_handled_then_one_email() {
    // GIVEN a paid order
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let changes = h.drain();
    let dir = tempfile::tempdir().unwrap();
    let f = Arc::new(fulfiller(&h, outbox(dir.path()), 5));
    // WHEN 8 invocations handle its record at the same time
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let f = f.clone();
            let batch = h.batch(&changes);
            tokio::spawn(async move { f.handle_batch(batch).await })
        })
        .collect();
    for response in futures::future::join_all(tasks).await {
        // THEN none is handed back (the losers wait for the winner's `sent`)
        assert!(failed_items(&response.unwrap()).is_empty());
    }
    // AND exactly one email went out
    assert_eq!(emails(dir.path()).len(), 1);
    assert_eq!(
        h.order(PAID).await.fulfillment.state,
        FulfillmentState::Sent
    );
}

#[tokio::test]
async fn given_the_stream_of_its_own_writes_when_fed_back_until_quiet_then_one_email() {
    // GIVEN a paid order, and a stream that also carries the claim and `sent` writes
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let dir = tempfile::tempdir().unwrap();
    let f = fulfiller(&h, outbox(dir.path()), 5);
    // WHEN every change is handled, each batch twice, until the store is quiet
    let mut rounds = 0;
    loop {
        let changes = h.drain();
        if changes.is_empty() {
            break;
        }
        f.handle_batch(h.batch(&changes)).await;
        f.handle_batch(h.batch(&changes)).await;
        rounds += 1;
        assert!(rounds < 10, "the stream does not settle");
    }
    // THEN one email
    assert_eq!(emails(dir.path()).len(), 1);
}

/// Folds a Stripe event into the store while "SES" is sending, then delivers to the outbox.
struct FoldWhileSending {
    harness: Arc<Harness>,
    file: &'static str,
    outbox: Arc<dyn Mailer>,
}

#[async_trait::async_trait]
impl Mailer for FoldWhileSending {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        self.harness.fold(self.file).await;
        self.outbox.send(email).await
    }
}

#[tokio::test]
async fn given_facts_folded_in_during_the_send_when_recorded_then_sent_and_no_fact_lost() {
    // GIVEN a paid order, and a charge event the webhook folds in while the email is sending
    let mut h = Harness::new();
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let changes = h.drain();
    let h = Arc::new(h);
    let dir = tempfile::tempdir().unwrap();
    let mailer = Arc::new(FoldWhileSending {
        harness: h.clone(),
        file: "ord_1001__01__charge.succeeded.json",
        outbox: outbox(dir.path()),
    });
    let f = fulfiller(&h, mailer, 5);
    // WHEN
    let response = f.handle_batch(h.batch(&changes)).await;
    // THEN `sent` is recorded on top of the new facts
    assert!(failed_items(&response).is_empty());
    let order = h.order(PAID).await;
    assert_eq!(order.fulfillment.state, FulfillmentState::Sent);
    assert!(order.facts.charges.contains("ch_3QMpFn8cKdV3nWpT284derZc"));
    assert_eq!(emails(dir.path()).len(), 1);
}
