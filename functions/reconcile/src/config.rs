//! The recovery jobs' settings, read once at start-up from the environment (the same names in
//! AWS and on one machine). Secrets come through `leenkies_adapters::secrets`: `STRIPE_API_KEY_ARN`
//! (Secrets Manager) in AWS, `STRIPE_API_KEY` locally. Nothing here is ever logged.

use leenkies_adapters::metrics::Metrics;
use leenkies_adapters::secrets;
use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::Mode;

use crate::job::JobConfig;
use crate::stripe_api::{StripeApi, DEFAULT_API_BASE};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("STRIPE_API_KEY (or STRIPE_API_KEY_ARN) is required: {0}")]
    ApiKey(String),
    #[error("{0}")]
    Stripe(#[from] crate::stripe_api::ApiError),
}

/// The Stripe client from `STRIPE_API_KEY[_ARN]` and `STRIPE_API_BASE`.
pub async fn stripe_api(
    sdk: &aws_config::SdkConfig,
    metrics: Metrics,
) -> Result<StripeApi, ConfigError> {
    let key = secrets::from_env_or_secrets_manager(sdk, "STRIPE_API_KEY")
        .await
        .map_err(|e| ConfigError::ApiKey(e.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| ConfigError::ApiKey("empty".into()))?;
    let base = std::env::var("STRIPE_API_BASE")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
    Ok(StripeApi::new(&key, &base, metrics)?)
}

fn secs(name: &str, default: i64) -> i64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            tracing::warn!(name, value = %v, "not a number of seconds; using the default");
            default
        }),
        Err(_) => default,
    }
}

/// The job's tunables: `BACKFILL_DEFAULT_WINDOW_SECONDS`, `RECONCILE_PROCESSING_MAX_AGE_SECONDS`,
/// `RECONCILE_LOOKBACK_SECONDS`, `BUSINESS_HOURS_UTC`, `WEBHOOK_STALE_AFTER_SECONDS`,
/// `HEARTBEAT_MODE` (`live` | `test`).
pub fn job_config() -> JobConfig {
    let mut config = JobConfig::default();
    config.default_window_secs = secs(
        "BACKFILL_DEFAULT_WINDOW_SECONDS",
        config.default_window_secs,
    );
    config.reconcile.processing_max_age_secs = secs(
        "RECONCILE_PROCESSING_MAX_AGE_SECONDS",
        config.reconcile.processing_max_age_secs,
    );
    config.reconcile.lookback_secs =
        secs("RECONCILE_LOOKBACK_SECONDS", config.reconcile.lookback_secs);
    config.stale = StalePolicy::from_env();
    if let Some(mode) = std::env::var("HEARTBEAT_MODE")
        .ok()
        .as_deref()
        .and_then(Mode::parse)
    {
        config.watched = mode;
    }
    config
}
