//! The recovery jobs' settings, read once at start-up from the environment (the same names in
//! AWS and on one machine). Secrets come through `leenkies_adapters::secrets`: `STRIPE_API_KEY_ARN`
//! (Secrets Manager) in AWS, `STRIPE_API_KEY` locally. Nothing here is ever logged.

use leenkies_adapters::config::{self, Env, Source};
use leenkies_adapters::metrics::Metrics;
use leenkies_adapters::secrets;

use crate::job::JobConfig;
use crate::stripe_api::{StripeApi, DEFAULT_API_BASE};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("STRIPE_API_KEY (or STRIPE_API_KEY_ARN) is required: {0}")]
    ApiKey(String),
    #[error("{0}")]
    Stripe(#[from] crate::stripe_api::ApiError),
    #[error(transparent)]
    Env(#[from] config::ConfigError),
}

/// The reconcile function's settings, read once by its `main`: the table, the modes it ingests
/// (`STRIPE_LIVEMODE`, as the webhook reads it) and the job's tunables ([`job_config`]). Its
/// Stripe key comes from Secrets Manager ([`stripe_api`]).
#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    pub webhook: config::WebhookSettings,
    pub job: JobConfig,
}

impl ReconcileSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            webhook: config::WebhookSettings::read(env)?,
            job: job_config(env)?,
        })
    }
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
    let base = Env::process()
        .optional("STRIPE_API_BASE")
        .unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
    Ok(StripeApi::new(&key, &base, metrics)?)
}

/// The job's tunables: `BACKFILL_DEFAULT_WINDOW_SECONDS`, `RECONCILE_PROCESSING_MAX_AGE_SECONDS`,
/// `RECONCILE_LOOKBACK_SECONDS`, `BUSINESS_HOURS_UTC`, `WEBHOOK_STALE_AFTER_SECONDS`,
/// `HEARTBEAT_MODE` (`live` | `test`). A value that does not parse stops the start-up.
pub fn job_config<S: Source>(env: &Env<S>) -> Result<JobConfig, ConfigError> {
    let mut config = JobConfig::default();
    config.default_window_secs = env.number(
        "BACKFILL_DEFAULT_WINDOW_SECONDS",
        config.default_window_secs,
    )?;
    config.reconcile.processing_max_age_secs = env.number(
        "RECONCILE_PROCESSING_MAX_AGE_SECONDS",
        config.reconcile.processing_max_age_secs,
    )?;
    config.reconcile.lookback_secs =
        env.number("RECONCILE_LOOKBACK_SECONDS", config.reconcile.lookback_secs)?;
    config.stale = env.stale_policy();
    config.watched = env.heartbeat_mode()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_bad_number_when_configured_then_start_up_stops_naming_it() {
        let env = Env([("RECONCILE_LOOKBACK_SECONDS", "ten days")]);
        let error = job_config(&env).unwrap_err().to_string();
        assert!(error.contains("RECONCILE_LOOKBACK_SECONDS"), "{error}");
    }

    #[test]
    fn given_heartbeat_mode_test_when_configured_then_test_is_watched() {
        let env = Env([("HEARTBEAT_MODE", "test")]);
        assert_eq!(
            job_config(&env).unwrap().watched,
            leenkies_domain::ops::Mode::Test
        );
    }
}
