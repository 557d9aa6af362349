//! No order item over 4 KB: one eventually consistent read unit per order on a list
//! page holds only while every order item fits 4 KB. The heaviest orders the fixtures describe
//! (thirty refunds, disputes through to their end, failed attempts before a success, fraud
//! warnings) are folded scenario by scenario, in their delivery order, and every order item is
//! measured by DynamoDB's size rule (attribute names plus values), as the DynamoDB store writes
//! it. Refunds kept apart (`REFUND#` items) are items of their own and not counted here.

use std::collections::BTreeSet;
use std::path::Path;

use leenkies_adapters::dynamodb::capacity::item_size;
use leenkies_adapters::dynamodb::item::order_to_image;
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::from_event::{interpret, Interpretation, Target};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::stripe::{own_fixtures, shared_fixtures};

/// DynamoDB's read unit: an item up to this size costs one unit (half, eventually consistent).
const READ_UNIT_BYTES: usize = 4096;

fn event_file(name: &str) -> Option<Vec<u8>> {
    [own_fixtures(), shared_fixtures()]
        .iter()
        .map(|dir| dir.join("events").join(name))
        .find(|p| p.exists())
        .and_then(|p| std::fs::read(p).ok())
}

/// Folds every validly signed delivery of every scenario of `scenarios` (a fresh store each) and
/// returns `(bytes, scenario, order)` of every order item they leave.
async fn order_item_sizes(scenarios: &Path) -> Vec<(usize, String, String)> {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scenarios).expect("scenarios")).expect("json");
    let mut sizes = Vec::new();
    for scenario in doc["scenarios"].as_array().expect("a list of scenarios") {
        let id = scenario["id"].as_str().unwrap_or_default().to_owned();
        let store = MemoryStore::new();
        let mut orders = BTreeSet::new();
        for delivery in scenario["deliveries"].as_array().into_iter().flatten() {
            if delivery["signing"].as_str() != Some("valid") {
                continue;
            }
            let Some(body) = delivery["file"].as_str().and_then(event_file) else {
                continue;
            };
            let Ok(event) = Event::parse(&body) else {
                continue;
            };
            let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
                continue;
            };
            fold(&store, &folding, RetryPolicy::default())
                .await
                .expect("the memory store folds");
            if let Target::Order { order_id } = &folding.target {
                orders.insert((folding.seller_id.clone(), order_id.clone()));
            }
        }
        for (seller, order_id) in orders {
            let Some(record) = store.get_order(&seller, &order_id).await.expect("read") else {
                continue;
            };
            let image = order_to_image(&record).expect("encodes");
            sizes.push((item_size(&image), id.clone(), order_id));
        }
    }
    sizes.sort_by(|a, b| b.cmp(a));
    sizes
}

#[tokio::test]
async fn given_every_fixture_scenario_when_folded_then_no_order_item_is_over_one_read_unit() {
    // GIVEN both fixture corpora's scenarios, each delivered in its own order
    let mut sizes = order_item_sizes(&shared_fixtures().join("scenarios.json")).await;
    sizes.extend(order_item_sizes(&own_fixtures().join("scenarios.json")).await);
    sizes.sort_by(|a, b| b.cmp(a));
    // WHEN every order item they leave is measured as DynamoDB sizes it
    assert!(
        sizes.len() > 40,
        "the scenarios leave orders: {}",
        sizes.len()
    );
    let (largest, scenario, order) = &sizes[0];
    println!("largest order item: {largest} bytes ({scenario}, {order})");
    // THEN none needs more than one read unit
    let over: Vec<_> = sizes
        .iter()
        .filter(|(bytes, _, _)| *bytes > READ_UNIT_BYTES)
        .collect();
    assert!(over.is_empty(), "order items over 4 KB: {over:?}");
}
