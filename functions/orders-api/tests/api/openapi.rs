//! `GET /openapi.json`: the document parses, lists every route with its parameters and errors,
//! marks bearer auth, and real responses validate against their schemas.
//!
//! The check is a small JSON Schema subset validator (`$ref`, `type` incl. arrays of types,
//! `oneOf`/`anyOf`/`allOf`, `enum`, `required`, `properties`, `items`, `additionalProperties`)
//! covering what utoipa emits; it also refuses undocumented properties, so the served bodies
//! cannot grow fields the document does not name. (The `jsonschema` crate would pull a large
//! tree into a shared build for the same result.)

use std::sync::Arc;

use crate::common::*;
use axum::http::{Request, StatusCode};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::{DownloadEntry, OrderStore};
use serde_json::Value;

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").expect("local ref");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

fn validate(doc: &Value, schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    assert!(!schema.is_null(), "dangling schema at {path}");
    let passes = |s: &Value| {
        let mut e = Vec::new();
        validate(doc, s, v, path, &mut e);
        e.is_empty()
    };
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let n = alts.iter().filter(|s| passes(s)).count();
        if n != 1 {
            errs.push(format!("{path}: {n} oneOf alternatives match {v}"));
        }
    }
    if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
        if !alts.iter().any(passes) {
            errs.push(format!("{path}: no anyOf alternative matches {v}"));
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, v, path, errs);
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => errs.push(format!("{path}: {v} is not {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)) => {
            errs.push(format!("{path}: {v} is none of {ts:?}"))
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            errs.push(format!("{path}: {v} not in {options:?}"));
        }
    }
    if let Value::Object(obj) = v {
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req {
                if !obj.contains_key(r.as_str().unwrap()) {
                    errs.push(format!("{path}: missing required {r}"));
                }
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        for (k, val) in obj {
            match (props.and_then(|p| p.get(k)), extra) {
                (Some(s), _) => validate(doc, s, val, &format!("{path}.{k}"), errs),
                (None, Some(s)) if s.is_object() => {
                    validate(doc, s, val, &format!("{path}.{k}"), errs)
                }
                (None, _) if props.is_some() => {
                    errs.push(format!("{path}: undocumented property {k}"))
                }
                _ => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(doc, s, item, &format!("{path}[{i}]"), errs);
        }
    }
}

fn response_schema<'a>(doc: &'a Value, path: &str, status: &str, media: &str) -> &'a Value {
    let s = &doc["paths"][path]["get"]["responses"][status]["content"][media]["schema"];
    assert!(!s.is_null(), "no {media} schema for {status} of {path}");
    s
}

fn assert_valid(doc: &Value, schema: &Value, body: &Value, what: &str) {
    let mut errs = Vec::new();
    validate(doc, schema, body, "$", &mut errs);
    assert!(
        errs.is_empty(),
        "{what} does not conform:\n{}",
        errs.join("\n")
    );
}

