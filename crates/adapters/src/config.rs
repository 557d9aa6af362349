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
}
