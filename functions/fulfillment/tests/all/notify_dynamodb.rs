//! The seller's notifications on DynamoDB Local (the embedded store's cases are in `notify.rs`):
//! concurrent consumers handling duplicated records send one email per occurrence and one
//! delivery email, the seller's settings are read from the table, a kind turned off sends
//! nothing, an SES event about the seller's email finds no order, and the `failure_pattern`
//! look reads the window from the table's index and claims the day in the table.

use crate::common;

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::EventRecord;
use common::{config, event, outbox, BASE_URL, PAID, SELLER};
use fulfillment::Fulfiller;
use leenkies_adapters::dynamodb::item::order_to_image;
use leenkies_adapters::dynamodb::settings::DynamoSettings;
use leenkies_adapters::dynamodb::{setup, DynamoStore};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::notify::NoticeSkip;
use leenkies_domain::order::facts::{DisputeEvent, DisputeFact, DisputeStep, Reg};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::seller_settings::SettingsStore;
use leenkies_domain::settings::SellerSettings;
use leenkies_domain::stripe::event::Event as StripeEvent;
use leenkies_domain::OrderRecord;
use leenkies_integration_tests::env::{dynamodb_endpoint, unique_table};

const NOTIFY_TO: &str = "alerts@northwind.example";

struct World {
    store: Arc<DynamoStore>,
    settings: Arc<DynamoSettings>,
    notices: Arc<leenkies_adapters::dynamodb::seller_notices::DynamoSellerNotices>,
}

async fn world() -> Option<World> {
    let ddb = dynamodb_endpoint()?;
    let table = unique_table("notify");
    let client = setup::client(Some(&ddb)).await;
    setup::ensure_table(&client, &table).await.expect("table");
    Some(World {
        store: Arc::new(DynamoStore::new(client.clone(), table.clone())),
        settings: Arc::new(DynamoSettings::new(client.clone(), table.clone())),
        notices: Arc::new(
            leenkies_adapters::dynamodb::seller_notices::DynamoSellerNotices::new(client, table),
        ),
    })
}

impl World {
    async fn paid(&self) {
        for file in [
            "ord_1001__01__checkout.session.completed.json",
            "ord_1001__01__payment_intent.succeeded.json",
        ] {
            let path = leenkies_integration_tests::stripe::shared_fixtures()
                .join("events")
                .join(file);
            let body = std::fs::read(path).unwrap();
            let Interpretation::Fold(folding) =
                interpret(&StripeEvent::parse(&body).unwrap()).unwrap()
            else {
                panic!("fixture folds")
            };
            fold(self.store.as_ref(), &folding, RetryPolicy::default())
                .await
                .unwrap();
        }
    }

    async fn order(&self) -> OrderRecord {
        self.store.get_order(SELLER, PAID).await.unwrap().unwrap()
    }

    /// Adds an open dispute, as the webhook would; the stream record of that write.
    async fn disputed(&self) -> EventRecord {
        let old = self.order().await;
        let mut new = old.clone();
        let t = leenkies_domain::clock::now_secs();
        new.facts.disputes.insert(
            "du_1".to_owned(),
            DisputeFact {
                state: Reg::new(0, t, "needs_response".to_owned()),
                history: [DisputeEvent(
                    t,
                    DisputeStep::Created,
                    "needs_response".into(),
                )]
                .into(),
                amount: Some(Reg::new(0, t, 2900)),
                evidence_due_by: Some(Reg::new(0, t, t + 9 * 86_400)),
                created: Some(t),
                ..DisputeFact::default()
            },
        );
        new.version = old.version + 1;
        self.store
            .put_order(&new, Some(old.version), &[])
            .await
            .unwrap();
        let mut record = EventRecord::default();
        record.event_id = "evt-dispute".into();
        record.event_name = "MODIFY".into();
        record.change.sequence_number = Some("000000000000000000042".into());
        record.change.old_image = order_to_image(&old).unwrap();
        record.change.new_image = order_to_image(&new).unwrap();
        assert!(
            leenkies_adapters::dynamodb::stream_filter::passes_fulfillment_filter(&record),
            "the template's filter passes it"
        );
        record
    }

    fn consumer(&self, dir: &std::path::Path) -> Fulfiller {
        Fulfiller::new(self.store.clone(), outbox(dir), config(5))
            .with_messages(self.store.clone())
            .with_settings(self.settings.clone())
            .with_seller_notices(self.notices.clone())
            .with_in_flight_wait(std::time::Duration::from_secs(3))
    }
}

