//! The orders API Lambda: configuration and dependencies built once, then the shared router
//! served by `lambda_http`.

use std::sync::Arc;

use leenkies_adapters::dynamodb::DynamoStore;
use leenkies_adapters::telemetry;
use orders_api::{config, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init_json_logging();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = std::env::var("ORDERS_TABLE").map_err(|_| "ORDERS_TABLE is not set")?;
    let store = Arc::new(DynamoStore::new(
        leenkies_adapters::dynamodb::store_client(&sdk),
        table,
    ));
    let state = config::state_from_env(&sdk, store).await?;
    lambda_http::run(router(state)).await
}
