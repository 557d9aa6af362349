//! When the delivery email goes out, exactly once (contract section 7): the claim.
//!
//! Pure decisions, no I/O: the fulfillment function reads the order, asks [`claim`] what to do,
//! writes the answer conditionally on the version it read, calls the mailer, and records the result
//! with [`complete`], [`release`] or [`give_up`]. The claim (`Pending` → `Sending` with a lease)
//! is what makes duplicates harmless: only the writer whose conditional write wins sends, and a
//! crashed sender's claim is taken over only once its lease has expired.
//!
//! What the email says is [`email`]'s ([`compose`]), re-exported here.

pub mod email;

use crate::order::{FulfillmentRecord, FulfillmentState, OrderRecord, PaymentStatus};
use crate::ports::OutgoingEmail;
pub use crate::store_identity::{StoreIdentity, STORE_NAME_MAX};
pub use crate::text::recipient;
pub use email::{
    compose, compose_to, compose_version, date_in_words, download_link, header_safe, html_escape,
    purchase_date, redact, ComposeError, TEMPLATE_VERSION,
};

/// How long a claim holds and how often a delivery is tried before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Seconds a `Sending` claim holds; must outlast one mailer call (the SES client's timeout).
    pub lease_secs: i64,
    /// Claims (each one send) before the order ends `Failed`.
    pub max_attempts: u32,
}

/// Whether a stream record's order should be looked at by the fulfillment function.
///
/// True when the new image still awaits delivery: it just became deliverable, a fact arrived
/// while the email is still owed, or it is stuck in `Sending` (whose lease the handler checks
/// against the current order: a crashed claim is re-driven once it has expired). `old` does not
/// narrow this further on purpose: the claim makes an extra look cost one read and never a
/// second email, while skipping a record because "it is not a transition" could strand an order
/// whose first record was lost to an exhausted retry policy.
pub fn should_deliver(old: Option<&OrderRecord>, new: &OrderRecord) -> bool {
    let _ = old;
    new.awaiting_delivery()
}

/// Whether the stream record is the transition into deliverable (for logs: a first look versus
/// a re-drive).
pub fn is_transition(old: Option<&OrderRecord>, new: &OrderRecord) -> bool {
    new.awaiting_delivery() && !old.is_some_and(OrderRecord::awaiting_delivery)
}

/// Why no email goes out for this order now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Already delivered.
    AlreadySent,
    /// Already given up on; the seller sees `failed`.
    AlreadyFailed,
    /// A full refund or a lost dispute came first: the seller sees `skipped`.
    AccessRevoked,
    /// Not (or not yet) paid.
    NotPaid,
    /// Paid, but no customer email or product yet (`fulfillment_blocked`).
    MissingDetails,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::AlreadySent => "already_sent",
            SkipReason::AlreadyFailed => "already_failed",
            SkipReason::AccessRevoked => "access_revoked",
            SkipReason::NotPaid => "not_paid",
            SkipReason::MissingDetails => "missing_details",
        }
    }
}

/// What to do with the current order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nothing to send.
    Skip(SkipReason),
    /// Another sender holds a live claim; look again after `lease_until`.
    InFlight { lease_until: i64 },
    /// Write this (conditionally on the version read), then send.
    Claimed(OrderRecord),
    /// The attempts ran out: write this `Failed` order, send nothing.
    Exhausted(OrderRecord),
}

/// Decides, on the order as it is now, whether this sender may send.
pub fn claim(current: &OrderRecord, now: i64, policy: &Policy) -> Claim {
    let f = &current.fulfillment;
    match f.state {
        FulfillmentState::Sent => return Claim::Skip(SkipReason::AlreadySent),
        FulfillmentState::Failed => return Claim::Skip(SkipReason::AlreadyFailed),
        FulfillmentState::Pending | FulfillmentState::Sending => {}
    }
    if let Some(reason) = not_deliverable(current) {
        return Claim::Skip(reason);
    }
    if f.state == FulfillmentState::Sending {
        // A missing lease is treated as expired: a claim nobody can time out would strand it.
        if let Some(lease_until) = f.lease_until.filter(|until| *until > now) {
            return Claim::InFlight { lease_until };
        }
    }
    if f.attempts >= policy.max_attempts {
        let error = format!(
            "gave up after {} attempts{}",
            f.attempts,
            f.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        );
        return Claim::Exhausted(give_up(current, &error));
    }
    let mut next = current.clone();
    next.version = current.version + 1;
    next.fulfillment = FulfillmentRecord {
        state: FulfillmentState::Sending,
        lease_until: Some(now + policy.lease_secs.max(1)),
        attempts: f.attempts + 1,
        // The email composed under this claim links to the product the order names now.
        product_id: current.facts.product_id().map(str::to_owned),
        ..f.clone()
    };
    Claim::Claimed(next)
}

