//! The seller's notifications end to end (contract section 12), on both stores: signed webhook
//! events sent to a running `leenkies-local` (with the fake Stripe API) for a paid order and its
//! dispute, every dispute event delivered several times and out of order, leave exactly one
//! `<unix_ms>-seller-dispute.eml` in the outbox, to the Stripe account's own `email` (no
//! `notify_email` saved), linking the order's page and carrying no download link; the
//! customer's delivery email is still one.

use crate::system;

use std::time::Duration;

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::fake_stripe::FakeStripe;
use leenkies_integration_tests::stripe::shared_event;
use system::System;

/// `ord_2012`'s connected account, order and events.
const SELLER: &str = "acct_1QJm7E4fTqZ2sLxN";
const ORDER: &str = "pi_3QL4S94fTqZ2sLxN0OMFqGB5";
const PAID: &str = "ord_2012__01__payment_intent.succeeded.json";
const DISPUTE_CREATED: &str = "ord_2012__02__charge.dispute.created.json";
const FUNDS_WITHDRAWN: &str = "ord_2012__03__charge.dispute.funds_withdrawn.json";
const OWNER: &str = "owner@zoe-presets.example";

fn seller_files(sys: &System, kind: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(sys.outbox.path())
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .ends_with(&format!("-seller-{kind}.eml"))
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

async fn one_dispute_email(endpoint: Option<&str>) {
    // GIVEN a seller whose Stripe account has its own email, and no notify_email saved
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_account_email(SELLER, Some(OWNER));
    let sys = System::start_with_stripe(endpoint, &fake).await;
    // WHEN its order's events arrive: the dispute's first, then the payment, then every dispute
    // event again, twice
    for event in [DISPUTE_CREATED, PAID, FUNDS_WITHDRAWN, DISPUTE_CREATED] {
        assert_eq!(sys.deliver(shared_event(event)).await, 200, "{event}");
    }
    for _ in 0..2 {
        for event in [FUNDS_WITHDRAWN, DISPUTE_CREATED] {
            assert_eq!(sys.deliver(shared_event(event)).await, 200, "{event}");
        }
    }
    // THEN one dispute email lands in the outbox
    let mut files = Vec::new();
    for _ in 0..100 {
        files = seller_files(&sys, "dispute");
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(files.len(), 1, "{files:?}");
    // (and stays one once everything the writes caused has been handled)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(seller_files(&sys, "dispute").len(), 1);
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    // AND it goes to the account's email, names the order, links its page, no download link
    assert!(eml.contains(&format!("To: {OWNER}")), "{eml}");
    assert!(eml.contains(&format!("Order: {ORDER}")), "{eml}");
    assert!(eml.contains(&format!("/dashboard/orders/{ORDER}")), "{eml}");
    assert!(eml.contains("Respond by: "), "{eml}");
    assert!(!eml.contains("/downloads/"), "{eml}");
    // AND the customer's delivery email is one, as ever
    assert_eq!(sys.emails(ORDER), 1);
    sys.stop().await;
}

#[tokio::test]
async fn given_a_dispute_storm_over_http_when_handled_then_one_seller_dispute_email_memory() {
    one_dispute_email(None).await;
}

#[tokio::test]
async fn given_a_dispute_storm_over_http_when_handled_then_one_seller_dispute_email_dynamodb() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    one_dispute_email(Some(&endpoint)).await;
}
