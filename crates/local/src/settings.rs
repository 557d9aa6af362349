//! Secrets and settings, resolved once from the environment (contract section 6). A key the
//! environment does not give comes from the runner's keys file (`crate::keys`: random, made at
//! the first start, outside the repository), and where it came from is said at start so a
//! newcomer can sign events and mint tokens.

use std::path::Path;

use leenkies_adapters::config::Env;
use leenkies_domain::stripe::signature::SigningSecrets;

use crate::keys::{self, KeysFile};

/// The three keys, each from its variable or else from the keys file.
#[derive(Debug, Clone)]
pub struct ResolvedKeys {
    /// `STRIPE_WEBHOOK_SECRET` as given (comma-separated), or the file's one secret.
    pub webhook_secrets: String,
    pub jwt_secret: String,
    pub download_key: String,
    /// The keys file, when any key came from it.
    pub file: Option<KeysFile>,
    /// The variables that were not set, so came from the file.
    pub from_file: Vec<&'static str>,
}

impl ResolvedKeys {
    /// `STRIPE_WEBHOOK_SECRET`, `LEENKIES_JWT_SECRET`, `DOWNLOAD_SIGNING_KEY`; the keys file
    /// (`keys_file`, else the default path) is read, or made, only when one of them is unset.
    pub fn resolve(keys_file: Option<&Path>) -> Result<Self, String> {
        let (webhook, w_missing) = env_or("STRIPE_WEBHOOK_SECRET", "");
        let (jwt, j_missing) = env_or("LEENKIES_JWT_SECRET", "");
        let (download, d_missing) = env_or("DOWNLOAD_SIGNING_KEY", "");
        let mut from_file = Vec::new();
        let file = if w_missing || j_missing || d_missing {
            Some(keys::load_or_create(&keys::path(keys_file)?)?)
        } else {
            None
        };
        let mut pick = |given: String,
                        missing: bool,
                        name: &'static str,
                        stored: Option<&String>| {
            match stored.filter(|_| missing) {
                Some(stored) => {
                    from_file.push(name);
                    stored.clone()
                }
                None => given,
            }
        };
        let stored = file.as_ref().map(|f| &f.keys);
        let webhook_secrets = pick(
            webhook,
            w_missing,
            "STRIPE_WEBHOOK_SECRET",
            stored.map(|k| &k.webhook_secret),
        );
        let jwt_secret = pick(
            jwt,
            j_missing,
            "LEENKIES_JWT_SECRET",
            stored.map(|k| &k.jwt_secret),
        );
        let download_key = pick(
            download,
            d_missing,
            "DOWNLOAD_SIGNING_KEY",
            stored.map(|k| &k.download_key),
        );
        Ok(Self {
            webhook_secrets,
            jwt_secret,
            download_key,
            file,
            from_file,
        })
    }

    /// What to say at start: the keys file, whether it was just made, which variables it
    /// stands for, and the webhook secret when it comes from the file (to paste into a tool
    /// that signs events). Never the JWT or download key themselves.
    pub fn notice(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        let mut out = format!(
            "keys: {} ({}) stands for {} (set them, or --keys-file / LEENKIES_KEYS_FILE, to use others)",
            file.path.display(),
            if file.created {
                "made now with random keys"
            } else {
                "random keys made at an earlier start"
            },
            self.from_file.join(", ")
        );
        if self.from_file.contains(&"STRIPE_WEBHOOK_SECRET") {
            out.push_str(&format!(
                "\nSTRIPE_WEBHOOK_SECRET not set: webhook events are verified with {} (send-event signs with it)",
                file.keys.webhook_secret
            ));
        }
        Some(out)
    }

    /// The first webhook secret (what `send-event` signs with).
    pub fn first_webhook_secret(&self) -> Option<&str> {
        self.webhook_secrets
            .split(',')
            .map(str::trim)
            .find(|s| !s.is_empty())
    }
}

