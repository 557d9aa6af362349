//! The seller's notifications end to end (contract section 12), on both stores: signed webhook
//! events sent to a running `leenkies-local` (with the fake Stripe API) for a paid order and its
//! dispute, every dispute event delivered several times and out of order, leave exactly one
//! `<unix_ms>-seller-dispute.eml` in the outbox, to the Stripe account's own `email` (no
//! `notify_email` saved), linking the order's page and carrying no download link; the
//! customer's delivery email is still one. And an early fraud warning under the rule `always`,
//! arriving before and after its payment, makes one refund on the fake Stripe and one
//! `<unix_ms>-seller-early_fraud_warning.eml` to the saved `notify_email`.

use crate::system;

use std::time::Duration;

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};
use leenkies_integration_tests::stripe::shared_event;
use leenkies_local::settings::Settings;
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
    for _ in 0..300 {
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

/// `ord_2012`'s paying charge.
const CHARGE: &str = "ch_3QL4S94fTqZ2sLxN01o5YFsB";
const NOTIFY_TO: &str = "alerts@zoe-presets.example";

/// A `radar.early_fraud_warning.created` on `ord_2012`'s charge, as Stripe sends it.
fn warning_event() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": "evt_1EfwE2e8cKdV3nWpTzQ", "object": "event", "account": SELLER,
        "api_version": "2025-03-31.basil", "created": 1_778_421_600, "livemode": false,
        "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "type": "radar.early_fraud_warning.created",
        "data": {"object": {
            "id": "issfr_1EfwE2e8cKdV3nWpT", "object": "radar.early_fraud_warning",
            "actionable": true, "charge": CHARGE, "payment_intent": ORDER,
            "created": 1_778_421_600, "fraud_type": "made_with_stolen_card", "livemode": false
        }}
    }))
    .unwrap()
}

async fn one_refund_and_one_warning_email(endpoint: Option<&str>) {
    // GIVEN a seller whose rule refunds every warned order and who wants alerts at NOTIFY_TO,
    // the order's charge on Stripe, and the sweep running every second
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.add_charge(SELLER, CHARGE, 4900);
    let mut settings = Settings::for_tests(system::WEBHOOK_SECRET, system::JWT_SECRET);
    settings.stripe = Some(leenkies_adapters::stripe::StripeConfig {
        api_key: FAKE_STRIPE_KEY.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    });
    settings.sweep_interval_secs = 1;
    let sys = System::start_with(endpoint, settings).await;
    let put = sys
        .http
        .put(sys.url("/settings"))
        .bearer_auth(system::jwt(SELLER))
        .json(&serde_json::json!({"efw_auto_refund": "always", "notify_email": NOTIFY_TO}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // WHEN the warning arrives before the payment, and again after it
    for body in [warning_event(), shared_event(PAID), warning_event()] {
        assert_eq!(sys.deliver(body).await, 200);
    }
    // THEN the sweep refunds the whole charge once, as the seller
    let mut refunds = Vec::new();
    for _ in 0..300 {
        refunds = fake.refunds();
        if !refunds.is_empty() && !seller_files(&sys, "early_fraud_warning").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(
        (refunds[0].account.as_str(), refunds[0].charge.as_str()),
        (SELLER, CHARGE)
    );
    assert_eq!(refunds[0].reason.as_deref(), Some("fraudulent"));
    // AND the seller gets one warning email, to NOTIFY_TO, saying it was refunded automatically
    let files = seller_files(&sys, "early_fraud_warning");
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains(&format!("To: {NOTIFY_TO}")), "{eml}");
    assert!(eml.contains("refunded automatically"), "{eml}");
    assert!(!eml.contains("/downloads/"), "{eml}");
    // AND neither repeats while later sweeps run
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(fake.refunds().len(), 1);
    assert_eq!(seller_files(&sys, "early_fraud_warning").len(), 1);
    sys.stop().await;
}

#[tokio::test]
async fn given_a_warning_under_the_rule_always_over_http_when_swept_then_one_refund_and_one_email_memory(
) {
    one_refund_and_one_warning_email(None).await;
}

#[tokio::test]
async fn given_a_warning_under_the_rule_always_over_http_when_swept_then_one_refund_and_one_email_dynamodb(
) {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    one_refund_and_one_warning_email(Some(&endpoint)).await;
}
