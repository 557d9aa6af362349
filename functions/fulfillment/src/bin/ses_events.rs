//! The `ses-events` Lambda: EventBridge delivers each SES event of the delivery emails (rule on
//! the default bus, `source` `aws.ses`, the configuration set's events), and it is recorded on
//! the order of its message. A store failure fails the invocation, so EventBridge's asynchronous
//! retries and then the DLQ keep it; a body that is not an SES event is logged and dropped.
//!
//! | env | meaning |
//! | --- | --- |
//! | `ORDERS_TABLE` | the orders table (default `leenkies-orders`, as every function) |

use std::sync::Arc;

use fulfillment::ses_events::{SesEvents, SesEventsError};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leenkies_adapters::dynamodb::DynamoStore;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    leenkies_adapters::telemetry::init_json_logging();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let settings = leenkies_adapters::config::SesEventsSettings::read(
        &leenkies_adapters::config::Env::process(),
    )?;
    let store = Arc::new(
        DynamoStore::new(
            leenkies_adapters::dynamodb::store_client(&aws),
            settings.table.table,
        )
        .with_attribute_names(settings.table.item_names),
    );
    let handler = Arc::new(SesEvents::new(store.clone(), store));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let handler = handler.clone();
        async move {
            let body = serde_json::to_vec(&event.payload)?;
            match handler.handle(&body).await {
                Ok(outcome) => Ok(serde_json::json!({ "outcome": outcome.as_str() })),
                // Logged by the handler; EventBridge retrying it cannot make it an SES event.
                Err(SesEventsError::NotAnSesEvent(_)) => {
                    Ok(serde_json::json!({ "outcome": "refused" }))
                }
                Err(e @ SesEventsError::Store(_)) => Err(Error::from(e.to_string())),
            }
        }
    }))
    .await
}
