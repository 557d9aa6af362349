//! The seller's resend of the delivery email (contract section 10): refusals, the daily limit,
//! and the claim that makes one accepted request send one email.
//!
//! A resend is claimed on the order item itself, with the same conditional write on the version
//! as every other write: the limit (5 within 24 hours) is counted over the claims stored in the
//! order, so two concurrent requests cannot both take the fifth slot: the second write loses the
//! version race, re-reads, and sees the limit reached. Each request carries a key (the client's
//! `Idempotency-Key`, or one made per request); a request retried with the same key gets the
//! first answer back instead of a second email. As with the first email, SES has no idempotency
//! token, so a crash between SES accepting and the claim being completed can repeat one email
//! after the claim's lease runs out (docs/fulfillment.md).

pub use crate::order::mail::ResendRecord;
use sha2::{Digest, Sha256};

use super::{MessageIndex, MessageOwner};
use crate::apply::RetryPolicy;
use crate::order::{FulfillmentState, OrderRecord};
use crate::ports::{MailError, Mailer, OrderStore, OutgoingEmail, StoreError};

/// Resends of one order allowed within [`WINDOW_SECS`].
pub const MAX_RESENDS: usize = 5;
pub const WINDOW_SECS: i64 = 24 * 60 * 60;
/// Resend records an order keeps (the newest); older ones leave the item, not the evidence of
/// the day's limit, which never needs more than [`MAX_RESENDS`].
pub const MAX_KEPT: usize = 20;
/// Longest request key accepted.
pub const MAX_KEY_LEN: usize = 128;

/// A corrected address the seller typed for a resend, as one plain `local@domain` address with a
/// dotted domain, or `None` (`400 invalid_email`). Stricter than the address Stripe gave: a
/// control character anywhere is refused, not repaired, since it can only be an injection.
pub fn corrected_recipient(raw: &str) -> Option<String> {
    if raw.chars().any(char::is_control) {
        return None;
    }
    let address = crate::fulfillment::recipient(raw.trim())?;
    let (_, domain) = address.rsplit_once('@')?;
    let dotted = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    dotted.then_some(address)
}

impl ResendRecord {
    /// What makes this resend's download token differ from every other email's: a short digest
    /// of the request key (never the key itself, which the client chose).
    pub fn token_issue(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        hex::encode(&digest[..8])
    }
}

/// Why a resend is refused (`409`, or `429` for the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotPaid,
    AccessRevoked,
    /// The automatic first email has not gone out (yet, or ever).
    FirstEmailNotSent,
    /// [`MAX_RESENDS`] within 24 hours; the next slot opens at `retry_at` (Unix seconds).
    TooMany {
        retry_at: i64,
    },
    /// The same request (same key) is being sent right now.
    InProgress,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotPaid => "order_not_paid",
            Refusal::AccessRevoked => "access_revoked",
            Refusal::FirstEmailNotSent => "first_email_not_sent",
            Refusal::TooMany { .. } => "too_many_resends",
            Refusal::InProgress => "resend_in_progress",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotPaid => "the order is not paid, so there is no download link to resend",
            Refusal::AccessRevoked => {
                "access to this order was revoked (full refund or lost dispute)"
            }
            Refusal::FirstEmailNotSent => {
                "the first delivery email has not gone out yet; it is sent automatically"
            }
            Refusal::TooMany { .. } => "at most 5 resends of one order within 24 hours",
            Refusal::InProgress => "this resend is being sent; try again in a minute",
        }
    }
}

/// What to do with a resend request on the order as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write this order (conditionally on the version read), then send.
    Claim(Box<OrderRecord>),
    /// This request (its key) was already sent: answer with the same message id.
    AlreadySent {
        message_id: String,
    },
    Refuse(Refusal),
}

