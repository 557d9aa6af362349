//! Hostile input on `POST /webhooks/stripe`: broken and oversized bodies, invalid UTF-8, deep
//! nesting, huge numbers, missing fields, odd content types, hostile signature headers, wrong
//! methods, implausible ids. Every answer is a clear status with the error (or ack) body, nothing
//! is written unless a validly signed, readable event was delivered, and nothing panics.
//!
//! These tables are the source of SECURITY.md's webhook rows
//! (`cargo test -p stripe-webhook --test all hostile:: -- --nocapture` prints the counts).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::stripe::signature::{expected_signature, sign, SigningSecrets};
use serde_json::{json, Value};
use stripe_webhook::{router, LiveMode, WebhookConfig, WebhookState};
use tower::ServiceExt;

const SECRET: &str = "whsec_test_hostile";
const NOW: i64 = 1_778_900_000;

fn app(store: Arc<MemoryStore>) -> axum::Router {
    let config = WebhookConfig::new(SigningSecrets::from_csv(SECRET), LiveMode::Any);
    router(WebhookState::new(store, config).with_clock(|| NOW))
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "answer {status} is not JSON: {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

fn signed_request(body: Vec<u8>, content_type: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post("/webhooks/stripe").header("stripe-signature", sign(SECRET, NOW, &body));
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    request.body(Body::from(body)).unwrap()
}

/// A readable event of a handled type: a paid PaymentIntent of `account`.
fn good_event(pi: &str, account: &str) -> Value {
    json!({
        "id": format!("evt_{pi}"), "object": "event", "type": "payment_intent.succeeded",
        "created": NOW - 10, "livemode": false, "account": account,
        "data": {"object": {"id": pi, "object": "payment_intent", "amount": 2500, "currency": "usd",
            "status": "succeeded", "created": NOW - 20, "receipt_email": "jordan.lee@example.com",
            "metadata": {"product_id": "prod_x", "product_name": "X"}}}
    })
}

#[tokio::test]
async fn given_hostile_signed_bodies_when_posted_then_400_or_ignored_and_nothing_written() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone());
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let mut with_deep_object = good_event("pi_deep", "acct_h").to_string();
    with_deep_object = with_deep_object.replace(
        r#""metadata":{"#,
        &format!(r#""nested":{deep},"metadata":{{"#),
    );
    let huge_amount = good_event("pi_huge", "acct_h")
        .to_string()
        .replace("2500", "99999999999999999999999999999");
    let float_amount = good_event("pi_float", "acct_h")
        .to_string()
        .replace("2500", "1e400");
    let base = good_event("pi_base", "acct_h").to_string();
    // (label, body, status, code-or-outcome)
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("invalid UTF-8", b"{\"id\":\"evt_\xff\xfe\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{}}}".to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("lone surrogate escape", br#"{"id":"evt_\ud800","type":"x","data":{"object":{}}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("NUL bytes", vec![0; 64], StatusCode::BAD_REQUEST, "invalid_body"),
        ("UTF-8 BOM before JSON", [&b"\xef\xbb\xbf"[..], base.as_bytes()].concat(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("empty body", Vec::new(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("JSON string", br#""payment_intent.succeeded""#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("JSON number", b"12345678901234567890123456789".to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("50k levels of nesting as the body", deep.clone().into_bytes(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("created beyond i64", base.replace(&format!("\"created\":{}", NOW - 10), "\"created\":99999999999999999999").into_bytes(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("created 1e400", base.replace(&format!("\"created\":{}", NOW - 10), "\"created\":1e400").into_bytes(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("created a string", base.replace(&format!("\"created\":{}", NOW - 10), "\"created\":\"yesterday\"").into_bytes(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("missing id", br#"{"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("empty id", br#"{"id":"","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("missing type", br#"{"id":"evt_1","data":{"object":{"id":"pi_1"}}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("type a number", br#"{"id":"evt_1","type":7,"data":{"object":{"id":"pi_1"}}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("missing data", br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("data null", br#"{"id":"evt_1","type":"payment_intent.succeeded","data":null}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("missing data.object", br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("duplicate id key", br#"{"id":"evt_1","id":"evt_2","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}"#.to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("trailing garbage", format!("{base}garbage").into_bytes(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("two events concatenated", format!("{base}{base}").into_bytes(), StatusCode::BAD_REQUEST, "invalid_body"),
        // Validly signed and a readable envelope, but an object we cannot type: acknowledged,
        // never folded (Stripe would retry a 400 for days and then disable the endpoint).
        // Unknown fields are skipped without recursion (serde_json's iterative skip): applied.
        ("50k levels of nesting in an unknown field of data.object", with_deep_object.into_bytes(), StatusCode::OK, "applied"),
        ("50k levels of nesting as the metadata", base.replace(r#""metadata":{"product_id":"prod_x","product_name":"X"}"#, &format!(r#""metadata":{deep}"#)).into_bytes(), StatusCode::OK, "ignored"),
        ("50k levels of nesting as a product_id", base.replace(r#""product_id":"prod_x""#, &format!(r#""product_id":{deep}"#)).into_bytes(), StatusCode::OK, "ignored"),
        ("amount beyond i64 in the object", huge_amount.into_bytes(), StatusCode::OK, "ignored"),
        ("amount 1e400 in the object", float_amount.into_bytes(), StatusCode::OK, "ignored"),
        ("object id missing", br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":1}}}"#.to_vec(), StatusCode::OK, "ignored"),
        ("object is an array", br#"{"id":"evt_1","type":"charge.succeeded","data":{"object":[1,2]}}"#.to_vec(), StatusCode::OK, "ignored"),
        // Ids that are not Stripe ids: path traversal and key separators in the store's keys.
        ("PaymentIntent id with path traversal", good_event("../../etc/passwd", "acct_h").to_string().into_bytes(), StatusCode::OK, "ignored"),
        ("PaymentIntent id with the store's key separator", good_event("pi_1#ORDER#pi_2", "acct_h").to_string().into_bytes(), StatusCode::OK, "ignored"),
        ("account with the store's key separator", good_event("pi_ok", "acct_h#ORDER#pi_x").to_string().into_bytes(), StatusCode::OK, "ignored"),
        ("account with CR/LF", good_event("pi_ok", "acct_h\r\nX: y").to_string().into_bytes(), StatusCode::OK, "ignored"),
        ("PaymentIntent id of 10k chars", good_event(&format!("pi_{}", "a".repeat(10_000)), "acct_h").to_string().into_bytes(), StatusCode::OK, "ignored"),
    ];
    for (label, body, status, code) in &cases {
        // WHEN each validly signed hostile body is posted
        let (got, answer) =
            send(&app, signed_request(body.clone(), Some("application/json"))).await;
        // THEN the expected answer
        assert_eq!(got, *status, "{label}: {answer}");
        let said = answer["error"]["code"]
            .as_str()
            .or(answer["outcome"].as_str());
        assert_eq!(said, Some(*code), "{label}: {answer}");
    }
    // AND nothing was written, but for the one readable event
    let applied = cases.iter().filter(|c| c.3 == "applied").count();
    assert_eq!(
        store.order_count(),
        applied,
        "a hostile body created an order"
    );
    println!("hostile inputs tried (webhook bodies): {}", cases.len());
}

#[tokio::test]
async fn given_hostile_signature_headers_when_posted_then_400_and_nothing_written() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone());
    let body = good_event("pi_sig", "acct_h").to_string().into_bytes();
    let right = hex::encode(expected_signature(SECRET, &NOW.to_string(), &body));
    let header = |value: HeaderValue| {
        Request::post("/webhooks/stripe")
            .header("content-type", "application/json")
            .header("stripe-signature", value)
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let text = |s: String| header(HeaderValue::from_str(&s).unwrap());
    let cases: Vec<(&str, Request<Body>, &str)> = vec![
        (
            "non-ASCII bytes",
            header(HeaderValue::from_bytes(b"t=1,v1=\xff\xfe").unwrap()),
            "malformed_signature",
        ),
        (
            "100k v1 elements",
            text(format!("t={NOW}{}", ",v1=00".repeat(100_000))),
            "malformed_signature",
        ),
        (
            "the right v1 buried after 5k others",
            text(format!("t={NOW}{},v1={right}", ",v1=00".repeat(5_000))),
            "malformed_signature",
        ),
        (
            "two t elements",
            text(format!("t={NOW},t={NOW},v1={right}")),
            "malformed_signature",
        ),
        (
            "t with a sign",
            text(format!("t=+{NOW},v1={right}")),
            "malformed_signature",
        ),
        (
            "t negative",
            text(format!("t=-{NOW},v1={right}")),
            "malformed_signature",
        ),
        (
            "t beyond i64",
            text(format!("t=99999999999999999999999,v1={right}")),
            "malformed_signature",
        ),
        (
            "t in milliseconds",
            text(format!("t={NOW}000,v1={right}")),
            "invalid_signature",
        ),
        (
            "uppercase hex of the right MAC",
            text(format!("t={NOW},v1={}", right.to_uppercase())),
            "invalid_signature",
        ),
        (
            "right MAC truncated",
            text(format!("t={NOW},v1={}", &right[..32])),
            "invalid_signature",
        ),
        (
            "right MAC as v0 only",
            text(format!("t={NOW},v0={right}")),
            "malformed_signature",
        ),
        (
            "right MAC under an unknown scheme",
            text(format!("t={NOW},v2={right}")),
            "malformed_signature",
        ),
        (
            "spaces around elements",
            text(format!("t={NOW}, v1={right}")),
            "malformed_signature",
        ),
        (
            "only separators",
            text(",,,,=,=".into()),
            "malformed_signature",
        ),
        (
            "signed an hour ago (replay)",
            text(sign(SECRET, NOW - 3600, &body)),
            "stale_signature",
        ),
        (
            "signed an hour ahead",
            text(sign(SECRET, NOW + 3600, &body)),
            "stale_signature",
        ),
        (
            "signed with another secret",
            text(sign("whsec_guess", NOW, &body)),
            "invalid_signature",
        ),
        (
            "signed with an empty secret",
            text(sign("", NOW, &body)),
            "invalid_signature",
        ),
        (
            "signature of another body",
            text(sign(SECRET, NOW, b"{}")),
            "invalid_signature",
        ),
        (
            "two Stripe-Signature headers",
            {
                let mut r = text(sign(SECRET, NOW, &body));
                r.headers_mut().append(
                    "stripe-signature",
                    HeaderValue::from_str(&sign(SECRET, NOW, &body)).unwrap(),
                );
                r
            },
            "malformed_signature",
        ),
    ];
    let tried = cases.len();
    for (label, request, code) in cases {
        let (status, answer) = send(&app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{label}: {answer}");
    }
    assert_eq!(store.order_count(), 0);
    // AND the same body, rightly signed, is applied (the table is not refusing everything)
    let (status, answer) = send(&app, signed_request(body, Some("application/json"))).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
    println!("hostile inputs tried (signature headers): {tried}");
}

#[tokio::test]
async fn given_oversized_or_lying_bodies_when_posted_then_413_and_nothing_written() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone());
    let mut big = good_event("pi_big", "acct_h").to_string().into_bytes();
    big.extend(std::iter::repeat_n(b' ', 1 << 20));
    let cases: Vec<(&str, Request<Body>)> = vec![
        (
            "1 MiB signed body",
            signed_request(big.clone(), Some("application/json")),
        ),
        (
            "Content-Length of a terabyte, small body",
            Request::post("/webhooks/stripe")
                .header("content-length", "1000000000000")
                .header("stripe-signature", sign(SECRET, NOW, b"{}"))
                .body(Body::from("{}"))
                .unwrap(),
        ),
        (
            "1 MiB streamed without Content-Length",
            Request::post("/webhooks/stripe")
                .header("stripe-signature", sign(SECRET, NOW, &big))
                .body(Body::from_stream(chunked(big.clone())))
                .unwrap(),
        ),
        (
            "1 MiB unsigned",
            Request::post("/webhooks/stripe")
                .body(Body::from(big.clone()))
                .unwrap(),
        ),
    ];
    let tried = cases.len();
    for (label, request) in cases {
        let (status, answer) = send(&app, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{label}: {answer}");
        assert_eq!(answer["error"]["code"], "payload_too_large", "{label}");
    }
    assert_eq!(store.order_count(), 0);
    println!("hostile inputs tried (oversized): {tried}");
}

/// The body as a stream of 64 KiB chunks, so no Content-Length is known in advance.
fn chunked(bytes: Vec<u8>) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(65_536).map(|c| Ok(c.to_vec())).collect();
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn given_wrong_methods_or_content_types_when_sent_then_clear_answers_and_nothing_written() {
    let store = Arc::new(MemoryStore::new());
    let app = app(store.clone());
    let body = good_event("pi_ct", "acct_h").to_string().into_bytes();
    let mut tried = 0;
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        // WHEN the webhook path is called with another method, even validly signed
        let request = Request::builder()
            .method(method)
            .uri("/webhooks/stripe")
            .header("stripe-signature", sign(SECRET, NOW, &body))
            .body(Body::from(body.clone()))
            .unwrap();
        let (status, answer) = send(&app, request).await;
        // THEN 405 with the error body
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}: {answer}");
        assert_eq!(answer["error"]["code"], "method_not_allowed", "{method}");
        tried += 1;
    }
    assert_eq!(store.order_count(), 0);
    // AND content types: the signature over the raw bytes is what authenticates, so an unsigned
    // body is refused whatever it claims to be, and a form or XML body is not an event
    let form = b"id=evt_1&type=payment_intent.succeeded".to_vec();
    let xml = b"<event><id>evt_1</id></event>".to_vec();
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "unsigned, text/plain",
            Request::post("/webhooks/stripe")
                .header("content-type", "text/plain")
                .body(Body::from(body.clone()))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "missing_signature",
        ),
        (
            "signed form body",
            signed_request(form, Some("application/x-www-form-urlencoded")),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "signed XML body",
            signed_request(xml, Some("application/xml")),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "signed multipart label on JSON",
            signed_request(body.clone(), Some("multipart/form-data; boundary=x")),
            StatusCode::OK,
            "applied",
        ),
    ];
    for (label, request, status, code) in cases {
        let (got, answer) = send(&app, request).await;
        assert_eq!(got, status, "{label}: {answer}");
        assert_eq!(
            answer["error"]["code"]
                .as_str()
                .or(answer["outcome"].as_str()),
            Some(code),
            "{label}"
        );
        tried += 1;
    }
    // THEN only the validly signed event was written
    assert_eq!(store.order_count(), 1);
    println!("hostile inputs tried (methods and content types): {tried}");
}
