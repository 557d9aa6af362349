//! The seller's `failure_pattern` notification (contract section 12) through the stream
//! consumer, on the embedded store: the stats route's rule turning to a configuration problem
//! after a newly failed payment sends one email, at most one a day whatever follows, none when
//! the rule is not met or the kind is off. On DynamoDB Local: `notify_dynamodb.rs` (the window
//! read from the index, the day claimed in the table, concurrent consumers) and the adapters'
//! conformance suite (`seller_notices_conformance`).

use crate::common;

use std::sync::Arc;

use common::*;
use fulfillment::Fulfiller;
use leenkies_domain::notify::failure_pattern::{day_key, SellerNotices};
use leenkies_domain::notify::NoticeSkip;
use leenkies_domain::order::facts::{AttemptState, FailedAttempt, Reg};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::seller_settings::SettingsStore;
use leenkies_domain::settings::SellerSettings;
use leenkies_domain::OrderRecord;

const NOTIFY_TO: &str = "alerts@northwind.example";

fn now() -> i64 {
    leenkies_domain::clock::now_secs()
}

/// A failed order of `customer`, created an hour ago, declined now.
fn failed(order_id: &str, customer: &str) -> OrderRecord {
    let t = now();
    let mut r = OrderRecord::new(SELLER, order_id);
    r.version = 1;
    r.facts.pi_created = Some(t - 3_600);
    r.facts.first_event_at = Some(t - 3_600);
    r.facts.amount = Some(Reg::new(0, t, 1900));
    r.facts.currency = Some(Reg::new(0, t, "usd".to_owned()));
    r.facts.customer_email = Some(Reg::new(0, t, customer.to_owned()));
    r.facts.attempt = Some(Reg::new(0, t, AttemptState::Failed));
    r.facts.failures.insert(
        format!("ch_{order_id}"),
        FailedAttempt {
            at: t,
            decline_code: Some(Reg::new(0, t, "do_not_honor".to_owned())),
            ..FailedAttempt::default()
        },
    );
    r
}

async fn put(h: &Harness, r: &OrderRecord) {
    h.store.put_order(r, None, &[]).await.unwrap();
}

async fn with_notify_email(h: &Harness, change: impl FnOnce(&mut SellerSettings)) {
    let mut s = SellerSettings {
        notify_email: Some(NOTIFY_TO.to_owned()),
        ..SellerSettings::default()
    };
    change(&mut s);
    h.store.put_settings(SELLER, &s, None).await.unwrap();
}

fn consumer(h: &Harness, dir: &std::path::Path) -> Fulfiller {
    fulfiller(h, outbox(dir), 5)
        .with_settings(h.store.clone())
        .with_seller_notices(h.store.clone())
}

fn seller_emails(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .ends_with("-seller-failure_pattern.eml")
                })
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn given_three_customers_failing_today_when_the_third_failure_is_handled_then_one_email_a_day(
) {
    // GIVEN two customers' failed payments already in (their records handled by nobody)
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    with_notify_email(&h, |_| {}).await;
    put(&h, &failed("pi_f1", "ana@example.com")).await;
    put(&h, &failed("pi_f2", "ben@example.com")).await;
    h.drain();
    // WHEN a third customer's payment fails and its change is handled
    put(&h, &failed("pi_f3", "cy@example.com")).await;
    let f = consumer(&h, dir.path());
    let response = f.handle_batch(h.take_batch()).await;
    assert!(failed_items(&response).is_empty());
    // THEN one failure_pattern email to the seller, with the counts and the dashboard
    let emails = seller_emails(dir.path());
    assert_eq!(emails.len(), 1);
    assert!(emails[0].contains(&format!("To: {NOTIFY_TO}")));
    assert!(emails[0].contains("3 failed payments from 3 different customers"));
    assert!(emails[0].contains(&format!("{BASE_URL}/dashboard")));
    // AND today's record says sent
    let today = h
        .store
        .get_seller_notice(SELLER, &day_key(now()))
        .await
        .unwrap()
        .unwrap();
    assert!(today.fact.sent.is_some());
    // WHEN more customers fail the same day, their records handled (twice) by two consumers
    for (id, who) in [("pi_f4", "dee@example.com"), ("pi_f5", "eve@example.com")] {
        put(&h, &failed(id, who)).await;
    }
    let batch = h.take_batch();
    let g = consumer(&h, dir.path());
    let (a, b) = tokio::join!(f.handle_batch(batch.clone()), g.handle_batch(batch));
    assert!(failed_items(&a).is_empty() && failed_items(&b).is_empty());
    // THEN still one email today
    assert_eq!(seller_emails(dir.path()).len(), 1);
}

#[tokio::test]
async fn given_one_customer_retrying_when_handled_then_no_email() {
    // GIVEN one customer failing on three orders (a card tester or an unlucky buyer)
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    with_notify_email(&h, |_| {}).await;
    put(&h, &failed("pi_f1", "ana@example.com")).await;
    put(&h, &failed("pi_f2", "ana@example.com")).await;
    h.drain();
    put(&h, &failed("pi_f3", "Ana@example.com")).await;
    // WHEN handled
    consumer(&h, dir.path()).handle_batch(h.take_batch()).await;
    // THEN the rule is not met: no email, nothing settled for today
    assert!(seller_emails(dir.path()).is_empty());
    assert_eq!(
        h.store
            .get_seller_notice(SELLER, &day_key(now()))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn given_the_kind_off_when_the_rule_is_met_then_no_email_and_settled_for_the_day() {
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    with_notify_email(&h, |s| s.notify.failure_pattern = false).await;
    put(&h, &failed("pi_f1", "ana@example.com")).await;
    put(&h, &failed("pi_f2", "ben@example.com")).await;
    h.drain();
    put(&h, &failed("pi_f3", "cy@example.com")).await;
    consumer(&h, dir.path()).handle_batch(h.take_batch()).await;
    assert!(seller_emails(dir.path()).is_empty());
    let today = h
        .store
        .get_seller_notice(SELLER, &day_key(now()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(today.fact.skipped.map(|s| s.why), Some(NoticeSkip::KindOff));
}

#[tokio::test]
async fn given_a_consumer_without_the_seller_notices_store_when_handled_then_it_never_looks() {
    // GIVEN the rule met, and a consumer that was not given the seller-level store
    let mut h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    with_notify_email(&h, |_| {}).await;
    for (id, who) in [
        ("pi_f1", "ana@example.com"),
        ("pi_f2", "ben@example.com"),
        ("pi_f3", "cy@example.com"),
    ] {
        put(&h, &failed(id, who)).await;
    }
    let f = fulfiller(&h, outbox(dir.path()), 5)
        .with_settings(Arc::new(leenkies_domain::memory_store::MemoryStore::new()));
    f.handle_batch(h.take_batch()).await;
    // THEN nothing is sent
    assert!(seller_emails(dir.path()).is_empty());
}
