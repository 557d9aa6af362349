//! The Lambda's configuration: its settings ([`OrdersApiSettings`], read once by `main` through
//! the adapters' one reader) and its secrets (Secrets Manager).
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `DOWNLOAD_SIGNING_KEY_ARN` | Secrets Manager secret holding the download-link key | — |
//! | `DOWNLOAD_SIGNING_KEY` | the key itself, when no ARN is given | required otherwise |
//! | `CURSOR_SIGNING_KEY` | key for list cursors | derived from the download key |
//! | `SELLER_ID_CLAIM` | JWT claim naming the seller | `sub` |
//! | `PRODUCT_FILES_BUCKET` | S3 bucket of product files (`<seller>/<product>`) | local placeholder |
//! | `EXPORTS_BUCKET` | the export jobs' bucket (`POST /orders/exports`; read in `main`) | none: `503 exports_not_configured` |
//! | `EXPORT_LINK_EXPIRES_SECS` | lifetime of an export's presigned download link | `900` |
//! | `DOWNLOAD_URL_EXPIRES_SECS` | lifetime of presigned download URLs | `300` |
//! | `DASHBOARD_OAUTH_*` | the dashboard's OAuth/PKCE sign-in ([`crate::dashboard::config`]) | none |
//! | `STRIPE_API_KEY_ARN` / `STRIPE_API_KEY` | the platform's Stripe secret key (dispute evidence; the store's name and support email in a resent email) | none: `503 stripe_not_configured`; a resent email names the storefront's `store_name` or nobody |
//! | `STRIPE_API_BASE` / `STRIPE_FILES_BASE` | Stripe's API and files hosts | `https://api.stripe.com` / `https://files.stripe.com` |

use std::sync::Arc;

use aws_config::SdkConfig;
use hmac::{Hmac, KeyInit, Mac};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::tokens::DownloadKey;
use sha2::Sha256;

use leenkies_adapters::config::OrdersApiSettings;

use crate::auth::Auth;
use crate::state::{ApiState, ProductFiles};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("neither DOWNLOAD_SIGNING_KEY_ARN nor DOWNLOAD_SIGNING_KEY is set")]
    NoDownloadKey,
    #[error("could not read the download signing key from Secrets Manager: {0}")]
    Secret(String),
    #[error("could not set up the Stripe client (STRIPE_API_KEY[_ARN]): {0}")]
    StripeKey(String),
    #[error(transparent)]
    Env(#[from] leenkies_adapters::config::ConfigError),
    #[error("dashboard sign-in settings: {0}")]
    Dashboard(#[from] crate::dashboard::config::DashboardConfigError),
}

/// The download-link keys, current first: `DOWNLOAD_SIGNING_KEY_ARN` (a Secrets Manager document
/// `{"current", "previous"}`, read once) or `DOWNLOAD_SIGNING_KEY`. Both verify during a
/// rotation (links already emailed keep working); the current one derives the cursor key.
async fn download_keys(sdk: &SdkConfig) -> Result<Vec<Vec<u8>>, ConfigError> {
    let keys = leenkies_adapters::secrets::from_env_or_secrets_manager(sdk, "DOWNLOAD_SIGNING_KEY")
        .await
        .map_err(|e| match e {
            leenkies_adapters::secrets::SecretError::Missing(_) => ConfigError::NoDownloadKey,
            other => ConfigError::Secret(other.to_string()),
        })?;
    let keys: Vec<Vec<u8>> = keys.into_iter().map(String::into_bytes).collect();
    if keys.is_empty() {
        return Err(ConfigError::NoDownloadKey);
    }
    Ok(keys)
}

/// A cursor key derived from another secret, so a deployment needs one secret less. Domain
/// separation keeps a cursor MAC from ever being usable as a download-token MAC.
pub fn derive_cursor_key(secret: &[u8]) -> Vec<u8> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(b"leenkies orders-api cursor key v1");
            mac.finalize().into_bytes().to_vec()
        }
        // Not reachable (HMAC takes any key length); a fixed prefix still keeps the domains apart.
        Err(_) => [b"cursor:".as_slice(), secret].concat(),
    }
}

/// The Lambda's state from its settings (read once by `main`), its keys, and the Stripe settings
/// already read (by [`stripe_config`]), so that the secret is read once for every part that
/// calls Stripe.
pub async fn state_with_stripe(
    sdk: &SdkConfig,
    settings: &OrdersApiSettings,
    store: Arc<dyn OrderStore>,
    stripe: Option<leenkies_adapters::stripe::StripeConfig>,
) -> Result<ApiState, ConfigError> {
    let keys = download_keys(sdk).await?;
    let cursor_key = settings
        .cursor_key
        .clone()
        .map(String::into_bytes)
        .unwrap_or_else(|| derive_cursor_key(&keys[0]));
    let download_key = DownloadKey::rotating(keys).ok_or(ConfigError::NoDownloadKey)?;
    let auth = Auth::LambdaAuthorizer {
        seller_claim: settings.seller_claim.clone(),
    };
    let products = match &settings.product_files_bucket {
        Some(bucket) => ProductFiles::S3 {
            client: aws_sdk_s3::Client::new(sdk),
            bucket: bucket.clone(),
            expires_secs: settings.download_url_secs,
        },
        None => ProductFiles::LocalDir(None),
    };
    let state = ApiState::new(store, auth, download_key, cursor_key, products)
        .with_dashboard(crate::dashboard::config::DashboardConfig::from_env()?);
    Ok(match stripe {
        Some(config) => state.with_disputes(Arc::new(
            leenkies_adapters::stripe::StripeDisputes::new(config)
                .map_err(|e| ConfigError::StripeKey(e.to_string()))?,
        )),
        None => state,
    })
}

/// The seller's store identity for resent emails, on the same Stripe settings.
pub fn store_profiles(
    stripe: &leenkies_adapters::stripe::StripeConfig,
) -> Result<leenkies_adapters::stripe::StripeProfiles, ConfigError> {
    leenkies_adapters::stripe::StripeProfiles::new(stripe)
        .map_err(|e| ConfigError::StripeKey(e.to_string()))
}

/// Stripe's API settings from `STRIPE_API_KEY[_ARN]` (the reconcile function's secret), or `None`
/// when no key is configured: the evidence route then answers `503 stripe_not_configured`.
pub async fn stripe_config(
    sdk: &SdkConfig,
) -> Result<Option<leenkies_adapters::stripe::StripeConfig>, ConfigError> {
    leenkies_adapters::stripe::config::from_env(sdk, &leenkies_adapters::config::Env::process())
        .await
        .map_err(|e| ConfigError::StripeKey(e.to_string()))
}
