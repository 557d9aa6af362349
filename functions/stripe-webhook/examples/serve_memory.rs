//! The webhook alone, for the load benchmark: the same router the Lambda serves (verify, parse,
//! interpret, fold) on the embedded store, over plain HTTP, with the same JSON logging. Unlike
//! `leenkies-local` there is no fulfillment pump and no outbox, so it is the like-for-like peer of
//! the Node webhook in `bench/node-peer` (which also only verifies, parses and remembers).
//!
//! `STRIPE_WEBHOOK_SECRET=whsec_… cargo run --release -p stripe-webhook --example serve_memory -- 127.0.0.1:3300`

use std::sync::Arc;

use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::stripe::signature::SigningSecrets;
use stripe_webhook::{router, LiveMode, WebhookConfig, WebhookState};

/// mimalloc rather than glibc's malloc: allocation was about a fifth of the CPU per webhook
/// delivery under load (docs/performance.md, section 2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    leenkies_adapters::telemetry::init_json_logging();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3300".into());
    let secret = std::env::var("STRIPE_WEBHOOK_SECRET").expect("STRIPE_WEBHOOK_SECRET");
    let config = WebhookConfig::new(SigningSecrets::from_csv(&secret), LiveMode::Any);
    let app = router(WebhookState::new(Arc::new(MemoryStore::new()), config));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("listening on http://{addr}");
    axum::serve(listener, app).await.expect("serve");
}
