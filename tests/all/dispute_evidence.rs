//! Dispute evidence end to end (contract section 9), on both stores: the payment and the dispute
//! arrive through the signed webhook, the delivery email goes out, the customer downloads, then
//! the seller saves a draft and submits through `leenkies-local`, against the fake Stripe API.
//!
//! What must hold: the fake Stripe received exactly one file and one submission on the
//! seller's account, every field named as Stripe names it, and the order shows when; Stripe
//! down is a 502 that records nothing and the same request later succeeds once.

use crate::system;

use std::time::Duration;

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::fake_stripe::FakeStripe;
use leenkies_integration_tests::stripe::{own_fixtures, shared_event};
use leenkies_local::settings::Settings;
use serde_json::{json, Value};
use system::{jwt, System, JWT_SECRET, WEBHOOK_SECRET};

const SELLER: &str = "acct_1QJm7E4fTqZ2sLxN";
const ORDER: &str = "pi_3QL4S94fTqZ2sLxN0OMFqGB5";
const DISPUTE: &str = "du_1Qlasf4fTqZ2sLxN7KI19ehY";

async fn start(endpoint: Option<&str>, fake: &FakeStripe) -> System {
    System::start_with_stripe(endpoint, fake).await
}

async fn post(sys: &System, seller: &str, dispute: &str, body: Value) -> (u16, Value) {
    let r = sys
        .http
        .post(sys.url(&format!("/orders/{ORDER}/disputes/{dispute}/evidence")))
        .bearer_auth(jwt(seller))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Waits for the delivery email and follows its download link once.
async fn delivered_and_downloaded(sys: &System) {
    for _ in 0..300 {
        if sys.emails(ORDER) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let files = sys.email_files(ORDER);
    assert_eq!(files.len(), 1, "one delivery email");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    let link = eml
        .split_whitespace()
        .find(|w| w.contains("/downloads/"))
        .map(|w| w.trim_matches(|c: char| c == '<' || c == '>' || c == '"'))
        .expect("a download link")
        .to_owned();
    let path = &link[link.find("/downloads/").unwrap()..];
    let r = sys
        .http
        .get(sys.url(path))
        .header("user-agent", "Mozilla/5.0 (Evidence test)")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

/// A shared event with its dispute's deadline moved to a week from now: the fixtures' dates
/// are in the past, and a dispute past its deadline is `409 past_due` (contract section 9.2).
fn due_in_a_week(name: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&shared_event(name)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    event["data"]["object"]["evidence_details"]["due_by"] = json!(now + 7 * 86_400);
    serde_json::to_vec(&event).unwrap()
}

/// The payment and its dispute (due in a week), delivered through the webhook.
async fn payment_and_dispute(sys: &System) {
    assert_eq!(
        sys.deliver(shared_event("ord_2012__01__payment_intent.succeeded.json"))
            .await,
        200
    );
    assert_eq!(
        sys.deliver(due_in_a_week("ord_2012__02__charge.dispute.created.json"))
            .await,
        200
    );
}

fn dispute_of(order: &Value) -> Value {
    order["disputes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == DISPUTE)
        .cloned()
        .expect("the dispute")
}

async fn seller_files_evidence(endpoint: Option<&str>) {
    // GIVEN a paid, delivered, downloaded order disputed on the seller's account
    let fake = FakeStripe::start(&[SELLER, "acct_other"]).await;
    fake.add_dispute(SELLER, DISPUTE, "needs_response");
    let sys = start(endpoint, &fake).await;
    payment_and_dispute(&sys).await;
    delivered_and_downloaded(&sys).await;
    let (_, before) = sys.order(SELLER, ORDER).await;
    assert_eq!(dispute_of(&before)["evidence"], Value::Null);

    // WHEN another seller tries: 404, like a missing dispute; Stripe never called
    let (status, body) = post(&sys, "acct_other", DISPUTE, json!({"submit": true})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = post(&sys, SELLER, "du_unknown", json!({"submit": true})).await;
    assert_eq!(status, 404);
    assert!(fake.seen().is_empty());

    // WHEN the seller saves a draft with a sentence of their own
    let (status, draft) = post(
        &sys,
        SELLER,
        DISPUTE,
        json!({"submit": false, "statement": "The customer downloaded the template."}),
    )
    .await;
    // THEN Stripe staged it and the answer lists every field sent, by Stripe's names
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["submitted"], false);
    assert_eq!(draft["dispute_id"], DISPUTE);
    let ev = &draft["evidence"];
    assert_eq!(ev["customer_email_address"], "jordan.lee@example.com");
    assert!(ev["uncategorized_text"]
        .as_str()
        .unwrap()
        .starts_with("The customer downloaded the template."));
    assert!(
        ev["refund_refusal_explanation"].is_string(),
        "product_not_received: {ev}"
    );
    let log = ev["access_activity_log"].as_str().unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log
        .lines()
        .nth(1)
        .unwrap()
        .contains("IP 127.0.0.1 | user agent Mozilla/5.0 (Evidence test)"));
    assert!(ev["service_date"].is_string());
    let staged = fake.dispute(SELLER, DISPUTE).unwrap();
    assert_eq!(staged.status, "needs_response");
    assert_eq!(staged.evidence["receipt"], ev["receipt"]);
    let (_, order) = sys.order(SELLER, ORDER).await;
    let saved = dispute_of(&order)["evidence"].clone();
    assert!(
        saved["saved_at"].is_string() && saved["submitted_at"].is_null(),
        "{saved}"
    );

    // WHEN Stripe is down for the submission
    // (one 503, stored under the request's key: every retry of that key replays it, as Stripe does)
    fake.fail_next(503, 1);
    let (status, down) = post(&sys, SELLER, DISPUTE, json!({"submit": true})).await;
    // THEN 502 with Stripe's message, and nothing recorded as sent: only the error, in words
    assert_eq!(status, 502, "{down}");
    assert_eq!(down["error"]["code"], "stripe_unavailable");
    assert_eq!(down["error"]["message"], "An unknown error occurred");
    let (_, order) = sys.order(SELLER, ORDER).await;
    let mut expected = saved.clone();
    expected["last_error"] = json!("Stripe is unavailable: An unknown error occurred");
    assert_eq!(dispute_of(&order)["evidence"], expected);
    assert_eq!(fake.dispute(SELLER, DISPUTE).unwrap().submission_count, 0);

    // WHEN the same request comes again after the outage
    let answer = post(&sys, SELLER, DISPUTE, json!({"submit": true})).await;
    // THEN filed: each document uploaded once (the receipt and the delivery email as sent) and
    // one submission, on the seller's account
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1["submitted"], true);
    let filed = fake.dispute(SELLER, DISPUTE).unwrap();
    assert_eq!(filed.submission_count, 1);
    assert_eq!(filed.status, "under_review");
    assert!(filed.evidence["customer_communication"].starts_with("file_"));
    assert_ne!(
        filed.evidence["customer_communication"],
        filed.evidence["receipt"]
    );
    let files = fake.files();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.account == SELLER));
    assert!(fake
        .seen()
        .iter()
        .all(|r| r.account.as_deref() == Some(SELLER)));
    // and the order shows when, with a timeline entry
    let (_, order) = sys.order(SELLER, ORDER).await;
    let evidence = dispute_of(&order)["evidence"].clone();
    assert!(evidence["submitted_at"].is_string(), "{evidence}");
    let kinds: Vec<&str> = order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"evidence_saved") && kinds.contains(&"evidence_submitted"),
        "{kinds:?}"
    );

    // WHEN submitted again: 409 from what we know, Stripe not called
    let calls = fake.seen().len();
    let (status, again) = post(&sys, SELLER, DISPUTE, json!({"submit": true})).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("already_submitted"))
    );
    assert_eq!(fake.seen().len(), calls);

    // WHEN the dispute closes (won): 409 dispute_closed
    assert_eq!(
        sys.deliver(shared_event("ord_2012__05__charge.dispute.closed.won.json"))
            .await,
        200
    );
    let (status, closed) = post(&sys, SELLER, DISPUTE, json!({"submit": false})).await;
    assert_eq!(
        (status, closed["error"]["code"].as_str()),
        (409, Some("dispute_closed"))
    );
    assert_eq!(fake.seen().len(), calls);
    sys.stop().await;
}

