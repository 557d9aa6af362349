//! `GET /downloads/{token}`: valid → the file and one log entry; altered → `403`; malformed or
//! unknown → `404`; revoked (full refund) → `410`, and served again once the refund fails.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::tokens::{DownloadClaims, DownloadKey};
use orders_api::{router, ProductFiles};
use serde_json::json;

/// ord_1011 of the shared fixtures: paid, then fully refunded, then the refund fails.
const ORDER: &str = "pi_3QJPMb8cKdV3nWpT0fgBDTNm";
const PRODUCT: &str = "prod_lut_pack";

fn claims(order_id: &str, product_id: &str) -> DownloadClaims {
    DownloadClaims {
        seller_id: SELLER_A.into(),
        order_id: order_id.into(),
        product_id: product_id.into(),
    }
}

fn link(order_id: &str) -> String {
    DownloadKey::new(DOWNLOAD_KEY).sign(&claims(order_id, PRODUCT))
}

async fn download(app: &axum::Router, token: &str) -> Resp {
    let mut request = Request::get(format!("/downloads/{token}"))
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64)")
        // Never trusted: the socket address is what gets logged.
        .header("x-forwarded-for", "1.2.3.4")
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 23], 50123))));
    send(app, request).await
}

/// ord_1011 paid, its delivery email sent with a link to PRODUCT.
async fn paid_order() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    deliver(&store, "ord_1011__01__payment_intent.succeeded.json").await;
    emailed(&store, SELLER_A, ORDER, PRODUCT).await;
    store
}

#[tokio::test]
async fn given_a_valid_link_when_downloaded_then_the_file_and_one_log_entry() {
    // GIVEN a paid order and its link, no JWT at all
    let store = paid_order().await;
    let app = app(store.clone());
    // WHEN the customer opens it
    let r = download(&app, &link(ORDER)).await;
    // THEN the placeholder file naming the product, not cacheable
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains(PRODUCT));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // AND one log entry with the socket's IP (not X-Forwarded-For) and the user agent
    let log = store.list_downloads(SELLER_A, ORDER).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(
        log[0].user_agent.as_deref(),
        Some("Mozilla/5.0 (X11; Linux x86_64)")
    );
    assert!((log[0].at - now()).abs() < 60);
    // AND the evidence shows it
    let e = get_as(&app, SELLER_A, &format!("/orders/{ORDER}/evidence"))
        .await
        .json();
    assert_eq!(e["downloads"][0]["ip"], "198.51.100.23");
}

