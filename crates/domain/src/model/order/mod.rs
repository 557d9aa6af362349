//! One order: the facts Stripe told us (merged, never overwritten), the fulfillment record that
//! only the fulfillment function writes, and everything derived from them.

pub mod facts;
pub mod failure;
pub mod failure_tally;
pub mod from_event;
pub mod mail;
pub mod message_facts;
pub mod notices;
pub mod refunds;
pub mod reg;
pub mod view;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;
use facts::{AttemptState, Facts, RefundFact};

/// The order as stored: identity, a version for conditional writes, facts and fulfillment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub seller_id: String,
    /// The Stripe PaymentIntent id (`pi_…`), or the Checkout Session id (`cs_…`) of an order
    /// that needed no payment (contract section 2): never assume one prefix.
    pub order_id: String,
    /// Incremented on every write; every write is conditional on the version it read.
    pub version: u64,
    pub facts: Facts,
    #[serde(default)]
    pub fulfillment: FulfillmentRecord,
}

/// `payment_status` of the contract (section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
    Canceled,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Canceled => "canceled",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Pending,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Canceled,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
    ];
}

/// Where the delivery email stands. `Sending` is a claim with a lease, shown as `pending`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentState {
    #[default]
    Pending,
    Sending,
    Sent,
    Failed,
}

impl FulfillmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfillmentState::Pending => "pending",
            FulfillmentState::Sending => "sending",
            FulfillmentState::Sent => "sent",
            FulfillmentState::Failed => "failed",
        }
    }
}

/// What the fulfillment function recorded about the delivery email.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfillmentRecord {
    // Defaults are not stored: an order item pays for every byte on every write.
    #[serde(default, skip_serializing_if = "is_pending")]
    pub state: FulfillmentState,
    /// While `Sending`: until when the claim holds; a crashed sender's claim is taken over after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The product the delivery email's link names (its token signs it, so the link keeps
    /// serving it whatever metadata arrives later: contract section 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The version of the delivery email's template it was sent with (`fulfillment::compose`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_version: Option<u32>,
    /// The seller's resends of the delivery email (contract section 10), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resends: Vec<mail::ResendRecord>,
}

