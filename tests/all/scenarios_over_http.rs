//! Every scenario (the shared ones and ours) replayed over real HTTP against the whole system —
//! webhook, store, change pump, fulfillment, outbox, orders API — on both stores, as Stripe and a
//! seller's dashboard would: signed deliveries in order, orders read back with a seller JWT,
//! emails counted in the outbox.

use std::path::Path;
use std::time::{Duration, Instant};

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::stripe::{own_fixtures, shared_fixtures};
use leenkies_local::settings::Settings;
use serde_json::{json, Value};

use crate::system::{jwt, System, JWT_SECRET};

/// Starts the whole system accepting `secret`'s signatures.
async fn system(secret: &str, dynamodb: Option<&str>) -> System {
    System::start_with(dynamodb, Settings::for_tests(secret, JWT_SECRET)).await
}

const SETTLE: Duration = Duration::from_millis(300);

fn subset_diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match expected {
        Value::Object(map) => {
            for (k, v) in map {
                subset_diff(
                    v,
                    actual.get(k).unwrap_or(&json!("<absent>")),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        // A list of objects (`disputes`, `refunds`): item by item, each a subset, so that
        // fields added to the items later (contract 9.1) do not fail older expectations.
        Value::Array(items)
            if items.iter().all(Value::is_object)
                && actual.as_array().is_some_and(|a| a.len() == items.len()) =>
        {
            for (i, item) in items.iter().enumerate() {
                subset_diff(item, &actual[i], &format!("{path}[{i}]"), out);
            }
        }
        _ if expected != actual => out.push(format!("{path}: expected {expected}, got {actual}")),
        _ => {}
    }
}

/// Polls until every expectation holds or the wait is over; email counts are re-read after a
/// grace period so that a late duplicate email cannot slip through.
async fn check(sys: &System, orders: &Value, absent: &Value, finals: &Value) -> Vec<String> {
    // A deadline for a failing expectation, not a speed target: a loaded runner is slow.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut settled = false;
    loop {
        let mut diffs = Vec::new();
        for (order_id, expected) in orders.as_object().unwrap() {
            let mut expected = expected.clone();
            let map = expected.as_object_mut().unwrap();
            let emails = map.remove("emails_sent");
            let attention = map.remove("attention_includes");
            let seller = map
                .get("seller_id")
                .and_then(Value::as_str)
                .or_else(|| finals[order_id]["seller_id"].as_str())
                .unwrap()
                .to_owned();
            let (status, order) = sys.order(&seller, order_id).await;
            if status != 200 {
                diffs.push(format!("{order_id}: GET answered {status}"));
                continue;
            }
            subset_diff(&expected, &order, order_id, &mut diffs);
            for want in attention.iter().flat_map(|a| a.as_array().unwrap().clone()) {
                if !order["attention"].as_array().unwrap().contains(&want) {
                    diffs.push(format!("{order_id}.attention lacks {want}"));
                }
            }
            if let Some(n) = emails.and_then(|n| n.as_u64()) {
                if sys.emails(order_id) as u64 != n {
                    diffs.push(format!(
                        "{order_id}: {} emails, expected {n}",
                        sys.emails(order_id)
                    ));
                }
            }
        }
        for a in absent.as_array().into_iter().flatten() {
            let (status, _) = sys
                .order(
                    a["seller_id"].as_str().unwrap(),
                    a["order_id"].as_str().unwrap(),
                )
                .await;
            if status != 404 {
                diffs.push(format!("{a}: expected 404, got {status}"));
            }
        }
        if !diffs.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if !diffs.is_empty() || settled {
            return diffs;
        }
        settled = true;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

async fn play(dir: &Path, config: &Value, scenario: &Value, dynamodb: Option<&str>) -> Vec<String> {
    let secret = config["webhook_secret"].as_str().unwrap();
    let sys = system(secret, dynamodb).await;
    let mut problems = Vec::new();
    let checkpoints = scenario["checkpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, d) in scenario["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let step = i + 1;
        let body = std::fs::read(dir.join("events").join(d["file"].as_str().unwrap())).unwrap();
        let key = if d["signing"] == "valid" {
            secret
        } else {
            config["wrong_secret"].as_str().unwrap()
        };
        // Stripe's events about one payment come seconds to days apart, so fulfillment settles
        // between them, as the shared replay tool does (`--settle 0.3`); here twice over, once
        // before and once after each delivery, for a loaded CI runner. Without it the outcome of
        // "paid, then refunded" (one email or none) depends on how fast the store answers (a
        // refund landing before the stream record is handled rightly prevents the email).
        if step > 1 {
            tokio::time::sleep(SETTLE).await;
        }
        let (status, _) = sys.deliver_signed(body, key).await;
        tokio::time::sleep(SETTLE).await;
        let ok = if d["expect_http"] == "2xx" {
            (200..300).contains(&status)
        } else {
            (400..500).contains(&status)
        };
        if !ok {
            problems.push(format!(
                "step {step}: answered {status}, expected {}",
                d["expect_http"]
            ));
        }
        for cp in checkpoints.iter().filter(|c| c["after_step"] == step) {
            for p in check(
                &sys,
                &cp["orders"],
                &cp["absent"],
                &scenario["expected_final"],
            )
            .await
            {
                problems.push(format!("after step {step}: {p}"));
            }
        }
    }
    problems.extend(
        check(
            &sys,
            &scenario["expected_final"],
            &scenario["expected_absent"],
            &scenario["expected_final"],
        )
        .await,
    );
    sys.stop().await;
    problems
}

async fn play_all(dynamodb: Option<&str>, only: Option<&[&str]>) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut played = 0;
    for dir in [shared_fixtures(), own_fixtures()] {
        let doc: Value =
            serde_json::from_slice(&std::fs::read(dir.join("scenarios.json")).unwrap()).unwrap();
        for scenario in doc["scenarios"].as_array().unwrap() {
            let id = scenario["id"].as_str().unwrap();
            if only.is_some_and(|ids| !ids.iter().any(|p| id.starts_with(p))) {
                continue;
            }
            played += 1;
            for p in play(&dir, &doc["config"], scenario, dynamodb).await {
                failures.push(format!("{id}: {p}"));
            }
        }
    }
    (played, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_every_scenario_when_replayed_over_http_on_the_embedded_store_then_every_order_holds()
{
    let (played, failures) = play_all(None, None).await;
    assert!(
        played >= 51,
        "expected the shared and our scenarios, played {played}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_every_scenario_when_replayed_over_http_on_dynamodb_local_then_every_order_holds() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let (played, failures) = play_all(Some(&endpoint), None).await;
    assert!(
        played >= 51,
        "expected the shared and our scenarios, played {played}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A paid PaymentIntent created at `created` (Unix seconds), as its own order.
fn paid_at(pi: &str, created: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": format!("evt_{pi}"), "object": "event", "type": "payment_intent.succeeded",
        "created": created + 5, "livemode": false, "account": "acct_1QHx4R8cKdV3nWpT",
        "api_version": "2025-03-31.basil",
        "data": {"object": {"id": pi, "object": "payment_intent", "amount": 900, "currency": "usd",
            "status": "succeeded", "created": created, "receipt_email": "range@example.com",
            "metadata": {"product_id": "prod_lut_pack"}}}
    }))
    .unwrap()
}

/// `from` / `to` inclusive to the precision given (a filter at 08:00:20.5 neither drops nor
/// adds the order of 08:00:20 wrongly), on the store at `dynamodb`.
async fn ranges_to_the_precision_given(dynamodb: Option<&str>) {
    // GIVEN orders created at 08:00:20 and 08:00:21 (2026-05-08)
    let secret = "whsec_range_precision_tests_only";
    let sys = system(secret, dynamodb).await;
    let at20 = 1_778_227_220;
    for (pi, created) in [("pi_range20", at20), ("pi_range21", at20 + 1)] {
        assert_eq!(
            sys.deliver_signed(paid_at(pi, created), secret).await.0,
            200
        );
    }
    let ids = |from: &'static str, to: &'static str| {
        let sys = &sys;
        async move {
            let r = sys
                .http
                .get(sys.url("/orders"))
                .query(&[("from", from), ("to", to)])
                .bearer_auth(jwt("acct_1QHx4R8cKdV3nWpT"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let body: Value = r.json().await.unwrap();
            body["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["order_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // WHEN listed from or to half a second past :20
    // THEN `from=…:20.5Z` leaves out the order of :20, `to=…:20.5Z` keeps it, and whole
    // seconds stay inclusive at both ends
    let (from, to) = ("2026-05-08T08:00:20.5Z", "2026-05-08T08:00:30Z");
    assert_eq!(ids(from, to).await, ["pi_range21"]);
    let (from, to) = ("2026-05-08T08:00:00Z", "2026-05-08T08:00:20.5Z");
    assert_eq!(ids(from, to).await, ["pi_range20"]);
    let (from, to) = ("2026-05-08T08:00:20Z", "2026-05-08T08:00:21Z");
    assert_eq!(ids(from, to).await, ["pi_range21", "pi_range20"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_fractional_bounds_when_listed_on_the_embedded_store_then_to_the_precision_given() {
    ranges_to_the_precision_given(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_fractional_bounds_when_listed_on_dynamodb_local_then_to_the_precision_given() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    ranges_to_the_precision_given(Some(&endpoint)).await;
}
