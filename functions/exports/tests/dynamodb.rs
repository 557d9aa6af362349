//! Export jobs on DynamoDB Local and a moto S3 bucket, on one table
//! seeded once with 10,000 orders of one seller: the job's object equals `GET /orders/export.csv`
//! byte for byte (all orders, then a status and an email filter), written in several parts; a
//! job stopped after a part (its deadline passed, then a crash that left an unrecorded part)
//! resumes to the same file; another seller's poll is `404`; a bad filter is `400` and stores
//! no job item.
//!
//! moto refuses parts under 5 MiB at completion unless the server runs with
//! `S3_UPLOAD_PART_MIN_SIZE` (infra/test.sh starts it with 1024): the worker here uses 256 KiB
//! parts so 10k orders make several. Production refuses anything under 5 MiB
//! (`export::checked_part_bytes`).

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use leenkies_adapters::dynamodb::exports::{partition_of, DynamoExports};
use leenkies_adapters::dynamodb::{setup, DynamoStore};
use leenkies_adapters::exports::s3::S3Sink;
use leenkies_domain::export::{ExportJobs, Step, Worker};
use leenkies_domain::tokens::DownloadKey;
use leenkies_integration_tests::env::{dynamodb_endpoint, s3_endpoint, unique_table};
use orders_api::routes::exports::{ExportLinks, ExportsConfig};
use serde_json::Value;
use support::*;
use tower::ServiceExt;

const ORDERS: usize = 10_000;
const PART: usize = 256 * 1024;
const JWT_SECRET: &str = "exports-test-jwt-secret";

