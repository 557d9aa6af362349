//! Cold start of each Lambda binary: exec to its first reply under the Lambda Runtime API harness
//! (`support/runtime_api.rs`), `N` fresh processes each, median and p90. The webhook folds one
//! signed event into DynamoDB Local; the orders API answers `GET /orders` with the authorizer's
//! claims (one Query); fulfillment answers an empty stream batch (no email, so no SES needed).
//!
//! Needs the release binaries (`cargo build --release -p stripe-webhook -p orders-api -p
//! fulfillment`; `LEENKIES_RELEASE_DIR` or `$CARGO_TARGET_DIR/release`) and DynamoDB Local:
//! `DYNAMODB_ENDPOINT=… cargo bench -p leenkies-integration-tests --bench cold_start -- --bench [--runs N]`.
//! Under `cargo test` (no `--bench` argument) it does nothing.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use leenkies_adapters::dynamodb::setup;
use leenkies_integration_tests::env::unique_table;
use leenkies_integration_tests::runtime_api::{invoke_once, Reply};
use leenkies_integration_tests::stripe::{shared_fixtures, signature};
use serde_json::{json, Value};

const SECRET: &str = "whsec_cold_start_bench";
const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";

fn release_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("LEENKIES_RELEASE_DIR") {
        return dir.into();
    }
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("release")
}

fn http_event(
    method: &str,
    path: &str,
    headers: Value,
    body: Option<&[u8]>,
    claims: Option<Value>,
) -> Value {
    let mut context = json!({
        "accountId": "123456789012", "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "domainPrefix": "abc123",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                 "sourceIp": "54.187.174.169", "userAgent": "bench"},
        "requestId": "req-1", "routeKey": format!("{method} {path}"), "stage": "$default",
        "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_600_000_000u64
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path,
        "rawQueryString": "", "headers": headers, "requestContext": context,
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        event["isBase64Encoded"] = json!(true);
    }
    event
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(15);
    let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") else {
        eprintln!("cold_start: DYNAMODB_ENDPOINT is not set (infra/bench.sh starts DynamoDB Local); skipped");
        return;
    };
    let client = setup::client(Some(&endpoint)).await;
    let table = unique_table("bench-cold");
    setup::ensure_table(&client, &table)
        .await
        .expect("create table");
    let aws_env = |extra: &[(&'static str, String)]| {
        let mut env = vec![
            ("ORDERS_TABLE", table.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ];
        env.extend_from_slice(extra);
        env
    };
    let body =
        std::fs::read(shared_fixtures().join("events/ord_1001__01__payment_intent.succeeded.json"))
            .expect("fixture");

    println!(
        "== cold start: exec to first reply under the Lambda Runtime API ({runs} runs each) =="
    );
    println!(
        "{:<16} {:>9} {:>9} {:>9}  {:>10}  reply",
        "binary", "median", "p90", "min", "size"
    );
    let dir = release_dir();
    for binary in ["stripe-webhook", "orders-api", "fulfillment"] {
        let path = dir.join(binary);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size == 0 {
            println!("{binary:<16} not built ({})", path.display());
            continue;
        }
        let mut times = Vec::new();
        let mut last = String::new();
        for _ in 0..runs {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let (env, event) = match binary {
                "stripe-webhook" => (
                    aws_env(&[
                        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
                        ("STRIPE_LIVEMODE", "any".to_owned()),
                    ]),
                    http_event(
                        "POST",
                        "/webhooks/stripe",
                        json!({"content-type": "application/json; charset=utf-8",
                               "stripe-signature": signature(SECRET, now, &body)}),
                        Some(&body),
                        None,
                    ),
                ),
                "orders-api" => (
                    aws_env(&[("DOWNLOAD_SIGNING_KEY", "bench-download-key".to_owned())]),
                    http_event(
                        "GET",
                        "/orders",
                        json!({}),
                        None,
                        Some(json!({"sub": SELLER})),
                    ),
                ),
                _ => (
                    aws_env(&[
                        ("SENDER_EMAIL", "orders@example.com".to_owned()),
                        ("DOWNLOAD_SIGNING_KEY", "bench-download-key".to_owned()),
                        ("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:9".to_owned()),
                        ("PUBLIC_BASE_URL", "https://orders.example.com".to_owned()),
                    ]),
                    json!({"Records": []}),
                ),
            };
            let path = path.clone();
            // a binary that never replies makes invoke_once panic: report it, do not abort
            let run = tokio::spawn(async move {
                invoke_once(&path, &env, event, Duration::from_secs(10)).await
            })
            .await;
            match run {
                Ok(invocation) => {
                    last = match &invocation.reply {
                        Reply::Response(v) => format!(
                            "response {}",
                            v.get("statusCode")
                                .map(|s| s.to_string())
                                .unwrap_or_else(|| "ok".into())
                        ),
                        Reply::Error(v) => format!("error {v}"),
                        Reply::InitError(v) => format!("init error {v}"),
                    };
                    times.push(invocation.exec_to_reply);
                }
                Err(_) => {
                    last = "no reply within 10 s".into();
                    break;
                }
            }
        }
        if times.is_empty() {
            println!(
                "{binary:<16} {:>9} {:>9} {:>9}  {:>10}  {last}",
                "-", "-", "-", size
            );
            continue;
        }
        times.sort();
        println!(
            "{binary:<16} {:>7.1}ms {:>7.1}ms {:>7.1}ms  {:>10}  {last}",
            percentile(&times, 50.0).as_secs_f64() * 1e3,
            percentile(&times, 90.0).as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            size
        );
    }
    let _ = client.delete_table().table_name(&table).send().await;
}
