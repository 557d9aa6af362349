//! The email speaks for the seller (contract section 10), end to end on both
//! stores: an order paid through the signed webhook with no `store_name` metadata gets a
//! delivery email (the local outbox `.eml`) naming the connected account's
//! `business_profile.name`, with `Reply-To` its `business_profile.support_email`, read from the
//! fake Stripe API as that account, once (the resend uses the cached answer). With Stripe down
//! the email still goes out, with the neutral sentence and no `Reply-To`.

use crate::system;

use std::time::Duration;

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::fake_stripe::FakeStripe;
use leenkies_integration_tests::stripe::shared_event;
use serde_json::json;
use system::{jwt, System};

/// `ord_2012`'s connected account; its metadata has no `store_name`.
const SELLER: &str = "acct_1QJm7E4fTqZ2sLxN";
const ORDER: &str = "pi_3QL4S94fTqZ2sLxN0OMFqGB5";
const PAID: &str = "ord_2012__01__payment_intent.succeeded.json";
const STORE: &str = "Zoë's \"Café\" Presets";
const SUPPORT: &str = "help@zoe-presets.example";

/// Waits until `n` emails for the order are in the outbox; their texts, oldest first.
async fn emails(sys: &System, n: usize) -> Vec<String> {
    for _ in 0..300 {
        if sys.emails(ORDER) >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut files = sys.email_files(ORDER);
    files.sort();
    assert_eq!(files.len(), n, "{n} delivery email(s)");
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// Waits until the order records its first email as sent (the `.eml` is written just before).
async fn recorded_sent(sys: &System) -> serde_json::Value {
    let mut order = serde_json::Value::Null;
    for _ in 0..300 {
        order = sys.order(SELLER, ORDER).await.1;
        if order["fulfillment"]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    order
}

fn headers(eml: &str) -> Vec<&str> {
    eml.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .split("\r\n")
        .collect()
}

fn reply_to(eml: &str) -> Vec<&str> {
    headers(eml)
        .into_iter()
        .filter(|h| h.to_ascii_lowercase().starts_with("reply-to:"))
        .collect()
}

async fn the_email_names_the_sellers_store(endpoint: Option<&str>) {
    // GIVEN a connected account whose business profile names the store and a support address
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(SELLER, json!({"name": STORE, "support_email": SUPPORT}));
    let sys = System::start_with_stripe(endpoint, &fake).await;
    // WHEN its order is paid (no store_name in the storefront's metadata)
    assert_eq!(sys.deliver(shared_event(PAID)).await, 200);
    // THEN the email thanks the store by name, never by account id, and replies reach it
    let first = emails(&sys, 1).await.remove(0);
    assert!(
        first.contains(&format!("Thank you for your purchase from {STORE}.")),
        "{first}"
    );
    assert!(
        first.contains("Zoë&#39;s &quot;Café&quot; Presets"),
        "{first}"
    );
    assert!(!first.contains(SELLER), "no account id in the email");
    assert_eq!(reply_to(&first), vec![format!("Reply-To: {SUPPORT}")]);
    // AND Stripe was asked once, as the seller
    let reads = fake.account_reads();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0].account.as_deref(), Some(SELLER));

    let order = recorded_sent(&sys).await;
    assert_eq!(order["fulfillment"]["status"], "sent", "{order}");

    // WHEN the seller resends the link
    let r = sys
        .http
        .post(sys.url(&format!("/orders/{ORDER}/resend")))
        .bearer_auth(jwt(SELLER))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    // THEN the resent email speaks for the store too, from the cached answer
    let resent = emails(&sys, 2).await.remove(1);
    assert!(resent.contains(&format!("Thank you for your purchase from {STORE}.")));
    assert_eq!(reply_to(&resent), vec![format!("Reply-To: {SUPPORT}")]);
    assert_eq!(fake.account_reads().len(), 1);
    sys.stop().await;
}

async fn stripe_down_the_email_still_goes_out(endpoint: Option<&str>) {
    // GIVEN Stripe failing every call
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(SELLER, json!({"name": STORE, "support_email": SUPPORT}));
    fake.fail_next(500, 100);
    let sys = System::start_with_stripe(endpoint, &fake).await;
    // WHEN the order is paid
    assert_eq!(sys.deliver(shared_event(PAID)).await, 200);
    // THEN the email goes out anyway: the neutral sentence, no account id, no Reply-To
    let eml = emails(&sys, 1).await.remove(0);
    assert!(eml.contains("Thank you for your purchase.\r\n"), "{eml}");
    assert!(!eml.contains(SELLER) && !eml.contains("Café"));
    assert!(reply_to(&eml).is_empty());
    let order = recorded_sent(&sys).await;
    assert_eq!(order["fulfillment"]["status"], "sent", "{order}");
    assert!(fake.account_reads().iter().all(|r| r.status == 500));
    sys.stop().await;
}

#[tokio::test]
async fn given_no_store_name_when_paid_then_the_email_names_the_account_and_replies_to_it_memory() {
    the_email_names_the_sellers_store(None).await;
}

#[tokio::test]
async fn given_no_store_name_when_paid_then_the_email_names_the_account_and_replies_to_it_dynamodb()
{
    if let Some(endpoint) = dynamodb_endpoint() {
        the_email_names_the_sellers_store(Some(&endpoint)).await;
    }
}

#[tokio::test]
async fn given_stripe_down_when_paid_then_the_email_still_goes_out_memory() {
    stripe_down_the_email_still_goes_out(None).await;
}

#[tokio::test]
async fn given_stripe_down_when_paid_then_the_email_still_goes_out_dynamodb() {
    if let Some(endpoint) = dynamodb_endpoint() {
        stripe_down_the_email_still_goes_out(Some(&endpoint)).await;
    }
}
