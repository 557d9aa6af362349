//! Our Visa CE 3.0 fixture scenarios (`tests/fixtures/stripe/scenarios.json`, S401…S405), folded
//! through the webhook's code path on both stores in three delivery orders (as listed, reversed,
//! and as listed with every event delivered twice more): which earlier orders of the seller
//! qualify for the disputed order, as the evidence will read them (the card index, then the
//! rule). The order's JSON never shows these facts, so the HTTP replay checks the orders' states
//! and this checks the rest.

use std::sync::Arc;

use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::evidence::ce3;
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::stripe::own_fixtures;
use serde_json::Value;

type Store = Arc<dyn OrderStore>;

/// Which store a case runs on: each delivery order gets a fresh one of that kind.
#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Dynamo,
}

/// A fresh store of `kind`: `None` when DynamoDB Local is skipped on purpose.
async fn fresh(kind: Kind) -> Option<Store> {
    match kind {
        Kind::Memory => Some(Arc::new(leenkies_domain::memory_store::MemoryStore::new())),
        Kind::Dynamo => crate::support::dynamo_store()
            .await
            .map(|s| Arc::new(s) as Store),
    }
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Memory).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Dynamo).await;
                }
            )*
        }
    };
}

on_both_stores!(
    a_returning_buyer_qualifies,
    one_day_short_leaves_one,
    an_earlier_disputed_order_leaves_one,
    another_sellers_order_is_never_read,
    without_metadata_nothing_qualifies,
);

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
const DISPUTED: &str = "pi_3QnmQS8cKdV3nWpT152h0PuH";
const DISPUTED_NO_METADATA: &str = "pi_3QfN8W8cKdV3nWpT0IN9B32R";
const P200: &str = "pi_3QvDum8cKdV3nWpT1Cc9GBaq";
const P150: &str = "pi_3QUfhE8cKdV3nWpT0eBoGuT2";

fn scenario_files(id: &str) -> Vec<String> {
    let dir = own_fixtures();
    let doc: Value =
        serde_json::from_slice(&std::fs::read(dir.join("scenarios.json")).unwrap()).unwrap();
    let scenario = doc["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("scenario {id} not in our fixtures"));
    scenario["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap().to_owned())
        .collect()
}

async fn deliver(store: &dyn OrderStore, file: &str) {
    let body = std::fs::read(own_fixtures().join("events").join(file)).unwrap();
    let event = Event::parse(&body).expect("fixture is an event");
    let Interpretation::Fold(folding) = interpret(&event).expect("fixture is readable") else {
        panic!("{file} is not folded");
    };
    fold(store, &folding, RetryPolicy::default())
        .await
        .expect("fold");
}

/// The qualifying earlier orders of `disputed` after the scenario's deliveries, in each of the
/// three delivery orders (each on a fresh store of the same kind); asserts they agree.
async fn qualifying_in_every_order(
    kind: Kind,
    scenario: &str,
    disputed: &str,
) -> Option<Vec<String>> {
    let files = scenario_files(scenario);
    let mut reversed = files.clone();
    reversed.reverse();
    let mut duplicated = files.clone();
    duplicated.extend(files.iter().cloned());
    duplicated.extend(files.iter().rev().cloned());
    let mut answers = Vec::new();
    for deliveries in [files, reversed, duplicated] {
        let store = fresh(kind).await?;
        for file in &deliveries {
            deliver(&*store, file).await;
        }
        let order = store.get_order(SELLER, disputed).await.unwrap().unwrap();
        let f = &order.facts;
        // THEN the disputed order is a Visa fraud dispute by its card and reason, and Stripe's
        // eligibility is kept with it
        let card = f
            .card
            .as_ref()
            .expect("the disputed order's card")
            .value
            .clone();
        let dispute = f.latest_dispute().expect("disputed").1;
        assert!(ce3::is_visa_fraud(
            card.brand.as_deref(),
            None,
            dispute.reason.as_ref().map(|r| r.value.as_str())
        ));
        let eligibility = f
            .dispute_ce3
            .values()
            .next()
            .expect("eligibility")
            .value
            .clone();
        assert_eq!(eligibility.status.as_deref(), Some("requires_action"));
        // WHEN the evidence reads the card's earlier orders in the rule's window
        let (from, to) = ce3::window(f.created_at());
        let candidates = store
            .list_orders_by_card(
                SELLER,
                card.brand.as_deref().unwrap(),
                card.fingerprint.as_deref().unwrap(),
                from,
                to,
                25,
            )
            .await
            .unwrap();
        let found: Vec<String> = ce3::qualifying(&order, &candidates)
            .iter()
            .map(|o| o.order_id.clone())
            .collect();
        answers.push(found);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "delivery order changed the answer: {answers:?}"
    );
    Some(answers.remove(0))
}

async fn a_returning_buyer_qualifies(kind: Kind) {
    // GIVEN S401: two earlier orders 200 and 150 days before, same card, IP, device, account
    let Some(found) =
        qualifying_in_every_order(kind, "S401_ce3_returning_buyer_qualifies", DISPUTED).await
    else {
        return;
    };
    // THEN both qualify, the newest first: CE 3.0 evidence can be sent
    assert_eq!(found, [P150, P200]);
}

async fn one_day_short_leaves_one(kind: Kind) {
    let Some(found) = qualifying_in_every_order(kind, "S402_ce3_one_day_short", DISPUTED).await
    else {
        return;
    };
    // THEN the order 119 days before does not count: one is not enough
    assert_eq!(found, [P200]);
}

async fn an_earlier_disputed_order_leaves_one(kind: Kind) {
    let Some(found) =
        qualifying_in_every_order(kind, "S403_ce3_earlier_order_was_disputed", DISPUTED).await
    else {
        return;
    };
    assert_eq!(found, [P200]);
}

async fn another_sellers_order_is_never_read(kind: Kind) {
    let Some(found) = qualifying_in_every_order(
        kind,
        "S404_ce3_earlier_order_on_another_sellers_account",
        DISPUTED,
    )
    .await
    else {
        return;
    };
    assert_eq!(found, [P200]);
}

async fn without_metadata_nothing_qualifies(kind: Kind) {
    let Some(found) = qualifying_in_every_order(
        kind,
        "S405_ce3_storefront_sent_no_metadata",
        DISPUTED_NO_METADATA,
    )
    .await
    else {
        return;
    };
    assert!(found.is_empty(), "{found:?}");
}
