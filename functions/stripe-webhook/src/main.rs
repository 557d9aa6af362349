//! Lambda entry point of the Stripe webhook: every dependency built once at start-up (AWS
//! clients, signing secrets from Secrets Manager), then the same router `leenkies-local` serves.
//! Endpoints of the AWS services can be overridden with `AWS_ENDPOINT_URL_<SERVICE>` (tests).

use std::sync::Arc;

use leenkies_adapters::config::{Env, WebhookSettings};
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::store::DynamoStore;
use leenkies_adapters::{secrets, telemetry};
use leenkies_domain::stripe::signature::SigningSecrets;
use stripe_webhook::{router, WebhookConfig, WebhookState};

/// mimalloc rather than glibc's malloc: allocation was about a fifth of the CPU per webhook
/// delivery under load (docs/performance.md, section 2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init_json_logging();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let settings = WebhookSettings::read(&Env::process())?;
    let table = settings.table.table.clone();
    let mode = settings.livemode;
    let signing = secrets::from_env_or_secrets_manager(&aws, "STRIPE_WEBHOOK_SECRET").await?;
    let client = leenkies_adapters::dynamodb::store_client(&aws);
    let store = Arc::new(
        DynamoStore::new(client.clone(), table.clone())
            .with_attribute_names(settings.table.item_names),
    );
    // Sellers seen and the last event per mode, for the backfill and the operator route.
    let ops = Arc::new(DynamoOps::new(client, table));
    let config = WebhookConfig::new(SigningSecrets::new(signing), mode);
    tracing::info!(
        secrets = config.secrets.len(),
        ?mode,
        "stripe-webhook ready"
    );
    lambda_http::run(router(WebhookState::new(store, config).with_ops(ops))).await
}
