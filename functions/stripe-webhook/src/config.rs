//! The webhook's configuration, read once at start-up.

use leenkies_domain::stripe::signature::{SigningSecrets, DEFAULT_TOLERANCE_SECS};

/// Which events the endpoint accepts (`STRIPE_LIVEMODE`); others are acknowledged and ignored.
/// The domain's one mode type, under the name the webhook's callers already use.
pub use leenkies_domain::ops::ModeFilter as LiveMode;

/// The API version our parsing was written against; newer ones are logged once and processed.
pub const DEFAULT_API_VERSION: &str = "2025-03-31.basil";

/// Bodies above this are refused with `413` before any parsing (contract section 3).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub secrets: SigningSecrets,
    pub mode: LiveMode,
    pub tolerance_secs: i64,
    pub api_version: String,
}

impl WebhookConfig {
    pub fn new(secrets: SigningSecrets, mode: LiveMode) -> Self {
        Self {
            secrets,
            mode,
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
            api_version: DEFAULT_API_VERSION.to_owned(),
        }
    }
}

/// Whether `event_version` is newer than `configured` (date prefix compared; unparseable or
/// missing versions are not "newer").
pub fn is_newer_api_version(event_version: &str, configured: &str) -> bool {
    let date = |v: &str| v.split('.').next().unwrap_or("").to_owned();
    let (e, c) = (date(event_version), date(configured));
    e.len() == 10 && c.len() == 10 && e > c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_api_versions_when_compared_then_only_later_dates_are_newer() {
        assert!(is_newer_api_version(
            "2026-07-29.dahlia",
            DEFAULT_API_VERSION
        ));
        assert!(!is_newer_api_version(
            "2025-03-31.basil",
            DEFAULT_API_VERSION
        ));
        assert!(!is_newer_api_version("2024-06-20", DEFAULT_API_VERSION));
        assert!(!is_newer_api_version("garbage", DEFAULT_API_VERSION));
    }
}
