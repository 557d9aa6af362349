//! `GET /orders/export.csv`: a header row, every matching order across pages, proper quoting, and
//! no spreadsheet formula injection.

use std::sync::Arc;

use crate::common::*;
use axum::http::StatusCode;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::facts::Reg;
use leenkies_domain::ports::OrderStore;

fn parse(csv_text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn given_orders_when_exported_then_header_and_one_row_each() {
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_1", T0)
        .email("a@example.com")
        .reference("ord_1")
        .paid()
        .put(&store)
        .await;
    order(SELLER_A, "pi_2", T0 + 10)
        .email("b@example.com")
        .failed("expired_card")
        .put(&store)
        .await;
    order(SELLER_B, "pi_b", T0)
        .email("b@example.com")
        .paid()
        .put(&store)
        .await;
    let r = get_as(&app(store), SELLER_A, "/orders/export.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let text = r.text();
    assert_eq!(
        text.lines().next().unwrap(),
        "order_id,reference,created_at,customer_email,product_id,product_name,amount,currency,payment_status,refunded_amount,failure_category,failure_code,dispute_status,fulfillment_status,amount_decimal,refunded_decimal,customer_name"
    );
    let rows = parse(&text);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        [
            "pi_2",
            "",
            "2026-05-08T08:00:10Z",
            "b@example.com",
            "prod_lut_pack",
            "Cinematic LUT Pack",
            "2500",
            "usd",
            "failed",
            "0",
            "expired_card",
            "expired_card",
            "",
            "pending",
            "25.00",
            "0.00",
            ""
        ]
    );
    assert_eq!(rows[1][0], "pi_1");
    assert_eq!(rows[1][1], "ord_1");
    assert_eq!(rows[1][8], "succeeded");
}

#[tokio::test]
async fn given_currencies_of_every_kind_when_exported_then_major_units_and_the_billing_name() {
    // GIVEN orders in a two-, a zero- and a three-decimal currency, one partly refunded, one with
    // the charge's billing name
    let store = Arc::new(MemoryStore::new());
    let mut eur = order(SELLER_A, "pi_eur", T0)
        .paid()
        .refund(1000, "succeeded")
        .build();
    eur.facts.amount = Some(Reg::new(0, T0, 3599));
    eur.facts.currency = Some(Reg::new(0, T0, "eur".into()));
    eur.facts.customer_name = Some(Reg::new(0, T0, "Ana Souza".into()));
    let mut jpy = order(SELLER_A, "pi_jpy", T0 + 10).paid().build();
    jpy.facts.amount = Some(Reg::new(0, T0, 1000));
    jpy.facts.currency = Some(Reg::new(0, T0, "jpy".into()));
    let mut kwd = order(SELLER_A, "pi_kwd", T0 + 20).paid().build();
    kwd.facts.amount = Some(Reg::new(0, T0, 1500));
    kwd.facts.currency = Some(Reg::new(0, T0, "kwd".into()));
    for r in [&eur, &jpy, &kwd] {
        store.put_order(r, None, &[]).await.unwrap();
    }
    // WHEN the seller exports them
    let r = get_as(&app(store), SELLER_A, "/orders/export.csv").await;
    // THEN amount_decimal and refunded_decimal follow Stripe's decimals, beside the minor units
    let rows = parse(&r.text());
    let pick = |id: &str| rows.iter().find(|row| row[0] == id).unwrap().clone();
    let (eur, jpy, kwd) = (pick("pi_eur"), pick("pi_jpy"), pick("pi_kwd"));
    assert_eq!(
        (
            &eur[6][..],
            &eur[9][..],
            &eur[14][..],
            &eur[15][..],
            &eur[16][..]
        ),
        ("3599", "1000", "35.99", "10.00", "Ana Souza")
    );
    assert_eq!(
        (&jpy[14][..], &jpy[15][..], &jpy[16][..]),
        ("1000", "0", "")
    );
    assert_eq!((&kwd[14][..], &kwd[15][..]), ("1.500", "0.000"));
}

#[tokio::test]
async fn given_hostile_text_when_exported_then_quoted_and_neutralised() {
    // GIVEN a product name with a comma and quotes, and cells that look like formulas
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_q", T0)
        .email("=HYPERLINK(\"http://evil\")@example.com")
        .product("prod_q", "LUTs, \"Pro\" edition")
        .paid()
        .put(&store)
        .await;
    order(SELLER_A, "pi_f", T0 + 1)
        .email("+cmd@example.com")
        .product("-2+3", "@SUM(A1:A9)")
        .paid()
        .put(&store)
        .await;
    order(SELLER_A, "pi_t", T0 + 2)
        .email("\tx@example.com")
        .product("prod_t", "\rname")
        .paid()
        .put(&store)
        .await;
    let text = get_as(&app(store), SELLER_A, "/orders/export.csv")
        .await
        .text();
    // THEN the raw CSV quotes properly
    assert!(text.contains(r#""LUTs, ""Pro"" edition""#), "{text}");
    // AND every formula-looking cell starts with a quote mark
    let rows = parse(&text);
    let by_id = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    assert_eq!(by_id("pi_q")[5], "LUTs, \"Pro\" edition");
    assert_eq!(by_id("pi_q")[3], "'=HYPERLINK(\"http://evil\")@example.com");
    assert_eq!(by_id("pi_f")[3], "'+cmd@example.com");
    assert_eq!(by_id("pi_f")[4], "'-2+3");
    assert_eq!(by_id("pi_f")[5], "'@SUM(A1:A9)");
    assert_eq!(by_id("pi_t")[3], "'\tx@example.com");
    assert_eq!(by_id("pi_t")[5], "'\rname");
}

#[tokio::test]
async fn given_more_orders_than_a_page_when_exported_then_all_of_them_once() {
    // GIVEN 250 orders (more than two store pages of 100) and filters
    let store = Arc::new(MemoryStore::new());
    for i in 0..250 {
        let b = order(SELLER_A, &format!("pi_{i:03}"), T0 + i).email(&format!("c{i}@example.com"));
        let b = if i % 5 == 0 {
            b.failed("card_declined")
        } else {
            b.paid()
        };
        b.put(&store).await;
    }
    let app = app(store);
    // WHEN exported without filters
    let rows = parse(&get_as(&app, SELLER_A, "/orders/export.csv").await.text());
    // THEN every order, once, newest first
    assert_eq!(rows.len(), 250);
    let expected: Vec<String> = (0..250).rev().map(|i| format!("pi_{i:03}")).collect();
    assert_eq!(
        rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        expected
    );
    // AND the filters of /orders apply
    let failed = parse(
        &get_as(&app, SELLER_A, "/orders/export.csv?status=failed")
            .await
            .text(),
    );
    assert_eq!(failed.len(), 50);
    assert!(failed.iter().all(|r| r[8] == "failed"));
    let window = parse(
        &get_as(
            &app,
            SELLER_A,
            "/orders/export.csv?from=2026-05-08T08:00:10Z&to=2026-05-08T08:00:19Z",
        )
        .await
        .text(),
    );
    assert_eq!(window.len(), 10);
    // AND a bad filter is a 400
    let bad = get_as(&app, SELLER_A, "/orders/export.csv?status=nope").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_code(), "invalid_status");
}

#[tokio::test]
async fn given_no_orders_when_exported_then_only_the_header() {
    let text = get_as(
        &app(Arc::new(MemoryStore::new())),
        SELLER_A,
        "/orders/export.csv",
    )
    .await
    .text();
    assert_eq!(text.lines().count(), 1);
}
