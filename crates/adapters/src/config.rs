//! The one way every binary reads its environment: the Lambda `main`s and `leenkies-local` call
//! these helpers, so a variable has the same default and the same error everywhere.
//!
//! | variable | read by | default |
//! | --- | --- | --- |
//! | `ORDERS_TABLE` | every function, `leenkies-local` | `leenkies-orders` |
//! | `STRIPE_LIVEMODE` | webhook, reconcile, `leenkies-local` | `any` |
//! | `HEARTBEAT_MODE` | reconcile (alarm), orders API (health route) | `live` |
//! | `FULFILLMENT_MAX_ATTEMPTS`, `FULFILLMENT_LEASE_SECS` | fulfillment, `leenkies-local` | the function's defaults |
//! | `ORDER_ITEM_NAMES` | every function that writes orders, `leenkies-local` | `short` (`dynamodb::names`) |
//! | `BUSINESS_HOURS_UTC`, `WEBHOOK_STALE_AFTER_SECONDS` | reconcile (alarm), orders API (health route), `leenkies-local` | `8-20`, `7200` |
//! | `S3_FORCE_PATH_STYLE` | exports, orders API (export links) | `false` |
//! | `OPERATOR_CLAIM` | orders API (health route), `leenkies-local` | `role=operator` |
//!
//! An empty value counts as unset. A value that does not parse is an error naming the variable
//! and what it expects, never the value itself (it might be a secret pasted in the wrong place).

use std::str::FromStr;

use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::{Mode, ModeFilter};

/// The table name when `ORDERS_TABLE` is not set (contract section 6).
pub const DEFAULT_ORDERS_TABLE: &str = "leenkies-orders";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} must be {expected}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
    },
}

/// Reads one variable; the process environment in production, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// Typed reads over a [`Source`].
pub struct Env<S: Source = ProcessEnv>(pub S);

impl Env<ProcessEnv> {
    pub fn process() -> Self {
        Env(ProcessEnv)
    }
}

impl<S: Source> Env<S> {
    /// The value, trimmed; `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// When silence is alarming (`BUSINESS_HOURS_UTC`, `WEBHOOK_STALE_AFTER_SECONDS`).
    pub fn stale_policy(&self) -> StalePolicy {
        StalePolicy::from_settings(
            self.optional("BUSINESS_HOURS_UTC").as_deref(),
            self.optional("WEBHOOK_STALE_AFTER_SECONDS").as_deref(),
        )
    }

    /// A number, or `default` when unset.
    pub fn number<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                name,
                expected: "a whole number",
            }),
        }
    }

    /// `ORDERS_TABLE`, default `leenkies-orders`.
    pub fn orders_table(&self) -> String {
        self.optional("ORDERS_TABLE")
            .unwrap_or_else(|| DEFAULT_ORDERS_TABLE.to_owned())
    }

    /// `STRIPE_LIVEMODE`: `live`, `test` or `any` (default).
    pub fn stripe_livemode(&self) -> Result<ModeFilter, ConfigError> {
        match self.optional("STRIPE_LIVEMODE") {
            None => Ok(ModeFilter::Any),
            Some(v) => ModeFilter::parse(&v).ok_or(ConfigError::Invalid {
                name: "STRIPE_LIVEMODE",
                expected: "live, test or any",
            }),
        }
    }

    /// `ORDER_ITEM_NAMES`: the attribute names order items are written with, `short` (default)
    /// or `long` (for the one deploy that upgrades a stack from before short names).
    pub fn order_item_names(&self) -> Result<crate::dynamodb::names::AttributeNames, ConfigError> {
        match self.optional("ORDER_ITEM_NAMES") {
            None => Ok(crate::dynamodb::names::AttributeNames::default()),
            Some(v) => {
                crate::dynamodb::names::AttributeNames::parse(&v).ok_or(ConfigError::Invalid {
                    name: "ORDER_ITEM_NAMES",
                    expected: "short or long",
                })
            }
        }
    }

    /// `HEARTBEAT_MODE`: the mode whose silence is alarming, `live` (default) or `test`.
    /// `S3_FORCE_PATH_STYLE` (`true`/`false`, default `false`): path-style S3 addressing, for an
    /// S3 stand-in on one host (moto on loopback). AWS itself takes the default.
    pub fn s3_force_path_style(&self) -> Result<bool, ConfigError> {
        match self.optional("S3_FORCE_PATH_STYLE").as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ConfigError::Invalid {
                name: "S3_FORCE_PATH_STYLE",
                expected: "true or false",
            }),
        }
    }

    pub fn heartbeat_mode(&self) -> Result<Mode, ConfigError> {
        match self.optional("HEARTBEAT_MODE") {
            None => Ok(Mode::Live),
            Some(v) => Mode::parse(&v.to_ascii_lowercase()).ok_or(ConfigError::Invalid {
                name: "HEARTBEAT_MODE",
                expected: "live or test",
            }),
        }
    }
}

