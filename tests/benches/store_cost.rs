//! What the webhook costs on DynamoDB, measured with `ReturnConsumedCapacity` on DynamoDB Local:
//! requests, read units and write units (base table and GSI writes together, as DynamoDB bills
//! them) per event, for every shared fixture folded as a new event and again as a duplicate; and
//! the size of a typical paid order's item (checkout.session.completed + payment_intent.succeeded
//! + charge.succeeded, fulfillment sent), attribute by attribute.
//!
//! `DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo bench -p leenkies-integration-tests --bench store_cost`
//! Under `cargo test` (no `--bench` argument) it does nothing.

use std::collections::BTreeMap;

use leenkies_adapters::dynamodb::capacity::{attribute_size, item_size};
use leenkies_adapters::dynamodb::item::OrderItem;
use leenkies_adapters::dynamodb::{setup, store::DynamoStore};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::order::{FulfillmentState, OrderRecord};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::env::unique_table;
use leenkies_integration_tests::stripe::shared_fixtures;

#[derive(Default, Clone, Copy)]
struct Cost {
    events: u64,
    requests: u64,
    read_units: f64,
    write_units: f64,
    max_requests: u64,
    max_write_units: f64,
}

impl Cost {
    fn add(&mut self, requests: u64, read: f64, write: f64) {
        self.events += 1;
        self.requests += requests;
        self.read_units += read;
        self.write_units += write;
        self.max_requests = self.max_requests.max(requests);
        self.max_write_units = self.max_write_units.max(write);
    }
    fn line(&self, label: &str) -> String {
        let n = self.events.max(1) as f64;
        format!(
            "{label:<34} {:>3} events  requests/event {:.2} (max {})  RCU/event {:.2}  WCU/event {:.2} (max {:.0})",
            self.events,
            self.requests as f64 / n,
            self.max_requests,
            self.read_units / n,
            self.write_units / n,
            self.max_write_units
        )
    }
}

fn kind_of(name: &str) -> String {
    // ord_1001__01__payment_intent.succeeded.json → payment_intent.succeeded
    let stem = name.trim_end_matches(".json");
    stem.rsplit("__").next().unwrap_or(stem).to_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --all-targets` runs benches once without --bench: nothing to do
    }
    let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") else {
        eprintln!("store_cost: DYNAMODB_ENDPOINT is not set (infra/bench.sh starts DynamoDB Local); skipped");
        return;
    };
    let client = setup::client(Some(&endpoint)).await;
    let table = unique_table("bench-cost");
    setup::ensure_table(&client, &table)
        .await
        .expect("create table");
    let store = DynamoStore::new(client.clone(), &table);

    // Every shared fixture, in file order (each order's events in their sequence), new then again.
    let dir = shared_fixtures().join("events");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut new_by_kind: BTreeMap<String, Cost> = BTreeMap::new();
    let (mut new_all, mut dup_all) = (Cost::default(), Cost::default());
    for name in &names {
        let body = std::fs::read(dir.join(name)).expect("fixture");
        let event = Event::parse(&body).expect("parses");
        let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
            continue;
        };
        for round in 0..2 {
            let before = store.consumed();
            let outcome = fold(&store, &folding, RetryPolicy::default())
                .await
                .expect("fold");
            let c = store.consumed().since(&before);
            if round == 0 {
                new_all.add(c.requests, c.read_units, c.write_units);
                new_by_kind.entry(kind_of(name)).or_default().add(
                    c.requests,
                    c.read_units,
                    c.write_units,
                );
            } else {
                assert_eq!(outcome.as_str(), "duplicate", "{name} delivered twice");
                dup_all.add(c.requests, c.read_units, c.write_units);
            }
        }
    }
    println!("== store cost per event (DynamoDB Local, ReturnConsumedCapacity=TOTAL, 4 GSIs projecting ALL) ==");
    println!("{}", new_all.line("new event (all fixtures)"));
    println!("{}", dup_all.line("duplicate (all fixtures)"));
    for (kind, cost) in &new_by_kind {
        println!("{}", cost.line(&format!("  new {kind}")));
    }

    // The typical paid order: three events, then the fulfillment recorded as sent.
    let paid = [
        "ord_1001__01__checkout.session.completed.json",
        "ord_1001__01__payment_intent.succeeded.json",
        "ord_1001__01__charge.succeeded.json",
    ];
    let mut seller = String::new();
    let mut order_id = String::new();
    for name in paid {
        let body = std::fs::read(dir.join(name)).expect("fixture");
        let event = Event::parse(&body).expect("parses");
        let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
            panic!("{name} folds");
        };
        seller = folding.seller_id.clone();
        if let leenkies_domain::order::from_event::Target::Order { order_id: o } = &folding.target {
            order_id = o.clone();
        }
    }
    let mut record: OrderRecord = store
        .get_order(&seller, &order_id)
        .await
        .expect("read")
        .expect("the paid order exists");
    let sent_at = record.facts.last_event_at.unwrap_or(0) + 2;
    record.fulfillment.state = FulfillmentState::Sent;
    record.fulfillment.attempts = 1;
    record.fulfillment.sent_at = Some(sent_at);
    record.fulfillment.message_id =
        Some("010001968f3a6b2e-5c1f0a8e-3d3c-4b7e-9a51-6f2a7c9e1b44-000000".into());
    record.fulfillment.recipient = record.facts.customer_email().map(str::to_owned);
    record.fulfillment.subject = Some(format!(
        "Your {} is ready to download",
        record.facts.product_name().unwrap_or("product")
    ));
    let expected = record.version;
    record.version += 1;
    let before = store.consumed();
    store
        .put_order(&record, Some(expected), &[])
        .await
        .expect("record sent");
    let sent_cost = store.consumed().since(&before);

    let item: serde_dynamo::Item = serde_dynamo::to_item(OrderItem::from(&record)).expect("item");
    let total = item_size(&item);
    println!();
    println!("== typical paid order item (checkout + payment_intent + charge succeeded, fulfillment sent) ==");
    println!(
        "item size {total} bytes (DynamoDB's rule: names + values); JSON of the record {} bytes",
        serde_json::to_vec(&record).map(|v| v.len()).unwrap_or(0)
    );
    println!(
        "recording fulfillment sent: {} request(s), {:.0} WCU",
        sent_cost.requests, sent_cost.write_units
    );
    let mut attrs: Vec<_> = item
        .iter()
        .map(|(k, v)| (attribute_size(k, v), k))
        .collect();
    attrs.sort_by(|a, b| b.cmp(a));
    for (size, name) in attrs {
        println!("  {size:>5}  {name}");
    }
    if let Some(serde_dynamo::AttributeValue::M(facts)) = item.get("facts") {
        println!("  facts, by field:");
        let mut fields: Vec<_> = facts
            .iter()
            .map(|(k, v)| (attribute_size(k, v), k))
            .collect();
        fields.sort_by(|a, b| b.cmp(a));
        for (size, name) in fields {
            println!("    {size:>5}  {name}");
        }
    }
    let _ = client.delete_table().table_name(&table).send().await;
}
