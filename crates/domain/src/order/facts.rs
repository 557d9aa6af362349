//! The facts we keep about one order, each keyed by its Stripe object, and how two sets of facts
//! merge.
//!
//! `Facts::merge` is commutative, associative and idempotent: every register keeps the greatest
//! value under a total order, every map merges per key, and every bounded set keeps the greatest N
//! under a total order. So the stored order is the same whatever the order and number of deliveries
//! (contract section 3); everything the API shows is *derived* from these facts (see `view`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::refunds::INLINE_REFUNDS;
use super::refunds::{refund_age, RefundTally, SpilledRefund};

/// How many failed attempts, timeline entries and objects per kind an order keeps at most. A card
/// tester can make hundreds of attempts on one PaymentIntent; the item must stay small.
pub const MAX_FAILED_ATTEMPTS: usize = 8;
pub const MAX_TIMELINE: usize = 40;
pub const MAX_OBJECTS: usize = 32;
/// Events kept per dispute (the newest): a dispute's whole life is about six.
pub const MAX_DISPUTE_HISTORY: usize = 16;
/// Refunds one set of facts holds at most: a safety bound for facts waiting under a charge whose
/// order is not known yet. An order keeps far fewer on its item ([`INLINE_REFUNDS`]) and the rest
/// in items of their own, so every refund counts (see `order::refunds`).
pub const MAX_REFUNDS: usize = 256;

/// A register whose winner is the greatest `(rank, at, value)`: higher-priority source first, then
/// the newest fact, then (only to break exact ties deterministically) the value itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reg<T> {
    /// Priority of the source that said it (higher wins); 0 where all sources are equal.
    #[serde(rename = "r", default, skip_serializing_if = "is_zero")]
    pub rank: u8,
    #[serde(rename = "t")]
    pub at: i64,
    #[serde(rename = "v")]
    pub value: T,
}

fn is_zero(r: &u8) -> bool {
    *r == 0
}

impl<T: Ord + Clone> Reg<T> {
    pub fn new(rank: u8, at: i64, value: T) -> Self {
        Self { rank, at, value }
    }
}

/// Merges two optional registers: the greater wins.
pub fn merge_reg<T: Ord + Clone>(mine: &mut Option<Reg<T>>, other: &Option<Reg<T>>) {
    if let Some(o) = other {
        match mine {
            Some(m) if *m >= *o => {}
            _ => *mine = Some(o.clone()),
        }
    }
}

fn merge_min(mine: &mut Option<i64>, other: Option<i64>) {
    if let Some(o) = other {
        *mine = Some(mine.map_or(o, |m| m.min(o)));
    }
}

fn merge_max(mine: &mut Option<i64>, other: Option<i64>) {
    if let Some(o) = other {
        *mine = Some(mine.map_or(o, |m| m.max(o)));
    }
}

/// Where a descriptive value came from; the contract ranks them (section 2). Higher wins.
pub mod source {
    pub const CHARGE: u8 = 1;
    pub const PAYMENT_INTENT: u8 = 2;
    pub const CHECKOUT: u8 = 3;

    /// `amount` and `currency`: the payment's, not the session's, which may be in the
    /// customer's presentment currency (Adaptive Pricing; contract section 4). Higher wins.
    pub mod money {
        pub const CHECKOUT: u8 = 1;
        pub const CHARGE: u8 = 2;
        pub const PAYMENT_INTENT: u8 = 3;
    }

    /// The buyer's billing name and address (dispute evidence): the charge that succeeded
    /// describes the payment disputed, over a declined attempt's. Higher wins.
    pub mod billing {
        pub const OTHER_CHARGE: u8 = 1;
        pub const SUCCEEDED_CHARGE: u8 = 2;
    }

    /// The customer's email, in contract section 2's order. Higher wins.
    pub mod email {
        pub const CHARGE_BILLING: u8 = 1;
        pub const CHARGE_RECEIPT: u8 = 2;
        pub const PAYMENT_INTENT: u8 = 3;
        pub const CHECKOUT: u8 = 4;
    }
}

/// The latest non-success state of the payment: processing, a failed attempt, or a cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    // Declaration order is the tie-break at equal `created`: processing < failed < canceled.
    Processing,
    Failed,
    Canceled,
}

/// One failed attempt, combined across `payment_intent.payment_failed` and `charge.failed` by its
/// charge id (or by a synthetic key when no charge exists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedAttempt {
    /// The newest `created` of the events that described this attempt.
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_type: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_reason: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<Reg<String>>,
}

