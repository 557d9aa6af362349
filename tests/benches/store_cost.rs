//! What the webhook costs on DynamoDB, measured with `ReturnConsumedCapacity=INDEXES` on DynamoDB
//! Local: requests, read units and write units (base table and GSI writes together, as DynamoDB
//! bills them, and the GSIs' share) per event, for every shared fixture folded as a new event and
//! again as a duplicate, refused conditional writes counted at their item's size; the whole paid
//! order (checkout.session.completed + payment_intent.succeeded + charge.succeeded + the delivery
//! email's claim and `sent`, as the fulfillment function writes them) against the store's
//! budgets (≤ 3 write units per new event on average, ≤ 8 for any, 0 for a duplicate) and the
//! paid order's (≤ 13 since the card index and the dispute-rate counters; ≤ 10 before them);
//! and the size of that order's item, attribute by attribute.
//!
//! `DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo bench -p leenkies-integration-tests --bench store_cost`
//! Under `cargo test` (no `--bench` argument) it does nothing.

use std::collections::BTreeMap;

use leenkies_adapters::dynamodb::capacity::{attribute_size, item_size};
use leenkies_adapters::dynamodb::item::order_to_stored;
use leenkies_adapters::dynamodb::names::AttributeNames;
use leenkies_adapters::dynamodb::{setup, store::DynamoStore};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::fulfillment::{claim, complete, Claim, Policy};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::{OrderStore, OutgoingEmail};
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
    index_write_units: f64,
    failed_writes: u64,
}

impl Cost {
    fn add_capacity(&mut self, c: &leenkies_adapters::dynamodb::Capacity) {
        self.index_write_units += c.index_write_units;
        self.failed_writes += c.failed_writes;
        self.add(c.requests, c.read_units, c.write_units);
    }
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
            "{label:<34} {:>3} events  requests/event {:.2} (max {})  RCU/event {:.2}  WCU/event {:.2} (max {:.0}, GSIs {:.2}/event, refused writes {})",
            self.events,
            self.requests as f64 / n,
            self.max_requests,
            self.read_units / n,
            self.write_units / n,
            self.max_write_units,
            self.index_write_units / n,
            self.failed_writes
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
                new_all.add_capacity(&c);
                new_by_kind
                    .entry(kind_of(name))
                    .or_default()
                    .add_capacity(&c);
            } else {
                assert_eq!(outcome.as_str(), "duplicate", "{name} delivered twice");
                dup_all.add_capacity(&c);
            }
        }
    }
    println!("== store cost per event (DynamoDB Local, ReturnConsumedCapacity=INDEXES, 5 GSIs projecting KEYS_ONLY) ==");
    println!("{}", new_all.line("new event (all fixtures)"));
    println!("{}", dup_all.line("duplicate (all fixtures)"));
    for (kind, cost) in &new_by_kind {
        println!("{}", cost.line(&format!("  new {kind}")));
    }

    // Every order item the fixtures left, by size: a typical order fits one write unit (1 KB),
    // and none may need more than one read unit (4 KB).
    let sizes = order_item_sizes(&client, &table).await;
    println!();
    println!("== order items after every fixture (DynamoDB's size rule) ==");
    for (bytes, pk) in &sizes {
        println!("  {bytes:>5}  {pk}");
    }
    let largest = sizes.first().map(|(b, _)| *b).unwrap_or(0);
    let over_one_kb = sizes.iter().filter(|(b, _)| *b > 1024).count();
    println!(
        "  {} orders, {over_one_kb} over 1 KB, largest {largest} bytes",
        sizes.len()
    );

    // The typical paid order on a fresh table, in three arrival orders (Stripe does not promise
    // one): the scenarios' S01 order, the order Stripe creates the events in, and the
    // PaymentIntent first. Then the delivery email's claim and `sent` as the fulfillment function
    // writes them (a read of the order before each).
    let orders: [(&str, [&str; 3]); 3] = [
        (
            "checkout first (S01)",
            [
                "ord_1001__01__checkout.session.completed.json",
                "ord_1001__01__payment_intent.succeeded.json",
                "ord_1001__01__charge.succeeded.json",
            ],
        ),
        (
            "charge first (as Stripe creates them)",
            [
                "ord_1001__01__charge.succeeded.json",
                "ord_1001__01__payment_intent.succeeded.json",
                "ord_1001__01__checkout.session.completed.json",
            ],
        ),
        (
            "payment intent first",
            [
                "ord_1001__01__payment_intent.succeeded.json",
                "ord_1001__01__charge.succeeded.json",
                "ord_1001__01__checkout.session.completed.json",
            ],
        ),
    ];
    let mut wholes = Vec::new();
    let mut record = None;
    for (label, events) in orders {
        let (whole, paid) = paid_order(&client, &dir, label, &events).await;
        wholes.push((label, whole));
        record.get_or_insert(paid);
    }
    let Some(record) = record else {
        unreachable!("three arrival orders were measured")
    };
    let whole_max = wholes
        .iter()
        .map(|(_, c)| c.write_units)
        .fold(0.0_f64, f64::max);

    // The store's budgets and the paid order's (13 write units: the card index's entry and one
    // dispute-rate counter on top of the 11 before them), by DynamoDB Local's own accounting.
    let n = new_all.events.max(1) as f64;
    let verdicts = [
        (
            "average WCU per new event <= 3",
            new_all.write_units / n <= 3.0,
        ),
        ("WCU of any new event <= 8", new_all.max_write_units <= 8.0),
        ("WCU of a duplicate = 0", dup_all.write_units == 0.0),
        ("WCU of the whole paid order <= 13", whole_max <= 13.0),
        ("no order item over 4 KB", largest <= 4096),
    ];
    println!();
    println!("== budgets (the store's; the paid order's of the dispute round) ==");
    for (budget, held) in verdicts {
        println!("  {:<40} {}", budget, if held { "holds" } else { "MISSED" });
    }

    let item = order_to_stored(&record, AttributeNames::default()).expect("item");
    println!();
    println!("== typical paid order item (checkout + payment_intent + charge succeeded, fulfillment sent) ==");
    println!(
        "JSON of the record {} bytes",
        serde_json::to_vec(&record).map(|v| v.len()).unwrap_or(0)
    );
    breakdown(&item);
    for (_, pk) in sizes.iter().take_while(|(bytes, _)| *bytes > 1024) {
        let largest = client
            .get_item()
            .table_name(&table)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("ORDER".into()),
            )
            .send()
            .await
            .expect("read the largest order")
            .item
            .unwrap_or_default();
        println!();
        println!("== an order item of the fixtures over 1 KB ==");
        breakdown(&largest.into());
    }
    let _ = client.delete_table().table_name(&table).send().await;
}

