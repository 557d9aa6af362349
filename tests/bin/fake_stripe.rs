//! `fake-stripe`: the test support's fake Stripe API ([`FakeStripe`]) as a process of its own, so
//! tests that are not Rust (the browser tests in `tests/browser`) can point `leenkies-local` at
//! it with `STRIPE_API_KEY`, `STRIPE_API_BASE` and `STRIPE_FILES_BASE`.
//!
//! `fake-stripe [--account acct_…]…` prints two lines when ready:
//!
//! ```text
//! listening on http://127.0.0.1:<port>   Stripe's API (files and disputes), checked as Stripe does
//! control on http://127.0.0.1:<port>     the test's own handle on the fake
//! ```
//!
//! The control server is a separate port so that nothing of it can be reached by the code under
//! test through `STRIPE_API_BASE`, and so the fake's own router stays as it is:
//!
//! - `GET /_fake/requests`: every request Stripe's side saw (path, `Stripe-Account`,
//!   `Idempotency-Key`, status, replayed), oldest first;
//! - `GET /_fake/files`: the uploaded files (id, account, purpose, size) without their bytes;
//! - `GET /_fake/disputes/{account}/{id}`: a dispute's status, evidence and counters, or `404`;
//! - `POST /_fake/disputes` `{"account", "id", "status"}`: a dispute that exists on that account;
//! - `POST /_fake/charges` `{"account", "id", "amount"}`: a charge that exists on that account
//!   (what `POST /v1/refunds` refunds);
//! - `GET /_fake/refunds`: the refunds created (id, account, charge, amount, reason,
//!   `Idempotency-Key`), oldest first, replays not counted;
//! - `POST /_fake/fail` `{"status", "n"}`: the next `n` requests answer `status` (an outage).
//!
//! It runs until killed (SIGTERM or SIGINT).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use leenkies_integration_tests::fake_stripe::FakeStripe;
use serde_json::{json, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut accounts = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--account", Some(account)) => accounts.push(account),
            _ => {
                eprintln!("usage: fake-stripe [--account acct_…]…");
                std::process::exit(2);
            }
        }
    }
    let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let fake = FakeStripe::start(&refs).await;

    let control = Router::new()
        .route("/_fake/requests", get(requests))
        .route("/_fake/files", get(files))
        .route("/_fake/disputes", post(add_dispute))
        .route("/_fake/disputes/{account}/{id}", get(dispute))
        .route("/_fake/charges", post(add_charge))
        .route("/_fake/refunds", get(refunds))
        .route("/_fake/fail", post(fail))
        .with_state(fake.clone());
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake-stripe: cannot bind the control port: {e}");
            std::process::exit(1);
        }
    };
    let control_addr = listener.local_addr().map(|a| a.to_string());
    println!("listening on {}", fake.base);
    println!(
        "control on http://{}",
        control_addr.unwrap_or_else(|e| e.to_string())
    );
    let serve = axum::serve(listener, control).with_graceful_shutdown(async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    });
    if let Err(e) = serve.await {
        eprintln!("fake-stripe: {e}");
        std::process::exit(1);
    }
}

async fn requests(State(fake): State<FakeStripe>) -> Json<Value> {
    Json(Value::Array(
        fake.seen()
            .into_iter()
            .map(|r| {
                json!({
                    "path": r.path,
                    "account": r.account,
                    "idempotency_key": r.idempotency_key,
                    "status": r.status,
                    "replayed": r.replayed,
                })
            })
            .collect(),
    ))
}

async fn files(State(fake): State<FakeStripe>) -> Json<Value> {
    Json(Value::Array(
        fake.files()
            .into_iter()
            .map(|f| json!({"id": f.id, "account": f.account, "purpose": f.purpose, "size": f.bytes.len()}))
            .collect(),
    ))
}

async fn dispute(
    State(fake): State<FakeStripe>,
    Path((account, id)): Path<(String, String)>,
) -> Result<Json<Value>, StatusCode> {
    let d = fake.dispute(&account, &id).ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(json!({
        "status": d.status,
        "evidence": d.evidence,
        "submission_count": d.submission_count,
        "updates": d.updates,
    })))
}

/// `{"account", "id", "status"}`: all three strings, else `400`.
async fn add_dispute(State(fake): State<FakeStripe>, Json(d): Json<Value>) -> StatusCode {
    let field = |n: &str| d.get(n).and_then(Value::as_str);
    match (field("account"), field("id"), field("status")) {
        (Some(account), Some(id), Some(status)) => {
            fake.add_dispute(account, id, status);
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `{"account", "id", "amount"}`: two strings and a positive amount, else `400`.
async fn add_charge(State(fake): State<FakeStripe>, Json(c): Json<Value>) -> StatusCode {
    let field = |n: &str| c.get(n).and_then(Value::as_str);
    let amount = c.get("amount").and_then(Value::as_i64).filter(|a| *a > 0);
    match (field("account"), field("id"), amount) {
        (Some(account), Some(id), Some(amount)) => {
            fake.add_charge(account, id, amount);
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn refunds(State(fake): State<FakeStripe>) -> Json<Value> {
    Json(Value::Array(
        fake.refunds()
            .into_iter()
            .map(|r| {
                json!({
                    "id": r.id, "account": r.account, "charge": r.charge, "amount": r.amount,
                    "reason": r.reason, "idempotency_key": r.idempotency_key,
                })
            })
            .collect(),
    ))
}

/// `{"status": 500, "n": 3}`: a status Stripe could answer and a count, else `400`.
async fn fail(State(fake): State<FakeStripe>, Json(f): Json<Value>) -> StatusCode {
    let status = f.get("status").and_then(Value::as_u64);
    let n = f.get("n").and_then(Value::as_u64);
    match (status, n) {
        (Some(status @ 400..=599), Some(n)) => {
            fake.fail_next(status as u16, n as usize);
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}