#[tokio::test]
async fn given_altered_or_foreign_tokens_when_downloaded_then_403_and_nothing_logged() {
    let store = paid_order().await;
    let app = app(store.clone());
    let valid = link(ORDER);
    let (_, sig) = valid.split_once('.').unwrap();
    // another order's claims under this token's signature
    let spliced = format!(
        "{}.{sig}",
        URL_SAFE_NO_PAD.encode(json!(["d1", SELLER_A, "pi_other", PRODUCT]).to_string())
    );
    let other_key = DownloadKey::new("not our key").sign(&claims(ORDER, PRODUCT));
    for (t, why) in [
        (spliced, "spliced claims"),
        (other_key, "signed with another key"),
    ] {
        let r = download(&app, &t).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{why}");
        assert_eq!(r.error_code(), "forbidden");
    }
    assert!(store
        .list_downloads(SELLER_A, ORDER)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn given_malformed_or_unknown_tokens_when_downloaded_then_404() {
    let store = paid_order().await;
    let app = app(store.clone());
    let key = DownloadKey::new(DOWNLOAD_KEY);
    for (t, why) in [
        ("garbage".to_owned(), "no dot"),
        ("a.b.c".to_owned(), "too many parts"),
        ("!!.%21%21".to_owned(), "not base64"),
        (
            key.sign(&claims("pi_gone", PRODUCT)),
            "well signed, order missing",
        ),
        (
            key.sign(&DownloadClaims {
                seller_id: SELLER_B.into(),
                order_id: ORDER.into(),
                product_id: PRODUCT.into(),
            }),
            "well signed, other seller",
        ),
    ] {
        let r = download(&app, &t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{why}");
        assert_eq!(r.error_code(), "not_found");
    }
}

#[tokio::test]
async fn given_a_link_emailed_for_a_product_when_metadata_later_names_another_then_it_serves_what_it_named(
) {
    // GIVEN a paid order whose product is now PRODUCT, and a link we signed and emailed while
    // the order named another product (contract section 2: a sent link never dies)
    let store = Arc::new(MemoryStore::new());
    deliver(&store, "ord_1011__01__payment_intent.succeeded.json").await;
    crate::common::emailed(&store, SELLER_A, ORDER, "prod_other").await;
    let app = app(store.clone());
    let emailed = DownloadKey::new(DOWNLOAD_KEY).sign(&claims(ORDER, "prod_other"));
    // WHEN the customer opens it
    let r = download(&app, &emailed).await;
    // THEN it serves the product the link named, not a 404 and not the order's current product
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("prod_other"), "{}", r.text());
    assert!(!r.text().contains(PRODUCT), "{}", r.text());
    // AND the download is logged like any other
    assert_eq!(
        store.list_downloads(SELLER_A, ORDER).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn given_a_well_signed_token_for_a_product_no_email_of_its_order_named_when_downloaded_then_404_and_nothing_logged(
) {
    // GIVEN a paid order whose email named PRODUCT, and tokens signed with the genuine key (as
    // a leaked key would sign them) for another product of any seller, on this order
    let store = paid_order().await;
    let app = app(store.clone());
    for product in ["prod_other", "prod_notion_tpl", "prod_lut_pack_v2"] {
        // WHEN such a token is opened
        let r = download(
            &app,
            &DownloadKey::new(DOWNLOAD_KEY).sign(&claims(ORDER, product)),
        )
        .await;
        // THEN it opens nothing: 404, as an unknown link
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{product}");
        assert!(!r.text().contains(product), "{}", r.text());
    }
    // AND an order whose email has not gone out serves no product at all
    deliver(&store, "ord_2012__01__payment_intent.succeeded.json").await;
    let unsent = DownloadKey::new(DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: "acct_1QJm7E4fTqZ2sLxN".into(),
        order_id: "pi_3QL4S94fTqZ2sLxN0OMFqGB5".into(),
        product_id: "prod_notion_tpl".into(),
    });
    assert_eq!(download(&app, &unsent).await.status, StatusCode::NOT_FOUND);
    // AND nothing was logged, while the genuine link still opens
    assert!(store
        .list_downloads(SELLER_A, ORDER)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(download(&app, &link(ORDER)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn given_a_full_refund_when_downloaded_then_410_and_again_200_after_the_refund_fails() {
    // GIVEN the order fully refunded
    let store = paid_order().await;
    let app = app(store.clone());
    deliver(&store, "ord_1011__02__charge.refunded.json").await;
    deliver(&store, "ord_1011__03__refund.created.json").await;
    // WHEN the link is opened THEN gone
    let r = download(&app, &link(ORDER)).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
    assert_eq!(r.error_code(), "gone");
    assert!(store
        .list_downloads(SELLER_A, ORDER)
        .await
        .unwrap()
        .is_empty());
    // AND once the refund fails, access is back
    deliver(&store, "ord_1011__04__refund.failed.json").await;
    deliver(&store, "ord_1011__05__charge.refund.updated.json").await;
    let r = download(&app, &link(ORDER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        store.list_downloads(SELLER_A, ORDER).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn given_a_products_dir_when_downloaded_then_the_real_file_seller_folder_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(SELLER_A)).unwrap();
    std::fs::write(
        dir.path().join(SELLER_A).join(PRODUCT),
        b"seller's LUT bytes",
    )
    .unwrap();
    std::fs::write(dir.path().join(PRODUCT), b"shared LUT bytes").unwrap();
    let mut state = state(paid_order().await);
    state.products = ProductFiles::LocalDir(Some(dir.path().to_owned()));
    let app = router(state);
    let r = download(&app, &link(ORDER)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"seller's LUT bytes");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    // AND without the seller's folder, the shared file
    std::fs::remove_dir_all(dir.path().join(SELLER_A)).unwrap();
    assert_eq!(
        &download(&app, &link(ORDER)).await.body[..],
        b"shared LUT bytes"
    );
}

#[tokio::test]
async fn given_s3_files_when_downloaded_then_302_to_a_presigned_url_not_cached() {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .build(),
    );
    let mut state = state(paid_order().await);
    state.products = ProductFiles::S3 {
        client,
        bucket: "leenkies-products".into(),
        expires_secs: 120,
    };
    let app = router(state);
    let r = download(&app, &link(ORDER)).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
    let location = r.header("location").unwrap();
    assert!(location.contains("leenkies-products"), "{location}");
    assert!(
        location.contains(&format!("{SELLER_A}/{PRODUCT}")),
        "{location}"
    );
    assert!(location.contains("X-Amz-Expires=120"), "{location}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn given_lambda_request_context_when_downloaded_then_its_source_ip_is_logged() {
    let store = paid_order().await;
    let app = app(store.clone());
    let context: lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext =
        serde_json::from_value(json!({"http": {"method": "GET", "sourceIp": "203.0.113.77"}}))
            .unwrap();
    let mut request = Request::get(format!("/downloads/{}", link(ORDER)))
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(lambda_http::request::RequestContext::ApiGatewayV2(context));
    assert_eq!(send(&app, request).await.status, StatusCode::OK);
    let log = store.list_downloads(SELLER_A, ORDER).await.unwrap();
    assert_eq!(log[0].ip.as_deref(), Some("203.0.113.77"));
    assert_eq!(log[0].user_agent, None);
}

/// Folds a shared fixture after rewriting it (e.g. a dispute's status), as Stripe would send it.
async fn deliver_rewritten(store: &MemoryStore, file: &str, rewrite: &[(&str, &str)]) {
    use leenkies_domain::apply::{fold, RetryPolicy};
    use leenkies_domain::order::from_event::{interpret, Interpretation};
    use leenkies_domain::stripe::event::Event;
    let mut body =
        String::from_utf8(leenkies_integration_tests::stripe::shared_event(file)).unwrap();
    for (from, to) in rewrite {
        body = body.replace(from, to);
    }
    let event = Event::parse(body.as_bytes()).unwrap();
    if let Interpretation::Fold(folding) = interpret(&event).unwrap() {
        fold(store, &folding, RetryPolicy::default()).await.unwrap();
    }
}

#[tokio::test]
async fn given_a_lost_dispute_then_won_when_downloaded_then_410_then_served_again() {
    // GIVEN ord_2012 (seller B): paid, then its dispute closed as lost
    let store = Arc::new(MemoryStore::new());
    deliver(&store, "ord_2012__01__payment_intent.succeeded.json").await;
    emailed(
        &store,
        "acct_1QJm7E4fTqZ2sLxN",
        "pi_3QL4S94fTqZ2sLxN0OMFqGB5",
        "prod_notion_tpl",
    )
    .await;
    deliver_rewritten(
        &store,
        "ord_2012__05__charge.dispute.closed.won.json",
        &[("\"status\": \"won\"", "\"status\": \"lost\"")],
    )
    .await;
    let app = app(store.clone());
    let token = DownloadKey::new(DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: "acct_1QJm7E4fTqZ2sLxN".into(),
        order_id: "pi_3QL4S94fTqZ2sLxN0OMFqGB5".into(),
        product_id: "prod_notion_tpl".into(),
    });
    // WHEN the customer opens the link THEN access is revoked
    assert_eq!(download(&app, &token).await.status, StatusCode::GONE);
    // WHEN the dispute is later closed as won (a later event) THEN the link works again
    deliver_rewritten(
        &store,
        "ord_2012__05__charge.dispute.closed.won.json",
        &[(
            "\"created\": 1783519200,\n  \"data\"",
            "\"created\": 1783519999,\n  \"data\"",
        )],
    )
    .await;
    let r = download(&app, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
