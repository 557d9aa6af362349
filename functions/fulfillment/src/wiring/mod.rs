//! Start-up wiring of the Lambda binary (not part of the library): JSON logs, the AWS clients,
//! the store, the SES mailer, and the configuration from the environment and Secrets Manager.
//!
//! | env | meaning | default |
//! | --- | --- | --- |
//! | `ORDERS_TABLE` | the orders table | `leenkies-orders` |
//! | `SENDER_EMAIL` | verified SES sender, e.g. `Leenkies <orders@…>` | required |
//! | `SES_CONFIGURATION_SET` | SES configuration set | — |
//! | `DOWNLOAD_SIGNING_KEY_ARN` | Secrets Manager secret holding the download key | — |
//! | `DOWNLOAD_SIGNING_KEY` | the key itself, when no ARN is given | required without ARN |
//! | `PUBLIC_BASE_URL` | base of download links | required |
//! | `FULFILLMENT_MAX_ATTEMPTS` | sends per order before `failed` | 5 |
//! | `FULFILLMENT_LEASE_SECS` | claim lease | 60 |
//! | `STRIPE_API_KEY_ARN` / `STRIPE_API_KEY` | the platform's Stripe key: the store's name and support email from the seller's `business_profile` | none: the storefront's `store_name` or a neutral sentence, no `Reply-To` |
//! | `STRIPE_API_BASE` | Stripe's API host | `https://api.stripe.com` |
//!
//! Endpoints can be overridden the AWS way (`AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_SESV2`), which the runtime-protocol tests use for DynamoDB Local and moto.

use std::sync::Arc;

use fulfillment::{Fulfiller, FulfillmentConfig};
use leenkies_adapters::config::{ConfigError, Env, FulfillmentSettings};
use leenkies_adapters::dynamodb::DynamoStore;
use leenkies_adapters::mail::SesMailer;
use leenkies_adapters::stripe::StripeProfiles;
use leenkies_domain::tokens::DownloadKey;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error(transparent)]
    Env(#[from] ConfigError),
    #[error("could not read the download signing key from Secrets Manager: {0}")]
    Secret(String),
    #[error("could not set up the Stripe client (STRIPE_API_KEY[_ARN]): {0}")]
    Stripe(String),
}

pub async fn fulfiller_from_env() -> Result<Fulfiller, StartupError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let env = Env::process();
    let settings = FulfillmentSettings::read(&env)?;
    let table = settings.table.table.clone();
    let store = Arc::new(
        DynamoStore::new(
            leenkies_adapters::dynamodb::store_client(&aws),
            table.clone(),
        )
        .with_attribute_names(settings.table.item_names),
    );
    let mailer = Arc::new(SesMailer::new(
        aws_sdk_sesv2::Client::new(&aws),
        settings.sender.clone(),
        settings.configuration_set.clone(),
    ));

    let config = FulfillmentConfig {
        public_base_url: settings.public_base_url.clone(),
        download_key: download_key(&aws).await?,
        max_attempts: settings.claim.max_attempts,
        lease_secs: settings.claim.lease_secs,
    };
    let seller_settings = Arc::new(leenkies_adapters::dynamodb::settings::DynamoSettings::new(
        leenkies_adapters::dynamodb::store_client(&aws),
        table.clone(),
    ));
    let seller_notices = Arc::new(
        leenkies_adapters::dynamodb::seller_notices::DynamoSellerNotices::new(
            leenkies_adapters::dynamodb::store_client(&aws),
            table,
        ),
    );
    let fulfiller = Fulfiller::new(store.clone(), mailer, config)
        .with_messages(store)
        .with_settings(seller_settings)
        .with_seller_notices(seller_notices);
    Ok(match store_profiles(&aws, &env).await? {
        Some(profiles) => fulfiller.with_profiles(Arc::new(profiles)),
        None => fulfiller,
    })
}

/// The seller's store identity from Stripe's Accounts API, with the reconcile function's key
/// (`STRIPE_API_KEY[_ARN]`, read once); `None` without a key. A key that cannot be read is a
/// start-up error: a deployment that configured one means it.
async fn store_profiles(
    aws: &aws_config::SdkConfig,
    env: &Env,
) -> Result<Option<StripeProfiles>, StartupError> {
    let Some(config) = leenkies_adapters::stripe::config::from_env(aws, env)
        .await
        .map_err(|e| StartupError::Stripe(e.to_string()))?
    else {
        return Ok(None);
    };
    StripeProfiles::new(&config)
        .map(Some)
        .map_err(|e| StartupError::Stripe(e.to_string()))
}

/// The current download key: `DOWNLOAD_SIGNING_KEY_ARN` (a Secrets Manager document
/// `{"current", "previous"}`) or `DOWNLOAD_SIGNING_KEY`. Read once at start-up; never logged.
async fn download_key(aws: &aws_config::SdkConfig) -> Result<DownloadKey, StartupError> {
    use leenkies_adapters::secrets::{from_env_or_secrets_manager, SecretError};
    let keys = from_env_or_secrets_manager(aws, "DOWNLOAD_SIGNING_KEY")
        .await
        .map_err(|e| match e {
            SecretError::Missing(_) => {
                StartupError::Missing("DOWNLOAD_SIGNING_KEY_ARN or DOWNLOAD_SIGNING_KEY")
            }
            other => StartupError::Secret(other.to_string()),
        })?;
    keys.into_iter()
        .next()
        .map(|k| DownloadKey::new(k.into_bytes()))
        .ok_or(StartupError::Missing(
            "DOWNLOAD_SIGNING_KEY_ARN or DOWNLOAD_SIGNING_KEY",
        ))
}
