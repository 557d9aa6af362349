//! Property-based fuzzing of the domain's parsers of hostile input: the `Stripe-Signature`
//! header, the event envelope and its objects (through `interpret`, `fold` and the order view),
//! and download tokens. Each target gets arbitrary bytes or strings plus a structured generator
//! that gets past the first checks; the property is always "an answer, never a panic", plus
//! what must hold of that answer (nothing verifies without the secret, nothing forged decodes).
//!
//! Bounded by default (`FUZZ_CASES`, 256 per target) so it runs in the test command; a longer
//! run: `FUZZ_CASES=100000 cargo test -p leenkies-domain --test all fuzz:: --release` (see
//! SECURITY.md). Cases that hit the allocation guards (100k `v1` elements, 1 MB tokens, deeply
//! nested JSON) are plain tests at the end.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::{Event, EventType};
use leenkies_domain::stripe::signature::{self, SignatureError, SigningSecrets};
use leenkies_domain::tokens::{DownloadClaims, DownloadKey, TokenError};
use leenkies_domain::OrderView;
use proptest::prelude::*;
use serde_json::{json, Value};

const SECRET: &str = "whsec_fuzz";
const NOW: i64 = 1_778_900_000;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Shrinking a found panic is worth it; the default 1024 failing iterations is plenty.
        ..ProptestConfig::default()
    }
}

// ---- generators --------------------------------------------------------------------------------

/// Numbers that break naive arithmetic and parsing.
fn hostile_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(i64::MAX - 1)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(u64::MAX)),
        Just(json!(1.5e300)),
        Just(json!(-0.0)),
        any::<i64>().prop_map(|n| json!(n)),
        (0i64..10_000_000).prop_map(|n| json!(n)),
        (1_700_000_000i64..1_800_000_000).prop_map(|n| json!(n)),
    ]
}

/// Strings an attacker would try: control characters, header injection, formulas, traversal.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("".to_owned()),
        Just("a@b.example\r\nBcc: victim@example.com".to_owned()),
        Just("=HYPERLINK(\"http://evil\")".to_owned()),
        Just("../../etc/passwd".to_owned()),
        Just("pi_\u{0}\u{7f}".to_owned()),
        Just("\u{202e}gnp.exe".to_owned()),
        Just("x".repeat(10_000)),
        "[a-z_0-9]{1,24}",
        ".{0,40}",
    ]
}

/// An arbitrary JSON value of bounded depth, mixing hostile leaves.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        hostile_number(),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys our structs read, so structured objects reach the typed paths.
const OBJECT_KEYS: &[&str] = &[
    "id",
    "amount",
    "amount_refunded",
    "amount_total",
    "currency",
    "status",
    "payment_status",
    "payment_intent",
    "charge",
    "latest_charge",
    "created",
    "receipt_email",
    "customer_details",
    "billing_details",
    "metadata",
    "last_payment_error",
    "failure_code",
    "failure_message",
    "outcome",
    "reason",
    "evidence_details",
    "balance_transactions",
    "actionable",
    "fraud_type",
    "client_reference_id",
    "failure_reason",
];

/// A Stripe-like object: plausible keys with hostile or well-formed values.
fn stripe_object() -> impl Strategy<Value = Value> {
    let field = (prop::sample::select(OBJECT_KEYS), json_value());
    let ids = (
        "[a-z]{2}_[A-Za-z0-9]{1,8}",
        prop::option::of("pi_[A-Za-z0-9]{1,6}"),
        prop::option::of("ch_[A-Za-z0-9]{1,6}"),
        prop::sample::select(
            &[
                "succeeded",
                "failed",
                "pending",
                "paid",
                "lost",
                "won",
                "canceled",
                "needs_response",
                "requires_action",
                "brand_new_status",
            ][..],
        ),
    );
    (prop::collection::vec(field, 0..10), ids, hostile_number()).prop_map(
        |(fields, (id, pi, ch, status), amount)| {
            let mut object = serde_json::Map::new();
            object.insert("id".into(), json!(id));
            object.insert("status".into(), json!(status));
            object.insert("amount".into(), amount);
            if let Some(pi) = pi {
                object.insert("payment_intent".into(), json!(pi));
            }
            if let Some(ch) = ch {
                object.insert("charge".into(), json!(ch));
            }
            object.insert(
                "metadata".into(),
                json!({"product_id": "prod_x", "product_name": "Name\r\nBcc: x@evil"}),
            );
            for (k, v) in fields {
                object.insert(k.to_owned(), v);
            }
            Value::Object(object)
        },
    )
}

/// A signed-looking event of a handled (or unknown) type around a generated object.
fn stripe_event() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        prop::sample::select(EventType::ALL.to_vec()).prop_map(|t| t.as_str().to_owned()),
        "[a-z]{1,8}\\.[a-z_]{1,12}",
    ];
    (
        kind,
        stripe_object(),
        hostile_number(),
        prop::option::of(hostile_string()),
        any::<bool>(),
    )
        .prop_map(|(kind, object, created, account, livemode)| {
            json!({
                "id": "evt_fuzz",
                "object": "event",
                "type": kind,
                "created": created,
                "livemode": livemode,
                "account": account,
                "data": {"object": object}
            })
        })
}

