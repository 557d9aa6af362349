//! Secrets and settings, resolved once from the environment (contract section 6), with dev
//! defaults printed at start so a newcomer can sign events and mint tokens.

use leenkies_adapters::config::Env;
use leenkies_domain::ops::{Mode, ModeFilter as LiveMode};
use leenkies_domain::stripe::signature::SigningSecrets;

pub const DEV_WEBHOOK_SECRET: &str = "whsec_leenkies_local_dev_secret";
pub const DEV_JWT_SECRET: &str = "leenkies-local-dev-jwt-secret";
pub const DEV_DOWNLOAD_KEY: &str = "leenkies-local-dev-download-key";

/// Everything the runner reads from the environment (through the same helper as the Lambdas,
/// `leenkies_adapters::config`, so every variable has the same default and error).
#[derive(Clone)]
pub struct Settings {
    pub webhook_secrets: SigningSecrets,
    pub jwt_secret: String,
    pub download_key: String,
    /// `None`: `http://<the bound address>`.
    pub public_base_url: Option<String>,
    pub livemode: LiveMode,
    pub seller_claim: String,
    /// Stripe's API for dispute evidence (contract section 9): `STRIPE_API_KEY`,
    /// `STRIPE_API_BASE`, `STRIPE_FILES_BASE`; `None` without a key (`503 stripe_not_configured`).
    pub stripe: Option<leenkies_adapters::stripe::StripeConfig>,
    /// `HEARTBEAT_MODE`: the mode the health route calls stale when silent.
    pub watched: Mode,
    /// `FULFILLMENT_MAX_ATTEMPTS`, `FULFILLMENT_LEASE_SECS`: as the fulfillment Lambda reads them.
    pub fulfillment_max_attempts: u32,
    pub fulfillment_lease_secs: i64,
    /// `EXPORT_PART_BYTES`: bytes per part of an export job (at least 5 MiB, as in AWS).
    pub export_part_bytes: usize,
}

impl std::fmt::Debug for Settings {
    // The secrets and keys never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("webhook_secrets", &self.webhook_secrets.len())
            .field("jwt_secret", &"<redacted>")
            .field("download_key", &"<redacted>")
            .field("public_base_url", &self.public_base_url)
            .field("livemode", &self.livemode)
            .field("seller_claim", &self.seller_claim)
            .field("watched", &self.watched)
            .field("fulfillment_max_attempts", &self.fulfillment_max_attempts)
            .field("fulfillment_lease_secs", &self.fulfillment_lease_secs)
            .field("export_part_bytes", &self.export_part_bytes)
            .field("stripe_configured", &self.stripe.is_some())
            .finish()
    }
}

impl Settings {
    /// Reads the environment; prints which dev defaults are in use.
    pub fn from_env() -> Result<Self, String> {
        let (secrets, dev_secret) = env_or("STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET);
        if dev_secret {
            println!("STRIPE_WEBHOOK_SECRET not set: using the dev secret {DEV_WEBHOOK_SECRET}");
        }
        let (jwt_secret, dev_jwt) = env_or("LEENKIES_JWT_SECRET", DEV_JWT_SECRET);
        if dev_jwt {
            println!("LEENKIES_JWT_SECRET not set: using the dev key {DEV_JWT_SECRET}");
        }
        let env = Env::process();
        let livemode = env.stripe_livemode().map_err(|e| e.to_string())?;
        let watched = env.heartbeat_mode().map_err(|e| e.to_string())?;
        let fulfillment_max_attempts = env
            .number(
                "FULFILLMENT_MAX_ATTEMPTS",
                fulfillment::FulfillmentConfig::DEFAULT_MAX_ATTEMPTS,
            )
            .map_err(|e| e.to_string())?;
        let fulfillment_lease_secs = env
            .number(
                "FULFILLMENT_LEASE_SECS",
                fulfillment::FulfillmentConfig::DEFAULT_LEASE_SECS,
            )
            .map_err(|e| e.to_string())?;
        let export_part_bytes = leenkies_domain::export::checked_part_bytes(
            env.number("EXPORT_PART_BYTES", leenkies_domain::export::MIN_PART_BYTES)
                .map_err(|e| e.to_string())?,
        )?;
        Ok(Self {
            export_part_bytes,
            webhook_secrets: SigningSecrets::from_csv(&secrets),
            jwt_secret,
            download_key: env_or("DOWNLOAD_SIGNING_KEY", DEV_DOWNLOAD_KEY).0,
            public_base_url: env.optional("PUBLIC_BASE_URL"),
            livemode,
            seller_claim: env_or("SELLER_ID_CLAIM", "sub").0,
            stripe: stripe_from_env(),
            watched,
            fulfillment_max_attempts,
            fulfillment_lease_secs,
        })
    }

    /// Settings for tests: the given webhook and JWT secrets, everything else by default.
    pub fn for_tests(webhook_secret: &str, jwt_secret: &str) -> Self {
        Self {
            webhook_secrets: SigningSecrets::from_csv(webhook_secret),
            jwt_secret: jwt_secret.to_owned(),
            download_key: DEV_DOWNLOAD_KEY.to_owned(),
            public_base_url: None,
            livemode: LiveMode::Any,
            seller_claim: "sub".to_owned(),
            stripe: None,
            watched: Mode::Live,
            fulfillment_max_attempts: fulfillment::FulfillmentConfig::DEFAULT_MAX_ATTEMPTS,
            fulfillment_lease_secs: fulfillment::FulfillmentConfig::DEFAULT_LEASE_SECS,
            export_part_bytes: leenkies_domain::export::MIN_PART_BYTES,
        }
    }
}

/// A value from the environment, or the default (and whether the default was used).
/// The Stripe API settings, when `STRIPE_API_KEY` is set.
pub fn stripe_from_env() -> Option<leenkies_adapters::stripe::StripeConfig> {
    use leenkies_adapters::stripe::disputes::{DEFAULT_API_BASE, DEFAULT_FILES_BASE};
    let (api_key, missing) = env_or("STRIPE_API_KEY", "");
    if missing {
        return None;
    }
    Some(leenkies_adapters::stripe::StripeConfig {
        api_key,
        api_base: env_or("STRIPE_API_BASE", DEFAULT_API_BASE).0,
        files_base: env_or("STRIPE_FILES_BASE", DEFAULT_FILES_BASE).0,
    })
}

pub fn env_or(name: &str, default: &str) -> (String, bool) {
    use leenkies_adapters::config::{ProcessEnv, Source};
    match ProcessEnv.get(name) {
        Some(v) if !v.trim().is_empty() => (v, false),
        _ => (default.to_owned(), true),
    }
}

/// The first configured webhook secret (what `send-event` signs with).
pub fn first_webhook_secret() -> String {
    let (csv, _) = env_or("STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET);
    csv.split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(DEV_WEBHOOK_SECRET)
        .to_owned()
}
