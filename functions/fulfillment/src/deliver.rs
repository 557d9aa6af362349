//! One order's delivery, exactly once: re-read the order (the stream image may be stale),
//! claim it with a conditional write, make the one mailer call, record the result.
//!
//! Every write is conditional on the version read. A lost race re-reads and decides again, so a
//! refund or a lost dispute folded in before the claim wins (no email), and facts folded in after
//! the claim are never overwritten when the result is recorded. The only window for a second
//! email is a crash between the mailer accepting the message and `sent` being written; see
//! `docs/fulfillment.md`.

use std::time::{Duration, Instant};

use leenkies_domain::apply::RetryPolicy;
use leenkies_domain::clock::now_secs;
use leenkies_domain::delivery::{MessageIndex, MessageOwner};
use leenkies_domain::fulfillment::{
    after_transient, claim, complete, compose, download_link, give_up, holds_claim, redact, Claim,
    SkipReason, StoreIdentity,
};
use leenkies_domain::order::FulfillmentState;
use leenkies_domain::ports::{
    MailError, Mailer, OrderStore, OutgoingEmail, StoreError, StoreProfiles,
};
use leenkies_domain::tokens::DownloadClaims;
use leenkies_domain::OrderRecord;

use crate::config::FulfillmentConfig;

/// Conditional writes lost in a row before the record is handed back to Lambda for a retry.
const MAX_CONFLICTS: u32 = 8;
/// How often a live claim held by another sender is looked at again.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(100);

/// What happened to one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The email went out and is recorded.
    Sent { message_id: String, attempt: u32 },
    /// Nothing to send (already sent, revoked, not paid...).
    Skipped(SkipReason),
    /// The order no longer exists.
    Gone,
    /// Recorded `failed`; the seller sees `fulfillment_failed`.
    GaveUp { error: String },
    /// Try this record again later: report it as the batch item failure and stop the batch.
    Retry { error: String },
    /// The stored order cannot be read: waiting will not help, so it is logged and acknowledged.
    Unreadable { error: String },
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Sent { .. } => "sent",
            Outcome::Skipped(_) => "skipped",
            Outcome::Gone => "gone",
            Outcome::GaveUp { .. } => "gave_up",
            Outcome::Retry { .. } => "retry",
            Outcome::Unreadable { .. } => "unreadable",
        }
    }

    pub fn must_retry(&self) -> bool {
        matches!(self, Outcome::Retry { .. })
    }
}

/// The dependencies of one delivery, borrowed from the `Fulfiller`.
pub(crate) struct Delivery<'a> {
    pub store: &'a dyn OrderStore,
    pub mailer: &'a dyn Mailer,
    pub config: &'a FulfillmentConfig,
    /// How long to wait for another sender's live claim before handing the record back.
    pub in_flight_wait: Duration,
    /// SES message id → order links (contract section 10).
    pub messages: Option<&'a dyn MessageIndex>,
    /// The seller's store name and support address for the email.
    pub profiles: Option<&'a dyn StoreProfiles>,
}