/// The orders table as every function that reads or writes orders names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSettings {
    /// `ORDERS_TABLE`, default `leenkies-orders`.
    pub table: String,
    /// `ORDER_ITEM_NAMES`, default `short`.
    pub item_names: crate::dynamodb::names::AttributeNames,
}

impl TableSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: env.orders_table(),
            item_names: env.order_item_names()?,
        })
    }
}

/// The `stripe-webhook` function's settings (its signing secrets come from Secrets Manager, read
/// by `secrets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub table: TableSettings,
    /// `STRIPE_LIVEMODE`: which events are folded; the others are acknowledged and ignored.
    pub livemode: ModeFilter,
}

impl WebhookSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableSettings::read(env)?,
            livemode: env.stripe_livemode()?,
        })
    }
}

/// The JWT claim naming the seller when `SELLER_ID_CLAIM` is not set.
pub const DEFAULT_SELLER_CLAIM: &str = "sub";
/// Lifetime of a presigned product download URL when `DOWNLOAD_URL_EXPIRES_SECS` is not set.
pub const DEFAULT_DOWNLOAD_URL_SECS: u64 = 300;
/// Lifetime of an export's presigned link when `EXPORT_LINK_EXPIRES_SECS` is not set.
pub const DEFAULT_EXPORT_LINK_SECS: u64 = 900;

/// The orders API's settings (its keys come from Secrets Manager, the dashboard's sign-in from
/// `DASHBOARD_OAUTH_*`), read once by the Lambda; `leenkies-local` reads the same struct for
/// what it shares with it (the seller claim, the health route's policy and claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersApiSettings {
    pub table: TableSettings,
    /// `SELLER_ID_CLAIM`: the JWT claim naming the seller, default `sub`.
    pub seller_claim: String,
    /// `CURSOR_SIGNING_KEY`: the list cursors' key; derived from the download key when unset.
    pub cursor_key: Option<String>,
    /// `PRODUCT_FILES_BUCKET`: the product files (`<seller>/<product>`); none: a local folder.
    pub product_files_bucket: Option<String>,
    /// `DOWNLOAD_URL_EXPIRES_SECS`, default 300.
    pub download_url_secs: u64,
    /// `EXPORTS_BUCKET`: the export jobs' bucket; none: `503 exports_not_configured`.
    pub exports_bucket: Option<String>,
    /// `EXPORT_LINK_EXPIRES_SECS`, default 900.
    pub export_link_secs: u64,
    /// `S3_FORCE_PATH_STYLE`, default `false`.
    pub s3_force_path_style: bool,
    /// `OPERATOR_CLAIM`: the claim the health route requires, default `role=operator`.
    pub operator_claim: Option<String>,
    /// `BUSINESS_HOURS_UTC`, `WEBHOOK_STALE_AFTER_SECONDS`: when silence is alarming.
    pub stale_policy: StalePolicy,
    /// `HEARTBEAT_MODE`: the mode the health route calls stale, as the reconcile alarm does.
    pub watched: Mode,
}

