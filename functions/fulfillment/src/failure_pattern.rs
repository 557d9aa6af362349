//! The seller's `failure_pattern` notification (contract section 12): after a payment newly
//! failed, is `GET /stats/failures` over its default window now a configuration problem? At most
//! one email per seller and UTC day (`notify::failure_pattern`).
//!
//! What one look reads and writes, in order, stopping at the first that says no:
//! 1. today's notice record (`GetItem`): settled today → nothing more;
//! 2. the check record (`GetItem`) and its claim (`PutItem`, conditional): a look in the last
//!    ten minutes, or a concurrent one → nothing more;
//! 3. the seller's orders created in the last 30 days (`Query` of `by_created` by pages of 100,
//!    then `BatchGetItem`): the route's own fold; not suspected → nothing more;
//! 4. the settings (`GetItem`), the Stripe account (cached), the day's claim (`PutItem`,
//!    conditional), the email, and its record (`PutItem`).

use leenkies_domain::apply::RetryPolicy;
use leenkies_domain::clock::now_secs;
use leenkies_domain::fulfillment::{redact, StoreIdentity};
use leenkies_domain::notify::failure_pattern::{self, SellerNotices, StoredNotice};
use leenkies_domain::notify::{email, wanted, NoticeClaim, NoticeFact, NoticeKind, NoticeSkip};
use leenkies_domain::order::failure_tally::{FailureTally, DEFAULT_DAYS};
use leenkies_domain::ports::{
    MailError, Mailer, OrderFilter, OrderQuery, OrderStore, StoreError, StoreProfiles,
};
use leenkies_domain::seller_settings::{settings_of, SettingsStore};
use leenkies_domain::settings::SellerSettings;

use crate::config::FulfillmentConfig;

/// Orders per page while counting (as the route).
const PAGE: usize = 100;

/// What a look came to (for the log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternOutcome {
    /// Today's notice is already settled.
    SettledToday,
    /// Looked within the last ten minutes, or another look is under way.
    Spaced,
    /// The window does not suggest a configuration problem.
    Clear {
        orders_read: u64,
    },
    /// Settled today without an email (the kind is off, no address, refused).
    Skipped(NoticeSkip),
    /// Another sender holds today's claim.
    InFlight,
    Sent {
        message_id: String,
    },
}

pub(crate) struct PatternCheck<'a> {
    pub store: &'a dyn OrderStore,
    pub notices: &'a dyn SellerNotices,
    pub mailer: &'a dyn Mailer,
    pub config: &'a FulfillmentConfig,
    pub settings: Option<&'a dyn SettingsStore>,
    pub profiles: Option<&'a dyn StoreProfiles>,
}

fn store_error(e: StoreError) -> String {
    format!("store: {e}")
}