async fn document(app: &axum::Router) -> Value {
    // Public: no token.
    let r = get(app, "/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
}

#[tokio::test]
async fn given_the_document_when_read_then_openapi_3_with_every_route_and_bearer_auth() {
    let app = app(Arc::new(MemoryStore::new()));
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let protected = [
        "/orders",
        "/orders/{order_id}",
        "/orders/{order_id}/evidence",
        "/orders/export.csv",
        "/stats/failures",
        "/stats/disputes",
    ];
    let public = [
        "/downloads/{token}",
        "/openapi.json",
        "/dashboard/config.json",
    ];
    for p in protected.iter().chain(&public) {
        assert!(doc["paths"][p]["get"].is_object(), "{p} missing");
    }
    assert!(
        doc["paths"]["/orders/{order_id}/disputes/{dispute_id}/evidence"]["post"]["security"][0]
            .get("bearer_auth")
            .is_some(),
        "the evidence filing route needs bearer auth"
    );
    // and the resend (contract section 10), a POST
    let resend = &doc["paths"]["/orders/{order_id}/resend"]["post"];
    assert!(resend["security"][0].get("bearer_auth").is_some());
    for status in ["202", "404", "409", "429"] {
        assert!(resend["responses"][status].is_object(), "resend {status}");
    }
    // and the export jobs: a POST answering 202, and its GET
    let create = &doc["paths"]["/orders/exports"]["post"];
    assert!(create["security"][0].get("bearer_auth").is_some());
    for status in ["202", "400", "401", "503"] {
        assert!(create["responses"][status].is_object(), "exports {status}");
    }
    let job = &doc["paths"]["/orders/exports/{id}"]["get"];
    assert!(job["security"][0].get("bearer_auth").is_some());
    for status in ["200", "401", "404", "503"] {
        assert!(job["responses"][status].is_object(), "export job {status}");
    }
    // and the operator route, which needs a token too
    let health = &doc["paths"]["/health/webhooks"]["get"];
    assert!(health["security"][0].get("bearer_auth").is_some());
    // the seller's dispute routes and settings (contract sections 9 and 11)
    let evidence = &doc["paths"]["/orders/{order_id}/disputes/{dispute_id}/evidence"];
    assert!(evidence["get"]["security"][0].get("bearer_auth").is_some());
    for status in ["400", "404", "409", "502", "503"] {
        assert!(
            evidence["post"]["responses"][status].is_object(),
            "evidence {status}"
        );
    }
    let accept = &doc["paths"]["/orders/{order_id}/disputes/{dispute_id}/accept"]["post"];
    assert!(accept["security"][0].get("bearer_auth").is_some());
    for status in ["200", "404", "409", "502", "503"] {
        assert!(accept["responses"][status].is_object(), "accept {status}");
    }
    for method in ["get", "put"] {
        assert!(doc["paths"]["/settings"][method]["security"][0]
            .get("bearer_auth")
            .is_some());
    }
    assert!(doc["paths"]["/settings"]["put"]["responses"]["400"].is_object());
    assert_eq!(doc["paths"].as_object().unwrap().len(), 16);
    // bearer auth: declared, required on the dashboard routes, absent on the public ones
    let scheme = &doc["components"]["securitySchemes"]["bearer_auth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for p in protected {
        let op = &doc["paths"][p]["get"];
        assert!(
            op["security"][0].get("bearer_auth").is_some(),
            "{p} lacks bearer"
        );
        for status in ["401", "503"] {
            let s = response_schema(&doc, p, status, "application/json");
            assert_eq!(s["$ref"], "#/components/schemas/ErrorBody", "{p} {status}");
        }
    }
    for p in public {
        assert!(
            doc["paths"][p]["get"].get("security").is_none(),
            "{p} should be public"
        );
    }
    // parameters
    let names = |p: &str| -> Vec<String> {
        doc["paths"][p]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("/orders"),
        ["status", "email", "from", "to", "limit", "cursor"]
    );
    assert_eq!(
        names("/orders/export.csv"),
        ["status", "email", "from", "to"]
    );
    assert_eq!(names("/orders/{order_id}"), ["order_id"]);
    assert_eq!(names("/stats/failures"), ["days"]);
    assert_eq!(names("/downloads/{token}"), ["token"]);
    for status in ["302", "403", "404", "410"] {
        assert!(doc["paths"]["/downloads/{token}"]["get"]["responses"][status].is_object());
    }
}

/// The schema of query parameter `name` of `GET path`, references resolved.
fn param_schema(doc: &Value, path: &str, name: &str) -> Value {
    let param = doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no {name}"))
        .clone();
    let schema = &param["schema"];
    // An optional enum is `oneOf: [null, $ref]` or a plain `$ref`.
    let reference = schema["$ref"].as_str().map(str::to_owned).or_else(|| {
        schema["oneOf"].as_array().and_then(|alts| {
            alts.iter()
                .find_map(|a| a["$ref"].as_str().map(str::to_owned))
        })
    });
    match reference {
        Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
        None => schema.clone(),
    }
}

#[tokio::test]
async fn given_the_document_when_read_then_it_is_as_strict_as_the_server() {
    // GIVEN the served document
    let app = app(Arc::new(MemoryStore::new()));
    let doc = document(&app).await;
    // THEN `status` is the contract's words, `disputed` included, on the list and the export
    for path in ["/orders", "/orders/export.csv"] {
        let status = param_schema(&doc, path, "status");
        let words: Vec<&str> = status["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: status is no enum: {status}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            words,
            [
                "pending",
                "succeeded",
                "failed",
                "canceled",
                "partially_refunded",
                "refunded",
                "disputed"
            ],
            "{path}"
        );
        // AND an email between 2 and 254 characters, as the server accepts
        let email = param_schema(&doc, path, "email");
        assert_eq!(
            (email["minLength"].as_u64(), email["maxLength"].as_u64()),
            (Some(2), Some(254)),
            "{path}"
        );
    }
    // AND a cursor of at most 1024 characters
    assert_eq!(param_schema(&doc, "/orders", "cursor")["maxLength"], 1024);
    // AND the download's 200 in both types the server sends
    let content = &doc["paths"]["/downloads/{token}"]["get"]["responses"]["200"]["content"];
    for mime in ["application/octet-stream", "text/plain; charset=utf-8"] {
        assert!(
            content[mime].is_object(),
            "download 200 lacks {mime}: {content}"
        );
    }
}

#[tokio::test]
async fn given_real_responses_when_checked_then_they_conform_to_the_document() {
    // GIVEN orders in many shapes: fixture-folded, failed, refunded, disputed, delivered
    let store = Arc::new(MemoryStore::new());
    for f in [
        "ord_1001__01__checkout.session.completed.json",
        "ord_1001__01__payment_intent.succeeded.json",
        "ord_1002__01__payment_intent.payment_failed.json",
        "ord_1002__01__charge.failed.json",
        "ord_2012__01__payment_intent.succeeded.json",
        "ord_2012__02__charge.dispute.created.json",
        "ord_1011__01__payment_intent.succeeded.json",
        "ord_1011__02__charge.refunded.json",
        "ord_1011__03__refund.created.json",
    ] {
        deliver(&store, f).await;
    }
    order(SELLER_A, "pi_sent", T0)
        .email("x@example.com")
        .paid()
        .sent("msg-1")
        .put(&store)
        .await;
    order(SELLER_A, "pi_failed", T0 + 1)
        .failed("insufficient_funds")
        .put(&store)
        .await;
    store
        .record_download(
            SELLER_A,
            "pi_sent",
            &DownloadEntry {
                at: T0 + 9,
                ip: None,
                user_agent: Some("ua".into()),
            },
        )
        .await
        .unwrap();
    let store_ref = store.clone();
    let app = app(store);
    let doc = document(&app).await;

    // WHEN /orders is served THEN it conforms
    let list = get_as(&app, SELLER_A, "/orders?limit=100").await.json();
    assert!(list["orders"].as_array().unwrap().len() >= 5);
    assert_valid(
        &doc,
        response_schema(&doc, "/orders", "200", "application/json"),
        &list,
        "/orders",
    );
    let paged = get_as(&app, SELLER_A, "/orders?limit=1").await.json();
    assert!(paged["next_cursor"].is_string());
    assert_valid(
        &doc,
        response_schema(&doc, "/orders", "200", "application/json"),
        &paged,
        "/orders page",
    );

    // AND every order of /orders/{id}, and its evidence
    for o in list["orders"].as_array().unwrap() {
        let id = o["order_id"].as_str().unwrap();
        let one = get_as(&app, SELLER_A, &format!("/orders/{id}"))
            .await
            .json();
        assert_valid(
            &doc,
            response_schema(&doc, "/orders/{order_id}", "200", "application/json"),
            &one,
            id,
        );
        let ev = get_as(&app, SELLER_A, &format!("/orders/{id}/evidence"))
            .await
            .json();
        assert_valid(
            &doc,
            response_schema(
                &doc,
                "/orders/{order_id}/evidence",
                "200",
                "application/json",
            ),
            &ev,
            &format!("evidence of {id}"),
        );
    }

    // AND the stats, and the error bodies
    let stats = get_as(&app, SELLER_A, "/stats/failures?days=365")
        .await
        .json();
    assert_valid(
        &doc,
        response_schema(&doc, "/stats/failures", "200", "application/json"),
        &stats,
        "stats",
    );
    let disputes = get_as(&app, SELLER_A, "/stats/disputes").await.json();
    assert_valid(
        &doc,
        response_schema(&doc, "/stats/disputes", "200", "application/json"),
        &disputes,
        "dispute stats",
    );
    let config = get(&app, "/dashboard/config.json", None).await.json();
    assert_valid(
        &doc,
        response_schema(&doc, "/dashboard/config.json", "200", "application/json"),
        &config,
        "dashboard config",
    );
    let bad = get_as(&app, SELLER_A, "/orders?limit=0").await.json();
    assert_valid(
        &doc,
        response_schema(&doc, "/orders", "400", "application/json"),
        &bad,
        "400",
    );
    let missing = get_as(&app, SELLER_A, "/orders/pi_nope").await.json();
    assert_valid(
        &doc,
        response_schema(&doc, "/orders/{order_id}", "404", "application/json"),
        &missing,
        "404",
    );

    // AND an export job: queued (202), then succeeded with its link, then a bad filter (400)
    let r = send(
        &app,
        axum::http::Request::post("/orders/exports?status=succeeded")
            .header("authorization", format!("Bearer {}", token(SELLER_A)))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let queued = r.json();
    let post_schema = |status: &str| {
        doc["paths"]["/orders/exports"]["post"]["responses"][status]["content"]["application/json"]
            ["schema"]
            .clone()
    };
    assert_valid(&doc, &post_schema("202"), &queued, "export job queued");
    let id = queued["id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = leenkies_adapters::exports::folder::FolderSink::new(dir.path());
    let worker = leenkies_domain::export::Worker {
        orders: store_ref.as_ref(),
        jobs: store_ref.as_ref(),
        sink: &sink,
        part_bytes: leenkies_domain::export::MIN_PART_BYTES,
        out_of_time: &|| false,
        now: T0,
    };
    for _ in 0..3 {
        worker.advance(SELLER_A, id, None).await.unwrap();
    }
    let done = get_as(&app, SELLER_A, &format!("/orders/exports/{id}"))
        .await
        .json();
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["download_url"].is_string());
    assert_valid(
        &doc,
        response_schema(&doc, "/orders/exports/{id}", "200", "application/json"),
        &done,
        "export job succeeded",
    );
    let r = send(
        &app,
        axum::http::Request::post("/orders/exports?status=nope")
            .header("authorization", format!("Bearer {}", token(SELLER_A)))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_valid(&doc, &post_schema("400"), &r.json(), "export 400");
}

#[tokio::test]
async fn given_the_validator_when_a_body_breaks_the_schema_then_it_says_so() {
    // Guards the guard: a validator that accepts everything would prove nothing.
    let app = app(Arc::new(MemoryStore::new()));
    let doc = document(&app).await;
    let schema = response_schema(&doc, "/orders", "200", "application/json");
    let mut errs = Vec::new();
    validate(
        &doc,
        schema,
        &serde_json::json!({"orders": [{"order_id": 1}], "next_cursor": null, "extra": 1}),
        "$",
        &mut errs,
    );
    assert!(
        errs.iter().any(|e| e.contains("missing required")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("undocumented property extra")),
        "{errs:?}"
    );
    assert!(errs.iter().any(|e| e.contains("is not string")), "{errs:?}");
}

#[tokio::test]
async fn given_the_evidence_filing_route_when_answered_then_every_answer_conforms() {
    use axum::body::Body;
    use axum::http::Request;
    use leenkies_adapters::stripe::{StripeConfig, StripeDisputes};
    use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};

    // GIVEN a disputed order, the fake Stripe, and the document
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .email("x@example.com")
        .paid()
        .sent("msg-1")
        .dispute("needs_response")
        .put(&store)
        .await;
    let fake = FakeStripe::start(&[SELLER_A]).await;
    fake.add_dispute(SELLER_A, "dp_pi_ev", "needs_response");
    let stripe = StripeDisputes::new(StripeConfig {
        api_key: FAKE_STRIPE_KEY.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    })
    .unwrap();
    let app = orders_api::router(
        state(store.clone())
            .with_disputes(Arc::new(stripe))
            .with_clock(Arc::new(|| T0 + 3600)),
    );
    let unconfigured = orders_api::router(state(store).with_clock(Arc::new(|| T0 + 3600)));
    let doc = document(&app).await;
    let path = "/orders/{order_id}/disputes/{dispute_id}/evidence";
    let op = &doc["paths"][path]["post"];
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["order_id", "dispute_id"]);
    let request = resolve(
        &doc,
        &op["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(request["required"], serde_json::json!(["submit"]));
    let schema = |status: &str| {
        let s = &op["responses"][status]["content"]["application/json"]["schema"];
        assert!(!s.is_null(), "no schema for {status}");
        s.clone()
    };
    let post = |app: &axum::Router, uri: &str, body: &str| {
        let request = Request::post(uri)
            .header("authorization", format!("Bearer {}", token(SELLER_A)))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let app = app.clone();
        async move { send(&app, request).await }
    };
    let uri = "/orders/pi_ev/disputes/dp_pi_ev/evidence";
    // WHEN each answer is produced THEN it conforms to its documented status
    let cases = [
        (
            &app,
            "/orders/pi_ev/disputes/dp_pi_ev/evidence",
            "{}",
            "400",
        ),
        (
            &app,
            "/orders/pi_ev/disputes/dp_none/evidence",
            "{\"submit\":false}",
            "404",
        ),
        (&unconfigured, uri, "{\"submit\":false}", "503"),
        (
            &app,
            uri,
            "{\"submit\":false,\"statement\":\"Sent.\"}",
            "200",
        ),
        (&app, uri, "{\"submit\":true}", "200"),
        (&app, uri, "{\"submit\":true}", "409"),
    ];
    for (app, uri, body, status) in cases {
        let r = post(app, uri, body).await;
        assert_eq!(r.status.as_str(), status, "{uri} {body}: {}", r.text());
        assert_valid(
            &doc,
            &schema(status),
            &r.json(),
            &format!("{status} of {uri}"),
        );
    }
    // AND a 502 (Stripe refusing) conforms too
    fake.add_dispute(SELLER_A, "dp_pi_ev", "lost");
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .paid()
        .dispute("needs_response")
        .put(&store)
        .await;
    let stripe = StripeDisputes::new(StripeConfig {
        api_key: FAKE_STRIPE_KEY.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    })
    .unwrap();
    let fresh = orders_api::router(
        state(store)
            .with_disputes(Arc::new(stripe))
            .with_clock(Arc::new(|| T0 + 3600)),
    );
    let r = post(&fresh, uri, "{\"submit\":true}").await;
    assert_eq!(r.status.as_str(), "502", "{}", r.text());
    assert_valid(&doc, &schema("502"), &r.json(), "502");
    // AND the order, with its dispute's evidence recorded, still conforms to its own schema
    let one = get_as(&app, SELLER_A, "/orders/pi_ev").await.json();
    assert!(one["disputes"][0]["evidence"]["submitted_at"].is_string());
    assert_valid(
        &doc,
        response_schema(&doc, "/orders/{order_id}", "200", "application/json"),
        &one,
        "order with evidence",
    );
}

#[tokio::test]
async fn given_the_dispute_preview_and_the_settings_when_answered_then_they_conform() {
    // GIVEN a disputed, delivered order and saved settings
    let store = Arc::new(MemoryStore::new());
    order(SELLER_A, "pi_ev", T0)
        .email("jordan.lee@example.com")
        .paid()
        .sent("msg-1")
        .dispute("needs_response")
        .put(&store)
        .await;
    let app = orders_api::router(state(store).with_clock(Arc::new(|| T0 + 3600)));
    let doc = document(&app).await;
    let t = token(SELLER_A);
    let put = Request::put("/settings")
        .header("authorization", format!("Bearer {t}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"refund_policy": "14 days", "notify_email": "ops@example.com"}"#,
        ))
        .unwrap();
    assert_eq!(send(&app, put).await.status, StatusCode::OK);
    // WHEN read / THEN each answer conforms to its documented schema
    for path in ["/settings", "/orders/pi_ev/disputes/dp_pi_ev/evidence"] {
        let r = get(&app, path, Some(&t)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        let documented = if path == "/settings" {
            "/settings"
        } else {
            "/orders/{order_id}/disputes/{dispute_id}/evidence"
        };
        let schema = response_schema(&doc, documented, "200", "application/json");
        assert_valid(&doc, schema, &r.json(), path);
    }
}
