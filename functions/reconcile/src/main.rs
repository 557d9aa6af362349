//! `reconcile`: the scheduled recovery Lambda (backfill, reconcile, heartbeat metric).

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use leenkies_adapters::config::Env;
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::DynamoStore;
use leenkies_adapters::metrics::Metrics;
use leenkies_domain::ingest::IngestDeps;
use reconcile::job::Job;
use serde_json::Value;

/// mimalloc rather than glibc's malloc: allocation was about a fifth of the CPU per webhook
/// delivery under load (docs/performance.md, section 2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leenkies_adapters::telemetry::init_json_logging();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let env = Env::process();
    let settings = reconcile::config::ReconcileSettings::read(&env)?;
    let tables = settings.webhook.table.clone();
    let table = tables.table.clone();
    let client = leenkies_adapters::dynamodb::store_client(&sdk);
    let store = Arc::new(
        DynamoStore::new(client.clone(), table.clone()).with_attribute_names(tables.item_names),
    );
    let ops = Arc::new(DynamoOps::new(client.clone(), table.clone()));
    // The sweep (contract sections 9.3 and 12) files evidence and refunds warned orders as the
    // seller, with the same Stripe key and client.
    let stripe: Option<Arc<leenkies_adapters::stripe::StripeDisputes>> =
        match leenkies_adapters::stripe::config::from_env(&sdk, &env).await? {
            Some(config) => Some(Arc::new(
                leenkies_adapters::stripe::StripeDisputes::new(config)
                    .map_err(|e| lambda_runtime::Error::from(e.to_string()))?,
            )),
            None => None,
        };
    let filer = stripe
        .clone()
        .map(|s| s as Arc<dyn leenkies_domain::evidence::filing::DisputeFiler>);
    let refunder = stripe.map(|s| s as Arc<dyn leenkies_domain::ports::Refunder>);
    let sweep = leenkies_domain::sweep::Sweeper {
        store: store.clone(),
        index: store.clone(),
        settings: Arc::new(leenkies_adapters::dynamodb::settings::DynamoSettings::new(
            client, table,
        )),
        filer,
        refunder,
    };
    let metrics = Metrics::stdout("reconcile");
    let mode = settings.webhook.livemode;
    // No signatures here: the events come from Stripe's API over TLS.
    let ingest = IngestDeps::new(store.clone(), mode);
    let job = Job {
        api: reconcile::config::stripe_api(&sdk, metrics.clone()).await?,
        ingest,
        store,
        ops,
        metrics,
        config: settings.job,
        sweep: Some(sweep),
    };
    let job = &job;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        reconcile::lambda::handle(job, event).await
    }))
    .await
}
