//! Hostile input on every orders-api route: wrong methods, forged and confused JWTs, broken query
//! strings, invalid UTF-8, huge numbers and values, path traversal in ids and tokens, a hostile
//! seller probing another's orders. Each answer is a clear `4xx` with the contract's error body,
//! nothing is written (no download logged, no order changed) and nothing panics.
//!
//! The tables here are the source of SECURITY.md's table; each test prints how many inputs it
//! tried (`cargo test -p orders-api --test api hostile:: -- --nocapture`).

use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::tokens::{DownloadClaims, DownloadKey};
use orders_api::cursor;
use orders_api::{router, ProductFiles};
use proptest::prelude::*;
use serde_json::json;

/// ord_1011 of the shared fixtures (seller A), paid.
const ORDER: &str = "pi_3QJPMb8cKdV3nWpT0fgBDTNm";

/// A paid order whose delivery email went out (version 2).
async fn paid_store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    deliver(&store, "ord_1011__01__payment_intent.succeeded.json").await;
    emailed(&store, SELLER_A, ORDER, "prod_lut_pack").await;
    store
}

/// GIVEN a request WHEN sent THEN this status and error code, and a JSON error body.
async fn expect(
    app: &axum::Router,
    label: &str,
    request: Request<Body>,
    status: StatusCode,
    code: &str,
) {
    let response = send(app, request).await;
    assert_eq!(response.status, status, "{label}: {}", response.text());
    let body: serde_json::Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("{label}: error body is not JSON: {}", response.text()));
    assert_eq!(body["error"]["code"], code, "{label}: {body}");
    assert!(body["error"]["message"].is_string(), "{label}: {body}");
}