#[tokio::test]
async fn given_the_embedded_store_when_a_seller_files_evidence_then_once_on_their_account() {
    seller_files_evidence(None).await;
}

#[tokio::test]
async fn given_dynamodb_when_a_seller_files_evidence_then_once_on_their_account() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    seller_files_evidence(Some(&endpoint)).await;
}

#[tokio::test]
async fn given_no_stripe_key_when_filing_then_503_stripe_not_configured() {
    let sys = System::start_with(None, Settings::for_tests(WEBHOOK_SECRET, JWT_SECRET)).await;
    payment_and_dispute(&sys).await;
    let (status, body) = post(&sys, SELLER, DISPUTE, json!({"submit": false})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("stripe_not_configured"))
    );
    sys.stop().await;
}

/// The sweep of `leenkies-local` (every `SWEEP_INTERVAL_SECONDS`, here 1 s): a dispute that
/// arrives inside the seller's lead time on an order the customer downloaded is drafted and
/// submitted by the backend, once, with nobody clicking (contract section 9.3).
async fn the_sweep_files_a_dispute_inside_the_lead_time(endpoint: Option<&str>) {
    // GIVEN leenkies-local sweeping every second, with Stripe configured
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.add_dispute(SELLER, DISPUTE, "needs_response");
    let mut settings = Settings::for_tests(WEBHOOK_SECRET, JWT_SECRET);
    settings.stripe = Some(leenkies_adapters::stripe::StripeConfig {
        api_key: leenkies_integration_tests::fake_stripe::FAKE_STRIPE_KEY.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    });
    settings.sweep_interval_secs = 1;
    let sys = System::start_with(endpoint, settings).await;
    // WHEN a paid, delivered, downloaded order is disputed, due in 24 hours (inside the
    // default 48-hour lead time)
    assert_eq!(
        sys.deliver(shared_event("ord_2012__01__payment_intent.succeeded.json"))
            .await,
        200
    );
    delivered_and_downloaded(&sys).await;
    let mut event: Value =
        serde_json::from_slice(&shared_event("ord_2012__02__charge.dispute.created.json")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    event["data"]["object"]["evidence_details"]["due_by"] = json!(now + 86_400);
    assert_eq!(sys.deliver(serde_json::to_vec(&event).unwrap()).await, 200);
    // THEN within a few sweeps Stripe holds one submission, and the order says it was automatic
    let mut submitted = false;
    for _ in 0..300 {
        if fake
            .dispute(SELLER, DISPUTE)
            .is_some_and(|d| d.submission_count == 1)
        {
            submitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(submitted, "{:?}", fake.seen());
    let mut by = Value::Null;
    for _ in 0..300 {
        let (_, order) = sys.order(SELLER, ORDER).await;
        by = dispute_of(&order)["evidence"]["submitted_by"].clone();
        if by == "auto" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(by, "auto");
    // AND one draft then one submission (at most once under repeated sweeps: sweep.rs)
    let d = fake.dispute(SELLER, DISPUTE).unwrap();
    assert_eq!(
        (d.submission_count, d.updates),
        (1, 2),
        "one draft, one submission"
    );
    sys.stop().await;
}

#[tokio::test]
async fn given_the_embedded_store_when_a_dispute_arrives_inside_the_lead_time_then_the_sweep_files_it_once(
) {
    the_sweep_files_a_dispute_inside_the_lead_time(None).await;
}

#[tokio::test]
async fn given_dynamodb_when_a_dispute_arrives_inside_the_lead_time_then_the_sweep_files_it_once() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    the_sweep_files_a_dispute_inside_the_lead_time(Some(&endpoint)).await;
}

/// Scenario S401 (`tests/fixtures/stripe`): a returning buyer's Visa fraud dispute, with two
/// earlier undisputed orders on the same card 200 and 150 days before, sharing IP, device and
/// account.
const CE3_SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
const CE3_ORDER: &str = "pi_3QnmQS8cKdV3nWpT152h0PuH";
const CE3_DISPUTE: &str = "du_1QRmTE8cKdV3nWpTD85dxE0F";
/// The earlier orders, newest first (150 then 200 days before).
const CE3_PRIOR: [&str; 2] = ["pi_3QUfhE8cKdV3nWpT0eBoGuT2", "pi_3QvDum8cKdV3nWpT1Cc9GBaq"];

fn own_event(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(own_fixtures().join("events").join(name)).unwrap();
    if !name.contains("charge.dispute") {
        return bytes;
    }
    let mut event: Value = serde_json::from_slice(&bytes).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    event["data"]["object"]["evidence_details"]["due_by"] = json!(now + 7 * 86_400);
    serde_json::to_vec(&event).unwrap()
}

async fn ce3_draft(endpoint: Option<&str>) {
    // GIVEN the returning buyer's two earlier orders and the disputed one, then its fraud
    // dispute, through the webhook
    let fake = FakeStripe::start(&[CE3_SELLER]).await;
    fake.add_dispute(CE3_SELLER, CE3_DISPUTE, "needs_response");
    let sys = start(endpoint, &fake).await;
    for order in ["ord_3201", "ord_3202", "ord_3200"] {
        for kind in ["charge.succeeded", "payment_intent.succeeded"] {
            let name = format!("{order}__01__{kind}.json");
            assert_eq!(sys.deliver(own_event(&name)).await, 200, "{name}");
        }
    }
    let dispute = own_event("ord_3200__02__charge.dispute.created.json");
    assert_eq!(sys.deliver(dispute).await, 200);

    // THEN the dispute's JSON says CE 3.0 applies, with the two earlier orders
    let (status, order) = sys.order(CE3_SELLER, CE3_ORDER).await;
    assert_eq!(status, 200);
    let shown = order["disputes"][0]["ce3"].clone();
    assert_eq!(shown["qualifying_orders"], json!(CE3_PRIOR), "{shown}");

    // WHEN the seller saves a draft
    let r = sys
        .http
        .post(sys.url(&format!(
            "/orders/{CE3_ORDER}/disputes/{CE3_DISPUTE}/evidence"
        )))
        .bearer_auth(jwt(CE3_SELLER))
        .json(&json!({"submit": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // THEN the fake Stripe (which checks every parameter against Stripe's published request
    // types) received the CE 3.0 evidence in the same update as the rest: the disputed
    // transaction and the two prior ones, by their charges, on the seller's account
    let filed = fake.dispute(CE3_SELLER, CE3_DISPUTE).expect("the dispute");
    assert_eq!(filed.updates, 1);
    let ce3 = |k: &str| {
        filed
            .evidence
            .get(&format!("enhanced_evidence[visa_compelling_evidence_3]{k}"))
            .cloned()
    };
    assert_eq!(
        ce3("[disputed_transaction][merchandise_or_services]").as_deref(),
        Some("merchandise")
    );
    assert!(ce3("[disputed_transaction][customer_purchase_ip]").is_some());
    for i in 0..2 {
        let charge = ce3(&format!("[prior_undisputed_transactions][{i}][charge]"));
        assert!(
            charge.as_deref().is_some_and(|c| c.starts_with("ch_")),
            "prior {i}: {charge:?} in {:?}",
            filed.evidence
        );
    }
    assert_eq!(ce3("[prior_undisputed_transactions][2][charge]"), None);
    assert!(filed.evidence.contains_key("product_description"));
}

#[tokio::test]
async fn given_a_returning_buyer_s_fraud_dispute_when_drafted_then_ce3_reaches_stripe() {
    ce3_draft(None).await;
}

#[tokio::test]
async fn given_dynamodb_when_a_returning_buyer_s_fraud_dispute_is_drafted_then_ce3_reaches_stripe()
{
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    ce3_draft(Some(&endpoint)).await;
}
