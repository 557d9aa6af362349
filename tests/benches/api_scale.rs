//! Listing at scale: the latency and consumed capacity of the first page and the deepest page of
//! 25 orders, for one seller holding 1k, 10k and 100k orders in DynamoDB Local. The orders are
//! seeded with `BatchWriteItem` directly (the adapter's own item shape, `OrderItem::from`), each a
//! copy of a real paid order with its own id and creation time, so every index holds them.
//!
//! The email search is measured on the same seller (all its orders are one customer's: a prefix
//! of that address and the address itself, first and deepest page) and on a second seller with
//! distinct customers (as many as the largest scale, at most 10k), searched by a two-letter
//! prefix that ~1/26 of them share.
//!
//! `DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo bench -p leenkies-integration-tests --bench api_scale -- --bench [--scale 1000,10000,100000]`
//! Under `cargo test` (no `--bench` argument) it does nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use leenkies_adapters::dynamodb::item::OrderItem;
use leenkies_adapters::dynamodb::{setup, store::DynamoStore};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::order::{FulfillmentState, OrderRecord, PaymentStatus};
use leenkies_domain::ports::{OrderFilter, OrderQuery, OrderStore, PagePosition};
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::env::unique_table;
use leenkies_integration_tests::stripe::shared_event;

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
const BASE_CREATED: i64 = 1_700_000_000;
const PAGE: usize = 25;
const REPEAT: usize = 15;

fn paid_order() -> OrderRecord {
    let mut record = OrderRecord::new(SELLER, "pi_template");
    for name in [
        "ord_1001__01__checkout.session.completed.json",
        "ord_1001__01__payment_intent.succeeded.json",
        "ord_1001__01__charge.succeeded.json",
    ] {
        let body = shared_event(name);
        let event = Event::parse(&body).expect("parses");
        let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
            panic!("{name} folds");
        };
        record.facts.merge(&folding.facts);
    }
    record.version = 4;
    record.fulfillment.state = FulfillmentState::Sent;
    record.fulfillment.sent_at = record.facts.last_event_at.map(|t| t + 2);
    record.fulfillment.message_id = Some("010001968f3a6b2e-5c1f0a8e-bench-000000".into());
    record
}

const CUSTOMERS_SELLER: &str = "acct_1QCustomers00000";

/// Order `i` of the seller with distinct customers: address `i` starts with one of 26 letters
/// then a second one, so a two-letter prefix like `jo` is shared by ~1/26 of the customers.
fn customer_order(template: &OrderRecord, i: usize) -> OrderRecord {
    let mut r = nth(template, i);
    r.seller_id = CUSTOMERS_SELLER.to_owned();
    let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
    let second = if i % 26 == 9 { 'o' } else { letter(i / 26) };
    let email = format!("{}{}customer{i:06}@example.com", letter(i), second);
    if let Some(reg) = r.facts.customer_email.as_mut() {
        reg.value = email;
    }
    r
}

fn order_id(i: usize) -> String {
    format!("pi_3QScale{i:08}")
}

fn nth(template: &OrderRecord, i: usize) -> OrderRecord {
    let mut r = template.clone();
    r.order_id = order_id(i);
    r.facts.pi_created = Some(BASE_CREATED + i as i64);
    r
}

type Item = HashMap<String, AttributeValue>;

async fn seed(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    template: &OrderRecord,
    range: std::ops::Range<usize>,
) {
    let items: Vec<Item> = range
        .map(|i| serde_dynamo::to_item(OrderItem::from(&nth(template, i))).expect("item"))
        .collect();
    let batches: Vec<Vec<Item>> = items.chunks(25).map(<[Item]>::to_vec).collect();
    let unprocessed = write_batches(client, table, batches).await;
    assert_eq!(unprocessed, 0, "items left unprocessed after retries");
}