impl OrdersApiSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableSettings::read(env)?,
            seller_claim: env
                .optional("SELLER_ID_CLAIM")
                .unwrap_or_else(|| DEFAULT_SELLER_CLAIM.to_owned()),
            cursor_key: env.optional("CURSOR_SIGNING_KEY"),
            product_files_bucket: env.optional("PRODUCT_FILES_BUCKET"),
            download_url_secs: env
                .number("DOWNLOAD_URL_EXPIRES_SECS", DEFAULT_DOWNLOAD_URL_SECS)?,
            exports_bucket: env.optional("EXPORTS_BUCKET"),
            export_link_secs: env.number("EXPORT_LINK_EXPIRES_SECS", DEFAULT_EXPORT_LINK_SECS)?,
            s3_force_path_style: env.s3_force_path_style()?,
            operator_claim: env.optional("OPERATOR_CLAIM"),
            stale_policy: env.stale_policy(),
            watched: env.heartbeat_mode()?,
        })
    }
}

/// The `exports` function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportsSettings {
    pub table: TableSettings,
    /// `EXPORTS_BUCKET`: required.
    pub bucket: String,
    /// `EXPORT_PART_BYTES`: bytes per part (the domain checks S3's 5 MiB minimum), default 5 MiB.
    pub part_bytes: usize,
    /// `S3_FORCE_PATH_STYLE`, default `false`.
    pub s3_force_path_style: bool,
}

impl ExportsSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableSettings::read(env)?,
            bucket: env.required("EXPORTS_BUCKET")?,
            part_bytes: env.number("EXPORT_PART_BYTES", leenkies_domain::export::MIN_PART_BYTES)?,
            s3_force_path_style: env.s3_force_path_style()?,
        })
    }
}

/// Sends per order before the delivery email is `failed`, when `FULFILLMENT_MAX_ATTEMPTS` is not
/// set.
pub const DEFAULT_FULFILLMENT_MAX_ATTEMPTS: u32 = 5;
/// Seconds a delivery claim holds, when `FULFILLMENT_LEASE_SECS` is not set.
pub const DEFAULT_FULFILLMENT_LEASE_SECS: i64 = 60;

/// How the delivery email's claim behaves: the fulfillment function's, and `leenkies-local`'s
/// (which has no sender nor base URL to read: it writes an outbox on its own address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSettings {
    /// `FULFILLMENT_MAX_ATTEMPTS`, default 5.
    pub max_attempts: u32,
    /// `FULFILLMENT_LEASE_SECS`, default 60.
    pub lease_secs: i64,
}

impl ClaimSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            max_attempts: env
                .number("FULFILLMENT_MAX_ATTEMPTS", DEFAULT_FULFILLMENT_MAX_ATTEMPTS)?,
            lease_secs: env.number("FULFILLMENT_LEASE_SECS", DEFAULT_FULFILLMENT_LEASE_SECS)?,
        })
    }
}

/// The `fulfillment` function's settings (its download key and Stripe key come from Secrets
/// Manager).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfillmentSettings {
    pub table: TableSettings,
    /// `SENDER_EMAIL`: the verified SES sender; required.
    pub sender: String,
    /// `SES_CONFIGURATION_SET`: the configuration set that publishes delivery events.
    pub configuration_set: Option<String>,
    /// `PUBLIC_BASE_URL`: the base of download links and of the seller's order pages; required.
    pub public_base_url: String,
    pub claim: ClaimSettings,
}

impl FulfillmentSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableSettings::read(env)?,
            sender: env.required("SENDER_EMAIL")?,
            configuration_set: env.optional("SES_CONFIGURATION_SET"),
            public_base_url: env.required("PUBLIC_BASE_URL")?,
            claim: ClaimSettings::read(env)?,
        })
    }
}

/// The `ses-events` function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesEventsSettings {
    pub table: TableSettings,
}

