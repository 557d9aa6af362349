//! The real `fulfillment` binary under the Lambda Runtime API: handed a DynamoDB Streams batch
//! for a paid order in DynamoDB Local, it sends the email through moto's SES v2 and reports no
//! failed record. With a Stripe key, the email names the seller's store from the Accounts API.

use std::path::Path;
use std::time::Duration;

use leenkies_adapters::dynamodb::item::order_to_image;
use leenkies_adapters::dynamodb::{setup, DynamoStore};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::Event;
use leenkies_integration_tests::env::{dynamodb_endpoint, ses_endpoint, unique_table};
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};
use leenkies_integration_tests::runtime_api::{invoke_once, Reply};
use leenkies_integration_tests::stripe::shared_event;
use serde_json::json;

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
const ORDER: &str = "pi_3QMpFn8cKdV3nWpT2DksRg19";

#[tokio::test]
async fn given_a_stream_batch_for_a_paid_order_when_the_binary_runs_then_one_email_via_ses() {
    let Some(Sent { body, .. }) = binary_sends_one_email(Vec::new()).await else {
        return;
    };
    // AND without a Stripe key the email names nobody (never the account id)
    assert!(body.contains("Thank you for your purchase."), "{body}");
    assert!(!body.contains(SELLER));
}

#[tokio::test]
async fn given_a_stripe_key_when_the_binary_sends_then_the_email_names_the_accounts_store() {
    // GIVEN Stripe's Accounts API (the fake) knowing the seller's business profile
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(
        SELLER,
        json!({"name": "Lumen Presets", "support_email": "help@lumen.example"}),
    );
    // WHEN the binary is configured with the platform key and handles the batch
    let Some(Sent { body, .. }) = binary_sends_one_email(vec![
        ("STRIPE_API_KEY", FAKE_STRIPE_KEY.to_owned()),
        ("STRIPE_API_BASE", fake.base.clone()),
    ])
    .await
    else {
        return;
    };
    // THEN the email names the store, read once from Stripe as the seller (moto drops
    // Reply-To: that it reaches SES's request is asserted in the adapters' ses_request test)
    assert!(
        body.contains("Thank you for your purchase from Lumen Presets."),
        "{body}"
    );
    let reads = fake.account_reads();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0].account.as_deref(), Some(SELLER));
}

/// What one run of the fulfillment binary left: the email's body as moto holds it, and the
/// store and endpoint that hold the order.
struct Sent {
    body: String,
    store: DynamoStore,
    table: String,
    ddb: String,
}

