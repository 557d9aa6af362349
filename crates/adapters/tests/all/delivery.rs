//! Contract section 10 on both stores: the SES message links, SES events recorded on the order
//! by message id alone, and the resend's daily limit under concurrent requests. Each scenario
//! runs against the embedded `MemoryStore` and against `DynamoStore` on DynamoDB Local
//! (`DYNAMODB_ENDPOINT`), with the same expectations. Mail goes to the outbox folder.

use std::path::PathBuf;
use std::sync::Arc;

use leenkies_adapters::mail::OutboxMailer;
use leenkies_domain::delivery::record::{record_ses_event, SesOutcome};
use leenkies_domain::delivery::resend::{
    Refusal, ResendOutcome, ResendRecord, Resender, MAX_RESENDS,
};
use leenkies_domain::delivery::ses::SesEvent;
use leenkies_domain::delivery::{DeliveryStatus, MessageIndex, MessageOwner};
use leenkies_domain::order::FulfillmentState;
use leenkies_domain::ports::{OrderStore, OutgoingEmail};
use leenkies_domain::{OrderRecord, OrderView};
use serde_json::Value;

use crate::support::{order, Status};

trait Store: OrderStore + MessageIndex {}
impl<T: OrderStore + MessageIndex> Store for T {}

both_stores!(
    message_links_find_their_order_and_nothing_else,
    ses_events_land_on_the_order_by_message_id_alone,
    concurrent_resends_never_pass_the_daily_limit,
);

const FIRST: &str = "0100018f-first-email-000000";

fn owner() -> MessageOwner {
    MessageOwner {
        seller_id: "acct_A".into(),
        order_id: "pi_1".into(),
    }
}

/// A paid order of `acct_A` whose first email went out as `FIRST`, linked.
async fn sent_order(store: &dyn Store) -> OrderRecord {
    let mut r = order(
        "acct_A",
        "pi_1",
        1_778_227_200,
        Some("jordan.lee@example.com"),
        Status::Succeeded,
    );
    r.fulfillment.state = FulfillmentState::Sent;
    r.fulfillment.sent_at = Some(1_778_227_251);
    r.fulfillment.message_id = Some(FIRST.into());
    store.put_order(&r, None, &[]).await.unwrap();
    store.link_message(FIRST, &owner()).await.unwrap();
    r
}

fn ses_fixture(name: &str, message_id: &str) -> SesEvent {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ses")
        .join(format!("{name}.json"));
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["detail"]["mail"]["messageId"] = Value::String(message_id.into());
    SesEvent::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
}

async fn message_links_find_their_order_and_nothing_else(store: Arc<dyn Store>) {
    // GIVEN a link written twice (a retried send records it again)
    store.link_message(FIRST, &owner()).await.unwrap();
    store.link_message(FIRST, &owner()).await.unwrap();
    // WHEN looked up THEN the order; an unknown id finds nothing
    assert_eq!(store.find_message(FIRST).await.unwrap(), Some(owner()));
    assert_eq!(store.find_message("0100-unknown").await.unwrap(), None);
}

async fn ses_events_land_on_the_order_by_message_id_alone(store: Arc<dyn Store>) {
    // GIVEN a sent order
    let before = sent_order(store.as_ref()).await;
    // WHEN its DeliveryDelay arrives before its Send, then a Bounce
    let expected = [
        ("delivery_delay", SesOutcome::Recorded(owner())),
        // the Send says nothing the delay did not: no write
        ("send", SesOutcome::Duplicate(owner())),
        ("bounce", SesOutcome::Recorded(owner())),
    ];
    for (name, outcome) in expected {
        let got = record_ses_event(store.as_ref(), store.as_ref(), &ses_fixture(name, FIRST))
            .await
            .unwrap();
        assert_eq!(got, outcome, "{name}");
    }
    // THEN the order reads bounced and asks the seller to act
    let after = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
    let view = OrderView::of(&after);
    let delivery = view.fulfillment.delivery.expect("delivery recorded");
    assert_eq!(delivery.status, DeliveryStatus::Bounced);
    assert_eq!(delivery.at, "2026-05-08T08:01:40.669Z");
    assert!(view.attention.iter().any(|a| a == "delivery_failed"));
    // AND nothing else of the order changed
    assert_eq!(after.facts.timeline, before.facts.timeline);
    assert_eq!(after.fulfillment, before.fulfillment);
    // AND an event about another system's message is acknowledged and changes nothing
    let unknown = record_ses_event(
        store.as_ref(),
        store.as_ref(),
        &ses_fixture("delivery", "0100-not-ours"),
    )
    .await
    .unwrap();
    assert_eq!(unknown, SesOutcome::UnknownMessage);
    let last = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
    assert_eq!(last.version, after.version);
}

fn compose(order: &OrderRecord, resend: &ResendRecord) -> Result<OutgoingEmail, String> {
    Ok(OutgoingEmail {
        reply_to: None,
        to: order.facts.customer_email().unwrap_or_default().to_owned(),
        subject: "Your download".into(),
        text: format!("link {}", resend.token_issue()),
        html: String::new(),
        order_id: order.order_id.clone(),
        seller_id: order.seller_id.clone(),
        about: Default::default(),
    })
}

async fn concurrent_resends_never_pass_the_daily_limit(store: Arc<dyn Store>) {
    // GIVEN a sent order and 8 resend requests at once, each with its own key
    sent_order(store.as_ref()).await;
    let outbox = tempfile::tempdir().unwrap();
    let mailer = Arc::new(OutboxMailer::new(outbox.path()));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, mailer) = (store.clone(), mailer.clone());
        tasks.push(tokio::spawn(async move {
            let resender = Resender {
                store: store.as_ref(),
                index: store.as_ref(),
                mailer: mailer.as_ref(),
                lease_secs: 60,
            };
            let now = || 1_778_300_000;
            resender
                .resend("acct_A", "pi_1", &format!("key-{i}"), None, &now, &compose)
                .await
                .unwrap()
        }));
    }
    let mut sent = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            ResendOutcome::Sent { message_id } => sent.push(message_id),
            ResendOutcome::Refused(Refusal::TooMany { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // THEN exactly five went out, the others were refused, and one email per accepted request
    assert_eq!(sent.len(), MAX_RESENDS);
    assert_eq!(refused, 8 - MAX_RESENDS);
    let emails = std::fs::read_dir(outbox.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        })
        .count();
    assert_eq!(emails, MAX_RESENDS);
    // AND every resend is recorded and linked, so its SES events will land
    let r = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
    assert_eq!(r.fulfillment.resends.len(), MAX_RESENDS);
    for id in &sent {
        assert_eq!(store.find_message(id).await.unwrap(), Some(owner()));
    }
    // AND the same request retried with its key gets its message back, sending nothing new
    let resender = Resender {
        store: store.as_ref(),
        index: store.as_ref(),
        mailer: mailer.as_ref(),
        lease_secs: 60,
    };
    let key = &r.fulfillment.resends[0].key;
    let again = resender
        .resend("acct_A", "pi_1", key, None, &|| 1_778_300_010, &compose)
        .await
        .unwrap();
    assert_eq!(
        again,
        ResendOutcome::Sent {
            message_id: r.fulfillment.resends[0].message_id.clone().unwrap()
        }
    );
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), emails);
}