impl FailedAttempt {
    /// Whether anything says why it failed; a code-less failure (e.g.
    /// `checkout.session.async_payment_failed`) never hides a coded one (contract section 4).
    pub fn has_code(&self) -> bool {
        self.decline_code.is_some()
            || self.code.is_some()
            || self.failure_code.is_some()
            || self.outcome_type.is_some()
            || self.outcome_reason.is_some()
    }

    fn merge(&mut self, other: &FailedAttempt) {
        self.at = self.at.max(other.at);
        merge_reg(&mut self.decline_code, &other.decline_code);
        merge_reg(&mut self.code, &other.code);
        merge_reg(&mut self.message, &other.message);
        merge_reg(&mut self.outcome_type, &other.outcome_type);
        merge_reg(&mut self.outcome_reason, &other.outcome_reason);
        merge_reg(&mut self.failure_code, &other.failure_code);
        merge_reg(&mut self.failure_message, &other.failure_message);
    }
}

/// A refund's latest known state: the status of the latest event about it (issue 18 class 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundFact {
    /// `(step, event created, status)`, compared by [`latest_first`]: the latest event wins, the
    /// lifecycle step breaks a tie within one second, then the status name.
    pub state: Reg<String>,
    pub amount: i64,
    /// The refund object's own `created`.
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<Reg<String>>,
}

/// The order of two status registers: the event's `created` first, then the step, then the
/// value. A total order, so "keep the greater" stays commutative, associative and idempotent.
fn latest_first(r: &Reg<String>) -> (i64, u8, &str) {
    (r.at, r.rank, r.value.as_str())
}

/// A refund status's step, only to break a tie within one second (contract section 4):
/// `requires_action < pending < (a status Stripe adds) < succeeded < failed | canceled`.
pub fn refund_rank(status: &str) -> u8 {
    match status {
        "requires_action" => 0,
        "pending" => 1,
        "succeeded" => 3,
        "failed" | "canceled" => 4,
        _ => 2,
    }
}

impl RefundFact {
    pub fn merge(&mut self, other: &RefundFact) {
        if latest_first(&other.state) > latest_first(&self.state) {
            self.state = other.state.clone();
        }
        self.amount = self.amount.max(other.amount);
        merge_min(&mut self.created, other.created);
        merge_reg(&mut self.failure_reason, &other.failure_reason);
    }

    pub fn status(&self) -> &str {
        &self.state.value
    }

    /// Counts towards `refunded_amount` (contract section 4).
    pub fn is_active(&self) -> bool {
        matches!(self.status(), "pending" | "requires_action" | "succeeded")
    }

    /// Gives its amount back.
    pub fn is_reversed(&self) -> bool {
        matches!(self.status(), "failed" | "canceled")
    }
}

/// A dispute's latest known state: the status of the latest event about it (issue 18 class 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeFact {
    pub state: Reg<String>,
    /// Every event of this dispute (the newest [`MAX_DISPUTE_HISTORY`]): the timeline's dispute
    /// entries, kept with the dispute as three-value lists rather than as notes in the order's
    /// history, which cost an order item more than twice the bytes (issue 17).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub history: BTreeSet<DisputeEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Reg<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_due_by: Option<Reg<i64>>,
    /// The dispute object's own `created`: orders several disputes on one payment.
    #[serde(default)]
    pub created: Option<i64>,
    /// Flags that only ever turn on.
    #[serde(default)]
    pub funds_withdrawn: bool,
    #[serde(default)]
    pub funds_reinstated: bool,
}

/// A dispute status's step, only to break a tie within one second (contract section 4):
/// `warning_needs_response < warning_under_review < needs_response < under_review < (a status
/// Stripe adds, passed through) < warning_closed | won | lost | prevented`.
pub fn dispute_rank(status: &str) -> u8 {
    match status {
        "warning_needs_response" => 0,
        "warning_under_review" => 1,
        "needs_response" => 2,
        "under_review" => 3,
        s if dispute_is_closed(s) => 5,
        _ => 4,
    }
}

/// A dispute that is over: no evidence can be sent and reconcile stops re-reading it.
pub fn dispute_is_closed(status: &str) -> bool {
    matches!(status, "won" | "lost" | "prevented" | "warning_closed")
}

/// The step a dispute event reports: its type after `charge.dispute.` (stored as one letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DisputeStep {
    #[serde(rename = "c")]
    Created,
    #[serde(rename = "u")]
    Updated,
    #[serde(rename = "x")]
    Closed,
    #[serde(rename = "w")]
    FundsWithdrawn,
    #[serde(rename = "r")]
    FundsReinstated,
}

