//! `GET /stats/failures`: failed payments of the window by category, distinct customers, and the
//! configuration-issue flag (many distinct customers failing) with its rule and advice.

use std::sync::Arc;

use crate::common::*;
use axum::http::StatusCode;
use leenkies_domain::memory_store::MemoryStore;
use orders_api::router;
use serde_json::Value;

const NOW: i64 = T0 + 40 * DAY;

async fn stats(store: Arc<MemoryStore>, query: &str) -> Value {
    let app = router(state(store).with_clock(Arc::new(|| NOW)));
    let r = get_as(&app, SELLER_A, &format!("/stats/failures{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn given_seeded_failures_when_stats_then_categories_and_distinct_customers() {
    // GIVEN within 30 days: 10 paid orders, and failures from 3 customers (one retried twice,
    // then paid), spread over different days
    let store = Arc::new(MemoryStore::new());
    for i in 0..10 {
        order(SELLER_A, &format!("pi_ok{i}"), NOW - (i + 1) * DAY)
            .email(&format!("ok{i}@example.com"))
            .paid()
            .put(&store)
            .await;
    }
    order(SELLER_A, "pi_f1", NOW - 2 * DAY)
        .email("Sam@Example.org")
        .failed("insufficient_funds")
        .put(&store)
        .await;
    order(SELLER_A, "pi_f2", NOW - 3 * DAY)
        .email("sam@example.org")
        .failed("insufficient_funds")
        .put(&store)
        .await;
    order(SELLER_A, "pi_f3", NOW - 4 * DAY)
        .email("lee@example.org")
        .failed("expired_card")
        .put(&store)
        .await;
    order(SELLER_A, "pi_f4", NOW - 5 * DAY)
        .email("kim@example.org")
        .failed("fraudulent")
        .paid()
        .put(&store)
        .await;
    // AND old failures and another seller's are outside the count
    order(SELLER_A, "pi_old", NOW - 35 * DAY)
        .email("old@example.org")
        .failed("card_declined")
        .put(&store)
        .await;
    order(SELLER_B, "pi_b", NOW - DAY)
        .email("b@example.org")
        .failed("card_declined")
        .put(&store)
        .await;
    // WHEN the default window is asked
    let s = stats(store.clone(), "").await;
    // THEN
    assert_eq!(s["days"], 30);
    assert_eq!(s["total_orders"], 14);
    assert_eq!(s["failed_payments"], 4);
    assert_eq!(s["currently_failed"], 3);
    assert_eq!(s["distinct_customers"], 3);
    let c = &s["by_category"];
    assert_eq!(c["insufficient_funds"]["failed_payments"], 2);
    assert_eq!(c["insufficient_funds"]["currently_failed"], 2);
    assert_eq!(c["expired_card"]["failed_payments"], 1);
    assert_eq!(c["fraud_blocked"]["failed_payments"], 1);
    assert_eq!(c["fraud_blocked"]["currently_failed"], 0);
    assert_eq!(c["card_declined"]["failed_payments"], 0);
    assert_eq!(c["incorrect_card_details"]["failed_payments"], 0);
    assert_eq!(s["suspected_configuration_issue"], false);
    assert!(s["rule"].as_str().unwrap().contains("5 distinct customers"));
    assert!(s["advice"].as_str().unwrap().len() > 10);
    // AND a 40-day window includes the old failure
    let wide = stats(store, "?days=40").await;
    assert_eq!(wide["failed_payments"], 5);
    assert_eq!(wide["distinct_customers"], 4);
}

#[tokio::test]
async fn given_many_distinct_customers_failing_when_stats_then_configuration_issue_suspected() {
    // GIVEN 6 different customers failing on different days, 2 successes
    let store = Arc::new(MemoryStore::new());
    for (i, code) in [
        "insufficient_funds",
        "expired_card",
        "do_not_honor",
        "insufficient_funds",
        "expired_card",
        "fraudulent",
    ]
    .iter()
    .enumerate()
    {
        let i = i as i64;
        order(SELLER_A, &format!("pi_f{i}"), NOW - (i + 1) * DAY)
            .email(&format!("c{i}@example.com"))
            .failed(code)
            .put(&store)
            .await;
    }
    for i in 0..2 {
        order(SELLER_A, &format!("pi_ok{i}"), NOW - DAY)
            .email("ok@example.com")
            .paid()
            .put(&store)
            .await;
    }
    let s = stats(store, "?days=30").await;
    assert_eq!(s["distinct_customers"], 6);
    assert_eq!(s["suspected_configuration_issue"], true);
    assert!(s["advice"]
        .as_str()
        .unwrap()
        .contains("check your Stripe account"));
}

#[tokio::test]
async fn given_one_customer_failing_many_times_when_stats_then_not_suspected() {
    // GIVEN one card tester failing 20 times in one day
    let store = Arc::new(MemoryStore::new());
    for i in 0..20 {
        order(SELLER_A, &format!("pi_t{i:02}"), NOW - DAY + i)
            .email("tester@example.com")
            .failed("incorrect_cvc")
            .put(&store)
            .await;
    }
    let s = stats(store, "").await;
    assert_eq!(s["failed_payments"], 20);
    assert_eq!(s["distinct_customers"], 1);
    assert_eq!(s["suspected_configuration_issue"], false);
}

#[tokio::test]
async fn given_three_customers_declined_on_one_day_when_stats_then_suspected() {
    // GIVEN a busy shop (failure rate low) where 3 customers hit incorrect details the same day
    let store = Arc::new(MemoryStore::new());
    for i in 0..30 {
        order(SELLER_A, &format!("pi_ok{i:02}"), NOW - 10 * DAY + i)
            .email(&format!("ok{i}@example.com"))
            .paid()
            .put(&store)
            .await;
    }
    let day = (NOW - 3 * DAY) / DAY * DAY;
    for (i, code) in ["incorrect_cvc", "card_declined", "incorrect_number"]
        .iter()
        .enumerate()
    {
        order(SELLER_A, &format!("pi_d{i}"), day + 3600 * (i as i64 + 1))
            .email(&format!("d{i}@example.com"))
            .failed(code)
            .put(&store)
            .await;
    }
    let s = stats(store, "").await;
    assert_eq!(s["suspected_configuration_issue"], true);
}

#[tokio::test]
async fn given_bad_days_when_stats_then_400() {
    let app = router(state(Arc::new(MemoryStore::new())));
    for q in ["days=0", "days=366", "days=abc", "days=-3", "days=1.5"] {
        let r = get_as(&app, SELLER_A, &format!("/stats/failures?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(r.error_code(), "invalid_days");
    }
    for q in ["days=1", "days=365"] {
        assert_eq!(
            get_as(&app, SELLER_A, &format!("/stats/failures?{q}"))
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn given_disputes_in_many_states_when_dispute_stats_then_open_ones_most_urgent_first() {
    // GIVEN an open dispute due later, an inquiry due sooner, one under review, one won, and
    // another seller's open dispute (evidence is due 7 days after each dispute's time)
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_later", NOW - DAY)
        .email("a@example.com")
        .paid()
        .dispute("needs_response")
        .put(&store)
        .await;
    order(SELLER_A, "pi_sooner", NOW - 3 * DAY)
        .email("b@example.com")
        .paid()
        .dispute("warning_needs_response")
        .put(&store)
        .await;
    order(SELLER_A, "pi_review", NOW - 2 * DAY)
        .paid()
        .dispute("under_review")
        .put(&store)
        .await;
    order(SELLER_A, "pi_won", NOW - 4 * DAY)
        .paid()
        .dispute("won")
        .put(&store)
        .await;
    order(SELLER_B, "pi_other", NOW - 5 * DAY)
        .paid()
        .dispute("needs_response")
        .put(&store)
        .await;
    let app = router(state(store).with_clock(Arc::new(|| NOW)));
    // WHEN seller A asks which disputes need a response
    let r = get_as(&app, SELLER_A, "/stats/disputes").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body: Value = r.json();
    let list = body["needs_response"].as_array().unwrap();
    // THEN only A's two open ones, the nearest due date first, with the contract's fields
    let ids: Vec<&str> = list
        .iter()
        .map(|d| d["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pi_sooner", "pi_later"]);
    assert_eq!(list[0]["status"], "warning_needs_response");
    assert_eq!(list[0]["dispute_id"], "dp_pi_sooner");
    assert_eq!(list[0]["reason"], "fraudulent");
    assert_eq!(list[0]["amount"], 2500);
    assert!(
        list[0]["evidence_due_by"].as_str().unwrap() < list[1]["evidence_due_by"].as_str().unwrap()
    );
    assert!(list[0].get("currency").is_some());
    // AND without a token it is a 401
    assert_eq!(
        crate::common::get(&app, "/stats/disputes", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
