//! The real `orders-api` binary under the Lambda Runtime API: an API Gateway HTTP API (v2)
//! request carrying the JWT authorizer's verified claims reads an order from DynamoDB Local.

use std::path::Path;
use std::time::Duration;

use leenkies_adapters::dynamodb::{setup, DynamoStore};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::env::{dynamodb_endpoint, unique_table};
use leenkies_integration_tests::runtime_api::{invoke_once, Reply};
use leenkies_integration_tests::stripe::shared_event;
use serde_json::json;

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
const ORDER: &str = "pi_3QMpFn8cKdV3nWpT2DksRg19";

fn request(path: &str, seller: &str) -> serde_json::Value {
    json!({
        "version": "2.0",
        "routeKey": "GET /orders/{order_id}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"authorization": "Bearer verified-by-api-gateway", "accept": "application/json"},
        "pathParameters": {"order_id": ORDER},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "authorizer": {"jwt": {"claims": {"sub": seller, "iss": "https://issuer.example"}, "scopes": null}},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "dashboard"},
            "requestId": "req-2",
            "routeKey": "GET /orders/{order_id}",
            "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_600_000_000u64
        },
        "isBase64Encoded": false
    })
}

async fn run(table: &str, endpoint: &str, event: serde_json::Value) -> serde_json::Value {
    let env = [
        ("ORDERS_TABLE", table.to_owned()),
        (
            "DOWNLOAD_SIGNING_KEY",
            "runtime-protocol-download-key".to_owned(),
        ),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let binary = Path::new(env!("CARGO_BIN_EXE_orders-api"));
    let invocation = invoke_once(binary, &env, event, Duration::from_secs(30)).await;
    println!(
        "orders-api exec to first reply: {:?}",
        invocation.exec_to_reply
    );
    match invocation.reply {
        Reply::Response(reply) => reply,
        other => panic!("expected a response, got {other:?}\n{}", invocation.output),
    }
}

#[tokio::test]
async fn given_authorizer_claims_when_the_binary_runs_then_the_seller_reads_its_order_and_no_other()
{
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    // GIVEN seller A's paid order in DynamoDB Local
    let table = unique_table("rt-api");
    let client = setup::client(Some(&endpoint)).await;
    setup::ensure_table(&client, &table).await.expect("table");
    let store = DynamoStore::new(client, table.clone());
    let body = shared_event("ord_1001__01__payment_intent.succeeded.json");
    let Interpretation::Fold(folding) = interpret(&Event::parse(&body).unwrap()).unwrap() else {
        panic!("fixture folds")
    };
    fold(&store, &folding, RetryPolicy::default())
        .await
        .unwrap();
    // WHEN the binary gets a request whose verified claims name seller A
    let reply = run(
        &table,
        &endpoint,
        request(&format!("/orders/{ORDER}"), SELLER),
    )
    .await;
    // THEN 200 with the order
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let order: serde_json::Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(order["order_id"], ORDER);
    assert_eq!(order["payment_status"], "succeeded");
    // AND another seller's claims get a 404
    let reply = run(
        &table,
        &endpoint,
        request(&format!("/orders/{ORDER}"), "acct_other"),
    )
    .await;
    assert_eq!(reply["statusCode"], 404, "{reply}");
}