impl DisputeStep {
    /// The event type's suffix: `charge.dispute.<this>`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStep::Created => "created",
            DisputeStep::Updated => "updated",
            DisputeStep::Closed => "closed",
            DisputeStep::FundsWithdrawn => "funds_withdrawn",
            DisputeStep::FundsReinstated => "funds_reinstated",
        }
    }
}

/// One event of a dispute: the event's `created`, its step, and the status it reported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DisputeEvent(pub i64, pub DisputeStep, pub String);

impl DisputeFact {
    fn merge(&mut self, other: &DisputeFact) {
        self.history.extend(other.history.iter().cloned());
        while self.history.len() > MAX_DISPUTE_HISTORY {
            self.history.pop_first();
        }
        if latest_first(&other.state) > latest_first(&self.state) {
            self.state = other.state.clone();
        }
        merge_reg(&mut self.reason, &other.reason);
        merge_reg(&mut self.amount, &other.amount);
        merge_reg(&mut self.evidence_due_by, &other.evidence_due_by);
        merge_min(&mut self.created, other.created);
        self.funds_withdrawn |= other.funds_withdrawn;
        self.funds_reinstated |= other.funds_reinstated;
    }

    pub fn status(&self) -> &str {
        &self.state.value
    }
}

/// A Radar early fraud warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudWarningFact {
    /// Latest `actionable` by event `created` (false wins a tie: it is the later state).
    pub actionable: Reg<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraud_type: Option<Reg<String>>,
    #[serde(default)]
    pub created: Option<i64>,
}

impl FraudWarningFact {
    fn merge(&mut self, other: &FraudWarningFact) {
        // (at, !actionable): at equal time the non-actionable state wins.
        let key = |r: &Reg<bool>| (r.at, !r.value);
        if key(&other.actionable) > key(&self.actionable) {
            self.actionable = other.actionable.clone();
        }
        merge_reg(&mut self.fraud_type, &other.fraud_type);
        merge_min(&mut self.created, other.created);
    }
}

/// What we filed to one dispute through Stripe's API (contract section 9), by dispute id: kept
/// apart from [`DisputeFact`] (what Stripe says about the dispute) so both merge on their own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFact {
    /// The last call Stripe accepted (draft or submission): the greatest wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<i64>,
    /// The accepted submission: Stripe accepts one, so the earliest wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<i64>,
    /// The `Idempotency-Key` generations of the receipt upload and of the dispute update. Stripe
    /// replays a key's first answer for 24 hours, failures included: each generation moves on
    /// when Stripe definitively refused or failed that call, so the next request is really tried
    /// again, with the same key in every process (a cold one too). The greatest wins. Not an
    /// accepted call: the order's `evidence` stays as it was.
    #[serde(default, skip_serializing_if = "is_zero_u32", rename = "ug")]
    pub upload_generation: u32,
    #[serde(default, skip_serializing_if = "is_zero_u32", rename = "dg")]
    pub update_generation: u32,
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

impl EvidenceFact {
    fn merge(&mut self, other: &EvidenceFact) {
        merge_max(&mut self.saved_at, other.saved_at);
        merge_min(&mut self.submitted_at, other.submitted_at);
        self.upload_generation = self.upload_generation.max(other.upload_generation);
        self.update_generation = self.update_generation.max(other.update_generation);
    }

    /// Whether Stripe ever accepted evidence for the dispute (else the order shows `null`).
    pub fn accepted(&self) -> bool {
        self.saved_at.is_some() || self.submitted_at.is_some()
    }
}

/// The card a charge was paid with (`payment_method_details.card`): one register, so the
/// fingerprint and the brand always come from the same charge. Short names: the order item
/// pays for every byte on every write (the charge itself is in `charges`: [`Facts::paid_charge`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CardFact {
    /// Stripe's card fingerprint: the same card number gives the same value within one account.
    #[serde(rename = "fp", default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// `visa`, `mastercard`, `amex`, … as Stripe spells it (lower case).
    #[serde(rename = "br", default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
}

/// What Stripe says of a dispute's Visa Compelling Evidence 3.0 eligibility
/// (`evidence_details.enhanced_eligibility.visa_compelling_evidence_3`): kept apart from the
/// dispute's other fields, the newest event's statement wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ce3Eligibility {
    /// `not_qualified`, `qualified`, `requires_action`, or a newer value passed through.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// What Stripe says is missing, e.g. `missing_prior_undisputed_transactions`.
    #[serde(rename = "ra", default, skip_serializing_if = "Vec::is_empty")]
    pub required_actions: Vec<String>,
}

