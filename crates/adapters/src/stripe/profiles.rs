//! Who the delivery email speaks for (contract section 10): the connected
//! account's `business_profile.name` and `business_profile.support_email`, read from Stripe's
//! Accounts API and cached in this process.
//!
//! - The call is `GET {STRIPE_API_BASE}/v1/account` with the platform's key and
//!   `Stripe-Account: <seller>`: Stripe answers with the account the request acts as. Without the
//!   header (the seller `platform`) it is the platform's own account. async-stripe 1.0.0-rc.10's
//!   generated request for it lives in `async-stripe-connect`, which this workspace does not
//!   build; the same call is made with async-stripe's client through its generic request
//!   builder, so it carries the client's `Stripe-Version` and authentication like every other
//!   Stripe call here.
//! - The email never waits long and never fails because of this lookup: one attempt with a
//!   short timeout, and any failure (Stripe down, slow, a revoked or unknown account, an
//!   unreadable answer) gives the last identity known for the seller, else the default one
//!   (the neutral sentence, no `Reply-To`).
//! - Cached per seller: an answer for [`ProfileSettings::fresh_for`] (1 h), a failure for
//!   [`ProfileSettings::failed_for`] (1 min) so that an outage costs one call and one timeout
//!   per seller per minute, not one per email. Concurrent lookups of one seller wait for a
//!   single call.
//! - What Stripe returns is text the account holder typed: it is validated by
//!   [`StoreIdentity::from_profile`] before it is cached, and never logged.
//! - The same answer gives the account's own `email` (one plain address, else none), cached with
//!   the identity: where the seller's notifications go without a `notify_email` (section 12).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use leenkies_domain::fulfillment::StoreIdentity;
use leenkies_domain::ports::StoreProfiles;
use leenkies_domain::stripe::event::PLATFORM_SELLER;
use miniserde::json::Value;
use stripe::{Client, ClientBuilder, RequestStrategy, StripeError};
use stripe_client_core::{RequestBuilder, StripeMethod};

use super::disputes::{StripeConfig, StripeSetupError};

/// How long to wait and how long to remember.
#[derive(Debug, Clone, Copy)]
pub struct ProfileSettings {
    /// One attempt's limit: the fulfillment function still has to send within its lease.
    pub timeout: Duration,
    /// How long an answer from Stripe is used before it is read again.
    pub fresh_for: Duration,
    /// How long a failed lookup is remembered (and the fallback used) before trying again.
    pub failed_for: Duration,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            fresh_for: Duration::from_secs(3600),
            failed_for: Duration::from_secs(60),
        }
    }
}

/// Sellers remembered at most; past it, entries not in use are dropped (a Lambda serves a
/// handful of sellers, `leenkies-local` one or two: this only bounds a pathological stream).
const MAX_SELLERS: usize = 10_000;

/// What one account read gives.
#[derive(Debug, Clone, Default)]
struct Profile {
    identity: StoreIdentity,
    /// The account's `email`.
    email: Option<String>,
}

struct Cached {
    profile: Profile,
    until: Instant,
}

/// One seller's entry; its lock is held across the Stripe call, so concurrent lookups of one
/// seller make one call and the others read its answer.
type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The [`StoreProfiles`] port on Stripe's Accounts API.
pub struct StripeProfiles {
    client: Client,
    settings: ProfileSettings,
    slots: Mutex<HashMap<String, Slot>>,
}