/// Decides a resend request with key `key` at `now`.
pub fn decide(current: &OrderRecord, key: &str, now: i64, lease_secs: i64) -> Decision {
    let f = &current.fulfillment;
    let lease_until = now + lease_secs.max(1);
    if let Some(existing) = f.resends.iter().find(|r| r.key == key) {
        if let Some(id) = &existing.message_id {
            return Decision::AlreadySent {
                message_id: id.clone(),
            };
        }
        if existing.lease_until.is_some_and(|until| until > now) {
            return Decision::Refuse(Refusal::InProgress);
        }
    }
    if current.facts.access_revoked() {
        return Decision::Refuse(Refusal::AccessRevoked);
    }
    if !current.facts.paid_and_not_revoked() {
        return Decision::Refuse(Refusal::NotPaid);
    }
    if f.state != FulfillmentState::Sent || f.message_id.is_none() {
        return Decision::Refuse(Refusal::FirstEmailNotSent);
    }
    let mut next = current.clone();
    next.version = current.version + 1;
    let resends = &mut next.fulfillment.resends;
    if let Some(existing) = resends.iter_mut().find(|r| r.key == key) {
        // Same request, its sender crashed and the lease ran out: take it over. It already
        // holds its slot in the limit.
        existing.lease_until = Some(lease_until);
        return Decision::Claim(Box::new(next));
    }
    let mut in_window: Vec<i64> = resends
        .iter()
        .map(|r| r.claimed_at)
        .filter(|at| *at > now - WINDOW_SECS)
        .collect();
    if in_window.len() >= MAX_RESENDS {
        in_window.sort_unstable();
        let retry_at = in_window[in_window.len() - MAX_RESENDS] + WINDOW_SECS;
        return Decision::Refuse(Refusal::TooMany { retry_at });
    }
    resends.push(ResendRecord {
        key: key.to_owned(),
        claimed_at: now,
        lease_until: Some(lease_until),
        sent_at: None,
        message_id: None,
        // Known before the email goes out, so its link serves from the first click (a link
        // serves only a product its order's emails named).
        product_id: current.facts.product_id().map(str::to_owned),
        recipient: None,
    });
    resends.sort_by_key(|r| r.claimed_at);
    while resends.len() > MAX_KEPT {
        resends.remove(0);
    }
    Decision::Claim(Box::new(next))
}

/// The claimed order with the request's recipient on its unsent resend `key`.
fn with_recipient(mut next: OrderRecord, key: &str, recipient: Option<&str>) -> OrderRecord {
    if let Some(r) = next
        .fulfillment
        .resends
        .iter_mut()
        .find(|r| r.key == key && r.message_id.is_none())
    {
        r.recipient = recipient.map(str::to_owned);
    }
    next
}

/// The order with resend `key` recorded as sent, or `None` when the claim is gone.
pub fn complete(
    current: &OrderRecord,
    key: &str,
    message_id: &str,
    product_id: Option<&str>,
    now: i64,
) -> Option<OrderRecord> {
    let mut next = current.clone();
    let r = next.fulfillment.resends.iter_mut().find(|r| r.key == key)?;
    if r.message_id.is_some() {
        return None;
    }
    r.message_id = Some(message_id.to_owned());
    r.product_id = product_id.map(str::to_owned);
    r.sent_at = Some(now);
    r.lease_until = None;
    next.version = current.version + 1;
    Some(next)
}

/// The order with the unsent resend `key` removed (SES refused it: it does not count).
pub fn release(current: &OrderRecord, key: &str) -> Option<OrderRecord> {
    let mut next = current.clone();
    let before = next.fulfillment.resends.len();
    next.fulfillment
        .resends
        .retain(|r| r.key != key || r.message_id.is_some());
    (next.fulfillment.resends.len() != before).then(|| {
        next.version = current.version + 1;
        next
    })
}

/// What a resend request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendOutcome {
    /// SES accepted the email (now, or for an earlier try of the same request).
    Sent {
        message_id: String,
    },
    Refused(Refusal),
    /// No such order for this seller.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The order cannot be mailed as it is (no plain recipient address, no product).
    #[error("cannot compose the email: {0}")]
    Compose(String),
}

/// What a resend needs from the outside.
pub struct Resender<'a> {
    pub store: &'a dyn OrderStore,
    pub index: &'a dyn MessageIndex,
    pub mailer: &'a dyn Mailer,
    /// Seconds a claim holds; longer than one mailer call.
    pub lease_secs: i64,
}