/// Runs the binary on a stream batch of a paid order with the extra environment; the one email's
/// body as moto holds it, after checking that it is the only one, the order is `sent` and the
/// logs name no customer address. `None` when the test command's stand-ins are skipped.
async fn binary_sends_one_email(extra_env: Vec<(&'static str, String)>) -> Option<Sent> {
    let (Some(ddb), Some(ses)) = (dynamodb_endpoint(), ses_endpoint()) else {
        return None;
    };
    // GIVEN a paid order (checkout + payment) in DynamoDB Local
    let table = unique_table("rt-ful");
    let client = setup::client(Some(&ddb)).await;
    setup::ensure_table(&client, &table).await.expect("table");
    let store = DynamoStore::new(client, table.clone());
    let ddb_endpoint = ddb.clone();
    for file in [
        "ord_1001__01__checkout.session.completed.json",
        "ord_1001__01__payment_intent.succeeded.json",
    ] {
        let body = shared_event(file);
        let Interpretation::Fold(folding) = interpret(&Event::parse(&body).unwrap()).unwrap()
        else {
            panic!("fixture folds")
        };
        fold(&store, &folding, RetryPolicy::default())
            .await
            .unwrap();
    }
    let order = store.get_order(SELLER, ORDER).await.unwrap().unwrap();
    let image = serde_json::to_value(order_to_image(&order).unwrap()).unwrap();
    let batch = json!({"Records": [{
        "eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/x"),
        "dynamodb": {"ApproximateCreationDateTime": 1795600000, "Keys": {}, "NewImage": image,
                     "SequenceNumber": "100000000000000000001", "SizeBytes": 100,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"}
    }]});
    // One sender per run: the tests of this file share moto and count the emails by sender.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let sender = format!("orders-{}-{run}@leenkies.test", std::process::id());
    // moto needs the sender identity (the test command verifies the whole leenkies.test domain)
    let ses_client = leenkies_adapters::mail::ses_client(Some(&ses)).await;
    let _ = ses_client
        .create_email_identity()
        .email_identity("leenkies.test")
        .send()
        .await;
    // The record passes the template's filter (the same pattern: stream_filter's tests compare
    // them), as AWS would check before invoking the function.
    let record: aws_lambda_events::event::dynamodb::EventRecord =
        serde_json::from_value(batch["Records"][0].clone()).expect("a stream record");
    assert!(leenkies_adapters::dynamodb::stream_filter::passes_fulfillment_filter(&record));
    // WHEN the binary handles the batch
    let mut env = vec![
        ("ORDERS_TABLE", table.clone()),
        ("SENDER_EMAIL", sender.clone()),
        ("PUBLIC_BASE_URL", "https://shop.example".to_owned()),
        (
            "DOWNLOAD_SIGNING_KEY",
            "runtime-protocol-download-key".to_owned(),
        ),
        ("AWS_ENDPOINT_URL_DYNAMODB", ddb.clone()),
        ("AWS_ENDPOINT_URL_SESV2", ses.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    env.extend(extra_env);
    let binary = Path::new(env!("CARGO_BIN_EXE_fulfillment"));
    let invocation = invoke_once(binary, &env, batch, Duration::from_secs(30)).await;
    println!(
        "fulfillment exec to first reply: {:?}",
        invocation.exec_to_reply
    );
    // THEN no record failed, the order is sent, and moto holds the email with the download link
    let Reply::Response(reply) = &invocation.reply else {
        panic!(
            "expected a response, got {:?}\n{}",
            invocation.reply, invocation.output
        )
    };
    assert_eq!(
        reply["batchItemFailures"],
        json!([]),
        "{reply}\n{}",
        invocation.output
    );
    let order = store.get_order(SELLER, ORDER).await.unwrap().unwrap();
    assert_eq!(order.fulfillment_status(), "sent");
    let sent: serde_json::Value = reqwest::get(format!("{ses}/moto-api/data.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Vec<_> = sent["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["source"].as_str().is_some_and(|s| s.contains(&sender)))
        .collect();
    assert_eq!(mine.len(), 1, "exactly one email from this sender: {sent}");
    assert!(mine[0]["body"]
        .to_string()
        .contains("https://shop.example/downloads/"));
    assert!(
        !invocation.output.contains("jordan.lee@example.com"),
        "no email address in logs"
    );
    Some(Sent {
        body: mine[0]["body"].to_string(),
        store,
        table,
        ddb: ddb_endpoint,
    })
}

#[tokio::test]
async fn given_a_sent_email_when_the_ses_events_binary_gets_its_delivery_then_the_order_reads_delivered(
) {
    // GIVEN an order whose email the fulfillment binary sent through SES
    let Some(Sent {
        store, table, ddb, ..
    }) = binary_sends_one_email(Vec::new()).await
    else {
        return;
    };
    let order = store.get_order(SELLER, ORDER).await.unwrap().unwrap();
    let message_id = order.fulfillment.message_id.clone().expect("a message id");
    // WHEN EventBridge hands the ses-events binary SES's Delivery event for that message
    let mut event: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ses/delivery.json"),
        )
        .expect("fixture"),
    )
    .expect("json");
    event["detail"]["mail"]["messageId"] = json!(message_id);
    let env = vec![
        ("ORDERS_TABLE", table.clone()),
        ("AWS_ENDPOINT_URL_DYNAMODB", ddb),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let binary = Path::new(env!("CARGO_BIN_EXE_ses-events"));
    let invocation = invoke_once(binary, &env, event, Duration::from_secs(30)).await;
    // THEN it answers that the event was recorded, and the order's delivery is `delivered`
    let Reply::Response(reply) = &invocation.reply else {
        panic!(
            "expected a response, got {:?}\n{}",
            invocation.reply, invocation.output
        )
    };
    assert_eq!(
        reply["outcome"], "recorded",
        "{reply}\n{}",
        invocation.output
    );
    let order = store.get_order(SELLER, ORDER).await.unwrap().unwrap();
    let view = leenkies_domain::OrderView::of(&order);
    let delivery = serde_json::to_value(&view.fulfillment.delivery).unwrap();
    assert_eq!(delivery["status"], "delivered", "{delivery}");
}