/// Every order item of `table` as `(bytes, pk)`, largest first.
async fn order_item_sizes(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<(usize, String)> {
    let mut sizes = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in out.items.unwrap_or_default() {
            let is_order = matches!(
                item.get("kind"),
                Some(aws_sdk_dynamodb::types::AttributeValue::S(k)) if k == "order"
            );
            if !is_order {
                continue;
            }
            let image: serde_dynamo::Item = item.clone().into();
            let pk = match item.get("pk") {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) => pk.clone(),
                _ => String::new(),
            };
            sizes.push((item_size(&image), pk));
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    sizes.sort_by(|a, b| b.cmp(a));
    sizes
}

/// The paid order's three events in `events`' order on a fresh table, then the delivery email's
/// claim and `sent`; prints each step and returns the whole cost and the final order.
async fn paid_order(
    client: &aws_sdk_dynamodb::Client,
    dir: &std::path::Path,
    label: &str,
    events: &[&str],
) -> (leenkies_adapters::dynamodb::Capacity, OrderRecord) {
    let paid_table = unique_table("bench-paid");
    setup::ensure_table(client, &paid_table)
        .await
        .expect("create table");
    let paid_store = DynamoStore::new(client.clone(), &paid_table);
    println!();
    println!("== whole paid order, {label} ==");
    let mut seller = String::new();
    let mut order_id = String::new();
    let paid_before = paid_store.consumed();
    for name in events {
        let body = std::fs::read(dir.join(name)).expect("fixture");
        let event = Event::parse(&body).expect("parses");
        let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
            panic!("{name} folds");
        };
        let before = paid_store.consumed();
        fold(&paid_store, &folding, RetryPolicy::default())
            .await
            .expect("fold");
        let c = paid_store.consumed().since(&before);
        println!(
            "paid order: {:<40} {} request(s), {:.1} RCU, {:.0} WCU ({:.0} on GSIs)",
            kind_of(name),
            c.requests,
            c.read_units,
            c.write_units,
            c.index_write_units
        );
        seller = folding.seller_id.clone();
        if let leenkies_domain::order::from_event::Target::Order { order_id: o } = &folding.target {
            order_id = o.clone();
        }
    }
    let before = paid_store.consumed();
    let current: OrderRecord = paid_store
        .get_order(&seller, &order_id)
        .await
        .expect("read")
        .expect("the paid order exists");
    let now = current.facts.last_event_at.unwrap_or(0) + 1;
    let policy = Policy {
        lease_secs: 60,
        max_attempts: 5,
    };
    let Claim::Claimed(claimed) = claim(&current, now, &policy) else {
        panic!("the paid order is claimable");
    };
    paid_store
        .put_order(&claimed, Some(current.version), &[])
        .await
        .expect("claim");
    let claim_cost = paid_store.consumed().since(&before);
    let before = paid_store.consumed();
    let current: OrderRecord = paid_store
        .get_order(&seller, &order_id)
        .await
        .expect("read")
        .expect("the paid order exists");
    let email = OutgoingEmail {
        to: current
            .facts
            .customer_email()
            .unwrap_or_default()
            .to_owned(),
        reply_to: None,
        subject: format!(
            "Your {} is ready to download",
            current.facts.product_name().unwrap_or("product")
        ),
        text: String::new(),
        html: String::new(),
        order_id: order_id.clone(),
        seller_id: seller.clone(),
        about: Default::default(),
    };
    let mut record = complete(
        &current,
        now + 1,
        "010001968f3a6b2e-5c1f0a8e-3d3c-4b7e-9a51-6f2a7c9e1b44-000000",
        &email,
    );
    paid_store
        .put_order(&record, Some(current.version), &[])
        .await
        .expect("record sent");
    let sent_cost = paid_store.consumed().since(&before);
    let whole = paid_store.consumed().since(&paid_before);
    record = paid_store
        .get_order(&seller, &order_id)
        .await
        .expect("read")
        .unwrap_or(record);
    for (label, c) in [
        ("fulfillment claim", claim_cost),
        ("fulfillment sent", sent_cost),
    ] {
        println!(
            "paid order: {label:<40} {} request(s), {:.1} RCU, {:.0} WCU ({:.0} on GSIs)",
            c.requests, c.read_units, c.write_units, c.index_write_units
        );
    }
    println!(
        "paid order, whole (3 events + claim + sent), {label}: {} requests, {:.1} RCU, {:.0} WCU",
        whole.requests, whole.read_units, whole.write_units
    );
    let _ = client.delete_table().table_name(&paid_table).send().await;
    (whole, record)
}

/// An item's size by DynamoDB's rule, attribute by attribute, and its maps field by field.
fn breakdown(item: &serde_dynamo::Item) {
    println!(
        "item size {} bytes (DynamoDB's rule: names + values)",
        item_size(item)
    );
    let mut attrs: Vec<_> = item
        .iter()
        .map(|(k, v)| (attribute_size(k, v), k))
        .collect();
    attrs.sort_by(|a, b| b.cmp(a));
    for (size, name) in attrs {
        println!("  {size:>5}  {name}");
    }
    // The long form (the domain's names) and the stored one (`dynamodb::names`).
    for map in ["facts", "fulfillment", "f", "u"] {
        if let Some(serde_dynamo::AttributeValue::M(fields)) = item.get(map) {
            println!("  {map}, by field:");
            let mut fields: Vec<_> = fields
                .iter()
                .map(|(k, v)| (attribute_size(k, v), k))
                .collect();
            fields.sort_by(|a, b| b.cmp(a));
            for (size, name) in fields {
                println!("    {size:>5}  {name}");
            }
        }
    }
}
