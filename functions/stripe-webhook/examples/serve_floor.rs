//! The floor of the webhook load benchmark: the same HTTP stack as the webhook (tokio, hyper
//! through axum, one route) that reads the body and answers a fixed `200` acknowledgement,
//! without verifying, parsing, storing or logging anything.
//!
//! Its CPU per request is what any handler on this stack pays before doing its own work, so it
//! bounds the ratio the webhook can reach against the Node peer on this machine
//! (docs/performance.md, section 2).
//!
//! `cargo run --release -p stripe-webhook --example serve_floor -- 127.0.0.1:3301`

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Reads the whole body (as the webhook must, to verify it) and answers like the webhook does.
async fn acknowledge(body: Bytes) -> impl IntoResponse {
    std::hint::black_box(body);
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"received":true,"outcome":"applied"}"#,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3301".into());
    let app = Router::new().route("/webhooks/stripe", post(acknowledge));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app).await
}