impl std::fmt::Debug for StripeProfiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeProfiles")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl StripeProfiles {
    pub fn new(config: &StripeConfig) -> Result<Self, StripeSetupError> {
        Self::with_settings(config, ProfileSettings::default())
    }

    pub fn with_settings(
        config: &StripeConfig,
        settings: ProfileSettings,
    ) -> Result<Self, StripeSetupError> {
        // As in `StripeDisputes::new`: two rustls back-ends are linked, so a process default
        // must exist before a client is built. Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // async-stripe appends `v1/…` to the base as given: it needs the trailing slash.
        let base = format!("{}/", config.api_base.trim_end_matches('/'));
        let client = ClientBuilder::new(config.api_key.trim())
            .url(base)
            .request_strategy(RequestStrategy::Once)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| StripeSetupError::Config(e.to_string()))?;
        Ok(Self {
            client,
            settings,
            slots: Mutex::new(HashMap::new()),
        })
    }

    fn slot(&self, seller_id: &str) -> Slot {
        // A poisoned map only means another lookup panicked: its data is still a cache.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(seller_id) {
            return slot.clone();
        }
        if slots.len() >= MAX_SELLERS {
            slots.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        let slot: Slot = Arc::default();
        slots.insert(seller_id.to_owned(), slot.clone());
        slot
    }

    /// One `GET /v1/account` as the seller: the identity, or the HTTP status of the failure
    /// (0 when no answer came back).
    async fn fetch(&self, seller_id: &str) -> Result<Profile, u16> {
        let mut request = RequestBuilder::new(StripeMethod::Get, "/account")
            .customize::<Value>()
            .timeout(self.settings.timeout);
        if seller_id != PLATFORM_SELLER {
            request = request.account_id(stripe::AccountId::from(seller_id));
        }
        let account = request.send(&self.client).await.map_err(|e| match e {
            StripeError::Stripe(_, status) => status,
            _ => 0,
        })?;
        let profile = field(&account, "business_profile");
        let text = |name: &str| match profile.and_then(|p| field(p, name)) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        let email = match field(&account, "email") {
            Some(Value::String(s)) if !s.chars().any(char::is_control) => {
                leenkies_domain::text::recipient(s)
                    .filter(|e| leenkies_domain::settings::plain_email(e))
            }
            _ => None,
        };
        Ok(Profile {
            identity: StoreIdentity::from_profile(text("name"), text("support_email")),
            email,
        })
    }

    /// The seller's profile: cached, else read once (concurrent lookups share the call), else
    /// the last known one or the default.
    async fn profile(&self, seller_id: &str) -> Profile {
        if !plausible_seller(seller_id) {
            return Profile::default();
        }
        let slot = self.slot(seller_id);
        let mut cached = slot.lock().await;
        let now = Instant::now();
        if let Some(entry) = cached.as_ref().filter(|c| c.until > now) {
            return entry.profile.clone();
        }
        let started = Instant::now();
        let result = self.fetch(seller_id).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (profile, keep_for) = match result {
            Ok(profile) => {
                tracing::info!(
                    api = "stripe",
                    call = "account.retrieve",
                    account = seller_id,
                    status = 200,
                    outcome = "ok",
                    has_name = profile.identity.name.is_some(),
                    has_support_email = profile.identity.support_email.is_some(),
                    has_email = profile.email.is_some(),
                    duration_ms,
                    "stripe api call"
                );
                (profile, self.settings.fresh_for)
            }
            Err(status) => {
                // The email goes out anyway: with what was known before, else the neutral
                // sentence. Stripe's message is not logged (it may name the account holder's
                // details), as for every other Stripe call here.
                let stale = cached.as_ref().map(|c| c.profile.clone());
                tracing::warn!(
                    api = "stripe",
                    call = "account.retrieve",
                    account = seller_id,
                    status,
                    outcome = if stale.is_some() { "stale" } else { "default" },
                    duration_ms,
                    "stripe api call"
                );
                (stale.unwrap_or_default(), self.settings.failed_for)
            }
        };
        *cached = Some(Cached {
            profile: profile.clone(),
            until: Instant::now() + keep_for,
        });
        profile
    }
}

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Object(object) => object.get(name),
        _ => None,
    }
}

/// Whether `seller_id` can name an account at all: `platform`, or an `acct_` id of the
/// characters Stripe uses. Anything else is not sent to Stripe (it would only be refused).
fn plausible_seller(seller_id: &str) -> bool {
    seller_id == PLATFORM_SELLER
        || seller_id.strip_prefix("acct_").is_some_and(|rest| {
            !rest.is_empty() && rest.len() <= 64 && rest.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

#[async_trait]
impl StoreProfiles for StripeProfiles {
    async fn identity(&self, seller_id: &str) -> StoreIdentity {
        self.profile(seller_id).await.identity
    }

    async fn account_email(&self, seller_id: &str) -> Option<String> {
        self.profile(seller_id).await.email
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_seller_ids_when_checked_then_only_platform_and_acct_ids_go_to_stripe() {
        assert!(plausible_seller("platform"));
        assert!(plausible_seller("acct_1QHx4R8cKdV3nWpT"));
        for bad in [
            "",
            "acct_",
            "acct_1\r\nX-Evil: 1",
            "cus_123",
            "acct_ä",
            "Platform",
        ] {
            assert!(!plausible_seller(bad), "{bad:?}");
        }
    }
}
