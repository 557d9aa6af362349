//! Hostile text through the whole system (embedded store): CR/LF in customer emails and product
//! names never becomes an email header, formula-like cells never reach the CSV export live, and
//! the logs of all three functions never carry a customer email, a secret, a JWT or a download
//! token — while the system does its full job (deliveries, fulfillment, dashboard, downloads,
//! refusals) under a debug-level JSON subscriber that captures everything.

// The system's starter of the `all` binary (`all/system`); this binary uses a part of it.
#[allow(dead_code)]
#[path = "all/system/mod.rs"]
mod system;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leenkies_local::settings::Settings;
use serde_json::json;
use system::{jwt, System, JWT_SECRET, WEBHOOK_SECRET};

/// Everything logged by this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
const CUSTOMER: &str = "jordan.lee@example.com";

/// A paid PaymentIntent with these customer-controlled texts.
fn paid(pi: &str, email: &str, product_name: &str, reference: &str) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    serde_json::to_vec(&json!({
        "id": format!("evt_{pi}"), "object": "event", "type": "payment_intent.succeeded",
        "created": now - 5, "livemode": false, "account": SELLER, "api_version": "2025-03-31.basil",
        "data": {"object": {"id": pi, "object": "payment_intent", "amount": 2500, "currency": "usd",
            "status": "succeeded", "created": now - 10, "receipt_email": email,
            "metadata": {"product_id": "prod_lut_pack", "product_name": product_name, "order_id": reference}}}
    }))
    .unwrap()
}

/// The header block of an RFC 5322 message, unfolded.
fn headers(eml: &str) -> Vec<String> {
    let head = eml.split("\r\n\r\n").next().unwrap_or(eml);
    let mut out: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(line);
            }
        } else {
            out.push(line.to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_hostile_text_and_a_full_day_of_traffic_when_logged_then_no_header_injection_no_live_formula_and_no_secret_in_logs(
) {
    // GIVEN every log line of the process captured, at debug level, as JSON
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let settings = Settings::for_tests(WEBHOOK_SECRET, JWT_SECRET);
    let download_key = settings.download_key.clone();
    let sys = System::start_with(None, settings).await;

    // WHEN orders arrive whose texts try to inject headers and formulas
    let cases = [
        ("pi_plain", CUSTOMER, "Cinematic LUT Pack", "ord_1"),
        (
            "pi_crlfname",
            CUSTOMER,
            "LUTs\r\nBcc: victim@evil.example\r\n\r\n<script>",
            "ord_2",
        ),
        (
            "pi_crlfmail",
            "jordan.lee@example.com\r\nBcc: victim@evil.example",
            "Pack",
            "ord_3",
        ),
        (
            "pi_formula",
            CUSTOMER,
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "+SUM(A1:A9)",
        ),
        (
            "pi_unicode",
            CUSTOMER,
            "Pack\u{2028}Bcc: victim@evil.example\u{85}x",
            "@cmd",
        ),
    ];
    for (pi, email, name, reference) in cases {
        let status = sys.deliver(paid(pi, email, name, reference)).await;
        assert_eq!(status, 200, "{pi}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while ["pi_plain", "pi_crlfname", "pi_formula", "pi_unicode"]
        .iter()
        .any(|pi| sys.emails(pi) == 0)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // THEN no email carries an injected header: one To, no Bcc, every header a single line
    let mut link = None;
    for (pi, ..) in cases {
        for file in sys.email_files(pi) {
            let eml = std::fs::read_to_string(&file).unwrap();
            let hs = headers(&eml);
            assert!(
                !hs.iter().any(|h| h.to_ascii_lowercase().starts_with("bcc")),
                "{pi}: {hs:?}"
            );
            assert_eq!(
                hs.iter()
                    .filter(|h| h.to_ascii_lowercase().starts_with("to:"))
                    .count(),
                1,
                "{pi}"
            );
            assert!(
                hs.iter().all(|h| h.is_empty() || h.contains(':')),
                "{pi}: a header line was split: {hs:?}"
            );
            let html = eml.split("Content-Type: text/html").nth(1).unwrap_or("");
            assert!(
                !html.contains("<script>"),
                "{pi}: markup reached the HTML part unescaped"
            );
            if pi == "pi_plain" {
                link = eml
                    .split_whitespace()
                    .find(|w| w.contains("/downloads/"))
                    .map(|w| {
                        w.trim_matches(|c| c == '"' || c == '<' || c == '>')
                            .to_owned()
                    });
            }
        }
    }
    assert_eq!(sys.emails("pi_plain"), 1);
    // AND an address with a line break is never used as a recipient
    assert_eq!(
        sys.emails("pi_crlfmail"),
        0,
        "an address with CR/LF was mailed"
    );

    // WHEN the seller exports, reads, and the customer downloads
    let token = jwt(SELLER);
    let csv = sys
        .http
        .get(sys.url("/orders/export.csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // THEN no cell starts live as a formula
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "live formula cell {cell:?}"
            );
        }
    }
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(csv.contains("'+SUM"), "{csv}");
    let order = sys.order(SELLER, "pi_plain").await;
    assert_eq!(order.0, 200);
    let link = link.expect("the plain order's email carries a link");
    let download_token = link.rsplit('/').next().unwrap().to_owned();
    let served = sys.http.get(&link).send().await.unwrap().status().as_u16();
    assert_eq!(served, 200, "{link}");
    // AND refusals are logged too (a bad signature, a bad JWT, a forged link)
    let body = paid("pi_refused", CUSTOMER, "x", "r");
    let refused = sys
        .http
        .post(sys.url("/webhooks/stripe"))
        .header("stripe-signature", format!("t=1,v1={}", "0".repeat(64)))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(refused, 400);
    let bad_jwt = format!("{token}x");
    let unauthorized = sys
        .http
        .get(sys.url("/orders"))
        .bearer_auth(&bad_jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status().as_u16(), 401);
    let forged = format!("{}x", &download_token[..download_token.len() - 1]);
    let _ = sys
        .http
        .get(sys.url(&format!("/downloads/{forged}")))
        .send()
        .await
        .unwrap();
    sys.stop().await;

    // THEN the logs say what happened and carry none of the secrets or personal data
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("webhook delivery"),
        "nothing was logged: the test would prove nothing"
    );
    let jwt_payload = token.split('.').nth(1).unwrap().to_owned();
    for (what, needle) in [
        ("customer email", CUSTOMER.to_owned()),
        ("customer email local part", "jordan.lee".to_owned()),
        ("webhook secret", WEBHOOK_SECRET.to_owned()),
        ("JWT secret", JWT_SECRET.to_owned()),
        ("download signing key", download_key.clone()),
        ("seller JWT", token.clone()),
        ("seller JWT payload", jwt_payload),
        ("download token", download_token.clone()),
        (
            "download token MAC",
            download_token.rsplit('.').next().unwrap().to_owned(),
        ),
    ] {
        assert!(!logs.contains(&needle), "the logs contain the {what}");
    }
}