/// Writes the batches, eight requests in flight; returns how many items stayed unprocessed
/// after retrying them.
async fn write_batches(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    batches: Vec<Vec<Item>>,
) -> usize {
    let mut handles = Vec::new();
    let chunks: Vec<Vec<Vec<Item>>> = {
        let mut lanes: Vec<Vec<Vec<Item>>> = (0..8).map(|_| Vec::new()).collect();
        for (i, b) in batches.into_iter().enumerate() {
            lanes[i % 8].push(b);
        }
        lanes
    };
    for lane in chunks {
        let client = client.clone();
        let table = table.to_owned();
        handles.push(tokio::spawn(async move {
            let mut left = 0;
            for batch in lane {
                let mut requests: Vec<WriteRequest> = batch
                    .into_iter()
                    .map(|item| {
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder()
                                    .set_item(Some(item))
                                    .build()
                                    .expect("put"),
                            )
                            .build()
                    })
                    .collect();
                for _attempt in 0..10 {
                    let out = client
                        .batch_write_item()
                        .request_items(&table, requests)
                        .send()
                        .await
                        .expect("BatchWriteItem");
                    requests = out
                        .unprocessed_items()
                        .and_then(|m| m.get(&table))
                        .cloned()
                        .unwrap_or_default();
                    if requests.is_empty() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                left += requests.len();
            }
            left
        }));
    }
    let mut left = 0;
    for h in handles {
        left += h.await.expect("seeding task");
    }
    left
}

struct Measured {
    median: Duration,
    p90: Duration,
    read_units: f64,
    requests: f64,
    returned: usize,
}