fn not_deliverable(order: &OrderRecord) -> Option<SkipReason> {
    let facts = &order.facts;
    if facts.deliverable() {
        None
    } else if facts.access_revoked() {
        Some(SkipReason::AccessRevoked)
    } else if !matches!(
        facts.payment_status(),
        PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
    ) {
        Some(SkipReason::NotPaid)
    } else {
        Some(SkipReason::MissingDetails)
    }
}

/// Whether `current` still carries exactly the claim this sender wrote (nobody took it over).
pub fn holds_claim(current: &OrderRecord, claimed: &FulfillmentRecord) -> bool {
    current.fulfillment.state == FulfillmentState::Sending
        && current.fulfillment.lease_until == claimed.lease_until
        && current.fulfillment.attempts == claimed.attempts
}

/// The order with the email recorded as sent. Applied to the order as read now, so facts folded
/// in since the claim are kept.
pub fn complete(
    current: &OrderRecord,
    now: i64,
    message_id: &str,
    email: &OutgoingEmail,
) -> OrderRecord {
    with_fulfillment(
        current,
        FulfillmentRecord {
            state: FulfillmentState::Sent,
            lease_until: None,
            sent_at: Some(now),
            message_id: Some(message_id.to_owned()),
            recipient: Some(email.to.clone()),
            subject: Some(email.subject.clone()),
            last_error: None,
            template_version: Some(TEMPLATE_VERSION),
            ..current.fulfillment.clone()
        },
    )
}

/// The order with the claim handed back after a transient failure, for a later retry.
pub fn release(current: &OrderRecord, error: &str) -> OrderRecord {
    with_fulfillment(
        current,
        FulfillmentRecord {
            state: FulfillmentState::Pending,
            lease_until: None,
            last_error: Some(error.to_owned()),
            ..current.fulfillment.clone()
        },
    )
}

/// The order with delivery given up (`fulfillment_failed` in `attention`).
pub fn give_up(current: &OrderRecord, error: &str) -> OrderRecord {
    with_fulfillment(
        current,
        FulfillmentRecord {
            state: FulfillmentState::Failed,
            lease_until: None,
            last_error: Some(error.to_owned()),
            ..current.fulfillment.clone()
        },
    )
}

/// After a transient mail failure: release for a retry, or give up when this was the last
/// attempt allowed.
pub fn after_transient(current: &OrderRecord, error: &str, policy: &Policy) -> OrderRecord {
    if current.fulfillment.attempts >= policy.max_attempts {
        give_up(
            current,
            &format!(
                "gave up after {} attempts; last error: {error}",
                current.fulfillment.attempts
            ),
        )
    } else {
        release(current, error)
    }
}