impl Resender<'_> {
    /// Resends the delivery email of `order_id`, to `recipient` when the seller gave a corrected
    /// address ([`corrected_recipient`]; recorded on the resend), else to the order's customer
    /// email. `compose` builds the email for the order and the claimed resend (whose
    /// [`ResendRecord::token_issue`] makes the new download token, and whose `recipient` is the
    /// address to use).
    #[allow(clippy::too_many_arguments)]
    pub async fn resend(
        &self,
        seller_id: &str,
        order_id: &str,
        key: &str,
        recipient: Option<&str>,
        now: &(dyn Fn() -> i64 + Send + Sync),
        compose: &(dyn Fn(&OrderRecord, &ResendRecord) -> Result<OutgoingEmail, String>
              + Send
              + Sync),
    ) -> Result<ResendOutcome, ResendError> {
        let policy = RetryPolicy::default();
        let mut attempt = 0;
        let claimed = loop {
            let Some(current) = self.store.get_order(seller_id, order_id).await? else {
                return Ok(ResendOutcome::NotFound);
            };
            let next = match decide(&current, key, now(), self.lease_secs) {
                Decision::AlreadySent { message_id } => {
                    return Ok(ResendOutcome::Sent { message_id })
                }
                Decision::Refuse(r) => return Ok(ResendOutcome::Refused(r)),
                Decision::Claim(next) => with_recipient(*next, key, recipient),
            };
            match self
                .store
                .put_order(&next, Some(current.version), &[])
                .await
            {
                Ok(()) => break next,
                Err(StoreError::Conflict) if attempt + 1 < policy.max_attempts => {
                    attempt += 1;
                    policy.pause(attempt).await;
                }
                Err(StoreError::Conflict) => return Err(StoreError::Contention.into()),
                Err(e) => return Err(e.into()),
            }
        };
        let record = claimed
            .fulfillment
            .resends
            .iter()
            .find(|r| r.key == key)
            .cloned()
            .ok_or_else(|| ResendError::Compose("claim lost".into()))?;
        let email = match compose(&claimed, &record) {
            Ok(email) => email,
            Err(e) => {
                self.settle(&claimed, |c| release(c, key)).await;
                return Err(ResendError::Compose(e));
            }
        };
        let message_id = match self.mailer.send(&email).await {
            Ok(id) => id,
            Err(e) => {
                self.settle(&claimed, |c| release(c, key)).await;
                return Err(e.into());
            }
        };
        // The link first: SES's events for this message may arrive within a second.
        let owner = MessageOwner {
            seller_id: seller_id.to_owned(),
            order_id: order_id.to_owned(),
        };
        if let Err(e) = self.index.link_message(&message_id, &owner).await {
            tracing::warn!(order_id, error = %e, "resend sent; message link not written");
        }
        let sent_at = now();
        if !self
            .settle(&claimed, |c| {
                complete(c, key, &message_id, claimed.facts.product_id(), sent_at)
            })
            .await
        {
            tracing::error!(order_id, message_id = %message_id, "resend sent but not recorded");
        }
        Ok(ResendOutcome::Sent { message_id })
    }

    /// Applies `next` to the order as it is now, re-reading after lost races. Best effort:
    /// `false` when it could not be written (the claim's lease then runs out by itself).
    async fn settle(
        &self,
        claimed: &OrderRecord,
        next: impl Fn(&OrderRecord) -> Option<OrderRecord>,
    ) -> bool {
        let policy = RetryPolicy::default();
        let mut current = claimed.clone();
        for attempt in 1..=policy.max_attempts {
            let Some(settled) = next(&current) else {
                return false;
            };
            match self
                .store
                .put_order(&settled, Some(current.version), &[])
                .await
            {
                Ok(()) => return true,
                Err(StoreError::Conflict) | Err(StoreError::Unavailable(_)) => {
                    policy.pause(attempt).await;
                    match self
                        .store
                        .get_order(&claimed.seller_id, &claimed.order_id)
                        .await
                    {
                        Ok(Some(fresh)) => current = fresh,
                        Ok(None) => return false,
                        Err(_) => {}
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{DisputeFact, Reg};

    const NOW: i64 = 1_778_300_000;

    fn sent() -> OrderRecord {
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.facts.succeeded_at = Some(NOW - 1000);
        r.facts.amount = Some(Reg::new(0, 1, 2500));
        r.facts.customer_email = Some(Reg::new(0, 1, "c@example.com".into()));
        r.facts.product_id = Some(Reg::new(0, 1, "prod_1".into()));
        r.fulfillment.state = FulfillmentState::Sent;
        r.fulfillment.message_id = Some("m1".into());
        r.fulfillment.sent_at = Some(NOW - 900);
        r
    }

    fn claim(r: &OrderRecord, key: &str, now: i64) -> OrderRecord {
        match decide(r, key, now, 60) {
            Decision::Claim(next) => {
                complete(&next, key, &format!("m-{key}"), Some("prod_1"), now).unwrap()
            }
            other => panic!("expected a claim, got {other:?}"),
        }
    }

    #[test]
    fn given_five_resends_within_a_day_when_a_sixth_then_too_many_until_the_oldest_ages_out() {
        // GIVEN five resends an hour apart
        let mut r = sent();
        for i in 0..5 {
            r = claim(&r, &format!("k{i}"), NOW + i * 3600);
        }
        // WHEN a sixth comes within 24 hours of the first THEN refused, with when it reopens
        assert_eq!(
            decide(&r, "k5", NOW + 5 * 3600, 60),
            Decision::Refuse(Refusal::TooMany {
                retry_at: NOW + WINDOW_SECS
            })
        );
        // AND once the first is 24 hours old, one more is allowed
        assert!(matches!(
            decide(&r, "k5", NOW + WINDOW_SECS, 60),
            Decision::Claim(_)
        ));
    }

    #[test]
    fn given_a_sent_request_when_retried_with_its_key_then_the_same_message_and_no_claim() {
        let r = claim(&sent(), "k", NOW);
        assert_eq!(
            decide(&r, "k", NOW + 5, 60),
            Decision::AlreadySent {
                message_id: "m-k".into()
            }
        );
    }

    #[test]
    fn given_a_live_claim_when_the_same_key_comes_again_then_in_progress_and_after_the_lease_taken_over(
    ) {
        let Decision::Claim(claimed) = decide(&sent(), "k", NOW, 60) else {
            panic!()
        };
        assert_eq!(
            decide(&claimed, "k", NOW + 10, 60),
            Decision::Refuse(Refusal::InProgress)
        );
        let Decision::Claim(taken) = decide(&claimed, "k", NOW + 61, 60) else {
            panic!()
        };
        assert_eq!(taken.fulfillment.resends.len(), 1);
        assert_eq!(taken.fulfillment.resends[0].lease_until, Some(NOW + 121));
    }

    #[test]
    fn given_orders_that_cannot_be_resent_when_decided_then_refused_with_the_reason() {
        let unpaid = OrderRecord::new("acct_A", "pi_1");
        let mut not_sent = sent();
        not_sent.fulfillment.state = FulfillmentState::Pending;
        not_sent.fulfillment.message_id = None;
        let mut revoked = sent();
        revoked.facts.disputes.insert(
            "du_1".into(),
            DisputeFact {
                history: Default::default(),
                state: Reg::new(3, NOW, "lost".into()),
                reason: None,
                amount: None,
                evidence_due_by: None,
                created: Some(NOW),
                funds_withdrawn: false,
                funds_reinstated: false,
                ..Default::default()
            },
        );
        for (order, refusal) in [
            (unpaid, Refusal::NotPaid),
            (not_sent, Refusal::FirstEmailNotSent),
            (revoked, Refusal::AccessRevoked),
        ] {
            assert_eq!(decide(&order, "k", NOW, 60), Decision::Refuse(refusal));
        }
    }

    #[test]
    fn given_a_refused_send_when_released_then_the_slot_is_free_again() {
        let Decision::Claim(claimed) = decide(&sent(), "k", NOW, 60) else {
            panic!()
        };
        let released = release(&claimed, "k").unwrap();
        assert!(released.fulfillment.resends.is_empty());
        // AND a sent resend is never released
        let done = claim(&sent(), "k", NOW);
        assert_eq!(release(&done, "k"), None);
    }

    #[test]
    fn given_two_resends_when_their_tokens_are_issued_then_they_differ() {
        let a = claim(&sent(), "k1", NOW);
        let b = claim(&a, "k2", NOW);
        let issues: Vec<String> = b
            .fulfillment
            .resends
            .iter()
            .map(ResendRecord::token_issue)
            .collect();
        assert_eq!(issues.len(), 2);
        assert_ne!(issues[0], issues[1]);
    }

    #[test]
    fn given_addresses_when_corrected_then_only_one_plain_dotted_address_passes() {
        assert_eq!(
            corrected_recipient(" ana.souza@example.com.br ").as_deref(),
            Some("ana.souza@example.com.br")
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@@example.com",
            "ana@example",
            "ana@example.",
            "ana@.example.com",
            "ana@example..com",
            "a@example.com, b@example.com",
            "Ana <ana@example.com>",
            "ana@example.com\r\nBcc: x@evil.test",
            "ana@exa\u{0}mple.com",
        ] {
            assert_eq!(corrected_recipient(bad), None, "{bad:?}");
        }
    }
}
