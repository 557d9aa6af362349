//! What the fulfillment function is told at start-up. Reading it from the environment and
//! Secrets Manager is the binary's job; `leenkies-local` builds it from its own flags.

use leenkies_domain::fulfillment::Policy;
use leenkies_domain::tokens::DownloadKey;

#[derive(Debug, Clone)]
pub struct FulfillmentConfig {
    /// Base of download links: `{public_base_url}/downloads/{token}`.
    pub public_base_url: String,
    /// Signs the download tokens (`DOWNLOAD_SIGNING_KEY`).
    pub download_key: DownloadKey,
    /// Sends tried per order before it ends `failed` (`FULFILLMENT_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// Seconds a claim holds; longer than one mailer call, shorter than the wait a crashed send
    /// may impose on its order.
    pub lease_secs: i64,
}

impl FulfillmentConfig {
    pub const DEFAULT_MAX_ATTEMPTS: u32 =
        leenkies_adapters::config::DEFAULT_FULFILLMENT_MAX_ATTEMPTS;
    pub const DEFAULT_LEASE_SECS: i64 = leenkies_adapters::config::DEFAULT_FULFILLMENT_LEASE_SECS;

    pub fn policy(&self) -> Policy {
        Policy {
            lease_secs: self.lease_secs.max(1),
            max_attempts: self.max_attempts.max(1),
        }
    }
}