impl SesEventsSettings {
    pub fn read<S: Source>(env: &Env<S>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableSettings::read(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_nothing_set_when_read_then_the_documented_defaults() {
        let env = Env([("ORDERS_TABLE", "  ")]);
        assert_eq!(env.orders_table(), DEFAULT_ORDERS_TABLE);
        assert_eq!(env.stripe_livemode(), Ok(ModeFilter::Any));
        assert_eq!(env.heartbeat_mode(), Ok(Mode::Live));
        assert_eq!(env.number("FULFILLMENT_LEASE_SECS", 60i64), Ok(60));
        assert_eq!(
            env.required("SENDER_EMAIL"),
            Err(ConfigError::Missing("SENDER_EMAIL"))
        );
    }

    #[test]
    fn given_values_when_read_then_parsed() {
        let env = Env([
            ("ORDERS_TABLE", "t1"),
            ("STRIPE_LIVEMODE", "Live"),
            ("HEARTBEAT_MODE", "TEST"),
            ("FULFILLMENT_MAX_ATTEMPTS", " 3 "),
        ]);
        assert_eq!(env.orders_table(), "t1");
        assert_eq!(env.stripe_livemode(), Ok(ModeFilter::Only(Mode::Live)));
        assert_eq!(env.heartbeat_mode(), Ok(Mode::Test));
        assert_eq!(env.number("FULFILLMENT_MAX_ATTEMPTS", 5u32), Ok(3));
    }

    #[test]
    fn given_a_bad_value_when_read_then_the_error_names_the_variable_but_not_the_value() {
        let env = Env([
            ("STRIPE_LIVEMODE", "sk_live_secret"),
            ("FULFILLMENT_LEASE_SECS", "sk_live_secret"),
        ]);
        let mode = env.stripe_livemode().unwrap_err().to_string();
        let lease = env.number("FULFILLMENT_LEASE_SECS", 60i64).unwrap_err();
        assert!(mode.contains("STRIPE_LIVEMODE") && !mode.contains("sk_live"));
        assert!(!lease.to_string().contains("sk_live"));
    }

    #[test]
    fn given_nothing_set_when_each_function_reads_its_settings_then_the_same_defaults() {
        // GIVEN an empty environment WHEN each function reads its settings
        let env = Env([("UNRELATED", "x")]);
        let webhook = WebhookSettings::read(&env).unwrap();
        let api = OrdersApiSettings::read(&env).unwrap();
        let ses = SesEventsSettings::read(&env).unwrap();
        // THEN one table, one item naming, and the documented defaults
        assert_eq!(webhook.table, api.table);
        assert_eq!(api.table, ses.table);
        assert_eq!(api.table.table, DEFAULT_ORDERS_TABLE);
        assert_eq!(webhook.livemode, ModeFilter::Any);
        assert_eq!(api.seller_claim, DEFAULT_SELLER_CLAIM);
        assert_eq!(
            (api.download_url_secs, api.export_link_secs),
            (DEFAULT_DOWNLOAD_URL_SECS, DEFAULT_EXPORT_LINK_SECS)
        );
        assert_eq!((api.exports_bucket, api.watched), (None, Mode::Live));
        assert_eq!(
            ClaimSettings::read(&env),
            Ok(ClaimSettings {
                max_attempts: DEFAULT_FULFILLMENT_MAX_ATTEMPTS,
                lease_secs: DEFAULT_FULFILLMENT_LEASE_SECS
            })
        );
        // AND the exports and fulfillment functions refuse to start without what they need,
        // naming it
        assert_eq!(
            ExportsSettings::read(&env),
            Err(ConfigError::Missing("EXPORTS_BUCKET"))
        );
        assert_eq!(
            FulfillmentSettings::read(&env),
            Err(ConfigError::Missing("SENDER_EMAIL"))
        );
    }

    #[test]
    fn given_a_bad_value_when_the_api_reads_its_settings_then_it_stops_naming_the_variable() {
        let env = Env([("EXPORT_LINK_EXPIRES_SECS", "soon")]);
        let error = OrdersApiSettings::read(&env).unwrap_err().to_string();
        assert!(error.contains("EXPORT_LINK_EXPIRES_SECS"), "{error}");
    }
}
