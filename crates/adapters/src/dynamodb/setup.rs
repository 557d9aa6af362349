//! Clients and the table, for local runs and tests: the SDK configuration (with DynamoDB Local's
//! dummy credentials when needed) and creating the table from `table` if it is missing.
//!
//! In AWS the table comes from `template.yaml`; `ensure_table` is for DynamoDB Local only.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TableStatus,
};
use aws_sdk_dynamodb::Client;

use super::table;

/// How long `ensure_table` waits for the table and its indexes to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{operation} failed: {message}")]
    Sdk {
        operation: &'static str,
        message: String,
    },
    #[error("table {0} did not become ACTIVE within {1:?}")]
    NotActive(String, Duration),
    #[error("building the table definition: {0}")]
    Definition(#[from] aws_sdk_dynamodb::error::BuildError),
}

/// The SDK configuration: aws-config defaults; with an endpoint (DynamoDB Local), that endpoint,
/// and dummy static credentials and `us-east-1` when the environment has none, so a laptop with
/// no AWS account works (and no time is lost probing instance metadata).
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
        if !env_has("AWS_ACCESS_KEY_ID") && !env_has("AWS_PROFILE") {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "leenkies-dynamodb-local",
            ));
        }
        if !env_has("AWS_REGION") && !env_has("AWS_DEFAULT_REGION") {
            loader = loader.region(Region::new("us-east-1"));
        }
    }
    loader.load().await
}

fn env_has(name: &str) -> bool {
    crate::config::Env::process().optional(name).is_some()
}

/// Connecting to DynamoDB: refused or unreachable hosts fail fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt of one call (a `GetItem`, a conditional `PutItem`, a page of `Query`).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// One call, retries included: a webhook delivery (one read, one write) answers within
/// Stripe's patience even when DynamoDB is gone or black-holed, instead of hanging for 30 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per call (the SDK's standard retry with jittered back-off).
pub const MAX_ATTEMPTS: u32 = 3;

/// The timeouts and retries every DynamoDB client of ours uses (see the constants above).
pub fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// A DynamoDB client on any SDK configuration (the Lambdas' and the local runner's) with our
/// bounded [`timeouts`] and retries.
pub fn store_client(sdk: &SdkConfig) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    Client::from_conf(config)
}

/// A DynamoDB client; see [`sdk_config`] and [`store_client`].
pub async fn client(endpoint: Option<&str>) -> Client {
    store_client(&sdk_config(endpoint).await)
}

/// A DynamoDB Streams client on the same endpoint and credentials; see [`sdk_config`]. No
/// request path waits on it (the pump has its own back-off), so it keeps the SDK's defaults.
pub async fn streams_client(endpoint: Option<&str>) -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&sdk_config(endpoint).await)
}

/// Creates the orders table as `table` defines it (on-demand, four GSIs projecting their keys only,
/// stream with old and new images) unless it exists, then waits until it and its indexes are
/// ACTIVE. Idempotent, and safe when two processes race to create it.
pub async fn ensure_table(client: &Client, name: &str) -> Result<(), SetupError> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceNotFoundException") => create(client, name).await?,
        Err(e) => {
            return Err(SetupError::Sdk {
                operation: "DescribeTable",
                message: describe(&e),
            })
        }
    }
    wait_active(client, name).await
}

async fn create(client: &Client, name: &str) -> Result<(), SetupError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(table::PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(table::SORT_KEY, KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        );
    for attribute in table::key_attributes() {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    for index in table::INDEXES {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.hash, KeyType::Hash)?)
                .key_schema(key(index.range, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()?,
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Someone else created it between our describe and create: just wait for it.
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(SetupError::Sdk {
            operation: "CreateTable",
            message: describe(&e),
        }),
    }
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, SetupError> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()?)
}

async fn wait_active(client: &Client, name: &str) -> Result<(), SetupError> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| SetupError::Sdk {
                operation: "DescribeTable",
                message: describe(&e),
            })?;
        if let Some(t) = out.table() {
            let indexes_active = t
                .global_secondary_indexes()
                .iter()
                .all(|i| i.index_status() == Some(&IndexStatus::Active));
            if t.table_status() == Some(&TableStatus::Active) && indexes_active {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(SetupError::NotActive(name.to_owned(), ACTIVE_TIMEOUT));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn describe<E: ProvideErrorMetadata + std::fmt::Debug>(e: &E) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{e:?}"),
    }
}