fn with_fulfillment(current: &OrderRecord, fulfillment: FulfillmentRecord) -> OrderRecord {
    OrderRecord {
        version: current.version + 1,
        fulfillment,
        ..current.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{DisputeFact, Reg};

    const NOW: i64 = 1_778_227_300;
    const POLICY: Policy = Policy {
        lease_secs: 60,
        max_attempts: 3,
    };

    fn paid() -> OrderRecord {
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.version = 2;
        let f = &mut r.facts;
        f.pi_created = Some(1_778_227_200);
        f.succeeded_at = Some(1_778_227_249);
        f.amount = Some(Reg::new(0, 1, 2500));
        f.customer_email = Some(Reg::new(0, 1, "jordan.lee@example.com".into()));
        f.product_id = Some(Reg::new(0, 1, "prod_lut_pack".into()));
        f.product_name = Some(Reg::new(0, 1, "Cinematic LUT Pack".into()));
        f.reference = Some(Reg::new(0, 1, "ord_1001".into()));
        r
    }

    fn lost_dispute(r: &mut OrderRecord) {
        r.facts.disputes.insert(
            "du_1".into(),
            DisputeFact {
                history: Default::default(),
                state: Reg::new(9, NOW, "lost".into()),
                reason: None,
                amount: None,
                evidence_due_by: None,
                created: Some(NOW),
                funds_withdrawn: true,
                funds_reinstated: false,
                ..Default::default()
            },
        );
    }

    fn store() -> StoreIdentity {
        StoreIdentity {
            name: Some("Lumen Presets".into()),
            support_email: Some("help@lumen.example".into()),
        }
    }

    fn sending(lease_until: i64, attempts: u32) -> OrderRecord {
        let mut r = paid();
        r.fulfillment.state = FulfillmentState::Sending;
        r.fulfillment.lease_until = Some(lease_until);
        r.fulfillment.attempts = attempts;
        r
    }

    fn email() -> OutgoingEmail {
        compose(&paid(), "https://x.example/downloads/t", &store()).unwrap()
    }

    #[test]
    fn given_an_order_becoming_paid_when_checked_then_delivery_is_due() {
        // GIVEN a pending order that becomes paid
        let old = OrderRecord::new("acct_A", "pi_1");
        let new = paid();
        // WHEN / THEN
        assert!(should_deliver(Some(&old), &new));
        assert!(should_deliver(None, &new));
        assert!(is_transition(Some(&old), &new));
        assert!(!is_transition(Some(&new), &new));
    }

    #[test]
    fn given_orders_not_awaiting_delivery_when_checked_then_ignored() {
        // GIVEN an unpaid order, a paid one without an email, a sent one, a refunded one
        let unpaid = OrderRecord::new("acct_A", "pi_1");
        let mut no_email = paid();
        no_email.facts.customer_email = None;
        let mut sent = paid();
        sent.fulfillment.state = FulfillmentState::Sent;
        let mut revoked = paid();
        lost_dispute(&mut revoked);
        // WHEN / THEN none is due
        for r in [&unpaid, &no_email, &sent, &revoked] {
            assert!(!should_deliver(Some(&paid()), r));
        }
    }

    #[test]
    fn given_a_stuck_claim_in_the_image_when_checked_then_it_is_re_driven() {
        // GIVEN an order whose image shows a claim (live or not: the handler checks the lease)
        let new = sending(NOW - 1, 1);
        // WHEN / THEN it is looked at again, as a re-drive rather than a transition
        assert!(should_deliver(Some(&new), &new));
        assert!(!is_transition(Some(&new), &new));
    }

    #[test]
    fn given_a_pending_deliverable_order_when_claimed_then_sending_with_a_lease() {
        // GIVEN / WHEN
        let Claim::Claimed(next) = claim(&paid(), NOW, &POLICY) else {
            panic!("expected a claim");
        };
        // THEN
        assert_eq!(next.version, 3);
        assert_eq!(next.fulfillment.state, FulfillmentState::Sending);
        assert_eq!(next.fulfillment.lease_until, Some(NOW + 60));
        assert_eq!(next.fulfillment.attempts, 1);
        assert_eq!(next.facts, paid().facts);
        assert!(holds_claim(&next, &next.fulfillment));
    }

    #[test]
    fn given_a_live_claim_when_claimed_then_in_flight() {
        assert_eq!(
            claim(&sending(NOW + 10, 1), NOW, &POLICY),
            Claim::InFlight {
                lease_until: NOW + 10
            }
        );
    }

    #[test]
    fn given_an_expired_claim_when_claimed_then_taken_over() {
        // GIVEN a claim whose sender crashed
        let stale = sending(NOW - 1, 1);
        // WHEN
        let Claim::Claimed(next) = claim(&stale, NOW, &POLICY) else {
            panic!("expected a takeover");
        };
        // THEN the new claim is ours, with one more attempt, and the old one no longer holds
        assert_eq!(next.fulfillment.attempts, 2);
        assert_eq!(next.fulfillment.lease_until, Some(NOW + 60));
        assert!(!holds_claim(&next, &stale.fulfillment));
    }

    #[test]
    fn given_attempts_used_up_when_claimed_then_exhausted_and_failed() {
        // GIVEN an expired claim on the last allowed attempt
        let mut stale = sending(NOW - 1, 3);
        stale.fulfillment.last_error = Some("timeout".into());
        // WHEN
        let Claim::Exhausted(failed) = claim(&stale, NOW, &POLICY) else {
            panic!("expected give-up");
        };
        // THEN
        assert_eq!(failed.fulfillment.state, FulfillmentState::Failed);
        assert!(failed
            .fulfillment
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("timeout"));
        assert!(failed.attention().contains(&"fulfillment_failed"));
    }

    #[test]
    fn given_orders_with_nothing_to_send_when_claimed_then_skipped_with_the_reason() {
        let mut sent = paid();
        sent.fulfillment.state = FulfillmentState::Sent;
        let mut failed = paid();
        failed.fulfillment.state = FulfillmentState::Failed;
        let mut revoked = paid();
        lost_dispute(&mut revoked);
        let mut no_product = paid();
        no_product.facts.product_id = None;
        no_product.facts.product_name = None;
        let cases = [
            (sent, SkipReason::AlreadySent),
            (failed, SkipReason::AlreadyFailed),
            (revoked.clone(), SkipReason::AccessRevoked),
            (OrderRecord::new("acct_A", "pi_1"), SkipReason::NotPaid),
            (no_product, SkipReason::MissingDetails),
        ];
        for (order, reason) in cases {
            assert_eq!(claim(&order, NOW, &POLICY), Claim::Skip(reason));
        }
        // AND a revoked order shows `skipped`
        assert_eq!(revoked.fulfillment_status(), "skipped");
    }

    #[test]
    fn given_a_claim_when_completed_then_sent_with_the_details_on_the_current_facts() {
        // GIVEN a claim, and a fact folded in by the webhook since
        let Claim::Claimed(claimed) = claim(&paid(), NOW, &POLICY) else {
            panic!()
        };
        let mut current = claimed.clone();
        current.version += 1;
        current.facts.last_event_at = Some(NOW + 5);
        // WHEN
        let done = complete(&current, NOW + 1, "msg-1", &email());
        // THEN
        assert_eq!(done.version, current.version + 1);
        assert_eq!(done.facts, current.facts);
        let f = &done.fulfillment;
        assert_eq!(f.state, FulfillmentState::Sent);
        assert_eq!(f.sent_at, Some(NOW + 1));
        assert_eq!(f.message_id.as_deref(), Some("msg-1"));
        assert_eq!(f.recipient.as_deref(), Some("jordan.lee@example.com"));
        assert_eq!(
            f.subject.as_deref(),
            Some("Your download: Cinematic LUT Pack")
        );
        assert_eq!(f.lease_until, None);
        assert_eq!(done.fulfillment_status(), "sent");
    }

    #[test]
    fn given_a_transient_failure_when_attempts_remain_then_released_else_failed() {
        // GIVEN a first claim
        let Claim::Claimed(first) = claim(&paid(), NOW, &POLICY) else {
            panic!()
        };
        // WHEN it fails transiently THEN the claim goes back to pending, keeping the count
        let released = after_transient(&first, "throttled", &POLICY);
        assert_eq!(released.fulfillment.state, FulfillmentState::Pending);
        assert_eq!(released.fulfillment.attempts, 1);
        assert_eq!(
            released.fulfillment.last_error.as_deref(),
            Some("throttled")
        );
        assert_eq!(released.fulfillment_status(), "pending");
        // AND on the last attempt it is given up
        let last = sending(NOW + 60, 3);
        let failed = after_transient(&last, "throttled", &POLICY);
        assert_eq!(failed.fulfillment.state, FulfillmentState::Failed);
        assert_eq!(failed.fulfillment_status(), "failed");
    }

    #[test]
    fn given_a_rejection_when_given_up_then_failed_at_once() {
        let failed = give_up(&sending(NOW + 60, 1), "MessageRejected");
        assert_eq!(failed.fulfillment.state, FulfillmentState::Failed);
        assert_eq!(failed.fulfillment.attempts, 1);
        assert!(failed.attention().contains(&"fulfillment_failed"));
    }
}