impl PatternCheck<'_> {
    /// One look for `seller_id`; `Err` when the record must be retried.
    pub async fn check(&self, seller_id: &str) -> Result<PatternOutcome, String> {
        let now = now_secs();
        let day = failure_pattern::day_key(now);
        let today = self.get(seller_id, &day).await?;
        if today.as_ref().is_some_and(|t| t.fact.done()) {
            return Ok(PatternOutcome::SettledToday);
        }
        let check = self.get(seller_id, failure_pattern::CHECK_KEY).await?;
        let Some(claim) =
            failure_pattern::claim(check.as_ref(), now, failure_pattern::CHECK_EVERY_SECS)
        else {
            return Ok(PatternOutcome::Spaced);
        };
        let check_version = check.as_ref().map(|c| c.version);
        if !self
            .put(seller_id, failure_pattern::CHECK_KEY, &claim, check_version)
            .await?
        {
            return Ok(PatternOutcome::Spaced);
        }
        let checked = StoredNotice {
            fact: claim,
            version: check_version.map_or(1, |v| v + 1),
        };
        let tally = self.tally(seller_id, now).await?;
        if !tally.suspected() {
            return Ok(PatternOutcome::Clear {
                orders_read: tally.total_orders,
            });
        }
        let settings = match self.settings {
            Some(store) => settings_of(store, seller_id).await.map_err(store_error)?,
            None => SellerSettings::default(),
        };
        let (identity, account_email) = match self.profiles {
            Some(p) => (
                p.identity(seller_id).await,
                p.account_email(seller_id).await,
            ),
            None => (StoreIdentity::default(), None),
        };
        let to = settings.notify_email.clone().or(account_email);
        let email = to.as_deref().and_then(|to| {
            email::compose_failure_pattern(
                seller_id,
                &tally,
                DEFAULT_DAYS,
                &identity,
                &self.config.public_base_url,
                to,
            )
        });
        let skip = if !wanted(&settings.notify, NoticeKind::FailurePattern) {
            Some(NoticeSkip::KindOff)
        } else if email.is_none() {
            Some(NoticeSkip::NoAddress)
        } else {
            None
        };
        if let Some(why) = skip {
            let settled = failure_pattern::skipped(today.as_ref(), now, why);
            self.put(seller_id, &day, &settled, today.as_ref().map(|t| t.version))
                .await?;
            return Ok(PatternOutcome::Skipped(why));
        }
        let Some(email) = email else {
            return Ok(PatternOutcome::Skipped(NoticeSkip::NoAddress));
        };
        let policy = self.config.policy();
        let Some(claimed) = failure_pattern::claim(today.as_ref(), now, policy.lease_secs) else {
            return Ok(PatternOutcome::InFlight);
        };
        let today_version = today.as_ref().map(|t| t.version);
        if !self.put(seller_id, &day, &claimed, today_version).await? {
            return Ok(PatternOutcome::InFlight);
        }
        let mut held = StoredNotice {
            fact: claimed,
            version: today_version.map_or(1, |v| v + 1),
        };
        // The one call that cannot be repeated safely.
        let result = self.mailer.send(&email).await;
        let record = |held: &StoredNotice| match &result {
            Ok(id) => failure_pattern::sent(Some(held), now_secs(), id),
            Err(MailError::Rejected(_)) => {
                failure_pattern::skipped(Some(held), now_secs(), NoticeSkip::Rejected)
            }
            Err(MailError::Transient(reason)) => {
                let mut fact = held.fact.clone();
                fact.merge(&released(&held.fact, &redact(reason, &email.to)));
                fact
            }
        };
        let deadline = held.fact.claim.map_or(0, |c| c.until) - 1;
        let mut tries = 0;
        loop {
            match self
                .notices
                .put_seller_notice(seller_id, &day, &record(&held), Some(held.version))
                .await
            {
                Ok(()) => break,
                Err(e) => {
                    tries += 1;
                    if !e.is_transient() || now_secs() >= deadline {
                        tracing::error!(seller_id, notice = %day, error = %e,
                            "failure_pattern email sent but not recorded before the claim expired; a retry may send it again");
                        return Err(store_error(e));
                    }
                    RetryPolicy::default().pause(tries).await;
                    if let Ok(Some(fresh)) = self.get(seller_id, &day).await {
                        held = fresh;
                    }
                }
            }
        }
        match result {
            Ok(message_id) => Ok(PatternOutcome::Sent { message_id }),
            Err(MailError::Rejected(_)) => Ok(PatternOutcome::Skipped(NoticeSkip::Rejected)),
            Err(MailError::Transient(reason)) => {
                // Hand the ten-minute spacing back too, so the retry looks again at once.
                let fact = released(&checked.fact, "");
                let _ = self
                    .notices
                    .put_seller_notice(
                        seller_id,
                        failure_pattern::CHECK_KEY,
                        &failure_pattern::merged(Some(&checked), &fact),
                        Some(checked.version),
                    )
                    .await;
                Err(format!("mail: {}", redact(&reason, &email.to)))
            }
        }
    }

    async fn get(&self, seller_id: &str, key: &str) -> Result<Option<StoredNotice>, String> {
        self.notices
            .get_seller_notice(seller_id, key)
            .await
            .map_err(store_error)
    }

    /// A conditional write: `Ok(false)` when it lost a race.
    async fn put(
        &self,
        seller_id: &str,
        key: &str,
        fact: &NoticeFact,
        expected: Option<u64>,
    ) -> Result<bool, String> {
        match self
            .notices
            .put_seller_notice(seller_id, key, fact, expected)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    /// The route's fold over the seller's orders created in the default window.
    async fn tally(&self, seller_id: &str, now: i64) -> Result<FailureTally, String> {
        let mut tally = FailureTally::default();
        let mut after = None;
        loop {
            let query = OrderQuery {
                filter: OrderFilter::All,
                from: Some(now - DEFAULT_DAYS * 86_400),
                to: Some(now),
                limit: PAGE,
                after,
            };
            let page = self
                .store
                .list_orders(seller_id, &query)
                .await
                .map_err(store_error)?;
            for record in &page.orders {
                tally.add(record);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(tally),
            }
        }
    }
}

/// The claim of `fact` handed back (its attempt kept, `until` now: the next look may claim at
/// once), with `error` when there is one.
fn released(fact: &NoticeFact, error: &str) -> NoticeFact {
    let now = now_secs();
    NoticeFact {
        claim: fact.claim.map(|c| NoticeClaim {
            attempt: c.attempt,
            until: now,
        }),
        last_error: (!error.is_empty())
            .then(|| leenkies_domain::order::facts::Reg::new(0, now, error.to_owned())),
        ..NoticeFact::default()
    }
}
