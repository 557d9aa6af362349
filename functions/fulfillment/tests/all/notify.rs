//! The seller's notifications (contract section 12) through the stream consumer: one email per
//! occurrence to the right address with the right words, none when the kind is off or no
//! address is known, exactly one whatever the duplicates, reorderings and concurrent consumers,
//! a crashed sender's claim taken over after its lease, the outbox file name, and SES events
//! about a seller's email never touching the order's delivery. On the embedded store here; the
//! same consumer on DynamoDB Local in `notify_dynamodb.rs`.

use crate::common;

use std::sync::Arc;

use common::*;
use fulfillment::Fulfiller;
use leenkies_domain::delivery::facts::{DeliveryState, DeliveryStatus, MessageFacts};
use leenkies_domain::notify::{NoticeClaim, NoticeFact, NoticeSkip};
use leenkies_domain::order::facts::{
    DisputeEvent, DisputeFact, DisputeStep, EfwDecided, EfwDecision, Reg, WarningActionFact,
};
use leenkies_domain::ports::{EmailAbout, OrderStore};
use leenkies_domain::seller_settings::SettingsStore;
use leenkies_domain::settings::SellerSettings;
use leenkies_domain::OrderView;

const NOTIFY_TO: &str = "alerts@northwind.example";

fn now() -> i64 {
    leenkies_domain::clock::now_secs()
}

/// A seller's settings with `notify_email`, and `change` applied.
async fn settings(h: &Harness, change: impl FnOnce(&mut SellerSettings)) {
    let mut s = SellerSettings {
        notify_email: Some(NOTIFY_TO.to_owned()),
        ..SellerSettings::default()
    };
    change(&mut s);
    h.store.put_settings(SELLER, &s, None).await.unwrap();
}

fn open_dispute() -> DisputeFact {
    let t = now();
    DisputeFact {
        state: Reg::new(0, t, "needs_response".to_owned()),
        history: [DisputeEvent(
            t,
            DisputeStep::Created,
            "needs_response".to_owned(),
        )]
        .into(),
        reason: Some(Reg::new(0, t, "fraudulent".to_owned())),
        amount: Some(Reg::new(0, t, 2900)),
        evidence_due_by: Some(Reg::new(0, t, t + 9 * 86_400)),
        created: Some(t),
        ..DisputeFact::default()
    }
}

fn with_settings(h: &Harness, mailer: Arc<dyn leenkies_domain::ports::Mailer>) -> Fulfiller {
    fulfiller(h, mailer, 5)
        .with_settings(h.store.clone())
        .with_messages(h.store.clone())
        .with_in_flight_wait(std::time::Duration::from_millis(300))
}

/// The outbox's files whose name ends with `suffix`.
fn named(dir: &std::path::Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A paid order whose delivery email went out, and the outbox it went to.
async fn delivered(h: &mut Harness, dir: &std::path::Path) {
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    let f = with_settings(h, outbox(dir));
    let response = f.handle_batch(h.take_batch()).await;
    assert!(failed_items(&response).is_empty());
    assert_eq!(named(dir, ".eml").len(), 1, "the delivery email");
}

#[tokio::test]
async fn given_a_dispute_opened_when_the_stream_is_handled_then_one_email_to_notify_email() {
    // GIVEN a delivered order and a seller who set `notify_email`
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |_| {}).await;
    delivered(&mut h, dir.path()).await;
    // WHEN a dispute is folded in and its change handled
    h.update(PAID, |r| {
        r.facts.disputes.insert("du_1".to_owned(), open_dispute());
    })
    .await;
    let f = with_settings(&h, outbox(dir.path()));
    let batch = h.take_batch();
    assert!(failed_items(&f.handle_batch(batch).await).is_empty());
    // THEN exactly one `<unix_ms>-seller-dispute.eml`, to the seller's address, with the words
    let files = named(dir.path(), "-seller-dispute.eml");
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(dir.path().join(&files[0])).unwrap();
    assert!(eml.contains(&format!("To: {NOTIFY_TO}")), "{eml}");
    assert!(eml.contains("Subject: "));
    assert!(eml.contains("New dispute: 29.00 USD"), "{eml}");
    assert!(eml.contains(&format!("{BASE_URL}/dashboard/orders/{PAID}")));
    assert!(eml.contains("Respond by: "));
    assert!(eml.contains("Automatic submission: "));
    assert!(!eml.contains("/downloads/"), "never a customer's link");
    assert!(!eml.contains("Reply-To:"));
    // AND the notice is recorded sent, the delivery is untouched, and nothing more is owed
    let order = h.order(PAID).await;
    assert!(order.facts.notices["d:du_1"].sent.is_some());
    assert!(leenkies_domain::notify::pending(&order).is_empty());
    assert_eq!(OrderView::of(&order).fulfillment.status, "sent");
    // AND the write that recorded it, handled again, sends nothing
    let again = h.take_batch();
    f.handle_batch(again).await;
    assert_eq!(named(dir.path(), "-seller-dispute.eml").len(), 1);
}

