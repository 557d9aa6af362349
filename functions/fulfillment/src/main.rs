//! The fulfillment Lambda: DynamoDB Streams batches of the orders table in, delivery emails out.
//! Everything is built once here and borrowed by every invocation.

mod wiring;

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, Error, LambdaEvent};

/// mimalloc rather than glibc's malloc: allocation was about a fifth of the CPU per webhook
/// delivery under load (docs/performance.md, section 2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    leenkies_adapters::telemetry::init_json_logging();
    let fulfiller = Arc::new(wiring::fulfiller_from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let fulfiller = fulfiller.clone();
        async move { Ok::<_, Error>(fulfiller.handle_batch(event.payload).await) }
    }))
    .await
}
