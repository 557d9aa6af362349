//! Start-up wiring of the Lambda binary (not part of the library): JSON logs, the AWS clients,
//! the store, the SES mailer, and the configuration from the environment and Secrets Manager.
//!
//! | env | meaning | default |
//! | --- | --- | --- |
//! | `ORDERS_TABLE` | the orders table | `leenkies-orders` |
//! | `DYNAMODB_ENDPOINT` | DynamoDB endpoint override (DynamoDB Local) | — |
//! | `SES_ENDPOINT` | SES endpoint override (moto) | — |
//! | `MAIL_FROM` | verified SES sender, e.g. `Leenkies <orders@…>` | required |
//! | `SES_CONFIGURATION_SET` | SES configuration set | — |
//! | `DOWNLOAD_SIGNING_KEY_ARN` | Secrets Manager secret holding the download key | — |
//! | `DOWNLOAD_SIGNING_KEY` | the key itself, when no ARN is given | required without ARN |
//! | `PUBLIC_BASE_URL` | base of download links | required |
//! | `FULFILLMENT_MAX_ATTEMPTS` | sends per order before `failed` | 5 |
//! | `FULFILLMENT_LEASE_SECS` | claim lease | 60 |

mod interim_store;

use std::sync::Arc;

use fulfillment::{Fulfiller, FulfillmentConfig};
use leenkies_adapters::mail::{ses_client, SesMailer};
use leenkies_domain::tokens::DownloadKey;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0} is not valid: {1}")]
    Invalid(&'static str, String),
    #[error("could not read the download signing key from Secrets Manager: {0}")]
    Secret(String),
}

pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_ansi(false)
        .init();
}

pub async fn fulfiller_from_env() -> Result<Fulfiller, StartupError> {
    let aws = aws_config::load_from_env().await;

    let table = std::env::var("ORDERS_TABLE").unwrap_or_else(|_| "leenkies-orders".to_owned());
    let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&aws);
    if let Some(endpoint) = optional("DYNAMODB_ENDPOINT") {
        dynamodb = dynamodb.endpoint_url(endpoint);
    }
    // INTERIM: replace with `leenkies_adapters::dynamodb::store::DynamoStore::new(client, table)`
    // once that adapter is merged; this one only reads and writes order items.
    let store = Arc::new(interim_store::InterimOrderStore::new(
        aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
        table,
    ));

    let sender = optional("MAIL_FROM").ok_or(StartupError::Missing("MAIL_FROM"))?;
    let ses = match optional("SES_ENDPOINT") {
        Some(endpoint) => ses_client(Some(&endpoint)).await,
        None => aws_sdk_sesv2::Client::new(&aws),
    };
    let mailer = Arc::new(SesMailer::new(
        ses,
        sender,
        optional("SES_CONFIGURATION_SET"),
    ));

    let config = FulfillmentConfig {
        public_base_url: optional("PUBLIC_BASE_URL")
            .ok_or(StartupError::Missing("PUBLIC_BASE_URL"))?,
        download_key: download_key(&aws).await?,
        max_attempts: number(
            "FULFILLMENT_MAX_ATTEMPTS",
            FulfillmentConfig::DEFAULT_MAX_ATTEMPTS,
        )?,
        lease_secs: number(
            "FULFILLMENT_LEASE_SECS",
            FulfillmentConfig::DEFAULT_LEASE_SECS,
        )?,
    };
    Ok(Fulfiller::new(store, mailer, config))
}

/// The key from Secrets Manager when `DOWNLOAD_SIGNING_KEY_ARN` is set, else from
/// `DOWNLOAD_SIGNING_KEY`. Read once at start-up; never logged.
async fn download_key(aws: &aws_config::SdkConfig) -> Result<DownloadKey, StartupError> {
    if let Some(arn) = optional("DOWNLOAD_SIGNING_KEY_ARN") {
        let secret = aws_sdk_secretsmanager::Client::new(aws)
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                StartupError::Secret(
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                )
            })?;
        if let Some(text) = secret.secret_string() {
            return Ok(DownloadKey::new(text.trim().as_bytes().to_vec()));
        }
        if let Some(blob) = secret.secret_binary() {
            return Ok(DownloadKey::new(blob.as_ref().to_vec()));
        }
        return Err(StartupError::Secret("the secret has no value".to_owned()));
    }
    optional("DOWNLOAD_SIGNING_KEY")
        .map(|k| DownloadKey::new(k.into_bytes()))
        .ok_or(StartupError::Missing(
            "DOWNLOAD_SIGNING_KEY_ARN or DOWNLOAD_SIGNING_KEY",
        ))
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, StartupError> {
    match optional(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| StartupError::Invalid(name, v)),
    }
}