/// One line of the order's history, as the seller sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub kind: String,
    pub detail: String,
}

/// Everything Stripe has told us about one order. Merged, never overwritten.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The PaymentIntent's own `created` (the purchase date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pi_created: Option<i64>,
    /// Earliest and newest event `created` folded in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub livemode: Option<Reg<bool>>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<Reg<String>>,
    /// The storefront's `store_name` metadata: what the delivery email calls the seller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<Reg<String>>,
    /// For dispute evidence only (contract section 9), never in the order's JSON nor a log: the
    /// storefront's `customer_ip` metadata when it is a valid IP address (canonical form), and
    /// the charge's `billing_details` name and address (one bounded line, see `from_event`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ip: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Reg<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reg<String>>,
    /// For Visa Compelling Evidence 3.0 (contract section 9.5), never in the order's JSON nor a
    /// log: the storefront's `customer_account_id` and `device_fingerprint` metadata (validated,
    /// by the same source precedence as `customer_ip`), and the paying card (its fingerprint,
    /// brand and charge), the succeeded charge's over a declined attempt's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_account_id: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_fingerprint: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Reg<CardFact>>,

    /// Earliest success signal (PaymentIntent succeeded, a succeeded or refunded Charge, a paid
    /// Checkout Session). A success never goes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded_at: Option<i64>,
    /// Latest non-success state, ordered by `(event created, state)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<Reg<AttemptState>>,
    /// Failed attempts by charge id (or synthetic key), the newest few.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, FailedAttempt>,
    /// The latest Charge's cumulative `amount_refunded`, by event `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_amount_refunded: Option<Reg<i64>>,
    /// The newest refunds; older ones are in items of their own (see `order::refunds`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refunds: BTreeMap<String, RefundFact>,
    /// What the refunds kept in their own items add up to (see `order::refunds`).
    #[serde(default, skip_serializing_if = "RefundTally::is_empty")]
    pub spilled_refunds: RefundTally,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub disputes: BTreeMap<String, DisputeFact>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fraud_warnings: BTreeMap<String, FraudWarningFact>,
    /// Charges known to belong to this order (so charge-only objects can find it).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub charges: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub timeline: BTreeSet<TimelineEntry>,
    /// What SES reported about the order's emails, by SES message id (contract section 10).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mail: BTreeMap<String, crate::delivery::MessageFacts>,
    /// Evidence filed to each dispute, by dispute id (contract section 9).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dispute_evidence: BTreeMap<String, EvidenceFact>,
    /// Stripe's Visa CE 3.0 eligibility of each dispute, by dispute id, when an event stated it
    /// (contract section 9.5): apart from [`DisputeFact`], the newest event's statement wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dispute_ce3: BTreeMap<String, Reg<Ce3Eligibility>>,
}

