//! The orders API Lambda: configuration and dependencies built once, then the shared router
//! served by `lambda_http`.

use std::sync::Arc;

use leenkies_adapters::config::{Env, OrdersApiSettings};
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::DynamoStore;
use leenkies_adapters::telemetry;
use orders_api::{config, router, HealthConfig, OperatorClaim};

/// mimalloc rather than glibc's malloc: allocation was about a fifth of the CPU per webhook
/// delivery under load (docs/performance.md, section 2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init_json_logging();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let settings = OrdersApiSettings::read(&Env::process())?;
    let table = settings.table.table.clone();
    let client = leenkies_adapters::dynamodb::store_client(&sdk);
    let store = Arc::new(
        DynamoStore::new(client.clone(), table.clone())
            .with_attribute_names(settings.table.item_names),
    );
    // The Stripe key is read once: dispute evidence, and the store's identity in resent emails.
    let stripe = config::stripe_config(&sdk).await?;
    let mut state = config::state_with_stripe(&sdk, &settings, store.clone(), stripe.clone())
        .await?
        .with_settings(Arc::new(
            leenkies_adapters::dynamodb::settings::DynamoSettings::new(
                client.clone(),
                table.clone(),
            ),
        ));
    if let Some(mut resend) = orders_api::routes::resend::config_from_env(&sdk, store) {
        if let Some(stripe) = &stripe {
            resend.profiles = Some(Arc::new(config::store_profiles(stripe)?));
        }
        state = state.with_resend(resend);
    }
    // Export jobs: jobs in the orders table, written by the exports function; presigned links
    // to its bucket.
    if let Some(bucket) = settings.exports_bucket.clone() {
        state = state.with_exports(orders_api::routes::exports::ExportsConfig {
            jobs: Arc::new(leenkies_adapters::dynamodb::exports::DynamoExports::new(
                client.clone(),
                table.clone(),
            )),
            links: orders_api::routes::exports::ExportLinks::S3 {
                client: leenkies_adapters::exports::s3::client(&sdk, settings.s3_force_path_style),
                bucket,
            },
            link_secs: settings.export_link_secs,
        });
    }
    // The operator route rides on this API (same JWT authorizer, operator claim required); the
    // mode it calls stale is the reconcile alarm's HEARTBEAT_MODE.
    state = state.with_health(HealthConfig {
        ops: Arc::new(DynamoOps::new(client, table)),
        claim: OperatorClaim::from_setting(settings.operator_claim.as_deref()),
        policy: settings.stale_policy,
        watched: settings.watched,
    });
    lambda_http::run(router(state)).await
}
