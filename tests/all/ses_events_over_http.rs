//! SES events over HTTP (contract section 10), on both stores: an order paid
//! through the signed webhook gets its email; the SES records of `tests/fixtures/ses/`, with
//! that email's message id, are posted to `POST /local/ses-events` as EventBridge delivers
//! them, and the order JSON shows `fulfillment.delivery` and `attention` as the contract says.
//! An unknown message id is acknowledged and changes nothing; a body that is not an SES event
//! is a `400` and changes nothing.

use crate::system;

use std::time::Duration;

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::stripe::shared_event;
use serde_json::{json, Value};
use system::System;

const SELLER: &str = "acct_1QJm7E4fTqZ2sLxN";
const ORDER: &str = "pi_3QL4S94fTqZ2sLxN0OMFqGB5";
const PAID: &str = "ord_2012__01__payment_intent.succeeded.json";

/// A fixture SES event with `detail.mail.messageId` (and the common header) set to `message_id`.
fn ses_event(name: &str, message_id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ses")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["detail"]["mail"]["messageId"] = json!(message_id);
    event["detail"]["mail"]["commonHeaders"]["messageId"] = json!(message_id);
    event
}

async fn post_raw(sys: &System, body: Vec<u8>) -> (u16, Value) {
    let r = sys
        .http
        .post(sys.url("/local/ses-events"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(sys: &System, event: &Value) -> (u16, Value) {
    post_raw(sys, serde_json::to_vec(event).unwrap()).await
}

/// Pays the order and waits for its first email to be recorded; the order JSON.
async fn paid_and_sent(sys: &System) -> Value {
    assert_eq!(sys.deliver(shared_event(PAID)).await, 200);
    let mut order = Value::Null;
    for _ in 0..300 {
        order = sys.order(SELLER, ORDER).await.1;
        if order["fulfillment"]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(order["fulfillment"]["status"], "sent", "{order}");
    assert_eq!(order["fulfillment"]["delivery"], Value::Null, "{order}");
    order
}

fn message_id(order: &Value) -> String {
    order["fulfillment"]["message_id"]
        .as_str()
        .expect("the email's message id")
        .to_owned()
}

fn attention(order: &Value) -> Vec<String> {
    order["attention"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}

async fn delivered_over_http(endpoint: Option<&str>) {
    // GIVEN an order whose email went out
    let sys = System::start_with(endpoint, system_settings()).await;
    let sent = paid_and_sent(&sys).await;
    let id = message_id(&sent);

    // WHEN SES reports the send, then the delivery (as EventBridge delivers them)
    let (status, body) = post(&sys, &ses_event("send", &id)).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("recorded")));
    let (_, order) = sys.order(SELLER, ORDER).await;
    assert_eq!(
        order["fulfillment"]["delivery"]["status"], "sent",
        "{order}"
    );
    let (status, body) = post(&sys, &ses_event("delivery", &id)).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("recorded")));
    // THEN the order reads delivered, at SES's own time, with the receiving MTA's answer
    let (_, delivered) = sys.order(SELLER, ORDER).await;
    let delivery = &delivered["fulfillment"]["delivery"];
    assert_eq!(delivery["status"], "delivered", "{delivered}");
    assert!(
        delivery["at"]
            .as_str()
            .is_some_and(|at| at.starts_with("2026-05-08T08:00:52")),
        "{delivery}"
    );
    assert_eq!(delivery["detail"], "250 2.6.0 Message received");
    assert!(!attention(&delivered).contains(&"delivery_failed".to_owned()));

    // WHEN the same delivery arrives again, an event about another message, and an open
    let (status, body) = post(&sys, &ses_event("delivery", &id)).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("duplicate")));
    let (status, body) = post(&sys, &ses_event("bounce", "0100018f-not-ours-000000")).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("unknown_message"))
    );
    let (status, body) = post(&sys, &ses_event("open", &id)).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("ignored")));
    // THEN each is acknowledged and the order is exactly as it was
    assert_eq!(sys.order(SELLER, ORDER).await.1, delivered);

    // WHEN bodies that are not SES events arrive
    let mut wrong_source = ses_event("bounce", &id);
    wrong_source["source"] = json!("aws.ec2");
    let mut no_type = ses_event("bounce", &id);
    no_type["detail"]
        .as_object_mut()
        .unwrap()
        .remove("eventType");
    let mut no_message = ses_event("bounce", &id);
    no_message["detail"]["mail"]
        .as_object_mut()
        .unwrap()
        .remove("messageId");
    let bodies: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"".to_vec(),
        serde_json::to_vec(&wrong_source).unwrap(),
        serde_json::to_vec(&no_type).unwrap(),
        serde_json::to_vec(&no_message).unwrap(),
    ];
    for body in bodies {
        let (status, answer) = post_raw(&sys, body.clone()).await;
        // THEN each is a 400 in the error shape, and the order is unchanged (no bounce read)
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
        assert_eq!(answer["error"]["code"], "not_an_ses_event");
    }
    assert_eq!(sys.order(SELLER, ORDER).await.1, delivered);
    sys.stop().await;
}

async fn bounced_over_http(endpoint: Option<&str>) {
    // GIVEN an order whose email went out
    let sys = System::start_with(endpoint, system_settings()).await;
    let id = message_id(&paid_and_sent(&sys).await);
    // WHEN SES reports a bounce, then (late, out of order) the delay that came before it
    for name in ["bounce", "delivery_delay", "send"] {
        let (status, body) = post(&sys, &ses_event(name, &id)).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    // THEN the order reads bounced, with the bounce's time and type, and asks the seller to act
    let (_, order) = sys.order(SELLER, ORDER).await;
    let delivery = &order["fulfillment"]["delivery"];
    assert_eq!(delivery["status"], "bounced", "{order}");
    assert!(
        delivery["at"]
            .as_str()
            .is_some_and(|at| at.starts_with("2026-05-08T08:01:40")),
        "{delivery}"
    );
    assert!(
        delivery["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Permanent")),
        "{delivery}"
    );
    assert!(
        attention(&order).contains(&"delivery_failed".to_owned()),
        "{order}"
    );
    sys.stop().await;
}

fn system_settings() -> leenkies_local::settings::Settings {
    leenkies_local::settings::Settings::for_tests(system::WEBHOOK_SECRET, system::JWT_SECRET)
}

#[tokio::test]
async fn given_ses_delivery_records_over_http_when_posted_then_the_order_reads_delivered_memory() {
    delivered_over_http(None).await;
}

#[tokio::test]
async fn given_ses_delivery_records_over_http_when_posted_then_the_order_reads_delivered_dynamodb()
{
    if let Some(endpoint) = dynamodb_endpoint() {
        delivered_over_http(Some(&endpoint)).await;
    }
}

#[tokio::test]
async fn given_an_ses_bounce_over_http_when_posted_then_bounced_and_delivery_failed_memory() {
    bounced_over_http(None).await;
}

#[tokio::test]
async fn given_an_ses_bounce_over_http_when_posted_then_bounced_and_delivery_failed_dynamodb() {
    if let Some(endpoint) = dynamodb_endpoint() {
        bounced_over_http(Some(&endpoint)).await;
    }
}