impl Facts {
    /// Folds `other` into `self`. Commutative, associative and idempotent.
    pub fn merge(&mut self, other: &Facts) {
        merge_min(&mut self.pi_created, other.pi_created);
        merge_min(&mut self.first_event_at, other.first_event_at);
        merge_max(&mut self.last_event_at, other.last_event_at);
        merge_reg(&mut self.livemode, &other.livemode);
        merge_reg(&mut self.reference, &other.reference);
        merge_reg(&mut self.product_id, &other.product_id);
        merge_reg(&mut self.product_name, &other.product_name);
        merge_reg(&mut self.customer_email, &other.customer_email);
        merge_reg(&mut self.store_name, &other.store_name);
        merge_reg(&mut self.customer_ip, &other.customer_ip);
        merge_reg(&mut self.customer_name, &other.customer_name);
        merge_reg(&mut self.billing_address, &other.billing_address);
        merge_reg(&mut self.amount, &other.amount);
        merge_reg(&mut self.currency, &other.currency);
        merge_reg(&mut self.customer_account_id, &other.customer_account_id);
        merge_reg(&mut self.device_fingerprint, &other.device_fingerprint);
        merge_reg(&mut self.card, &other.card);
        merge_min(&mut self.succeeded_at, other.succeeded_at);
        merge_reg(&mut self.attempt, &other.attempt);
        merge_reg(
            &mut self.charge_amount_refunded,
            &other.charge_amount_refunded,
        );

        merge_map(&mut self.failures, &other.failures, FailedAttempt::merge);
        keep_newest(&mut self.failures, MAX_FAILED_ATTEMPTS, |k, f| {
            (f.at, k.clone())
        });
        merge_map(&mut self.refunds, &other.refunds, RefundFact::merge);
        keep_newest(&mut self.refunds, MAX_REFUNDS, |k, r| {
            (r.created, k.clone())
        });
        self.spilled_refunds.merge(&other.spilled_refunds);
        merge_map(&mut self.disputes, &other.disputes, DisputeFact::merge);
        keep_newest(&mut self.disputes, MAX_OBJECTS, |k, d| {
            (d.created, k.clone())
        });
        merge_map(
            &mut self.fraud_warnings,
            &other.fraud_warnings,
            FraudWarningFact::merge,
        );
        keep_newest(&mut self.fraud_warnings, MAX_OBJECTS, |k, w| {
            (w.created, k.clone())
        });

        self.charges.extend(other.charges.iter().cloned());
        while self.charges.len() > MAX_OBJECTS {
            self.charges.pop_first();
        }
        merge_map(
            &mut self.dispute_evidence,
            &other.dispute_evidence,
            EvidenceFact::merge,
        );
        // Bounded like the disputes it belongs to: the greatest ids, a pure function of the union.
        while self.dispute_evidence.len() > MAX_OBJECTS {
            self.dispute_evidence.pop_first();
        }
        merge_map(&mut self.dispute_ce3, &other.dispute_ce3, |mine, other| {
            if other > mine {
                *mine = other.clone();
            }
        });
        while self.dispute_ce3.len() > MAX_OBJECTS {
            self.dispute_ce3.pop_first();
        }
        self.timeline.extend(other.timeline.iter().cloned());
        while self.timeline.len() > MAX_TIMELINE {
            self.timeline.pop_first();
        }
        merge_map(
            &mut self.mail,
            &other.mail,
            crate::delivery::MessageFacts::merge,
        );
        keep_newest_messages(&mut self.mail, crate::delivery::MAX_MESSAGES);
    }

    /// Moves the oldest refunds past `keep` (`at_most` of them) out of the order item, counting
    /// them in the tally; returns them, to be written as items of their own in the same write as the order.
    pub fn spill_refunds(&mut self, keep: usize, at_most: usize) -> Vec<SpilledRefund> {
        let mut out = Vec::new();
        while self.refunds.len() > keep && out.len() < at_most {
            let Some(oldest) = self
                .refunds
                .iter()
                .min_by_key(|(id, r)| refund_age(id, r))
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            if let Some(fact) = self.refunds.remove(&oldest) {
                self.spilled_refunds.add(&fact);
                out.push(SpilledRefund {
                    refund_id: oldest,
                    fact,
                });
            }
        }
        out
    }

    /// The charge that paid: a charge of the order that no failed attempt names (a PaymentIntent
    /// succeeds once; among several, the greatest id, so the answer is stable).
    pub fn paid_charge(&self) -> Option<&str> {
        self.charges
            .iter()
            .rev()
            .find(|c| !self.failures.contains_key(*c))
            .map(String::as_str)
    }

    /// `self` merged with `other`, and whether that changed anything.
    pub fn merged(&self, other: &Facts) -> (Facts, bool) {
        let mut next = self.clone();
        next.merge(other);
        let changed = next != *self;
        (next, changed)
    }
}

fn merge_map<V: Clone>(
    mine: &mut BTreeMap<String, V>,
    other: &BTreeMap<String, V>,
    merge: impl Fn(&mut V, &V),
) {
    for (key, value) in other {
        match mine.get_mut(key) {
            Some(existing) => merge(existing, value),
            None => {
                mine.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Keeps the `max` entries with the greatest rank. Top-N of a union is itself a merge that is
/// commutative, associative and idempotent, so bounding does not break convergence.
fn keep_newest<V, R: Ord>(
    map: &mut BTreeMap<String, V>,
    max: usize,
    rank: impl Fn(&String, &V) -> R,
) {
    if map.len() <= max {
        return;
    }
    let mut ranked: Vec<(R, String)> = map.iter().map(|(k, v)| (rank(k, v), k.clone())).collect();
    ranked.sort();
    for (_, key) in ranked.into_iter().take(map.len() - max) {
        map.remove(&key);
    }
}

/// Bounds the SES facts to the `max` messages SES accepted last (ties by id).
pub fn keep_newest_messages(
    mail: &mut BTreeMap<String, crate::delivery::MessageFacts>,
    max: usize,
) {
    keep_newest(mail, max, |k, m| (m.accepted_ms, k.clone()));
}