/// Everything the runner reads from the environment (through the same helper as the Lambdas,
/// `leenkies_adapters::config`, so every variable has the same default and error).
#[derive(Clone)]
pub struct Settings {
    pub webhook_secrets: SigningSecrets,
    pub jwt_secret: String,
    pub download_key: String,
    /// `None`: `http://<the bound address>`.
    pub public_base_url: Option<String>,
    /// What the runner shares with the webhook function: `STRIPE_LIVEMODE` (and the table).
    pub webhook: leenkies_adapters::config::WebhookSettings,
    /// What the runner shares with the orders API function: `SELLER_ID_CLAIM`, the health
    /// route's `OPERATOR_CLAIM`, `HEARTBEAT_MODE` and staleness policy, with the same defaults.
    pub api: leenkies_adapters::config::OrdersApiSettings,
    /// `JWT_ISSUER`: the `iss` seller tokens must carry (none: not checked), as `JwtIssuer`
    /// configures the HTTP API's authorizer.
    pub jwt_issuer: Option<String>,
    /// `JWT_AUDIENCE`: accepted `aud` values, comma-separated (none: not checked).
    pub jwt_audiences: Vec<String>,
    /// Stripe's API for dispute evidence (contract section 9): `STRIPE_API_KEY`,
    /// `STRIPE_API_BASE`, `STRIPE_FILES_BASE`; `None` without a key (`503 stripe_not_configured`).
    pub stripe: Option<leenkies_adapters::stripe::StripeConfig>,
    /// `FULFILLMENT_MAX_ATTEMPTS`, `FULFILLMENT_LEASE_SECS`: as the fulfillment Lambda reads them.
    pub fulfillment_max_attempts: u32,
    pub fulfillment_lease_secs: i64,
    /// `EXPORT_PART_BYTES`: bytes per part of an export job (at least 5 MiB, as in AWS).
    pub export_part_bytes: usize,
    /// `HTTP_HEADER_TIMEOUT_SECS`, `HTTP_IDLE_TIMEOUT_SECS`, `HTTP_BODY_TIMEOUT_SECS`,
    /// `HTTP_MAX_CONNECTIONS`: the server's limits (`crate::http_server`).
    pub http: crate::http_server::Limits,
    /// `SWEEP_INTERVAL_SECONDS`: how often the sweep runs (contract section 9.3); default 60.
    pub sweep_interval_secs: u64,
}

/// The sweep's default period on one machine.
pub const DEFAULT_SWEEP_INTERVAL_SECS: u64 = 60;

impl std::fmt::Debug for Settings {
    // The secrets and keys never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("webhook_secrets", &self.webhook_secrets.len())
            .field("jwt_secret", &"<redacted>")
            .field("download_key", &"<redacted>")
            .field("public_base_url", &self.public_base_url)
            .field("webhook", &self.webhook)
            .field("api", &self.api)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audiences", &self.jwt_audiences)
            .field("fulfillment_max_attempts", &self.fulfillment_max_attempts)
            .field("fulfillment_lease_secs", &self.fulfillment_lease_secs)
            .field("export_part_bytes", &self.export_part_bytes)
            .field("http", &self.http)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("stripe_configured", &self.stripe.is_some())
            .finish()
    }
}

