//! `GET /stats/failures`: failed payments of the window by category, distinct customers, and the
//! configuration-issue flag (many distinct customers failing) with its rule and advice.

use std::sync::Arc;

use crate::common::*;
use axum::http::StatusCode;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::facts::{source, CardFact, DisputeFact, Facts, Reg};
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

/// A sale, chargeback or fraud warning folded as the webhook folds it, so the seller's rate
/// counters see it.
async fn fold(store: &MemoryStore, seller: &str, order_id: &str, facts: &Facts) {
    leenkies_domain::apply::fold_into_order(
        store,
        seller,
        order_id,
        facts,
        leenkies_domain::apply::RetryPolicy::default(),
    )
    .await
    .unwrap();
}

fn sale(order_id: &str, created: i64, brand: Option<&str>) -> Facts {
    Facts {
        pi_created: Some(created),
        succeeded_at: Some(created + 1),
        charges: [format!("ch_{order_id}")].into(),
        card: brand.map(|b| {
            Reg::new(
                source::billing::SUCCEEDED_CHARGE,
                created + 1,
                CardFact {
                    fingerprint: Some("Xt5EWLLDS7FJjR1c".into()),
                    brand: Some(b.into()),
                },
            )
        }),
        ..Facts::default()
    }
}

fn chargeback(dispute_id: &str, status: &str, created: i64) -> Facts {
    Facts {
        disputes: [(
            dispute_id.to_owned(),
            DisputeFact {
                state: Reg::new(0, created, status.into()),
                history: Default::default(),
                reason: Some(Reg::new(0, created, "fraudulent".into())),
                amount: None,
                evidence_due_by: None,
                created: Some(created),
                funds_withdrawn: false,
                funds_reinstated: false,
            },
        )]
        .into(),
        ..Facts::default()
    }
}

#[tokio::test]
async fn given_sales_and_chargebacks_either_side_of_a_month_s_end_when_dispute_stats_then_rates_per_brand(
) {
    // GIVEN (UTC) on November's last second 4 Visa sales, 2 Mastercard sales and 1 without a
    // brand; on December's first second a chargeback on one Visa sale and on one Mastercard
    // sale, an inquiry on another (not counted), and another seller's sale
    const NOV_END: i64 = 1_796_083_199; // 2026-11-30T23:59:59Z
    const DEC_START: i64 = NOV_END + 1;
    let store = Arc::new(MemoryStore::new());
    for i in 0..4 {
        fold(
            &store,
            SELLER_A,
            &format!("pi_v{i}"),
            &sale("v", NOV_END, Some("visa")),
        )
        .await;
    }
    for i in 0..2 {
        fold(
            &store,
            SELLER_A,
            &format!("pi_m{i}"),
            &sale("m", NOV_END, Some("mastercard")),
        )
        .await;
    }
    fold(&store, SELLER_A, "pi_x", &sale("x", NOV_END, None)).await;
    fold(
        &store,
        SELLER_A,
        "pi_v0",
        &chargeback("du_v", "needs_response", DEC_START),
    )
    .await;
    fold(
        &store,
        SELLER_A,
        "pi_m0",
        &chargeback("du_m", "lost", DEC_START),
    )
    .await;
    fold(
        &store,
        SELLER_A,
        "pi_v1",
        &chargeback("du_i", "warning_needs_response", DEC_START),
    )
    .await;
    // AND the same chargeback delivered again
    fold(
        &store,
        SELLER_A,
        "pi_v0",
        &chargeback("du_v", "needs_response", DEC_START),
    )
    .await;
    fold(&store, SELLER_B, "pi_b", &sale("b", NOV_END, Some("visa"))).await;
    // WHEN seller A asks on December's first second
    let app = router(state(store).with_clock(Arc::new(|| DEC_START)));
    let r = get_as(&app, SELLER_A, "/stats/disputes").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body: Value = r.json();
    let rates = body["rates"].clone();
    // THEN December is current, November previous, each with the three brands and their fields
    assert_eq!(rates["current"]["month"], "2026-12");
    assert_eq!(rates["previous"]["month"], "2026-11");
    for month in ["current", "previous"] {
        for brand in ["visa", "mastercard", "all"] {
            let line = &rates[month][brand];
            for field in [
                "sales",
                "disputes",
                "fraud_warnings",
                "dispute_rate",
                "threshold",
            ] {
                assert!(line[field].is_number(), "{month}.{brand}.{field}: {line}");
            }
            assert!(["ok", "watch", "over"].contains(&line["level"].as_str().unwrap()));
        }
    }
    // AND November counts the sales (the brandless one in all only), December the chargebacks
    let nov = &rates["previous"];
    assert_eq!(nov["visa"]["sales"], 4);
    assert_eq!(nov["mastercard"]["sales"], 2);
    assert_eq!(nov["all"]["sales"], 7);
    assert_eq!(nov["all"]["disputes"], 0);
    assert_eq!(nov["all"]["level"], "ok");
    let dec = &rates["current"];
    assert_eq!(dec["all"]["sales"], 0);
    assert_eq!(dec["all"]["disputes"], 2);
    assert_eq!(dec["visa"]["disputes"], 1);
    // AND Mastercard's December ratio divides by November's sales: 1 / 2, over its 1.5 %
    assert_eq!(dec["mastercard"]["dispute_rate"], 0.5);
    assert_eq!(dec["mastercard"]["threshold"], 0.015);
    assert_eq!(dec["mastercard"]["level"], "over");
    // AND Visa's (reports + disputes) over December's own Visa sales (none: counted as one)
    assert_eq!(dec["visa"]["dispute_rate"], 1.0);
    assert_eq!(dec["visa"]["level"], "over");
    // AND one second earlier, November is current and its rates are all ok
    let app = router(state(Arc::new(MemoryStore::new())).with_clock(Arc::new(|| NOV_END)));
    let r = get_as(&app, SELLER_A, "/stats/disputes").await;
    let body: Value = r.json();
    let rates = body["rates"].clone();
    assert_eq!(rates["current"]["month"], "2026-11");
    assert_eq!(rates["previous"]["month"], "2026-10");
    assert_eq!(rates["current"]["all"]["level"], "ok");
}
