//! Export jobs over HTTP on `leenkies-local` with the embedded store:
//! a seller posts an export, polls it until `succeeded`, and downloads the CSV through the
//! signed link the runner serves from its exports folder; the file is byte-equal to
//! `GET /orders/export.csv` for the same filters. Another seller's poll is `404`, a bad filter
//! a `400` that stores no job, and a tampered link is refused.

use crate::system;

use std::time::Duration;

use leenkies_integration_tests::stripe::shared_fixtures;
use serde_json::Value;
use system::{jwt, System};

/// Delivers every shared fixture event; the seller with the most orders.
async fn seeded() -> (System, String) {
    let sys = System::start_with(
        None,
        leenkies_local::settings::Settings::for_tests(system::WEBHOOK_SECRET, system::JWT_SECRET),
    )
    .await;
    let mut names: Vec<_> = std::fs::read_dir(shared_fixtures().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for path in names {
        let body = std::fs::read(&path).unwrap();
        let event: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(sys.deliver(body).await, 200, "{path:?}");
        if let Some(account) = event["account"].as_str() {
            *counts.entry(account.to_owned()).or_default() += 1;
        }
    }
    let seller = counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s)
        .unwrap();
    (sys, seller)
}

/// Whether fulfillment may still change this order's CSV row: a paid order whose email has
/// neither gone out nor been skipped, and is not waiting on data it lacks.
fn still_fulfilling(order: &Value) -> bool {
    let blocked = order["attention"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == "fulfillment_blocked"));
    order["payment_status"] != "failed" && order["fulfillment"]["status"] == "pending" && !blocked
}