fn get_with(uri: &str, bearer: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(t) = bearer {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    request.body(Body::empty()).unwrap()
}

/// Asserts nothing was written: the order is at its version and no download was logged.
async fn assert_untouched(store: &MemoryStore, version: u64) {
    let record = store.get_order(SELLER_A, ORDER).await.unwrap().unwrap();
    assert_eq!(record.version, version, "the order was rewritten");
    assert!(
        store
            .list_downloads(SELLER_A, ORDER)
            .await
            .unwrap()
            .is_empty(),
        "a download was logged"
    );
}

#[tokio::test]
async fn given_wrong_methods_on_every_route_when_sent_then_405_and_nothing_written() {
    let store = paid_store().await;
    let app = app(store.clone());
    let token = DownloadKey::new(DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: SELLER_A.into(),
        order_id: ORDER.into(),
        product_id: "prod_lut_pack".into(),
    });
    let routes = [
        "/orders".to_owned(),
        "/orders/export.csv".to_owned(),
        format!("/orders/{ORDER}"),
        format!("/orders/{ORDER}/evidence"),
        "/stats/failures".to_owned(),
        "/openapi.json".to_owned(),
        format!("/downloads/{token}"),
    ];
    let mut tried = 0;
    for route in &routes {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            // WHEN a write method is sent, with a valid seller token and a JSON body
            let request = Request::builder()
                .method(method)
                .uri(route)
                .header("authorization", format!("Bearer {}", token_for_a()))
                .header("content-type", "application/json")
                .body(Body::from(r#"{"payment_status":"refunded"}"#))
                .unwrap();
            // THEN 405 with the error body
            expect(
                &app,
                &format!("{method} {route}"),
                request,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            )
            .await;
            tried += 1;
        }
    }
    // AND nothing was written
    assert_untouched(&store, 2).await;
    println!("hostile inputs tried (wrong methods): {tried}");
}

/// The test state serving files from `dir`.
fn with_products(store: Arc<MemoryStore>, dir: std::path::PathBuf) -> orders_api::ApiState {
    let mut s = state(store);
    s.products = ProductFiles::LocalDir(Some(dir));
    s
}

fn token_for_a() -> String {
    token(SELLER_A)
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A token with any header, signed HS256-style with `key` over whatever header it carries.
fn hand_made(header: serde_json::Value, claims: serde_json::Value, key: Option<&[u8]>) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let signing_input = format!("{}.{}", b64(&header), b64(&claims));
    let sig = match key {
        Some(key) => {
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
            mac.update(signing_input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{signing_input}.{sig}")
}

#[tokio::test]
async fn given_hostile_jwts_when_reading_then_401_and_no_data() {
    // GIVEN seller A's order in the store
    let store = paid_store().await;
    let app = app(store.clone());
    let now = now();
    let good = json!({"sub": SELLER_A, "exp": now + 3600});
    let secret = JWT_SECRET.as_bytes();
    let with_alg = |alg: Algorithm, claims: serde_json::Value| {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none, no signature",
            hand_made(json!({"alg":"none","typ":"JWT"}), good.clone(), None),
        ),
        (
            "alg None (case), no signature",
            hand_made(json!({"alg":"None","typ":"JWT"}), good.clone(), None),
        ),
        (
            "alg none with an HS256 signature",
            hand_made(json!({"alg":"none"}), good.clone(), Some(secret)),
        ),
        (
            "alg HS512 with the right secret (confusion)",
            with_alg(Algorithm::HS512, good.clone()),
        ),
        (
            "alg HS384 with the right secret (confusion)",
            with_alg(Algorithm::HS384, good.clone()),
        ),
        (
            "alg RS256 header, HMAC signature (key confusion)",
            hand_made(
                json!({"alg":"RS256","typ":"JWT"}),
                good.clone(),
                Some(secret),
            ),
        ),
        (
            "alg ES256 header, HMAC signature",
            hand_made(json!({"alg":"ES256"}), good.clone(), Some(secret)),
        ),
        (
            "embedded jwk header, signed with its own key",
            hand_made(
                json!({"alg":"HS256","jwk":{"kty":"oct","k":b64(&json!("attacker"))}}),
                good.clone(),
                Some(b"attacker"),
            ),
        ),
        (
            "kid path traversal, signed with empty key",
            hand_made(
                json!({"alg":"HS256","kid":"../../../../dev/null"}),
                good.clone(),
                Some(b""),
            ),
        ),
        (
            "wrong secret",
            encode(
                &Header::default(),
                &good,
                &EncodingKey::from_secret(b"guessed"),
            )
            .unwrap(),
        ),
        (
            "expired an hour ago",
            jwt(json!({"sub": SELLER_A, "exp": now - 3600})),
        ),
        (
            "expired just beyond the leeway",
            jwt(json!({"sub": SELLER_A, "exp": now - 120})),
        ),
        (
            "not valid before an hour from now",
            jwt(json!({"sub": SELLER_A, "exp": now + 7200, "nbf": now + 3600})),
        ),
        ("no exp", jwt(json!({"sub": SELLER_A}))),
        (
            "exp as a string",
            jwt(json!({"sub": SELLER_A, "exp": "9999999999"})),
        ),
        (
            "exp huge number",
            jwt(json!({"sub": SELLER_A, "exp": 1e300})),
        ),
        ("sub missing", jwt(json!({"exp": now + 3600}))),
        ("sub a number", jwt(json!({"sub": 42, "exp": now + 3600}))),
        (
            "sub an object",
            jwt(json!({"sub": {"id": SELLER_A}, "exp": now + 3600})),
        ),
        ("sub empty", jwt(json!({"sub": "", "exp": now + 3600}))),
        (
            "sub with CR/LF",
            jwt(json!({"sub": "acct_A\r\nX-Injected: 1", "exp": now + 3600})),
        ),
        (
            "sub 10k chars",
            jwt(json!({"sub": "a".repeat(10_000), "exp": now + 3600})),
        ),
        ("signature stripped", {
            let t = token_for_a();
            t[..t.rfind('.').unwrap() + 1].to_owned()
        }),
        ("payload swapped to seller B under A's signature", {
            let t = token_for_a();
            let parts: Vec<&str> = t.split('.').collect();
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&json!({"sub": SELLER_B, "exp": now + 3600})),
                parts[2]
            )
        }),
        ("two dots only", "..".to_owned()),
        ("not base64", "!!!.???.***".to_owned()),
        ("1 MB of garbage", "a".repeat(1 << 20)),
        (
            "header is deeply nested JSON",
            format!(
                "{}.{}.x",
                URL_SAFE_NO_PAD.encode("[".repeat(10_000)),
                b64(&good)
            ),
        ),
    ];
    let mut tried = 0;
    for (label, bad) in &cases {
        // WHEN each bad token is presented on a data route THEN 401 unauthorized
        expect(
            &app,
            label,
            get_with("/orders", Some(bad)),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        expect(
            &app,
            label,
            get_with(&format!("/orders/{ORDER}"), Some(bad)),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        tried += 1;
    }
    // AND tokens in the wrong place or scheme are refused alike
    let good_token = token_for_a();
    let misplaced: Vec<(&str, Request<Body>)> = vec![
        (
            "token in the query string",
            get_with(&format!("/orders?access_token={good_token}"), None),
        ),
        (
            "Basic scheme",
            Request::get("/orders")
                .header("authorization", format!("Basic {good_token}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "Bearer with nothing",
            Request::get("/orders")
                .header("authorization", "Bearer ")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "token as a cookie",
            Request::get("/orders")
                .header("cookie", format!("token={good_token}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "Authorization with non-UTF-8 bytes",
            Request::get("/orders")
                .header(
                    "authorization",
                    HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
                )
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "seller chosen by header only",
            Request::get("/orders")
                .header("x-seller-id", SELLER_A)
                .body(Body::empty())
                .unwrap(),
        ),
    ];
    for (label, request) in misplaced {
        expect(
            &app,
            label,
            request,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        tried += 1;
    }
    // AND the genuine token still works (the table above is not refusing everything)
    assert_eq!(
        get(&app, "/orders", Some(&good_token)).await.status,
        StatusCode::OK
    );
    assert_untouched(&store, 2).await;
    println!("hostile inputs tried (JWT): {tried}");
}

#[tokio::test]
async fn given_hostile_query_strings_when_listing_exporting_or_counting_then_400_naming_the_problem(
) {
    let store = paid_store().await;
    let app = app(store.clone());
    // The longest URI the HTTP stack can carry is 64 KiB (hyper answers 414 beyond, before any
    // route); 60 KB values are the most a client can put in front of our code.
    let big = "a".repeat(60_000);
    let many_params: String = (0..5_000).map(|i| format!("p{i}=x&")).collect();
    let cases: Vec<(String, &str)> = vec![
        ("/orders?status=%FF%FE".into(), "invalid_query"),
        ("/orders?status=%E2%28%A1".into(), "invalid_query"),
        ("/orders?email=%C0%AF".into(), "invalid_query"),
        ("/orders?status=../../etc/passwd".into(), "invalid_status"),
        ("/orders?status=succeeded%00".into(), "invalid_status"),
        ("/orders?status=SUCCEEDED".into(), "invalid_status"),
        (
            "/orders?limit=99999999999999999999999999".into(),
            "invalid_limit",
        ),
        ("/orders?limit=-1".into(), "invalid_limit"),
        ("/orders?limit=0".into(), "invalid_limit"),
        ("/orders?limit=101".into(), "invalid_limit"),
        ("/orders?limit=1e3".into(), "invalid_limit"),
        ("/orders?limit=NaN".into(), "invalid_limit"),
        ("/orders?limit=%20%2025".into(), "invalid_limit"),
        ("/orders?from=not-a-date".into(), "invalid_timestamp"),
        (
            "/orders?from=%2B999999-01-01T00:00:00Z".into(),
            "invalid_timestamp",
        ),
        (
            "/orders?to=99999999999999999999".into(),
            "invalid_timestamp",
        ),
        (
            "/orders?to=2026-13-45T99:99:99Z".into(),
            "invalid_timestamp",
        ),
        (
            format!("/orders?email={}", "a".repeat(300)),
            "invalid_email",
        ),
        (format!("/orders?email={big}"), "invalid_email"),
        (
            "/orders?email=a%0D%0ABcc:x@evil.example".into(),
            "invalid_email",
        ),
        ("/orders?email=%00".into(), "invalid_email"),
        // one letter (after trimming) is refused, not read across most customers
        ("/orders?email=J".into(), "prefix_too_short"),
        ("/orders?email=%20j%20".into(), "prefix_too_short"),
        ("/orders/export.csv?email=%C3%A9".into(), "prefix_too_short"),
        (
            "/orders?status=failed&status=succeeded".into(),
            "duplicate_parameter",
        ),
        (format!("/orders?cursor={big}"), "invalid_cursor"),
        ("/orders?cursor=e30.AAAA".into(), "invalid_cursor"),
        ("/orders?cursor=%FF.%FF".into(), "invalid_query"),
        (
            format!("/orders?{many_params}status=nope"),
            "invalid_status",
        ),
        ("/orders/export.csv?status=%FF".into(), "invalid_query"),
        ("/orders/export.csv?from=1e400".into(), "invalid_timestamp"),
        (format!("/orders/export.csv?email={big}"), "invalid_email"),
        (
            "/stats/failures?days=99999999999999999999".into(),
            "invalid_days",
        ),
        ("/stats/failures?days=-1".into(), "invalid_days"),
        ("/stats/failures?days=0".into(), "invalid_days"),
        ("/stats/failures?days=366".into(), "invalid_days"),
        ("/stats/failures?days=1e309".into(), "invalid_days"),
        ("/stats/failures?days=%FF".into(), "invalid_query"),
    ];
    let bearer = token_for_a();
    for (uri, code) in &cases {
        // WHEN sent by a genuine seller THEN 400 with the code naming the parameter
        expect(
            &app,
            uri.get(..80).unwrap_or(uri),
            get_with(uri, Some(&bearer)),
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
    }
    assert_untouched(&store, 2).await;
    println!("hostile inputs tried (query strings): {}", cases.len());
}

#[tokio::test]
async fn given_hostile_ids_when_reading_orders_then_404_and_never_another_sellers_order() {
    // GIVEN seller A's order; seller B is the attacker
    let store = paid_store().await;
    let app = app(store.clone());
    let long = "p".repeat(60_000);
    let ids: Vec<String> = vec![
        "..%2F..%2Fetc%2Fpasswd".into(),
        "%2e%2e".into(),
        "..".into(),
        format!("{ORDER}%00"),
        format!("{ORDER}%0D%0ASet-Cookie:%20x=1"),
        "%FF%FE".into(),
        format!("{ORDER}%2F..%2F..%2F{ORDER}"),
        format!("SELLER%23{SELLER_A}%23ORDER%23{ORDER}"),
        format!("pi_{long}"),
        "*".into(),
        "%25".into(),
    ];
    let mut tried = 0;
    for id in &ids {
        for suffix in ["", "/evidence"] {
            let uri = format!("/orders/{id}{suffix}");
            let label = uri.get(..80).unwrap_or(&uri).to_owned();
            // WHEN seller A asks for a hostile id THEN 404 not_found
            expect(
                &app,
                &label,
                get_with(&uri, Some(&token_for_a())),
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
            tried += 1;
        }
    }
    // AND seller B asking for A's real order, its evidence, or with A's id in every filter, sees
    // nothing: 404, exactly like a missing order
    let b = token(SELLER_B);
    for uri in [
        format!("/orders/{ORDER}"),
        format!("/orders/{ORDER}/evidence"),
    ] {
        expect(
            &app,
            &format!("B reads {uri}"),
            get_with(&uri, Some(&b)),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        tried += 1;
    }
    for uri in [
        format!("/orders?seller_id={SELLER_A}"),
        format!("/orders?account={SELLER_A}&seller={SELLER_A}"),
        format!("/orders/export.csv?sub={SELLER_A}"),
    ] {
        let response = get(&app, &uri, Some(&b)).await;
        assert_eq!(response.status, StatusCode::OK, "{uri}");
        assert!(
            !response.text().contains(ORDER),
            "{uri} leaked A's order to B"
        );
        tried += 1;
    }
    // AND A's cursor is useless to B
    let a_page = get(&app, "/orders?limit=1", Some(&token_for_a()))
        .await
        .json();
    let filters = [0u8; 32];
    let a_cursor = a_page["next_cursor"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            cursor::encode(
                CURSOR_KEY,
                SELLER_A,
                &filters,
                &leenkies_domain::ports::PagePosition {
                    created_at: 1,
                    order_id: ORDER.into(),
                },
            )
            .unwrap()
        });
    expect(
        &app,
        "A's cursor replayed by B",
        get_with(&format!("/orders?cursor={a_cursor}"), Some(&b)),
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    tried += 1;
    assert_untouched(&store, 2).await;
    println!("hostile inputs tried (ids and cross-seller): {tried}");
}

#[tokio::test]
async fn given_hostile_download_tokens_when_fetched_then_refused_and_nothing_logged() {
    // GIVEN a paid order and a products folder with a secret beside it
    let store = paid_store().await;
    let dir = tempfile::tempdir().unwrap();
    let products = dir.path().join("products");
    std::fs::create_dir_all(products.join(SELLER_A)).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET-CONTENT").unwrap();
    let app = router(with_products(store.clone(), products.clone()));
    let key = DownloadKey::new(DOWNLOAD_KEY);
    let signed = |seller: &str, order: &str, product: &str| {
        key.sign(&DownloadClaims {
            seller_id: seller.into(),
            order_id: order.into(),
            product_id: product.into(),
        })
    };
    let genuine = signed(SELLER_A, ORDER, "prod_lut_pack");
    let (body, mac) = genuine.split_once('.').unwrap();
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        ("path traversal", "..%2F..%2Fsecret.txt".into(), StatusCode::NOT_FOUND, "not_found"),
        ("invalid UTF-8", "%FF%FE.%FF".into(), StatusCode::NOT_FOUND, "not_found"),
        ("60 KB token (the longest URI carries 64 KiB)", format!("{}.{}", "a".repeat(60_000), mac), StatusCode::NOT_FOUND, "not_found"),
        ("empty mac", format!("{body}."), StatusCode::FORBIDDEN, "forbidden"),
        ("mac of another key", DownloadKey::new("guess").sign(&DownloadClaims { seller_id: SELLER_A.into(), order_id: ORDER.into(), product_id: "prod_lut_pack".into() }), StatusCode::FORBIDDEN, "forbidden"),
        ("claims for another order under the genuine mac", format!("{}.{mac}", URL_SAFE_NO_PAD.encode(r#"["d1","acct_1QHx4R8cKdV3nWpT","pi_other","prod_lut_pack"]"#)), StatusCode::FORBIDDEN, "forbidden"),
        ("claims with a traversal product under the genuine mac", format!("{}.{mac}", URL_SAFE_NO_PAD.encode(r#"["d1","acct_1QHx4R8cKdV3nWpT","pi_3QJPMb8cKdV3nWpT0fgBDTNm","../../secret.txt"]"#)), StatusCode::FORBIDDEN, "forbidden"),
        ("genuinely signed, other seller", signed(SELLER_B, ORDER, "prod_lut_pack"), StatusCode::NOT_FOUND, "not_found"),
        ("genuinely signed, traversal product", signed(SELLER_A, ORDER, "../secret.txt"), StatusCode::NOT_FOUND, "not_found"),
        ("genuinely signed, unknown order", signed(SELLER_A, "pi_nope", "prod_lut_pack"), StatusCode::NOT_FOUND, "not_found"),
        ("mac with CR/LF", format!("{body}.%0D%0ASet-Cookie:x"), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (label, token, status, code) in &cases {
        expect(
            &app,
            label,
            get_with(&format!("/downloads/{token}"), None),
            *status,
            code,
        )
        .await;
    }
    // THEN nothing was logged, and the genuine link still works and never serves the secret
    assert_untouched(&store, 2).await;
    let ok = get(&app, &format!("/downloads/{genuine}"), None).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(!ok.text().contains("TOP-SECRET"));
    println!("hostile inputs tried (download tokens): {}", cases.len());
}

#[tokio::test]
async fn given_an_order_whose_product_id_is_a_traversal_when_its_genuine_link_is_fetched_then_no_file_outside_the_folder(
) {
    // GIVEN a hostile seller whose storefront set product_id = "../secret.txt" on a paid order
    let store = Arc::new(MemoryStore::new());
    let record = order(SELLER_A, "pi_trav", T0)
        .product("../secret.txt", "x")
        .paid()
        .sent("0100-trav")
        .build();
    store.put_order(&record, None, &[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let products = dir.path().join("products");
    std::fs::create_dir_all(&products).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET-CONTENT").unwrap();
    let app = router(with_products(store.clone(), products));
    // WHEN the genuinely signed link for that order is fetched
    let token = DownloadKey::new(DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: SELLER_A.into(),
        order_id: "pi_trav".into(),
        product_id: "../secret.txt".into(),
    });
    let response = get(&app, &format!("/downloads/{token}"), None).await;
    // THEN the file outside the products folder is never read: a product id that is no plain
    // file name names no file, so the link is unknown (404) and nothing is logged
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(store
        .list_downloads(SELLER_A, "pi_trav")
        .await
        .unwrap()
        .is_empty());
    assert!(
        !response.text().contains("TOP-SECRET"),
        "{}",
        response.text()
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// GIVEN any string as a cursor WHEN decoded THEN an error, never a position.
    #[test]
    fn fuzz_cursor_arbitrary(c in ".{0,400}") {
        prop_assert!(cursor::decode(CURSOR_KEY, SELLER_A, &[0; 32], &c).is_err());
    }

    /// GIVEN a genuine cursor for arbitrary positions WHEN decoded THEN that position; AND with
    /// one character changed, another seller or other filters THEN refused.
    #[test]
    fn fuzz_cursor_tampered(
        created_at in any::<i64>(), order_id in ".{0,60}", seller in ".{1,40}",
        index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.=-]",
    ) {
        let position = leenkies_domain::ports::PagePosition { created_at, order_id };
        let c = cursor::encode(CURSOR_KEY, &seller, &[7; 32], &position).unwrap();
        prop_assert_eq!(cursor::decode(CURSOR_KEY, &seller, &[7; 32], &c).unwrap(), position);
        let other_seller = seller.clone() + "x";
        prop_assert!(cursor::decode(CURSOR_KEY, &other_seller, &[7; 32], &c).is_err());
        prop_assert!(cursor::decode(CURSOR_KEY, &seller, &[8; 32], &c).is_err());
        let i = index.index(c.len());
        let mut tampered = c.clone();
        tampered.replace_range(i..=i, &replacement);
        if tampered != c {
            prop_assert!(cursor::decode(CURSOR_KEY, &seller, &[7; 32], &tampered).is_err());
        }
    }
}

#[test]
fn given_a_one_megabyte_cursor_when_decoded_then_refused() {
    let c = format!("{}.{}", "a".repeat(1 << 20), "b".repeat(43));
    assert!(cursor::decode(CURSOR_KEY, SELLER_A, &[0; 32], &c).is_err());
}