#[tokio::test]
async fn given_duplicated_reordered_and_concurrent_deliveries_when_handled_then_one_email() {
    // GIVEN a dispute folded into a delivered order, its stream records captured
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |_| {}).await;
    delivered(&mut h, dir.path()).await;
    h.update(PAID, |r| {
        r.facts.disputes.insert("du_1".to_owned(), open_dispute());
    })
    .await;
    let changes = h.drain();
    // WHEN four consumers handle the batch at once, each twice, once reversed
    let consumers: Vec<Fulfiller> = (0..4)
        .map(|_| with_settings(&h, outbox(dir.path())))
        .collect();
    let mut reversed = changes.clone();
    reversed.reverse();
    let batches = [
        h.batch(&changes),
        h.batch(&reversed),
        h.batch(&changes),
        h.batch(&reversed),
    ];
    let runs = consumers
        .iter()
        .zip(batches.iter().cloned())
        .map(|(f, b)| f.handle_batch(b));
    futures::future::join_all(runs).await;
    // (and every record they caused, handled by all of them again)
    let caused = h.take_batch();
    for f in &consumers {
        f.handle_batch(caused.clone()).await;
    }
    // THEN exactly one seller email, and still one delivery email
    assert_eq!(named(dir.path(), "-seller-dispute.eml").len(), 1);
    assert_eq!(named(dir.path(), ".eml").len(), 2);
}

#[tokio::test]
async fn given_the_kind_turned_off_or_no_address_when_handled_then_no_email_and_recorded_why() {
    // GIVEN a seller who turned dispute notifications off
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |s| s.notify.dispute = false).await;
    delivered(&mut h, dir.path()).await;
    h.update(PAID, |r| {
        r.facts.disputes.insert("du_1".to_owned(), open_dispute());
    })
    .await;
    let f = with_settings(&h, outbox(dir.path()));
    f.handle_batch(h.take_batch()).await;
    // THEN no seller email, and the notice says why (so the next write does not ask again)
    assert!(named(dir.path(), "-seller-").is_empty());
    let order = h.order(PAID).await;
    assert_eq!(
        order.facts.notices["d:du_1"].skipped.map(|s| s.why),
        Some(NoticeSkip::KindOff)
    );

    // GIVEN another seller-less setup: no notify_email and no Stripe account to read
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    delivered(&mut h, dir.path()).await;
    h.update(PAID, |r| {
        r.facts.disputes.insert("du_1".to_owned(), open_dispute());
    })
    .await;
    with_settings(&h, outbox(dir.path()))
        .handle_batch(h.take_batch())
        .await;
    // THEN no email, recorded `no_address`
    assert!(named(dir.path(), "-seller-").is_empty());
    let order = h.order(PAID).await;
    assert_eq!(
        order.facts.notices["d:du_1"].skipped.map(|s| s.why),
        Some(NoticeSkip::NoAddress)
    );
}

#[tokio::test]
async fn given_a_sender_crashed_after_its_claim_when_handled_then_none_within_the_lease_one_after()
{
    // GIVEN a dispute whose notice another sender claimed (and then crashed, maybe after sending)
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |_| {}).await;
    delivered(&mut h, dir.path()).await;
    let until = now() + 60;
    h.update(PAID, |r| {
        r.facts.disputes.insert("du_1".to_owned(), open_dispute());
        r.facts.notices.insert(
            "d:du_1".to_owned(),
            NoticeFact {
                claim: Some(NoticeClaim { attempt: 1, until }),
                ..NoticeFact::default()
            },
        );
    })
    .await;
    let f = with_settings(&h, outbox(dir.path()));
    // WHEN the record is handled within the lease
    let batch = h.take_batch();
    let response = f.handle_batch(batch.clone()).await;
    // THEN nothing is sent and the record is handed back for a retry
    assert!(named(dir.path(), "-seller-").is_empty());
    assert_eq!(failed_items(&response).len(), 1);
    // WHEN the lease has run out (the claim is made older) and the record is retried
    h.update(PAID, |r| {
        r.facts.notices.insert(
            "d:du_1".to_owned(),
            NoticeFact {
                claim: Some(NoticeClaim {
                    attempt: 1,
                    until: now() - 1,
                }),
                ..NoticeFact::default()
            },
        );
    })
    .await;
    h.drain();
    f.handle_batch(batch).await;
    // THEN one email is sent by the taker-over (the crashed one's, if any, is the documented
    // at-most-one-more)
    assert_eq!(named(dir.path(), "-seller-dispute.eml").len(), 1);
    let order = h.order(PAID).await;
    assert_eq!(order.facts.notices["d:du_1"].attempts(), 2);
}

