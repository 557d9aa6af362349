//! The Stripe settings every Lambda that calls Stripe's API as the platform reads the same way:
//! the key from `STRIPE_API_KEY_ARN` (Secrets Manager, once at start-up) or `STRIPE_API_KEY`, the
//! hosts from `STRIPE_API_BASE` / `STRIPE_FILES_BASE`. Never logged.

use crate::config::{Env, Source};
use crate::secrets::{from_env_or_secrets_manager, SecretError};

use super::disputes::{StripeConfig, DEFAULT_API_BASE, DEFAULT_FILES_BASE};

/// The settings, or `None` when no key is configured (the caller decides what works without
/// one). A key that is configured and cannot be read is an error: the deployment meant it.
pub async fn from_env<S: Source>(
    sdk: &aws_config::SdkConfig,
    env: &Env<S>,
) -> Result<Option<StripeConfig>, SecretError> {
    let api_key = match from_env_or_secrets_manager(sdk, "STRIPE_API_KEY").await {
        Ok(keys) => match keys.into_iter().next() {
            Some(key) => key,
            None => return Ok(None),
        },
        Err(SecretError::Missing(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(StripeConfig {
        api_key,
        api_base: env
            .optional("STRIPE_API_BASE")
            .unwrap_or_else(|| DEFAULT_API_BASE.into()),
        files_base: env
            .optional("STRIPE_FILES_BASE")
            .unwrap_or_else(|| DEFAULT_FILES_BASE.into()),
    }))
}
