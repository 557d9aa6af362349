//! The recorded SES events (`tests/fixtures/ses/`, AWS's documented shapes in EventBridge's
//! envelope) folded into an order through the embedded store: each scenario reads as the
//! contract says, and every permutation and duplication of its events converges to the same
//! stored facts (contract section 10).

use std::path::PathBuf;

use leenkies_domain::delivery::record::{record_ses_event, SesOutcome};
use leenkies_domain::delivery::ses::SesEvent;
use leenkies_domain::delivery::{delivery_receipt, DeliveryStatus, MessageIndex, MessageOwner};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::facts::Reg;
use leenkies_domain::order::FulfillmentState;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::{OrderRecord, OrderView};
use proptest::prelude::*;
use serde_json::Value;

const MESSAGE_ID: &str = "0100018f5c2a9b1e-msg-of-pi_1";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ses")
        .join(format!("{name}.json"));
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["detail"]["mail"]["messageId"] = Value::String(MESSAGE_ID.into());
    serde_json::to_vec(&doc).unwrap()
}

/// A paid order whose first email (`MESSAGE_ID`) went out, in a store that knows the message.
async fn sent_order() -> MemoryStore {
    let store = MemoryStore::new();
    let mut r = OrderRecord::new("acct_A", "pi_1");
    r.version = 1;
    r.facts.succeeded_at = Some(1_778_227_249);
    r.facts.amount = Some(Reg::new(0, 1, 2500));
    r.facts.customer_email = Some(Reg::new(0, 1, "jordan.lee@example.com".into()));
    r.facts.product_id = Some(Reg::new(0, 1, "prod_lut_pack".into()));
    r.fulfillment.state = FulfillmentState::Sent;
    r.fulfillment.sent_at = Some(1_778_227_251);
    r.fulfillment.message_id = Some(MESSAGE_ID.into());
    store.put_order(&r, None, &[]).await.unwrap();
    store
        .link_message(
            MESSAGE_ID,
            &MessageOwner {
                seller_id: "acct_A".into(),
                order_id: "pi_1".into(),
            },
        )
        .await
        .unwrap();
    store
}

async fn record(store: &MemoryStore, name: &str) -> SesOutcome {
    let event = SesEvent::parse(&fixture(name)).expect("fixture is an SES event");
    record_ses_event(store, store, &event).await.unwrap()
}

async fn order(store: &MemoryStore) -> OrderRecord {
    store.get_order("acct_A", "pi_1").await.unwrap().unwrap()
}

/// (events, expected status, expected detail, expected delivery_failed)
fn scenarios() -> Vec<(Vec<&'static str>, DeliveryStatus, &'static str, bool)> {
    vec![
        (
            vec!["send", "delivery"],
            DeliveryStatus::Delivered,
            "250 2.6.0 Message received",
            false,
        ),
        (
            vec!["send", "delivery_delay"],
            DeliveryStatus::Delayed,
            "TransientCommunicationFailure: smtp; 421 4.4.1 Unable to connect to remote host",
            false,
        ),
        (
            vec!["send", "delivery_delay", "bounce"],
            DeliveryStatus::Bounced,
            "Permanent/General: smtp; 550 5.1.1 user unknown",
            true,
        ),
        (
            vec!["send", "delivery", "complaint"],
            DeliveryStatus::Complained,
            "abuse",
            true,
        ),
        (
            vec!["send", "reject"],
            DeliveryStatus::Rejected,
            "Bad content",
            true,
        ),
    ]
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn given_each_scenario_in_order_when_recorded_then_the_contract_delivery_and_attention() {
    rt().block_on(async {
        for (events, status, detail, failed) in scenarios() {
            // GIVEN a sent order WHEN its SES events arrive in order
            let store = sent_order().await;
            for e in &events {
                assert!(matches!(record(&store, e).await, SesOutcome::Recorded(_)));
            }
            // THEN fulfillment.delivery and attention read as the contract says
            let view = serde_json::to_value(OrderView::of(&order(&store).await)).unwrap();
            let delivery = &view["fulfillment"]["delivery"];
            assert_eq!(delivery["status"], status.as_str(), "{events:?}");
            assert_eq!(delivery["detail"], detail, "{events:?}");
            let attention: Vec<&str> = view["attention"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(attention.contains(&"delivery_failed"), failed, "{events:?}");
        }
    });
}

#[test]
fn given_a_delivery_when_recorded_then_the_receipt_is_ses_own_time_mta_and_smtp_answer() {
    rt().block_on(async {
        let store = sent_order().await;
        record(&store, "delivery").await;
        let r = order(&store).await;
        let receipt = delivery_receipt(&r).expect("a receipt");
        assert_eq!(receipt.message_id, MESSAGE_ID);
        assert_eq!(receipt.at(), "2026-05-08T08:00:52.786Z");
        assert_eq!(receipt.recipient(), Some("jordan.lee@example.com"));
        assert_eq!(
            receipt.reporting_mta(),
            Some("a8-70.smtp-out.amazonses.com")
        );
        assert_eq!(receipt.smtp_response(), Some("250 2.6.0 Message received"));
        // AND the same event again is a duplicate that writes nothing
        assert!(matches!(
            record(&store, "delivery").await,
            SesOutcome::Duplicate(_)
        ));
        assert_eq!(order(&store).await.version, r.version);
    });
}

#[test]
fn given_an_unknown_message_or_an_open_when_recorded_then_nothing_changes() {
    rt().block_on(async {
        let store = sent_order().await;
        let before = order(&store).await;
        let mut doc: Value = serde_json::from_slice(&fixture("delivery")).unwrap();
        doc["detail"]["mail"]["messageId"] = Value::String("someone-elses-message".into());
        let unknown = SesEvent::parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
        assert_eq!(
            record_ses_event(&store, &store, &unknown).await.unwrap(),
            SesOutcome::UnknownMessage
        );
        assert_eq!(record(&store, "open").await, SesOutcome::Ignored);
        assert_eq!(order(&store).await, before);
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn given_any_permutation_and_duplication_of_a_scenario_then_the_same_facts(
        seed in any::<u64>(),
        extra in prop::collection::vec(any::<u64>(), 0..6),
    ) {
        rt().block_on(async {
            for (events, status, _, _) in scenarios() {
                // GIVEN the events in order, and shuffled with some delivered again
                let reference = sent_order().await;
                for e in &events {
                    record(&reference, e).await;
                }
                let mut shuffled: Vec<&str> = events.clone();
                let mut s = seed;
                for i in (1..shuffled.len()).rev() {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    shuffled.swap(i, (s >> 33) as usize % (i + 1));
                }
                for x in &extra {
                    shuffled.push(events[(*x as usize) % events.len()]);
                }
                let store = sent_order().await;
                for e in &shuffled {
                    record(&store, e).await;
                }
                // THEN the stored facts are identical, and so is what the seller sees
                let (a, b) = (order(&reference).await, order(&store).await);
                prop_assert_eq!(&a.facts, &b.facts, "{:?}", shuffled);
                prop_assert_eq!(
                    OrderView::of(&b).fulfillment.delivery.map(|d| d.status),
                    Some(status)
                );
            }
            Ok(())
        })?;
    }
}