/// Waits until the stream pump has fulfilled the seller's paid orders, so two exports taken
/// one after the other read the same rows (the CSV carries `fulfillment_status`). The deadline
/// is generous: on a loaded two-core CI runner the pump can lag the webhook by seconds.
async fn settled(sys: &System, seller: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut pending = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_owned())];
            query.extend(cursor.clone().map(|c| ("cursor", c)));
            let r = sys
                .http
                .get(sys.url("/orders"))
                .query(&query)
                .bearer_auth(jwt(seller))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let page: Value = r.json().await.unwrap();
            for order in page["orders"].as_array().unwrap() {
                if still_fulfilling(order) {
                    pending.push(order["order_id"].to_string());
                }
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        if pending.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still fulfilling after 60 s: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn export_csv(sys: &System, seller: &str, query: &str) -> Vec<u8> {
    let r = sys
        .http
        .get(sys.url(&format!("/orders/export.csv{query}")))
        .bearer_auth(jwt(seller))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.bytes().await.unwrap().to_vec()
}

async fn poll(sys: &System, seller: &str, location: &str) -> Value {
    // A deadline, not a speed target: the job runs on the runner's pump, which a loaded CI
    // machine can delay by seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut job = Value::Null;
    while tokio::time::Instant::now() < deadline {
        let r = sys
            .http
            .get(sys.url(location))
            .bearer_auth(jwt(seller))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        job = r.json().await.unwrap();
        if job["status"] == "succeeded" || job["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    job
}

#[tokio::test]
async fn given_orders_when_a_seller_exports_over_http_then_the_link_serves_the_same_csv() {
    // GIVEN the shared fixtures delivered through the signed webhook
    let (sys, seller) = seeded().await;
    settled(&sys, &seller).await;
    for query in ["", "?status=succeeded"] {
        // WHEN the seller posts an export with these filters
        let r = sys
            .http
            .post(sys.url(&format!("/orders/exports{query}")))
            .bearer_auth(jwt(&seller))
            .send()
            .await
            .unwrap();
        // THEN it is accepted with the job's address
        assert_eq!(r.status().as_u16(), 202);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let queued: Value = r.json().await.unwrap();
        assert_eq!(
            location,
            format!("/orders/exports/{}", queued["id"].as_str().unwrap())
        );
        // AND polling it ends `succeeded` with a link that serves exactly `export.csv`
        let job = poll(&sys, &seller, &location).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        let url = job["download_url"].as_str().unwrap();
        let r = sys.http.get(url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()["content-disposition"],
            "attachment; filename=\"orders.csv\""
        );
        let file = r.bytes().await.unwrap().to_vec();
        let streamed = export_csv(&sys, &seller, query).await;
        assert_eq!(
            file, streamed,
            "job file differs from export.csv for {query:?}"
        );
        // AND both carry the amounts in major units and the billing name (contract section 5)
        let text = String::from_utf8_lossy(&streamed);
        assert!(text
            .lines()
            .next()
            .unwrap()
            .ends_with(",amount_decimal,refunded_decimal,customer_name"));
        assert!(
            text.lines().any(|l| l.contains(",25.00,0.00,Jordan Lee")),
            "{text}"
        );
        let lines = streamed.iter().filter(|b| **b == b'\n').count() as u64;
        assert_eq!(job["rows"].as_u64().unwrap() + 1, lines);
        assert_eq!(job["bytes"].as_u64().unwrap(), streamed.len() as u64);
        assert_eq!(job["parts"], 1);
        // AND another seller cannot see the job, and a tampered link is refused
        let other = sys
            .http
            .get(sys.url(&location))
            .bearer_auth(jwt("acct_someoneElse"))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status().as_u16(), 404);
        let tampered = url.replace(&seller, "acct_someoneElse");
        let r = sys.http.get(&tampered).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403);
    }
    sys.stop().await;
}

#[tokio::test]
async fn given_a_bad_filter_when_posting_an_export_then_400_and_no_job() {
    let (sys, seller) = seeded().await;
    for (query, body) in [
        ("?status=lost", ""),
        ("?email=a", ""),
        ("", r#"{"from": "yesterday"}"#),
        ("", "not json"),
        ("?status=failed", r#"{"status": "failed"}"#),
    ] {
        let r = sys
            .http
            .post(sys.url(&format!("/orders/exports{query}")))
            .bearer_auth(jwt(&seller))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{query} {body}");
        let err: Value = r.json().await.unwrap();
        assert!(err["error"]["code"].is_string());
    }
    // AND a JSON body of filters is accepted like the query
    let r = sys
        .http
        .post(sys.url("/orders/exports"))
        .bearer_auth(jwt(&seller))
        .body(r#"{"status": "succeeded"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let job: Value = r.json().await.unwrap();
    assert_eq!(job["filters"]["status"], "succeeded");
    // AND no token is a 401
    let r = sys
        .http
        .post(sys.url("/orders/exports"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    sys.stop().await;
}

#[tokio::test]
async fn given_a_flood_of_export_requests_when_posted_then_50_jobs_a_day_and_429_with_retry_after()
{
    // GIVEN a seller with orders posting different exports as fast as answered
    let (sys, seller) = seeded().await;
    let mut ids = std::collections::BTreeSet::new();
    let mut refused = None;
    for n in 0..400 {
        let r = sys
            .http
            .post(sys.url(&format!("/orders/exports?email=zz{n}")))
            .bearer_auth(jwt(&seller))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            202 => {
                let job: Value = r.json().await.unwrap();
                ids.insert(job["id"].as_str().unwrap().to_owned());
            }
            429 => {
                // THEN every refusal says when to come back
                let wait: i64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let err: Value = r.json().await.unwrap();
                if err["error"]["code"] == "too_many_exports_today" {
                    refused = Some(wait);
                    break;
                }
                // Three are being written: wait for the worker, as a client would.
                assert_eq!(err["error"]["code"], "too_many_active_exports");
                assert!(wait > 0);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("answered {other}"),
        }
    }
    // AND 50 jobs were made, then the day's limit answers with the wait until the oldest leaves
    // the 24-hour window
    assert_eq!(ids.len(), 50);
    let wait = refused.expect("the 51st export was refused");
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    sys.stop().await;
}
