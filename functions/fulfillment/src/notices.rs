//! The seller's notifications of one order (contract section 12), exactly once per occurrence:
//! re-read the order, and for each notification it still owes (`notify::pending`) settle it
//! (the kind is off, no address is known) or claim it with a conditional write, make
//! the one mailer call, and record the result, as the delivery email does (`deliver`).
//!
//! Per occurrence it reads the order (one `GetItem`, again after each write it loses), the
//! seller's settings (one `GetItem`, once per record, only when something is owed), the Stripe
//! account (cached per process, only for its name and email), and writes the order twice
//! (claim, then sent) or once (skipped).
//! The email's SES message id is recorded on the notice and never linked to the order's message
//! index: SES events about a seller's email find no order and change no delivery.

use std::time::{Duration, Instant};

use leenkies_domain::apply::RetryPolicy;
use leenkies_domain::clock::now_secs;
use leenkies_domain::fulfillment::{redact, StoreIdentity};
use leenkies_domain::notify::{self, email, Claim, NoticeSkip, Occurrence};
use leenkies_domain::ports::{MailError, Mailer, OrderStore, StoreError, StoreProfiles};
use leenkies_domain::seller_settings::{settings_of, SettingsStore};
use leenkies_domain::settings::SellerSettings;
use leenkies_domain::OrderRecord;

use crate::config::FulfillmentConfig;

/// Conditional writes lost in a row before the record is handed back for a retry.
const MAX_CONFLICTS: u32 = 8;
/// How often a live claim held by another sender is looked at again.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(100);
/// Occurrences handled per record at most (each is a few writes): the rest on the next record.
const MAX_PER_RECORD: usize = 16;

/// What happened to the order's notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeReport {
    pub sent: u32,
    pub skipped: u32,
    /// Hand the record back to Lambda (a store or mailer failure, or a live claim elsewhere).
    pub retry: Option<String>,
}

/// The dependencies, borrowed from the `Fulfiller`.
pub(crate) struct Notices<'a> {
    pub store: &'a dyn OrderStore,
    pub mailer: &'a dyn Mailer,
    pub config: &'a FulfillmentConfig,
    pub in_flight_wait: Duration,
    pub settings: Option<&'a dyn SettingsStore>,
    pub profiles: Option<&'a dyn StoreProfiles>,
}

/// One step on one occurrence.
enum Step {
    /// Settled (sent or skipped), or nothing left to do on it.
    Settled { sent: bool },
    /// Look again after a pause (a lost race, another sender's live claim).
    Again,
}