fn bounced(r: &mut leenkies_domain::OrderRecord) -> String {
    let id = r
        .fulfillment
        .message_id
        .clone()
        .expect("the first email's id");
    let at_ms = now() * 1000;
    r.facts.mail.insert(
        id.clone(),
        MessageFacts {
            accepted_ms: Some(at_ms - 1_000),
            state: Some(DeliveryState::new(
                DeliveryStatus::Bounced,
                at_ms,
                "Permanent",
            )),
            delivery: None,
        },
    );
    id
}

#[tokio::test]
async fn given_the_delivery_email_bounced_when_handled_then_one_delivery_failed_email_and_ses_events_about_it_change_nothing(
) {
    // GIVEN a delivered order whose email bounced
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |_| {}).await;
    delivered(&mut h, dir.path()).await;
    h.update(PAID, |r| {
        bounced(r);
    })
    .await;
    // WHEN handled
    let mailer = ScriptedMailer::new(vec![], Ok("ses-seller-1".to_owned()));
    let f = with_settings(&h, mailer.clone());
    f.handle_batch(h.take_batch()).await;
    f.handle_batch(h.take_batch()).await;
    // THEN one seller email of kind delivery_failed, to the seller, with the resend hint
    let calls = mailer.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].about,
        EmailAbout::Seller(leenkies_domain::notify::NoticeKind::DeliveryFailed)
    );
    assert_eq!(calls[0].to, NOTIFY_TO);
    assert!(calls[0].text.contains("Resend"));
    let before = h.order(PAID).await;
    // WHEN SES reports a delivery of the seller's email (its message id)
    let event = delivery_event("ses-seller-1");
    let ses = fulfillment::ses_events::SesEvents::new(h.store.clone(), h.store.clone());
    let outcome = ses.handle(&event).await.expect("answered");
    // THEN it is not recorded on the order: the message index does not know it
    assert_eq!(outcome.as_str(), "unknown_message");
    let after = h.order(PAID).await;
    assert_eq!(after, before);
    assert_eq!(
        OrderView::of(&after)
            .fulfillment
            .delivery
            .as_ref()
            .map(|d| d.status.as_str()),
        Some("bounced")
    );
}

/// An SES `Delivery` event (EventBridge's shape) about `message_id`.
fn delivery_event(message_id: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ses/delivery.json");
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["detail"]["mail"]["messageId"] = serde_json::json!(message_id);
    serde_json::to_vec(&event).unwrap()
}

#[tokio::test]
async fn given_an_early_fraud_warning_decided_when_handled_then_one_email_saying_so() {
    // GIVEN a delivered order whose warning the rule decided not to refund
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |_| {}).await;
    delivered(&mut h, dir.path()).await;
    h.update(PAID, |r| {
        r.facts.warning_actions.insert(
            "issfr_1".to_owned(),
            WarningActionFact {
                decided: Some(EfwDecided {
                    at: now(),
                    decision: EfwDecision::SettingOff,
                }),
                ..WarningActionFact::default()
            },
        );
    })
    .await;
    // WHEN handled (twice over)
    let f = with_settings(&h, outbox(dir.path()));
    let batch = h.take_batch();
    f.handle_batch(batch.clone()).await;
    f.handle_batch(batch).await;
    // THEN one `-seller-early_fraud_warning.eml` saying it was not refunded, and why
    let files = named(dir.path(), "-seller-early_fraud_warning.eml");
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(dir.path().join(&files[0])).unwrap();
    assert!(eml.contains("Early fraud warning: not refunded"), "{eml}");
    // (the decision's words, said to the seller: "your rule"), with the advice to refund
    let words = EfwDecision::SettingOff
        .words()
        .replace("the seller's rule", "your rule");
    assert!(eml.contains(&words), "{eml}");
    assert!(eml.contains("Consider refunding it yourself"), "{eml}");
}

#[tokio::test]
async fn given_an_unpaid_order_with_a_dispute_when_handled_then_notified_without_a_delivery() {
    // GIVEN an order that is not deliverable (no email went out) and gets a dispute
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    settings(&h, |_| {}).await;
    h.fold("ord_1001__01__payment_intent.succeeded.json").await;
    h.drain();
    h.update(PAID, |r| {
        r.facts.customer_email = None;
        r.facts.disputes.insert("du_1".to_owned(), open_dispute());
    })
    .await;
    // WHEN its change is handled
    with_settings(&h, outbox(dir.path()))
        .handle_batch(h.take_batch())
        .await;
    // THEN the seller is told, and no customer email went out
    assert_eq!(named(dir.path(), "-seller-dispute.eml").len(), 1);
    assert_eq!(named(dir.path(), ".eml").len(), 1);
    let order = h.order(PAID).await;
    assert!(order.fulfillment.message_id.is_none());
    let _ = h.store.get_order(SELLER, PAID).await;
}