fn is_pending(state: &FulfillmentState) -> bool {
    *state == FulfillmentState::Pending
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl FulfillmentRecord {
    /// The product the newest email that went out names (a resend's, else the first email's),
    /// when it is known.
    pub fn product_emailed(&self) -> Option<&str> {
        self.resends
            .iter()
            .filter(|r| r.sent_at.is_some())
            .max_by_key(|r| r.sent_at)
            .map(|r| r.product_id.as_deref())
            .unwrap_or(self.product_id.as_deref())
    }
}

impl Facts {
    pub fn amount(&self) -> Option<i64> {
        self.amount.as_ref().map(|r| r.value)
    }

    pub fn customer_email(&self) -> Option<&str> {
        self.customer_email.as_ref().map(|r| r.value.as_str())
    }

    pub fn product_id(&self) -> Option<&str> {
        self.product_id.as_ref().map(|r| r.value.as_str())
    }

    /// `product_name` falls back to `product_id` (contract section 4).
    pub fn product_name(&self) -> Option<&str> {
        self.product_name
            .as_ref()
            .map(|r| r.value.as_str())
            .or_else(|| self.product_id())
    }

    /// The storefront's name for the seller's store, if it sent one (and it is not blank).
    pub fn store_name(&self) -> Option<&str> {
        self.store_name
            .as_ref()
            .map(|r| r.value.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn reference(&self) -> Option<&str> {
        self.reference.as_ref().map(|r| r.value.as_str())
    }

    pub fn currency(&self) -> Option<&str> {
        self.currency.as_ref().map(|r| r.value.as_str())
    }

    /// The PaymentIntent's `created`, else the earliest event's.
    pub fn created_at(&self) -> i64 {
        self.pi_created.or(self.first_event_at).unwrap_or(0)
    }

    pub fn succeeded(&self) -> bool {
        self.succeeded_at.is_some()
    }

    /// The larger of the active refunds' sum and the charge's `amount_refunded` less the refunds
    /// known to have failed or been canceled (contract section 4).
    ///
    /// Saturating: amounts come from outside, and a sum that overflows must not panic (debug) or
    /// wrap into a small number (release).
    pub fn refunded_amount(&self) -> i64 {
        let sum = |keep: fn(&RefundFact) -> bool| {
            self.refunds
                .values()
                .filter(|r| keep(r))
                .fold(0i64, |total, r| total.saturating_add(r.amount))
        };
        // Refunds kept in their own items count through the tally (see `refunds`).
        let spilled = &self.spilled_refunds;
        let active = sum(RefundFact::is_active).saturating_add(spilled.active);
        let reversed = sum(RefundFact::is_reversed).saturating_add(spilled.reversed);
        let floor = self
            .charge_amount_refunded
            .as_ref()
            .map_or(0, |r| r.value.saturating_sub(reversed));
        active.max(floor).max(0)
    }

    pub fn payment_status(&self) -> PaymentStatus {
        if self.succeeded() {
            let refunded = self.refunded_amount();
            return match self.amount() {
                _ if refunded <= 0 => PaymentStatus::Succeeded,
                Some(amount) if refunded >= amount => PaymentStatus::Refunded,
                _ => PaymentStatus::PartiallyRefunded,
            };
        }
        match self.attempt.as_ref().map(|r| r.value) {
            Some(AttemptState::Failed) => PaymentStatus::Failed,
            Some(AttemptState::Canceled) => PaymentStatus::Canceled,
            Some(AttemptState::Processing) | None => PaymentStatus::Pending,
        }
    }

    pub fn any_dispute_lost(&self) -> bool {
        self.disputes.values().any(|d| d.status() == "lost")
    }

    /// True after a full refund or while any dispute stands lost.
    pub fn access_revoked(&self) -> bool {
        self.payment_status() == PaymentStatus::Refunded || self.any_dispute_lost()
    }

    pub fn early_fraud_warning(&self) -> bool {
        !self.fraud_warnings.is_empty()
    }

    /// Paid and not revoked: the customer is owed the product.
    pub fn paid_and_not_revoked(&self) -> bool {
        matches!(
            self.payment_status(),
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
        ) && !self.access_revoked()
    }

    /// Paid, not revoked, and we know whom to send what.
    pub fn deliverable(&self) -> bool {
        self.paid_and_not_revoked()
            && self.customer_email().is_some()
            && self.product_id().is_some()
    }

    /// The most recently created dispute (ties by id).
    pub fn latest_dispute(&self) -> Option<(&String, &facts::DisputeFact)> {
        self.disputes
            .iter()
            .max_by_key(|(id, d)| (d.created.unwrap_or(0), (*id).clone()))
    }

    /// The most recent failed attempt (kept after a later success). A failure that carries no
    /// code is the same attempt as the latest coded one when there is one, so it never hides
    /// that failure's code (contract section 4); alone, it is the failure.
    pub fn latest_failure(&self) -> Option<&facts::FailedAttempt> {
        let latest = |coded: bool| {
            self.failures
                .iter()
                .filter(|(_, f)| !coded || f.has_code())
                .max_by_key(|(key, f)| (f.at, key.as_str()))
                .map(|(_, f)| f)
        };
        latest(true).or_else(|| latest(false))
    }
}

impl OrderRecord {
    /// A new, empty order for this seller.
    pub fn new(seller_id: impl Into<String>, order_id: impl Into<String>) -> Self {
        Self {
            seller_id: seller_id.into(),
            order_id: order_id.into(),
            version: 0,
            facts: Facts::default(),
            fulfillment: FulfillmentRecord::default(),
        }
    }

    /// Whether `created_at` may still move: the order is a PaymentIntent's, and that
    /// PaymentIntent's own `created` (the contract's `created_at`) has not been seen yet, so the
    /// earliest event's time stands in for it. Once seen it never changes again; an order with
    /// no PaymentIntent (a free checkout, keyed `cs_…`) is settled from its first event.
    pub fn created_at_provisional(&self) -> bool {
        self.facts.pi_created.is_none() && self.order_id.starts_with("pi_")
    }

    /// Whether the fulfillment function should (still) send the email.
    pub fn awaiting_delivery(&self) -> bool {
        self.facts.deliverable()
            && matches!(
                self.fulfillment.state,
                FulfillmentState::Pending | FulfillmentState::Sending
            )
    }

    /// `fulfillment.status` as the API shows it.
    pub fn fulfillment_status(&self) -> &'static str {
        match self.fulfillment.state {
            FulfillmentState::Sent => "sent",
            FulfillmentState::Failed => "failed",
            _ if self.facts.access_revoked() => "skipped",
            _ => "pending",
        }
    }

    /// What needs the seller (contract section 4).
    pub fn attention(&self) -> Vec<&'static str> {
        let f = &self.facts;
        let mut out = Vec::new();
        if f.refunds.values().any(|r| r.is_reversed()) || f.spilled_refunds.reversed_count > 0 {
            out.push("refund_failed");
        }
        if f.disputes
            .values()
            .any(|d| matches!(d.status(), "needs_response" | "warning_needs_response"))
        {
            out.push("dispute_needs_response");
        }
        if f.fraud_warnings.values().any(|w| w.actionable.value) && !f.access_revoked() {
            out.push("early_fraud_warning");
        }
        if f.warning_actions.iter().any(|(id, a)| {
            a.refund_failed() && f.fraud_warnings.get(id).is_some_and(|w| w.actionable.value)
        }) && !f.access_revoked()
        {
            out.push("efw_refund_failed");
        }
        if f.paid_and_not_revoked()
            && (f.customer_email().is_none() || f.product_id().is_none())
            && self.fulfillment.state != FulfillmentState::Sent
        {
            out.push("fulfillment_blocked");
        }
        if self.fulfillment.state == FulfillmentState::Failed {
            out.push("fulfillment_failed");
        }
        if mail::delivery_failed(self) {
            out.push("delivery_failed");
        }
        if self.product_changed_after_email() {
            out.push("product_changed");
        }
        out
    }

    /// The customer's link serves the product it was emailed for, and the storefront's metadata
    /// now names another (contract section 2's precedence decided after the email went out): the
    /// seller should check which one was bought, and resend the link if it was the other.
    pub fn product_changed_after_email(&self) -> bool {
        self.fulfillment.state == FulfillmentState::Sent
            && matches!(
                (self.fulfillment.product_emailed(), self.facts.product_id()),
                (Some(emailed), Some(now)) if emailed != now
            )
    }

    /// Whether a download link may serve `product_id` (contract section 7): only a product one
    /// of this order's emails named, the first email's (recorded when it was claimed, before it
    /// went out) or a resend's. A link is signed, so this holds against a leaked key or a
    /// signing mistake: a token that names another product of another order opens nothing.
    /// An order whose email went out before the product was recorded with it serves the
    /// product the order names now, as it did then.
    pub fn serves_product(&self, product_id: &str) -> bool {
        let f = &self.fulfillment;
        let named = f
            .product_id
            .iter()
            .chain(f.resends.iter().filter_map(|r| r.product_id.as_ref()));
        let mut any = false;
        for p in named {
            if p == product_id {
                return true;
            }
            any = true;
        }
        !any && f.state == FulfillmentState::Sent && self.facts.product_id() == Some(product_id)
    }

    /// The newest fact's time: the newest event, the delivery email, a resend or an SES event.
    pub fn updated_at(&self) -> i64 {
        let events = self.facts.last_event_at.unwrap_or(0);
        let resent = self.fulfillment.resends.iter().filter_map(|r| r.sent_at);
        let ses = self
            .facts
            .mail
            .values()
            .filter_map(|m| m.state.as_ref())
            .map(|s| s.at_ms.div_euclid(1000));
        resent
            .chain(ses)
            .fold(events.max(self.fulfillment.sent_at.unwrap_or(0)), i64::max)
    }

    pub fn created_at_rfc3339(&self) -> String {
        rfc3339(self.facts.created_at())
    }
}