impl Settings {
    /// Reads the environment and, for the keys it does not give, the keys file; prints where
    /// the keys come from.
    pub fn from_env(keys_file: Option<&Path>) -> Result<Self, String> {
        let keys = ResolvedKeys::resolve(keys_file)?;
        if let Some(notice) = keys.notice() {
            println!("{notice}");
        }
        let env = Env::process();
        let webhook =
            leenkies_adapters::config::WebhookSettings::read(&env).map_err(|e| e.to_string())?;
        let api =
            leenkies_adapters::config::OrdersApiSettings::read(&env).map_err(|e| e.to_string())?;
        let claim =
            leenkies_adapters::config::ClaimSettings::read(&env).map_err(|e| e.to_string())?;
        let fulfillment_max_attempts = claim.max_attempts;
        let fulfillment_lease_secs = claim.lease_secs;
        let export_part_bytes = leenkies_domain::export::checked_part_bytes(
            env.number("EXPORT_PART_BYTES", leenkies_domain::export::MIN_PART_BYTES)
                .map_err(|e| e.to_string())?,
        )?;
        let http = http_limits(&env)?;
        let sweep_interval_secs = env
            .number("SWEEP_INTERVAL_SECONDS", DEFAULT_SWEEP_INTERVAL_SECS)
            .map_err(|e| e.to_string())?
            .max(1);
        Ok(Self {
            http,
            export_part_bytes,
            sweep_interval_secs,
            webhook_secrets: SigningSecrets::from_csv(&keys.webhook_secrets),
            jwt_secret: keys.jwt_secret,
            download_key: keys.download_key,
            public_base_url: env.optional("PUBLIC_BASE_URL"),
            webhook,
            api,
            jwt_issuer: Some(env_or("JWT_ISSUER", "").0).filter(|s| !s.is_empty()),
            jwt_audiences: env_or("JWT_AUDIENCE", "")
                .0
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            stripe: stripe_from_env(),
            fulfillment_max_attempts,
            fulfillment_lease_secs,
        })
    }

    /// Settings for tests: the given webhook and JWT secrets, a random download key, everything
    /// else by default.
    pub fn for_tests(webhook_secret: &str, jwt_secret: &str) -> Self {
        Self {
            webhook_secrets: SigningSecrets::from_csv(webhook_secret),
            jwt_secret: jwt_secret.to_owned(),
            download_key: keys::random_hex(),
            public_base_url: None,
            webhook: leenkies_adapters::config::WebhookSettings::read(&Env([("", "")]))
                .expect("defaults"),
            api: leenkies_adapters::config::OrdersApiSettings::read(&Env([("", "")]))
                .expect("defaults"),
            jwt_issuer: None,
            jwt_audiences: Vec::new(),
            stripe: None,
            fulfillment_max_attempts: fulfillment::FulfillmentConfig::DEFAULT_MAX_ATTEMPTS,
            fulfillment_lease_secs: fulfillment::FulfillmentConfig::DEFAULT_LEASE_SECS,
            export_part_bytes: leenkies_domain::export::MIN_PART_BYTES,
            http: crate::http_server::Limits::default(),
            // Tests that want a sweep ask for one (a short interval): a sweep ticking in the
            // middle of another test would file drafts it does not expect.
            sweep_interval_secs: 3_600,
        }
    }
}

/// The server's limits from the environment; each must be at least 1.
fn http_limits(env: &Env) -> Result<crate::http_server::Limits, String> {
    use crate::http_server::Limits;
    use std::time::Duration;
    let secs = |name: &'static str, default: Duration| -> Result<Duration, String> {
        let n: u64 = env
            .number(name, default.as_secs())
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("{name} must be at least 1"));
        }
        Ok(Duration::from_secs(n))
    };
    let max_connections: usize = env
        .number("HTTP_MAX_CONNECTIONS", Limits::DEFAULT_MAX_CONNECTIONS)
        .map_err(|e| e.to_string())?;
    if max_connections == 0 {
        return Err("HTTP_MAX_CONNECTIONS must be at least 1".into());
    }
    Ok(Limits {
        header_timeout: secs("HTTP_HEADER_TIMEOUT_SECS", Limits::DEFAULT_HEADER_TIMEOUT)?,
        idle_timeout: secs("HTTP_IDLE_TIMEOUT_SECS", Limits::DEFAULT_IDLE_TIMEOUT)?,
        body_timeout: secs("HTTP_BODY_TIMEOUT_SECS", Limits::DEFAULT_BODY_TIMEOUT)?,
        max_connections,
    })
}

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

/// A value from the environment, or the default (and whether the default was used).
pub fn env_or(name: &str, default: &str) -> (String, bool) {
    use leenkies_adapters::config::{ProcessEnv, Source};
    match ProcessEnv.get(name) {
        Some(v) if !v.trim().is_empty() => (v, false),
        _ => (default.to_owned(), true),
    }
}