/// The one-pass reading is only an optimisation: it accepts, refuses and reads exactly what the
/// two-pass reference reading does.
fn assert_one_pass_agrees(body: &[u8]) {
    let fast = Event::parse(body);
    let reference = Event::parse_two_pass(body);
    assert_eq!(fast.is_ok(), reference.is_ok());
    if let (Ok(fast), Ok(reference)) = (fast, reference) {
        assert_eq!(
            format!("{:?}", fast.object().map_err(|e| e.to_string())),
            format!("{:?}", reference.object().map_err(|e| e.to_string()))
        );
        assert_eq!(
            (&fast.id, &fast.kind, fast.created, &fast.account),
            (
                &reference.id,
                &reference.kind,
                reference.created,
                &reference.account
            )
        );
    }
}

/// Everything a body can do to the domain: parse, interpret, fold twice, view, serialise.
fn exercise_event(body: &[u8]) {
    assert_one_pass_agrees(body);
    let Ok(event) = Event::parse(body) else {
        return;
    };
    let _ = event.seller_id();
    let Ok(Interpretation::Fold(folding)) = interpret(&event) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(MemoryStore::new());
        let policy = RetryPolicy::default();
        let first = fold(store.as_ref(), &folding, policy).await;
        let again = fold(store.as_ref(), &folding, policy).await;
        // Folding the same facts twice is a duplicate, never an error the first time was not.
        assert_eq!(first.is_ok(), again.is_ok());
        if let Some(order_id) = first.ok().and_then(|o| o.order_id().map(str::to_owned)) {
            let record = store
                .get_order(&folding.seller_id, &order_id)
                .await
                .expect("store answers")
                .expect("a folded order exists");
            let view = OrderView::of(&record);
            serde_json::to_vec(&view).expect("a view serialises");
        }
    });
}

// ---- targets -----------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// GIVEN any string as the header WHEN parsed and verified THEN an answer, and never `Ok`
    /// (no generated header carries a signature made with the secret).
    #[test]
    fn fuzz_signature_header_arbitrary(header in ".{0,300}", body in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = signature::parse_header(&header);
        let secrets = SigningSecrets::from_csv(SECRET);
        prop_assert!(signature::verify(&header, &body, &secrets, NOW, 300).is_err());
    }

    /// GIVEN headers built from plausible elements (many `t`, `v1`, `v0`, junk, separators)
    /// WHEN verified THEN only a header with exactly one fresh `t` and the right `v1` passes.
    #[test]
    fn fuzz_signature_header_structured(
        elements in prop::collection::vec(
            prop_oneof![
                (-1i64..=2).prop_map(|d| format!("t={}", NOW + d * 200)),
                Just("t=".to_owned()),
                Just("t=-5".to_owned()),
                Just("t=99999999999999999999999".to_owned()),
                "v1=[0-9a-f]{0,64}",
                "v1=[0-9A-F]{64}",
                "v0=[0-9a-f]{64}",
                "[a-z0-9]{0,3}=?[ -~]{0,8}",
                Just("v1=CORRECT".to_owned()),
            ],
            0..12,
        ),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let right = hex::encode(signature::expected_signature(SECRET, &NOW.to_string(), &body));
        let header = elements.join(",").replace("CORRECT", &right);
        let verdict = signature::verify(&header, &body, &SigningSecrets::from_csv(SECRET), NOW, 300);
        let ts: Vec<&str> = header.split(',').filter_map(|e| e.strip_prefix("t=")).collect();
        let expect_ok = ts == [NOW.to_string().as_str()]
            && header.split(',').any(|e| e == format!("v1={right}"));
        prop_assert_eq!(verdict.is_ok(), expect_ok, "header {:?} gave {:?}", header, verdict);
    }

    /// GIVEN arbitrary bytes as a body WHEN parsed as an event and folded THEN no panic.
    #[test]
    fn fuzz_event_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise_event(&body);
    }

    /// GIVEN structured events of every handled type with hostile values (huge and negative
    /// amounts and timestamps, CR/LF, traversal, unicode) WHEN parsed, interpreted, folded twice
    /// and viewed THEN no panic, and the duplicate fold agrees with the first.
    #[test]
    fn fuzz_event_structured(event in stripe_event()) {
        exercise_event(&serde_json::to_vec(&event).expect("json"));
    }

    /// GIVEN any string WHEN verified as a download token THEN an error, never claims.
    #[test]
    fn fuzz_download_token_arbitrary(token in ".{0,300}") {
        prop_assert!(DownloadKey::new("k").verify(&token).is_err());
    }

    /// GIVEN a genuine token for arbitrary claims WHEN verified THEN exactly those claims; AND
    /// with any one character changed, or claims re-encoded under the old MAC, THEN refused.
    #[test]
    fn fuzz_download_token_tampered(
        seller in ".{0,40}", order in ".{0,40}", product in ".{0,40}",
        index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.=-]",
    ) {
        let key = DownloadKey::new("k");
        let claims = DownloadClaims { seller_id: seller.clone(), order_id: order, product_id: product };
        let token = key.sign(&claims);
        prop_assert_eq!(key.verify(&token), Ok(claims.clone()));

        let i = index.index(token.len());
        let mut tampered = token.clone();
        tampered.replace_range(i..=i, &replacement);
        if tampered != token {
            prop_assert!(key.verify(&tampered).is_err(), "tampered {} accepted", tampered);
        }
        let (_, mac) = token.split_once('.').expect("two parts");
        let other = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&("d1", seller, "pi_other", "p")).expect("json"));
        prop_assert_eq!(key.verify(&format!("{other}.{mac}")), Err(TokenError::BadSignature));
    }
}