/// Times the query; an error (the store's bounded timeouts) is a row of the table, not a panic.
async fn measure(
    store: &DynamoStore,
    seller: &str,
    query: &OrderQuery,
    expect_first: Option<&str>,
) -> Result<Measured, String> {
    let mut times = Vec::new();
    let mut units = 0.0;
    let mut requests = 0;
    let mut returned = 0;
    for round in 0..REPEAT + 2 {
        let before = store.consumed();
        let started = Instant::now();
        let page = store
            .list_orders(seller, query)
            .await
            .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let cost = store.consumed().since(&before);
        if let Some(expected) = expect_first {
            assert_eq!(
                page.orders.first().map(|o| o.order_id.as_str()),
                Some(expected)
            );
        }
        if round >= 2 {
            // two warm-up rounds
            times.push(took);
            units += cost.read_units;
            requests += cost.requests;
            returned = page.orders.len();
        }
    }
    times.sort();
    Ok(Measured {
        median: times[times.len() / 2],
        p90: times[(times.len() * 9).div_ceil(10) - 1],
        read_units: units / REPEAT as f64,
        requests: requests as f64 / REPEAT as f64,
        returned,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") else {
        eprintln!("api_scale: DYNAMODB_ENDPOINT is not set (infra/bench.sh starts DynamoDB Local); skipped");
        return;
    };
    let scales: Vec<usize> = args
        .iter()
        .position(|a| a == "--scale")
        .and_then(|i| args.get(i + 1))
        .map(|s| {
            s.split(',')
                .map(|n| n.trim().parse().expect("--scale n,n,…"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let client = setup::client(Some(&endpoint)).await;
    let table = unique_table("bench-scale");
    setup::ensure_table(&client, &table)
        .await
        .expect("create table");
    let store = DynamoStore::new(client.clone(), &table);
    let template = paid_order();
    let item_bytes = serde_json::to_vec(&OrderItem::from(&nth(&template, 0)))
        .map(|v| v.len())
        .unwrap_or(0);
    println!("== listing one seller's orders, pages of {PAGE} (DynamoDB Local; median/p90 of {REPEAT} after 2 warm-up) ==");
    println!("order item ≈ {item_bytes} bytes as JSON");
    println!(
        "{:>8}  {:<26} {:>9} {:>9} {:>6} {:>9} {:>6}",
        "orders", "page", "median", "p90", "RCU", "requests", "items"
    );
    let customers = scales.iter().copied().max().unwrap_or(0).min(10_000);
    {
        let items: Vec<Item> = (0..customers)
            .map(|i| {
                serde_dynamo::to_item(OrderItem::from(&customer_order(&template, i))).expect("item")
            })
            .collect();
        let batches: Vec<Vec<Item>> = items.chunks(25).map(<[Item]>::to_vec).collect();
        assert_eq!(
            write_batches(&client, &table, batches).await,
            0,
            "customers seeded"
        );
    }
    let mut seeded = 0;
    for &n in &scales {
        let started = Instant::now();
        seed(&client, &table, &template, seeded..n).await;
        let seeding = started.elapsed();
        eprintln!(
            "seeded {} orders in {:.1?} ({} total)",
            n - seeded,
            seeding,
            n
        );
        seeded = n;
        let first = OrderQuery {
            filter: OrderFilter::All,
            from: None,
            to: None,
            limit: PAGE,
            after: None,
        };
        // the deepest full page: the one that ends with the oldest order
        let after = PagePosition {
            created_at: BASE_CREATED + PAGE as i64,
            order_id: order_id(PAGE),
        };
        let deep = OrderQuery {
            after: Some(after.clone()),
            ..first.clone()
        };
        let by_status_first = OrderQuery {
            filter: OrderFilter::Status(PaymentStatus::Succeeded),
            ..first.clone()
        };
        let by_status_deep = OrderQuery {
            after: Some(after),
            ..by_status_first.clone()
        };
        let email_deep = OrderQuery {
            filter: OrderFilter::EmailPrefix("jordan".into()),
            ..deep.clone()
        };
        let email_first = OrderQuery {
            after: None,
            ..email_deep.clone()
        };
        let exact = template
            .facts
            .customer_email()
            .unwrap_or_default()
            .to_lowercase();
        let exact_first = OrderQuery {
            filter: OrderFilter::EmailPrefix(exact.clone()),
            ..first.clone()
        };
        let exact_deep = OrderQuery {
            filter: OrderFilter::EmailPrefix(exact),
            ..deep.clone()
        };
        let two_letters = OrderQuery {
            filter: OrderFilter::EmailPrefix("jo".into()),
            ..first.clone()
        };
        for (label, query, expect) in [
            ("first page", &first, Some(order_id(n - 1))),
            ("deepest page", &deep, Some(order_id(PAGE - 1))),
            (
                "status=succeeded, first",
                &by_status_first,
                Some(order_id(n - 1)),
            ),
            (
                "status=succeeded, deepest",
                &by_status_deep,
                Some(order_id(PAGE - 1)),
            ),
            ("email=jordan…, first", &email_first, Some(order_id(n - 1))),
            (
                "email=jordan…, deepest",
                &email_deep,
                Some(order_id(PAGE - 1)),
            ),
            (
                "email=<address>, first",
                &exact_first,
                Some(order_id(n - 1)),
            ),
            (
                "email=<address>, deepest",
                &exact_deep,
                Some(order_id(PAGE - 1)),
            ),
            ("email=jo (other seller)", &two_letters, None),
        ] {
            let seller = if std::ptr::eq(query, &two_letters) {
                CUSTOMERS_SELLER
            } else {
                SELLER
            };
            let m = match measure(&store, seller, query, expect.as_deref()).await {
                Ok(m) => m,
                Err(error) => {
                    println!("{n:>8}  {label:<26} failed: {error}");
                    continue;
                }
            };
            println!(
                "{n:>8}  {label:<26} {:>7.2}ms {:>7.2}ms {:>6.1} {:>9.1} {:>6}",
                m.median.as_secs_f64() * 1e3,
                m.p90.as_secs_f64() * 1e3,
                m.read_units,
                m.requests,
                m.returned
            );
        }
    }
    let _ = client.delete_table().table_name(&table).send().await;
}