impl Delivery<'_> {
    pub async fn deliver(&self, seller_id: &str, order_id: &str) -> Outcome {
        // Before the claim: a first (uncached) Accounts API call must not eat into the lease.
        let store = match self.profiles {
            Some(profiles) => profiles.identity(seller_id).await,
            None => StoreIdentity::default(),
        };
        let (claimed, email) = match self.claim(seller_id, order_id, &store).await {
            Ok(claimed) => claimed,
            Err(outcome) => return outcome,
        };
        // The one call that cannot be repeated safely: nothing else happens between the claim
        // and here, or between here and recording the result.
        match self.mailer.send(&email).await {
            Ok(message_id) => {
                self.link(&claimed, &message_id).await;
                self.record_sent(&claimed, &email, message_id).await
            }
            Err(MailError::Rejected(reason)) => {
                let error = format!("rejected: {}", redact(&reason, &email.to));
                self.settle(&claimed, |current| give_up(current, &error))
                    .await
                    .map_or_else(retry, |_| Outcome::GaveUp {
                        error: error.clone(),
                    })
            }
            Err(MailError::Transient(reason)) => {
                let error = redact(&reason, &email.to);
                let policy = self.config.policy();
                let next = |current: &OrderRecord| after_transient(current, &error, &policy);
                match self.settle(&claimed, next).await {
                    Ok(Some(settled)) if settled.fulfillment.state == FulfillmentState::Failed => {
                        Outcome::GaveUp {
                            error: settled.fulfillment.last_error.unwrap_or(error),
                        }
                    }
                    // Released (or could not release: the lease then runs out): retry later.
                    Ok(_) | Err(_) => Outcome::Retry { error },
                }
            }
        }
    }

    /// Reads the order and claims it, re-deciding after every lost race. `Err` is the outcome
    /// when there is nothing to send (or not now).
    async fn claim(
        &self,
        seller_id: &str,
        order_id: &str,
        store: &StoreIdentity,
    ) -> Result<(OrderRecord, OutgoingEmail), Outcome> {
        let policy = self.config.policy();
        let started = Instant::now();
        let mut conflicts = 0;
        loop {
            let current = match self.store.get_order(seller_id, order_id).await {
                Ok(Some(current)) => current,
                Ok(None) => return Err(Outcome::Gone),
                Err(e) => return Err(store_failure(e)),
            };
            let write = match claim(&current, now_secs(), &policy) {
                Claim::Skip(reason) => return Err(Outcome::Skipped(reason)),
                Claim::InFlight { .. } => {
                    // Another sender is on it (or crashed holding it): wait for `sent`, or for
                    // the lease to run out and take over; hand the record back if neither comes.
                    if started.elapsed() >= self.in_flight_wait {
                        return Err(retry("another sender holds a live claim"));
                    }
                    tokio::time::sleep(IN_FLIGHT_POLL).await;
                    continue;
                }
                Claim::Exhausted(failed) => Err(failed),
                Claim::Claimed(claimed) => match self.compose(&current, store) {
                    Ok(email) => Ok((claimed, email)),
                    // An address or product we cannot mail: no attempt would ever succeed.
                    Err(error) => Err(give_up(&current, &error)),
                },
            };
            let record = match &write {
                Ok((claimed, _)) => claimed,
                Err(failed) => failed,
            };
            match self
                .store
                .put_order(record, Some(current.version), &[])
                .await
            {
                Ok(()) => {
                    return match write {
                        Ok(claimed) => Ok(claimed),
                        Err(failed) => Err(Outcome::GaveUp {
                            error: failed.fulfillment.last_error.unwrap_or_default(),
                        }),
                    }
                }
                Err(StoreError::Conflict) => {
                    conflicts += 1;
                    if conflicts >= MAX_CONFLICTS {
                        return Err(store_failure(StoreError::Contention));
                    }
                    RetryPolicy::default().pause(conflicts).await;
                }
                Err(e) => return Err(store_failure(e)),
            }
        }
    }

    /// Links the message id to the order before recording `sent`: SES's first event can come
    /// within a second. One small unconditional write; a failure is logged, never a resend.
    async fn link(&self, order: &OrderRecord, message_id: &str) {
        let Some(messages) = self.messages else {
            return;
        };
        let owner = MessageOwner {
            seller_id: order.seller_id.clone(),
            order_id: order.order_id.clone(),
        };
        if let Err(error) = messages.link_message(message_id, &owner).await {
            tracing::warn!(
                order_id = %order.order_id,
                message_id,
                error = %error,
                "email sent; its SES message link was not written"
            );
        }
    }

    fn compose(&self, order: &OrderRecord, store: &StoreIdentity) -> Result<OutgoingEmail, String> {
        let product_id = order.facts.product_id().unwrap_or_default();
        let token = self.config.download_key.sign(&DownloadClaims {
            seller_id: order.seller_id.clone(),
            order_id: order.order_id.clone(),
            product_id: product_id.to_owned(),
        });
        let link = download_link(&self.config.public_base_url, &token);
        compose(order, &link, store).map_err(|e| e.to_string())
    }

    /// Applies `next` to the order while it still carries this sender's claim. `Ok(None)`: the
    /// claim is gone (taken over after the lease ran out, or settled by someone else).
    async fn settle(
        &self,
        claimed: &OrderRecord,
        next: impl Fn(&OrderRecord) -> OrderRecord,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let mut current = claimed.clone();
        for attempt in 1..=MAX_CONFLICTS {
            if !holds_claim(&current, &claimed.fulfillment) {
                return Ok(None);
            }
            let settled = next(&current);
            match self
                .store
                .put_order(&settled, Some(current.version), &[])
                .await
            {
                Ok(()) => return Ok(Some(settled)),
                Err(StoreError::Conflict) => {
                    RetryPolicy::default().pause(attempt).await;
                    match self
                        .store
                        .get_order(&claimed.seller_id, &claimed.order_id)
                        .await?
                    {
                        Some(fresh) => current = fresh,
                        None => return Ok(None),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    /// Records `sent` on the order as it is now (the webhook may have folded facts in since the
    /// claim). Keeps trying while the claim's lease holds, since nobody else may send meanwhile;
    /// past it, a retry of the record could send a second email, which the docs own up to.
    async fn record_sent(
        &self,
        claimed: &OrderRecord,
        email: &OutgoingEmail,
        message_id: String,
    ) -> Outcome {
        let deadline = claimed.fulfillment.lease_until.unwrap_or(0) - 1;
        let attempt = claimed.fulfillment.attempts;
        let mut current = claimed.clone();
        let mut tries = 0;
        loop {
            if current.fulfillment.state == FulfillmentState::Sent {
                // Another sender took over after our lease ran out and recorded first.
                tracing::warn!(
                    order_id = %claimed.order_id,
                    seller_id = %claimed.seller_id,
                    "delivery already recorded by another sender; this email was a duplicate"
                );
                return Outcome::Sent {
                    message_id,
                    attempt,
                };
            }
            let sent = complete(&current, now_secs(), &message_id, email);
            let err = match self
                .store
                .put_order(&sent, Some(current.version), &[])
                .await
            {
                Ok(()) => {
                    return Outcome::Sent {
                        message_id,
                        attempt,
                    }
                }
                Err(e) => e,
            };
            tries += 1;
            if !err.is_transient() {
                return Outcome::Unreadable {
                    error: format!("email sent ({message_id}) but not recorded: {err}"),
                };
            }
            if now_secs() >= deadline {
                tracing::error!(
                    order_id = %claimed.order_id,
                    seller_id = %claimed.seller_id,
                    message_id = %message_id,
                    error = %err,
                    "email sent but not recorded before the claim expired; a retry may send it again"
                );
                return retry(format!("email sent ({message_id}) but not recorded: {err}"));
            }
            RetryPolicy::default().pause(tries).await;
            // Conflict: facts changed. Unavailable: the write may have landed. Either way, look.
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

fn retry(error: impl ToString) -> Outcome {
    Outcome::Retry {
        error: error.to_string(),
    }
}

fn store_failure(e: StoreError) -> Outcome {
    if e.is_transient() {
        retry(format!("store: {e}"))
    } else {
        Outcome::Unreadable {
            error: e.to_string(),
        }
    }
}