// ---- allocation and recursion guards -----------------------------------------------------------

#[test]
fn given_a_header_with_100k_v1_elements_when_verified_then_refused_as_malformed() {
    // GIVEN a header far beyond anything Stripe sends (one v1 per active secret)
    let header = format!("t={NOW}{}", ",v1=00".repeat(100_000));
    // WHEN verified THEN it is refused before any HMAC work, as malformed
    assert_eq!(
        signature::verify(&header, b"{}", &SigningSecrets::from_csv(SECRET), NOW, 300),
        Err(SignatureError::Malformed("header too long"))
    );
}

#[test]
fn given_a_one_megabyte_token_when_verified_then_malformed() {
    let token = format!("{}.{}", "a".repeat(1 << 20), "b".repeat(43));
    assert_eq!(
        DownloadKey::new("k").verify(&token),
        Err(TokenError::Malformed)
    );
}

#[test]
fn given_deeply_nested_json_when_parsed_then_errors_without_overflowing_the_stack() {
    // GIVEN 100k levels of nesting as the whole body, and inside data.object
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // WHEN parsed THEN the envelope is refused (serde_json's recursion limit)
    assert!(Event::parse(deep.as_bytes()).is_err());
    // AND an envelope whose object is deeply nested parses, but its object is unreadable
    let body = format!(
        r#"{{"id":"evt_1","type":"charge.succeeded","created":1,"data":{{"object":{{"id":"ch_1","metadata":{deep}}}}}}}"#
    );
    match Event::parse(body.as_bytes()) {
        Err(_) => {}
        Ok(event) => assert!(interpret(&event).is_err()),
    }
}

#[test]
fn given_amounts_that_overflow_when_folded_and_viewed_then_no_panic() {
    // GIVEN two refunds of i64::MAX on one order and a charge refunded i64::MIN
    let store = MemoryStore::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let events = [
        json!({"id":"evt_a","type":"refund.created","created":10,"account":"acct_f",
            "data":{"object":{"id":"re_1","amount":i64::MAX,"payment_intent":"pi_f","charge":"ch_f","status":"succeeded"}}}),
        json!({"id":"evt_b","type":"refund.created","created":11,"account":"acct_f",
            "data":{"object":{"id":"re_2","amount":i64::MAX,"payment_intent":"pi_f","charge":"ch_f","status":"succeeded"}}}),
        json!({"id":"evt_c","type":"refund.failed","created":12,"account":"acct_f",
            "data":{"object":{"id":"re_3","amount":i64::MAX,"payment_intent":"pi_f","charge":"ch_f","status":"failed"}}}),
        json!({"id":"evt_d","type":"refund.failed","created":13,"account":"acct_f",
            "data":{"object":{"id":"re_4","amount":i64::MAX,"payment_intent":"pi_f","charge":"ch_f","status":"failed"}}}),
        json!({"id":"evt_e","type":"charge.refunded","created":14,"account":"acct_f",
            "data":{"object":{"id":"ch_f","amount":5,"amount_refunded":i64::MIN,"payment_intent":"pi_f","status":"succeeded"}}}),
        json!({"id":"evt_g","type":"payment_intent.succeeded","created":i64::MAX,"account":"acct_f",
            "data":{"object":{"id":"pi_f","amount":i64::MIN,"created":i64::MIN,"status":"succeeded"}}}),
    ];
    runtime.block_on(async {
        for event in &events {
            let body = serde_json::to_vec(event).expect("json");
            let parsed = Event::parse(&body).expect("parses");
            if let Interpretation::Fold(folding) = interpret(&parsed).expect("interprets") {
                fold(&store, &folding, RetryPolicy::default())
                    .await
                    .expect("folds");
            }
        }
        // WHEN the order is derived and viewed
        let record = store
            .get_order("acct_f", "pi_f")
            .await
            .expect("answers")
            .expect("exists");
        let view = OrderView::of(&record);
        // THEN it is a value, not a panic: amounts saturate instead of wrapping
        assert!(view.refunded_amount >= 0);
        serde_json::to_vec(&view).expect("serialises");
    });
}