fn token(seller: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        // A token as an identity provider issues it: issued now, for an hour (the local check
        // refuses a lifetime past its maximum).
        &serde_json::json!({
            "sub": seller,
            "iat": leenkies_domain::clock::now_secs(),
            "exp": leenkies_domain::clock::now_secs() + 3600,
        }),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn call(app: &axum::Router, method: &str, uri: &str, seller: &str) -> (u16, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", token(seller)))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

async fn job_items(client: &aws_sdk_dynamodb::Client, table: &str, seller: &str) -> usize {
    client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(partition_of(seller)),
        )
        .send()
        .await
        .unwrap()
        .count as usize
}

#[tokio::test]
async fn given_10k_orders_when_exported_by_jobs_then_each_file_equals_export_csv() {
    let (Some(dynamo), Some(moto)) = (dynamodb_endpoint(), s3_endpoint()) else {
        return; // env.rs refuses loudly unless skipping was asked for
    };
    // GIVEN 10,000 orders of one seller on DynamoDB Local, and an exports bucket on moto
    let client = setup::client(Some(&dynamo)).await;
    let table = unique_table("exports");
    setup::ensure_table(&client, &table).await.unwrap();
    seed(&client, &table, 0..ORDERS).await;
    let s3 = s3_client(&moto).await;
    let bucket_name = format!("exports-{}", table.to_lowercase().replace('_', "-"));
    bucket(&s3, &bucket_name).await;
    let orders = Arc::new(DynamoStore::new(client.clone(), table.clone()));
    let jobs = Arc::new(DynamoExports::new(client.clone(), table.clone()));
    let state = orders_api::ApiState::new(
        orders.clone(),
        orders_api::Auth::LocalHs256 {
            secret: JWT_SECRET.into(),
            seller_claim: "sub".into(),
            issuer: None,
            audiences: Vec::new(),
        },
        DownloadKey::new("k"),
        b"cursor".to_vec(),
        orders_api::ProductFiles::LocalDir(None),
    )
    .with_exports(ExportsConfig {
        jobs: jobs.clone(),
        links: ExportLinks::S3 {
            client: s3.clone(),
            bucket: bucket_name.clone(),
        },
        link_secs: 300,
    });
    let app = orders_api::router(state);
    let exporter = exporter(orders.clone(), jobs.clone(), s3.clone(), &bucket_name, PART);
    let http = reqwest::Client::new();

    for (query, want_rows) in [
        ("", ORDERS),
        ("?status=failed", ORDERS / FAILED_EVERY),
        ("?email=customer007%40example.com", ORDERS / CUSTOMERS),
    ] {
        // WHEN the seller posts an export and the worker runs off the job's writes
        let (status, body) = call(&app, "POST", &format!("/orders/exports{query}"), SELLER).await;
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
        let job: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(job["status"], "queued");
        let id = job["id"].as_str().unwrap().to_owned();
        drive(&exporter, jobs.as_ref(), SELLER, &id).await;
        // THEN it ended `succeeded`, and the object at its link is `export.csv`, byte for byte
        let (status, body) = call(&app, "GET", &format!("/orders/exports/{id}"), SELLER).await;
        assert_eq!(status, 200);
        let job: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(job["status"], "succeeded", "{job}");
        let url = job["download_url"].as_str().unwrap();
        let r = http.get(url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{url}");
        let file = r.bytes().await.unwrap().to_vec();
        let (status, streamed) =
            call(&app, "GET", &format!("/orders/export.csv{query}"), SELLER).await;
        assert_eq!(status, 200);
        assert!(
            file == streamed,
            "job file differs from export.csv for {query:?}"
        );
        // AND it holds the header and each matching order once, newest first
        let text = String::from_utf8(file).unwrap();
        let ids: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(ids.len(), want_rows, "{query}");
        let mut sorted = ids.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(ids, sorted, "each order once, newest first ({query})");
        assert_eq!(job["rows"], want_rows as u64);
        assert_eq!(job["bytes"], streamed.len() as u64);
        if query.is_empty() {
            assert!(job["parts"].as_u64().unwrap() >= 3, "{job}");
        }
    }

    // AND (test 2) a job stopped after its first part, then crashed after uploading an
    // unrecorded second part, resumes to the same file
    let (_, body) = call(&app, "POST", "/orders/exports", SELLER).await;
    let id = serde_json::from_slice::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sink = S3Sink::new(s3.clone(), &bucket_name);
    let step = |out_of_time: &'static (dyn Fn() -> bool + Send + Sync)| Worker {
        orders: orders.as_ref(),
        jobs: jobs.as_ref(),
        sink: &sink,
        part_bytes: PART,
        out_of_time,
        now: 0,
    };
    assert_eq!(
        step(&|| false).advance(SELLER, &id, None).await.unwrap(),
        Step::Progressed
    );
    assert_eq!(
        step(&|| false).advance(SELLER, &id, None).await.unwrap(),
        Step::Progressed
    );
    assert_eq!(
        step(&|| true).advance(SELLER, &id, None).await.unwrap(),
        Step::Deferred
    );
    let stopped = jobs.get_job(SELLER, &id).await.unwrap().unwrap();
    assert_eq!((stopped.parts(), stopped.retries), (1, 1));
    let upload = stopped.upload.clone().unwrap();
    leenkies_domain::export::ExportSink::upload_part(
        &sink,
        &stopped.object_key(),
        &upload.upload_id,
        2,
        stopped.bytes,
        vec![b'x'; PART],
    )
    .await
    .unwrap();
    drive(&exporter, jobs.as_ref(), SELLER, &id).await;
    let (_, body) = call(&app, "GET", &format!("/orders/exports/{id}"), SELLER).await;
    let job: Value = serde_json::from_slice(&body).unwrap();
    let file = http
        .get(job["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (_, streamed) = call(&app, "GET", "/orders/export.csv", SELLER).await;
    assert!(file.as_ref() == streamed.as_slice(), "resumed file differs");

    // AND (test 4) another seller's poll is a 404, and a bad filter a 400 with no job item
    let (status, _) = call(&app, "GET", &format!("/orders/exports/{id}"), "acct_other").await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, "GET", "/orders/exports/nope", SELLER).await;
    assert_eq!(status, 404);
    let before = job_items(&client, &table, SELLER).await;
    for bad in [
        "?status=lost",
        "?email=c",
        "?from=yesterday",
        "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let (status, _) = call(&app, "POST", &format!("/orders/exports{bad}"), SELLER).await;
        assert_eq!(status, 400, "{bad}");
    }
    assert_eq!(job_items(&client, &table, SELLER).await, before);
    // AND the job items never appear in the seller's listing
    let (_, body) = call(&app, "GET", "/orders?limit=100", SELLER).await;
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert!(list["orders"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["order_id"].as_str().unwrap().starts_with("pi_")));
}

/// The real `exports` binary under the Lambda Runtime API: a DynamoDB stream batch holding a
/// queued job's write (passed through the template's filter first, as AWS does) makes the CSV in
/// the bucket and the job `succeeded`.
#[tokio::test]
async fn given_a_stream_batch_with_a_queued_job_when_the_binary_runs_then_the_csv_is_in_the_bucket()
{
    use leenkies_integration_tests::runtime_api::{invoke_once, Reply};
    let (Some(ddb), Some(s3_endpoint)) = (dynamodb_endpoint(), s3_endpoint()) else {
        return;
    };
    // GIVEN a table with one queued job of a seller who has no orders, and an empty bucket
    let table = unique_table("rt-exports");
    let client = setup::client(Some(&ddb)).await;
    setup::ensure_table(&client, &table).await.expect("table");
    let jobs = DynamoExports::new(client.clone(), table.clone());
    let job = leenkies_domain::export::ExportJob::new(
        "acct_RUNTIME",
        "0123abcd",
        Default::default(),
        leenkies_domain::clock::now_secs(),
    );
    jobs.create_job(&job).await.expect("job");
    let s3 = s3_client(&s3_endpoint).await;
    let bucket_name = format!("rt-exports-{}", std::process::id());
    bucket(&s3, &bucket_name).await;
    let env = vec![
        ("ORDERS_TABLE", table.clone()),
        ("EXPORTS_BUCKET", bucket_name.clone()),
        ("AWS_ENDPOINT_URL_DYNAMODB", ddb.clone()),
        ("AWS_ENDPOINT_URL_S3", s3_endpoint.clone()),
        ("S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_exports"));
    // WHEN the binary handles each write of the job as the stream delivers it (one step per
    // write: the job's own write is the next record), until no record passes the filter
    let mut current = job.clone();
    let mut invocations = 0;
    loop {
        let image = leenkies_adapters::dynamodb::exports::job_to_image(&current).expect("image");
        let batch = serde_json::json!({"Records": [{
            "eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/x"),
            "dynamodb": {"ApproximateCreationDateTime": 1795600000, "Keys": {}, "NewImage": image,
                         "SequenceNumber": "100000000000000000001", "SizeBytes": 100,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }]});
        let record: aws_lambda_events::event::dynamodb::EventRecord =
            serde_json::from_value(batch["Records"][0].clone()).expect("a stream record");
        if !leenkies_adapters::dynamodb::stream_filter::passes_exports_filter(&record) {
            break;
        }
        assert!(invocations < 5, "the job never finished: {current:?}");
        invocations += 1;
        let invocation = invoke_once(binary, &env, batch, std::time::Duration::from_secs(30)).await;
        let Reply::Response(reply) = &invocation.reply else {
            panic!(
                "expected a response, got {:?}\n{}",
                invocation.reply, invocation.output
            )
        };
        assert_eq!(
            reply["batchItemFailures"],
            serde_json::json!([]),
            "{reply}\n{}",
            invocation.output
        );
        current = jobs
            .get_job("acct_RUNTIME", "0123abcd")
            .await
            .unwrap()
            .unwrap();
    }
    // THEN the job succeeded, and the bucket holds its CSV (the header row)
    assert_eq!(
        current.status,
        leenkies_domain::export::JobStatus::Succeeded,
        "{:?}",
        current.error
    );
    let object = s3
        .get_object()
        .bucket(&bucket_name)
        .key(job.object_key())
        .send()
        .await
        .expect("the CSV object");
    let csv = object.body.collect().await.unwrap().into_bytes();
    assert!(
        csv.starts_with(b"order_id,"),
        "{}",
        String::from_utf8_lossy(&csv)
    );
}