fn named(dir: &std::path::Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn given_concurrent_consumers_and_duplicates_on_dynamodb_when_handled_then_one_email_each() {
    let Some(w) = world().await else { return };
    // GIVEN a paid order, a seller's notify_email in the table, and a dispute folded in
    w.paid().await;
    let settings = SellerSettings {
        notify_email: Some(NOTIFY_TO.to_owned()),
        ..SellerSettings::default()
    };
    w.settings
        .put_settings(SELLER, &settings, None)
        .await
        .unwrap();
    let record = w.disputed().await;
    let dir = tempfile::tempdir().unwrap();
    // WHEN four consumers handle the record at once, each delivered twice
    let consumers: Vec<Fulfiller> = (0..4).map(|_| w.consumer(dir.path())).collect();
    let runs = consumers
        .iter()
        .map(|f| f.handle_batch(event(vec![record.clone(), record.clone()])));
    futures::future::join_all(runs).await;
    // THEN one delivery email and one seller email, recorded on the order
    assert_eq!(named(dir.path(), "-seller-dispute.eml"), 1);
    assert_eq!(named(dir.path(), &format!("-{PAID}.eml")), 1);
    let order = w.order().await;
    let sent = order.facts.notices["d:du_1"].sent.clone().expect("sent");
    assert!(leenkies_domain::notify::pending(&order).is_empty());
    // AND the email links the order's page
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with("-seller-dispute.eml")
        })
        .unwrap();
    let eml = std::fs::read_to_string(file.path()).unwrap();
    assert!(eml.contains(&format!("To: {NOTIFY_TO}")));
    assert!(eml.contains(&format!("{BASE_URL}/dashboard/orders/{PAID}")));
    // WHEN SES reports on the seller's email
    let mut ses_event: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/ses/bounce.json"),
        )
        .unwrap(),
    )
    .unwrap();
    ses_event["detail"]["mail"]["messageId"] = serde_json::json!(sent.message_id);
    let ses = fulfillment::ses_events::SesEvents::new(w.store.clone(), w.store.clone());
    let outcome = ses
        .handle(&serde_json::to_vec(&ses_event).unwrap())
        .await
        .unwrap();
    // THEN no order is touched: the seller's email is not in the message index
    assert_eq!(outcome.as_str(), "unknown_message");
    assert_eq!(w.order().await, order);
}

#[tokio::test]
async fn given_the_kind_off_in_the_tables_settings_when_handled_then_no_email() {
    let Some(w) = world().await else { return };
    // GIVEN a seller who turned dispute notifications off
    w.paid().await;
    let mut settings = SellerSettings {
        notify_email: Some(NOTIFY_TO.to_owned()),
        ..SellerSettings::default()
    };
    settings.notify.dispute = false;
    w.settings
        .put_settings(SELLER, &settings, None)
        .await
        .unwrap();
    let record = w.disputed().await;
    let dir = tempfile::tempdir().unwrap();
    // WHEN handled
    w.consumer(dir.path())
        .handle_batch(event(vec![record]))
        .await;
    // THEN no seller email, and the notice records why
    assert_eq!(named(dir.path(), "-seller-"), 0);
    let order = w.order().await;
    assert_eq!(
        order.facts.notices["d:du_1"].skipped.map(|s| s.why),
        Some(NoticeSkip::KindOff)
    );
}

/// A failed order of `customer`, created an hour ago, declined now.
fn failed(order_id: &str, customer: &str) -> OrderRecord {
    use leenkies_domain::order::facts::{AttemptState, FailedAttempt};
    let t = leenkies_domain::clock::now_secs();
    let mut r = OrderRecord::new(SELLER, order_id);
    r.version = 1;
    r.facts.pi_created = Some(t - 3_600);
    r.facts.first_event_at = Some(t - 3_600);
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

#[tokio::test]
async fn given_three_customers_failing_on_dynamodb_when_handled_twice_at_once_then_one_email_today()
{
    let Some(w) = world().await else { return };
    // GIVEN a seller's notify_email, and three customers' failed payments in the table
    let settings = SellerSettings {
        notify_email: Some(NOTIFY_TO.to_owned()),
        ..SellerSettings::default()
    };
    w.settings
        .put_settings(SELLER, &settings, None)
        .await
        .unwrap();
    let mut last = None;
    for (id, who) in [
        ("pi_f1", "ana@example.com"),
        ("pi_f2", "ben@example.com"),
        ("pi_f3", "cy@example.com"),
    ] {
        let order = failed(id, who);
        w.store.put_order(&order, None, &[]).await.unwrap();
        last = Some(order);
    }
    let order = last.unwrap();
    let mut record = EventRecord::default();
    record.event_id = "evt-failed".into();
    record.event_name = "INSERT".into();
    record.change.sequence_number = Some("000000000000000000043".into());
    record.change.new_image = order_to_image(&order).unwrap();
    assert!(leenkies_adapters::dynamodb::stream_filter::passes_fulfillment_filter(&record));
    let dir = tempfile::tempdir().unwrap();
    // WHEN two consumers handle the third failure's record at once, twice each
    let (a, b) = (w.consumer(dir.path()), w.consumer(dir.path()));
    tokio::join!(
        a.handle_batch(event(vec![record.clone(), record.clone()])),
        b.handle_batch(event(vec![record.clone(), record.clone()]))
    );
    // THEN one failure_pattern email, and today's record in the table says sent
    assert_eq!(named(dir.path(), "-seller-failure_pattern.eml"), 1);
    use leenkies_domain::notify::failure_pattern::{day_key, SellerNotices};
    let today = w
        .notices
        .get_seller_notice(SELLER, &day_key(leenkies_domain::clock::now_secs()))
        .await
        .unwrap()
        .expect("today's record");
    assert!(today.fact.sent.is_some());
}
