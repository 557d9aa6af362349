//! The SES v2 mailer against moto's SES v2 server, a real stand-in (no mocks).
//!
//! Needs `SES_ENDPOINT` (e.g. `bash infra/moto.sh start 5055` then
//! `SES_ENDPOINT=http://127.0.0.1:5055`). Without it the tests fail, unless
//! `LEENKIES_SKIP_MOTO=1` says explicitly that they are skipped: they never pass silently.

use std::time::{SystemTime, UNIX_EPOCH};

use leenkies_adapters::mail::{ses_client, SesMailer};
use leenkies_domain::ports::{MailError, Mailer, OutgoingEmail};
use serde_json::Value;

/// The moto endpoint, or `None` when skipping was asked for.
fn moto_endpoint() -> Option<String> {
    match std::env::var("SES_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ if std::env::var("LEENKIES_SKIP_MOTO").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: LEENKIES_SKIP_MOTO=1 and no SES_ENDPOINT");
            None
        }
        _ => panic!(
            "SES_ENDPOINT is not set. Start moto (`bash infra/moto.sh start 5055`) and run with \
             SES_ENDPOINT=http://127.0.0.1:5055, or set LEENKIES_SKIP_MOTO=1 to skip these tests \
             explicitly."
        ),
    }
}

/// A sender address no other test run uses, so runs against one moto never interfere.
fn unique_sender() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("orders-{nanos}@leenkies.example")
}

fn email(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        reply_to: None,
        to: to.into(),
        subject: "Your download: Cinematic LUT Pack".into(),
        text: "Download: https://shop.example/downloads/tok.sig\n".into(),
        html: "<p><a href=\"https://shop.example/downloads/tok.sig\">Download</a></p>".into(),
        order_id: "pi_moto".into(),
        seller_id: "acct_A".into(),
        about: Default::default(),
    }
}

async fn sent_messages(endpoint: &str) -> Vec<Value> {
    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto data is JSON");
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn given_a_verified_sender_when_sent_then_ses_holds_the_message() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    // GIVEN a verified sender identity
    let client = ses_client(Some(&endpoint)).await;
    let sender = unique_sender();
    client
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("identity created");
    let mailer = SesMailer::new(client, format!("Leenkies <{sender}>"), None);
    // WHEN an email is sent
    let id = mailer
        .send(&email("jordan.lee@example.com"))
        .await
        .expect("sent");
    // THEN moto holds it under the returned id, to the customer, with the subject and the link
    let messages = sent_messages(&endpoint).await;
    let message = messages
        .iter()
        .find(|m| m["id"] == id.as_str())
        .unwrap_or_else(|| panic!("message {id} not in {messages:?}"));
    assert_eq!(
        message["destinations"]["ToAddresses"],
        serde_json::json!(["jordan.lee@example.com"])
    );
    assert_eq!(message["subject"], "Your download: Cinematic LUT Pack");
    assert!(message["body"]
        .as_str()
        .unwrap_or("")
        .contains("https://shop.example/downloads/tok.sig"));
    assert_eq!(message["source"], format!("Leenkies <{sender}>"));
}

#[tokio::test]
async fn given_an_unverified_sender_when_sent_then_rejected() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    // GIVEN a sender that was never verified (moto answers 400 MessageRejected, as SES does)
    let mailer = SesMailer::new(ses_client(Some(&endpoint)).await, unique_sender(), None);
    // WHEN
    let result = mailer.send(&email("jordan.lee@example.com")).await;
    // THEN retrying would not help: rejected, and the reason names the SES error
    match result {
        Err(MailError::Rejected(reason)) => assert!(reason.contains("MessageRejected"), "{reason}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn given_an_unreachable_endpoint_when_sent_then_transient() {
    // GIVEN an endpoint where nothing listens (a port just freed)
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let endpoint = format!("http://127.0.0.1:{port}");
    let mailer = SesMailer::new(
        ses_client(Some(&endpoint)).await,
        "orders@leenkies.example".into(),
        None,
    );
    // WHEN
    let result = mailer.send(&email("jordan.lee@example.com")).await;
    // THEN a dispatch failure: try again later
    match result {
        Err(MailError::Transient(reason)) => assert!(reason.contains("unreachable"), "{reason}"),
        other => panic!("expected a transient failure, got {other:?}"),
    }
}