impl Notices<'_> {
    pub async fn notify(&self, seller_id: &str, order_id: &str) -> NoticeReport {
        let mut report = NoticeReport::default();
        // Read once something is owed: most records that reach here (the claim's own write,
        // a duplicate) find nothing left to do on the order.
        let mut settings: Option<SellerSettings> = None;
        let started = Instant::now();
        let mut conflicts = 0;
        let mut identity: Option<(StoreIdentity, Option<String>)> = None;
        let mut handled = 0;
        while handled < MAX_PER_RECORD {
            let current = match self.store.get_order(seller_id, order_id).await {
                Ok(Some(current)) => current,
                Ok(None) => return report,
                Err(e) => {
                    report.retry = Some(format!("store: {e}"));
                    return report;
                }
            };
            let now = now_secs();
            // Another sender's live claim does not hold up the others: the first occurrence
            // free to handle, else wait for the earliest.
            let pending = notify::pending(&current);
            if pending.is_empty() {
                return report;
            }
            let free = pending.iter().find(|o| {
                current
                    .facts
                    .notices
                    .get(&o.key)
                    .is_none_or(|n| n.live_claim(now).is_none())
            });
            let Some(occurrence) = free.cloned() else {
                if started.elapsed() >= self.in_flight_wait {
                    report.retry = Some("another sender holds a live claim".to_owned());
                    return report;
                }
                tokio::time::sleep(IN_FLIGHT_POLL).await;
                continue;
            };
            if settings.is_none() {
                settings = Some(match self.settings {
                    Some(store) => match settings_of(store, seller_id).await {
                        Ok(s) => s,
                        Err(e) => {
                            report.retry = Some(format!("settings: {e}"));
                            return report;
                        }
                    },
                    None => SellerSettings::default(),
                });
            }
            let Some(settings) = settings.as_ref() else {
                continue;
            };
            if identity.is_none() {
                // Before any claim: a first (uncached) Accounts API call must not eat the lease.
                identity = Some(match self.profiles {
                    Some(p) => (
                        p.identity(seller_id).await,
                        p.account_email(seller_id).await,
                    ),
                    None => (StoreIdentity::default(), None),
                });
            }
            let Some((store, account_email)) = identity.as_ref() else {
                continue;
            };
            let to = settings
                .notify_email
                .as_deref()
                .or(account_email.as_deref());
            let step = self
                .one(&current, &occurrence, settings, store, to, now)
                .await;
            match step {
                Ok(Step::Settled { sent }) => {
                    handled += 1;
                    conflicts = 0;
                    if sent {
                        report.sent += 1;
                    } else {
                        report.skipped += 1;
                    }
                }
                Ok(Step::Again) => {
                    conflicts += 1;
                    if conflicts >= MAX_CONFLICTS {
                        report.retry = Some(format!("store: {}", StoreError::Contention));
                        return report;
                    }
                    RetryPolicy::default().pause(conflicts).await;
                }
                Err(error) => {
                    report.retry = Some(error);
                    return report;
                }
            }
        }
        report
    }

    /// Settles or sends one occurrence of the order as read.
    async fn one(
        &self,
        current: &OrderRecord,
        occurrence: &Occurrence,
        settings: &SellerSettings,
        store: &StoreIdentity,
        to: Option<&str>,
        now: i64,
    ) -> Result<Step, String> {
        let skip = if !notify::wanted(&settings.notify, occurrence.kind) {
            Some(NoticeSkip::KindOff)
        } else if to.is_none() {
            Some(NoticeSkip::NoAddress)
        } else {
            None
        };
        let email = to.and_then(|to| {
            email::compose(
                current,
                occurrence,
                store,
                settings,
                &self.config.public_base_url,
                to,
            )
        });
        let skip = skip.or(email.is_none().then_some(NoticeSkip::NoAddress));
        if let Some(why) = skip {
            let settled = notify::skipped(current, occurrence, now, why);
            return self
                .write(&settled, current.version)
                .await
                .map(|won| match won {
                    true => {
                        tracing::info!(seller_id = %current.seller_id, order_id = %current.order_id,
                            notice = %occurrence.key, kind = occurrence.kind.as_str(), outcome = "skipped",
                            why = why.as_str(), "seller notification");
                        Step::Settled { sent: false }
                    }
                    false => Step::Again,
                });
        }
        let Some(email) = email else {
            return Ok(Step::Again);
        };
        let policy = self.config.policy();
        let claimed = match notify::claim(
            current,
            &occurrence.key,
            now,
            policy.lease_secs,
            policy.max_attempts,
        ) {
            Claim::Done | Claim::InFlight { .. } => return Ok(Step::Again),
            Claim::Exhausted(gave_up) => {
                return self
                    .write(&gave_up, current.version)
                    .await
                    .map(|won| match won {
                        true => Step::Settled { sent: false },
                        false => Step::Again,
                    })
            }
            Claim::Claimed(claimed) => claimed,
        };
        if !self.write(&claimed, current.version).await? {
            return Ok(Step::Again);
        }
        // The one call that cannot be repeated safely: nothing else between the claim and here,
        // or between here and recording the result.
        let result = self.mailer.send(&email).await;
        let next = |current: &OrderRecord| match &result {
            Ok(message_id) => notify::sent(current, occurrence, now_secs(), message_id),
            Err(MailError::Rejected(_)) => {
                notify::skipped(current, occurrence, now_secs(), NoticeSkip::Rejected)
            }
            Err(MailError::Transient(reason)) => notify::released(
                current,
                &occurrence.key,
                now_secs(),
                &redact(reason, &email.to),
            ),
        };
        let recorded = self.settle(&claimed, &occurrence.key, next).await;
        let outcome = match &result {
            Ok(_) => "sent",
            Err(MailError::Rejected(_)) => "rejected",
            Err(MailError::Transient(_)) => "retry",
        };
        tracing::info!(seller_id = %current.seller_id, order_id = %current.order_id,
            notice = %occurrence.key, kind = occurrence.kind.as_str(), outcome,
            message_id = result.as_ref().map(String::as_str).unwrap_or(""), "seller notification");
        match (result, recorded) {
            (Ok(message_id), Err(e)) => {
                tracing::error!(order_id = %current.order_id, notice = %occurrence.key, message_id = %message_id,
                    error = %e, "seller notification sent but not recorded before the claim expired; a retry may send it again");
                Err(format!("sent ({message_id}) but not recorded: {e}"))
            }
            (Ok(_), Ok(())) => Ok(Step::Settled { sent: true }),
            (Err(MailError::Rejected(_)), _) => Ok(Step::Settled { sent: false }),
            (Err(MailError::Transient(reason)), _) => {
                Err(format!("mail: {}", redact(&reason, &email.to)))
            }
        }
    }

    /// A conditional write: `Ok(false)` when it lost a race (re-read and decide again).
    async fn write(&self, record: &OrderRecord, expected: u64) -> Result<bool, String> {
        match self.store.put_order(record, Some(expected), &[]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(format!("store: {e}")),
        }
    }

    /// Applies `next` to the order while it still carries this sender's claim on `key`. Keeps
    /// trying while the lease holds, since nobody else may send meanwhile.
    async fn settle(
        &self,
        claimed: &OrderRecord,
        key: &str,
        next: impl Fn(&OrderRecord) -> OrderRecord,
    ) -> Result<(), StoreError> {
        let deadline = claimed
            .facts
            .notices
            .get(key)
            .and_then(|n| n.claim)
            .map_or(0, |c| c.until)
            - 1;
        let mut current = claimed.clone();
        let mut tries = 0;
        loop {
            if !notify::holds_claim(&current, key, claimed) {
                // Taken over after the lease ran out, or settled by someone else.
                return Ok(());
            }
            let err = match self
                .store
                .put_order(&next(&current), Some(current.version), &[])
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            tries += 1;
            if !err.is_transient() || now_secs() >= deadline {
                return Err(err);
            }
            RetryPolicy::default().pause(tries).await;
            if let Ok(Some(fresh)) = self
                .store
                .get_order(&claimed.seller_id, &claimed.order_id)
                .await
            {
                current = fresh;
            }
        }
    }
}
