//! The exports Lambda: stream records of export jobs in, CSV parts in the exports bucket out.
//! Everything is built once here and borrowed by every invocation.
//!
//! | env | meaning | default |
//! | --- | --- | --- |
//! | `ORDERS_TABLE` | the orders table | `leenkies-orders` |
//! | `EXPORTS_BUCKET` | the exports bucket | required |
//! | `EXPORT_PART_BYTES` | bytes per part, at least 5 MiB (S3's minimum) | 5 MiB |
//! | `S3_FORCE_PATH_STYLE` | path-style S3 addressing (an S3 stand-in on one host) | `false` |

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::dynamodb::Event;
use exports::Exporter;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leenkies_adapters::config::{Env, ExportsSettings};
use leenkies_adapters::dynamodb::exports::DynamoExports;
use leenkies_adapters::dynamodb::DynamoStore;
use leenkies_adapters::exports::s3::S3Sink;
use leenkies_domain::export::checked_part_bytes;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    leenkies_adapters::telemetry::init_json_logging();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let settings = ExportsSettings::read(&Env::process())?;
    let table = settings.table.table.clone();
    let client = leenkies_adapters::dynamodb::store_client(&aws);
    let part_bytes = checked_part_bytes(settings.part_bytes)?;
    let s3 = leenkies_adapters::exports::s3::client(&aws, settings.s3_force_path_style);
    let exporter = Arc::new(Exporter {
        orders: Arc::new(DynamoStore::new(client.clone(), table.clone())),
        jobs: Arc::new(DynamoExports::new(client, table)),
        sink: Arc::new(S3Sink::new(s3, settings.bucket)),
        part_bytes,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let exporter = exporter.clone();
        // The context's deadline is wall-clock milliseconds; the worker compares instants.
        let left = Duration::from_millis(event.context.deadline).saturating_sub(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        );
        let deadline = Instant::now() + left;
        async move { Ok::<_, Error>(exporter.handle_batch(event.payload, deadline).await) }
    }))
    .await
}
