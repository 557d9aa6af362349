//! The real `stripe-webhook` binary under the Lambda Runtime API: handed a recorded API Gateway
//! HTTP API (payload v2) event whose body is base64 and signed, it answers 200 and the order is in
//! DynamoDB Local. Also measures exec to first reply (cold start).

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use leenkies_adapters::dynamodb::{setup, store::DynamoStore};
use leenkies_domain::ports::OrderStore;
use leenkies_integration_tests::env::{dynamodb_endpoint, unique_table};
use leenkies_integration_tests::runtime_api::{invoke_once, Reply};
use leenkies_integration_tests::stripe::{shared_event, signature};
use serde_json::json;

const SECRET: &str = "whsec_runtime_protocol_test";

fn api_gateway_v2_event(body: &[u8], stripe_signature: &str) -> serde_json::Value {
    json!({
        "version": "2.0",
        "routeKey": "POST /webhooks/stripe",
        "rawPath": "/webhooks/stripe",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json; charset=utf-8",
            "stripe-signature": stripe_signature,
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/webhooks/stripe",
                "protocol": "HTTP/1.1",
                "sourceIp": "54.187.174.169",
                "userAgent": "Stripe/1.0"
            },
            "requestId": "req-1",
            "routeKey": "POST /webhooks/stripe",
            "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_600_000_000u64
        },
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "isBase64Encoded": true
    })
}

#[tokio::test]
async fn given_a_signed_base64_api_gateway_event_when_the_binary_runs_then_200_and_the_order_is_stored(
) {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    // GIVEN a table in DynamoDB Local and a signed Stripe event in an API Gateway v2 envelope
    let table = unique_table("rt-webhook");
    let client = setup::client(Some(&endpoint)).await;
    setup::ensure_table(&client, &table).await.expect("table");
    let body = shared_event("ord_1001__01__payment_intent.succeeded.json");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let event = api_gateway_v2_event(&body, &signature(SECRET, now, &body));
    // WHEN the real binary is run under the Runtime API
    let env = [
        ("ORDERS_TABLE", table.clone()),
        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ("STRIPE_LIVEMODE", "any".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let binary = Path::new(env!("CARGO_BIN_EXE_stripe-webhook"));
    let invocation = invoke_once(binary, &env, event, Duration::from_secs(30)).await;
    // THEN it answers 200 "applied" and the order is in the table
    let Reply::Response(reply) = &invocation.reply else {
        panic!(
            "expected a response, got {:?}\n{}",
            invocation.reply, invocation.output
        )
    };
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let answer: serde_json::Value =
        serde_json::from_str(reply["body"].as_str().unwrap_or("{}")).unwrap_or_default();
    assert_eq!(answer["outcome"], "applied", "{reply}");
    let store = DynamoStore::new(client, table);
    let order = store
        .get_order("acct_1QHx4R8cKdV3nWpT", "pi_3QMpFn8cKdV3nWpT2DksRg19")
        .await
        .unwrap();
    assert!(
        order.is_some(),
        "the order was written through the real binary"
    );
    // AND its log line is JSON without the customer's email
    assert!(
        invocation.output.contains("\"outcome\":\"applied\""),
        "{}",
        invocation.output
    );
    assert!(
        !invocation.output.contains("jordan.lee@example.com"),
        "no email in logs"
    );
    println!(
        "stripe-webhook exec to first reply: {:?}",
        invocation.exec_to_reply
    );
}
