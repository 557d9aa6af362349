//! What the exports tests and the `exports_scale` bench share: orders seeded with
//! `BatchWriteItem` directly (the adapter's own item shape, as `tests/benches/api_scale.rs`
//! does), a moto S3 bucket, and a worker driven as the stream would drive it.

#![allow(dead_code)] // each target uses its part

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use exports::Exporter;
use leenkies_adapters::dynamodb::exports::{job_to_image, DynamoExports};
use leenkies_adapters::dynamodb::item::OrderItem;
use leenkies_adapters::dynamodb::DynamoStore;
use leenkies_adapters::exports::s3::S3Sink;
use leenkies_domain::export::{ExportJob, ExportJobs};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::order::OrderRecord;
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::stripe::shared_event;

pub const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
pub const BASE_CREATED: i64 = 1_700_000_000;
/// Every `FAILED_EVERY`-th order is a failed payment; the others are paid.
pub const FAILED_EVERY: usize = 5;
/// Distinct customers: order `i` is customer `i % CUSTOMERS`'s.
pub const CUSTOMERS: usize = 40;

fn folded(names: &[&str]) -> OrderRecord {
    let mut record = OrderRecord::new(SELLER, "pi_template");
    for name in names {
        let body = shared_event(name);
        let event = Event::parse(&body).expect("parses");
        let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
            panic!("{name} folds");
        };
        record.facts.merge(&folding.facts);
    }
    record.version = 3;
    record
}

/// The two shapes orders are copied from: a paid order and a failed one.
pub fn templates() -> (OrderRecord, OrderRecord) {
    (
        folded(&[
            "ord_1001__01__checkout.session.completed.json",
            "ord_1001__01__payment_intent.succeeded.json",
            "ord_1001__01__charge.succeeded.json",
        ]),
        folded(&[
            "ord_1002__01__payment_intent.payment_failed.json",
            "ord_1002__01__charge.failed.json",
        ]),
    )
}

pub fn customer_email(i: usize) -> String {
    format!("customer{:03}@example.com", i % CUSTOMERS)
}

/// Order `i` of `SELLER`: its own id, creation time and customer.
pub fn nth(templates: &(OrderRecord, OrderRecord), i: usize) -> OrderRecord {
    let mut r = if i.is_multiple_of(FAILED_EVERY) {
        templates.1.clone()
    } else {
        templates.0.clone()
    };
    r.seller_id = SELLER.to_owned();
    r.order_id = format!("pi_3QExport{i:08}");
    r.facts.pi_created = Some(BASE_CREATED + i as i64);
    if let Some(reg) = r.facts.customer_email.as_mut() {
        reg.value = customer_email(i);
    }
    r
}

type Item = HashMap<String, AttributeValue>;

/// Seeds orders `range`, eight `BatchWriteItem` requests in flight.
pub async fn seed(client: &aws_sdk_dynamodb::Client, table: &str, range: std::ops::Range<usize>) {
    let templates = templates();
    let items: Vec<Item> = range
        .map(|i| serde_dynamo::to_item(OrderItem::from(&nth(&templates, i))).expect("item"))
        .collect();
    let mut lanes: Vec<Vec<Vec<Item>>> = (0..8).map(|_| Vec::new()).collect();
    for (i, batch) in items.chunks(25).enumerate() {
        lanes[i % 8].push(batch.to_vec());
    }
    let mut handles = Vec::new();
    for lane in lanes {
        let client = client.clone();
        let table = table.to_owned();
        handles.push(tokio::spawn(async move {
            for batch in lane {
                let mut requests: Vec<WriteRequest> = batch
                    .into_iter()
                    .map(|item| {
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder().set_item(Some(item)).build().unwrap(),
                            )
                            .build()
                    })
                    .collect();
                // A busy machine can make DynamoDB Local miss the store client's 3 s bound: a
                // timed-out batch is sent again (puts of the same items are idempotent).
                for _ in 0..20 {
                    match client
                        .batch_write_item()
                        .request_items(&table, requests.clone())
                        .send()
                        .await
                    {
                        Ok(out) => {
                            requests = out
                                .unprocessed_items()
                                .and_then(|m| m.get(&table))
                                .cloned()
                                .unwrap_or_default()
                        }
                        Err(e) => eprintln!("BatchWriteItem failed, retrying: {e}"),
                    }
                    if requests.is_empty() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                assert!(requests.is_empty(), "items left unprocessed");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}

/// An S3 client on moto (path-style: moto answers on one host).
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let sdk = leenkies_adapters::dynamodb::sdk_config(Some(endpoint)).await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub async fn bucket(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("CreateBucket");
}

pub fn exporter(
    orders: Arc<DynamoStore>,
    jobs: Arc<DynamoExports>,
    s3: aws_sdk_s3::Client,
    bucket: &str,
    part_bytes: usize,
) -> Exporter {
    Exporter {
        orders,
        jobs,
        sink: Arc::new(S3Sink::new(s3, bucket)),
        part_bytes,
    }
}

/// Feeds the job's own writes back to the exporter, as the stream's event source would, until
/// the job is final; the steps taken.
pub async fn drive(exporter: &Exporter, jobs: &dyn ExportJobs, seller: &str, id: &str) -> usize {
    let mut steps = 0;
    loop {
        let job: ExportJob = jobs.get_job(seller, id).await.unwrap().expect("job");
        if !job.status.needs_work() {
            return steps;
        }
        let mut record = aws_lambda_events::event::dynamodb::EventRecord::default();
        record.event_name = "MODIFY".into();
        record.change.sequence_number = Some(format!("{steps:021}"));
        record.change.new_image = job_to_image(&job).unwrap();
        let response = exporter
            .handle_records(&[record], Instant::now() + Duration::from_secs(900))
            .await;
        assert!(response.batch_item_failures.is_empty(), "a step failed");
        steps += 1;
        assert!(steps < 10_000, "the job never ends");
    }
}
