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
pub use super::refunds::{refund_rank, RefundFact};
use super::reg::{latest_first, merge_max, merge_min};
pub use super::reg::{merge_reg, Reg};

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

/// A dispute's latest known state: the status of the latest event about it (never a
/// fixed ranking of statuses: Stripe adds statuses, and events arrive in any order), and what Stripe's dispute object says about the case (contract section 9.1), each field the
/// newest fact's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeFact {
    pub state: Reg<String>,
    /// Every event of this dispute (the newest [`MAX_DISPUTE_HISTORY`]): the timeline's dispute
    /// entries, kept with the dispute as three-value lists rather than as notes in the order's
    /// history, which cost an order item more than twice the bytes (an
    /// order item stays under 4 KB, one read unit on a list page).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub history: BTreeSet<DisputeEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Reg<i64>>,
    /// Stripe's `evidence_details.due_by`; 0 when Stripe says no response is possible (a
    /// newer 0 wins over an older date, so a deadline Stripe withdrew is not shown as open).
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
    /// `payment_method_details.card.case_type` (`inquiry`, `chargeback`, `compliance`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_type: Option<Reg<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_reason_code: Option<Reg<String>>,
    /// `evidence_details.past_due`: the last submission reached Stripe after the due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub past_due: Option<Reg<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_count: Option<Reg<i64>>,
    /// `evidence_details.enhanced_eligibility.visa_compelling_evidence_3`, when Stripe gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ce3: Option<Reg<Ce3Fact>>,
    /// The card's brand as the dispute names it (`visa`, …), for the CE 3.0 rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_brand: Option<Reg<String>>,
}

/// What Stripe says of a dispute's Visa Compelling Evidence 3.0 eligibility.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ce3Fact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_actions: Vec<String>,
}

/// The phase of a dispute that evidence answers: an inquiry (`warning_*` statuses) or the
/// chargeback it may escalate to on the same dispute id (contract section 9.1). Evidence is
/// recorded per phase, so a submission for the inquiry never blocks the chargeback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DisputePhase {
    Inquiry,
    Chargeback,
}

impl DisputePhase {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputePhase::Inquiry => "inquiry",
            DisputePhase::Chargeback => "chargeback",
        }
    }

    /// The key of this phase's [`EvidenceFact`] in `Facts::dispute_evidence`: the dispute id
    /// for the chargeback (what most disputes only ever are), `<id>#inquiry` for the inquiry.
    pub fn evidence_key(self, dispute_id: &str) -> String {
        match self {
            DisputePhase::Chargeback => dispute_id.to_owned(),
            DisputePhase::Inquiry => format!("{dispute_id}#inquiry"),
        }
    }
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
        merge_reg(&mut self.case_type, &other.case_type);
        merge_reg(&mut self.network_reason_code, &other.network_reason_code);
        merge_reg(&mut self.past_due, &other.past_due);
        merge_reg(&mut self.submission_count, &other.submission_count);
        merge_reg(&mut self.ce3, &other.ce3);
        merge_reg(&mut self.card_brand, &other.card_brand);
    }

    pub fn status(&self) -> &str {
        &self.state.value
    }

    /// The phase the dispute is in now: its status decides, so the newest fact does.
    pub fn phase(&self) -> DisputePhase {
        if self.status().starts_with("warning_") {
            DisputePhase::Inquiry
        } else {
            DisputePhase::Chargeback
        }
    }

    /// The deadline, when Stripe gave one that allows a response (`due_by` > 0).
    pub fn due_by(&self) -> Option<i64> {
        self.evidence_due_by
            .as_ref()
            .map(|r| r.value)
            .filter(|d| *d > 0)
    }

    pub fn case_type(&self) -> Option<&str> {
        self.case_type.as_ref().map(|r| r.value.as_str())
    }

    pub fn reason(&self) -> Option<&str> {
        self.reason.as_ref().map(|r| r.value.as_str())
    }

    /// A compliance case (reason `noncompliant` or case type `compliance`): filing costs a
    /// network fee the seller must acknowledge, and nothing is filed for them automatically.
    pub fn is_compliance(&self) -> bool {
        self.reason() == Some("noncompliant") || self.case_type() == Some("compliance")
    }

    /// A Visa fraud dispute (contract section 9.5): a Visa card, and network reason code `10.4`
    /// (when Stripe gives none, reason `fraudulent`).
    pub fn is_visa_fraud(&self) -> bool {
        let visa = self
            .card_brand
            .as_ref()
            .is_some_and(|b| b.value.eq_ignore_ascii_case("visa"));
        let fraud = match &self.network_reason_code {
            Some(code) => code.value == "10.4",
            None => self.reason() == Some("fraudulent"),
        };
        visa && fraud
    }

    /// Waits for an answer: `needs_response` or `warning_needs_response`.
    pub fn needs_response(&self) -> bool {
        matches!(self.status(), "needs_response" | "warning_needs_response")
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

/// What the backend decided and did about one early fraud warning (contract section 12), by
/// warning id: kept apart from [`FraudWarningFact`] (what Stripe says) so both merge on their
/// own. The refund itself reaches the order through the webhook like any refund.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningActionFact {
    /// The seller's rule applied to the warning, once: the earliest decision wins, so a later
    /// settings change never turns a decision made into a second one.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<EfwDecided>,
    /// A refund call in flight: claimed with a conditional write before Stripe is called.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<RefundClaim>,
    /// The `Idempotency-Key`'s attempt number: moves on only after a definitive failure, so a
    /// retry after a crash or a timeout replays the same request. The greatest wins.
    #[serde(rename = "n", default, skip_serializing_if = "is_zero_u32")]
    pub attempt: u32,
    /// Stripe accepted the refund (its id): the earliest wins.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<RefundRequested>,
    /// The newest failure in words; an empty value (a later success) clears it.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<Reg<String>>,
}

/// The rule's decision about one warning, and when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EfwDecided {
    #[serde(rename = "t")]
    pub at: i64,
    #[serde(rename = "v")]
    pub decision: EfwDecision,
}

/// What the seller's `efw_auto_refund` rule made of a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EfwDecision {
    /// Refund in full: the rule is `always`.
    RefundAlways,
    /// Refund in full: the rule is `not_downloaded` and the product was never downloaded.
    RefundNotDownloaded,
    /// Not refunded: the rule is `off`.
    SettingOff,
    /// Not refunded: `not_downloaded`, and the customer downloaded the product.
    Downloaded,
    /// Not refunded: Stripe says the warning is no longer actionable.
    NotActionable,
    /// Not refunded: the order was already refunded in full.
    FullyRefunded,
    /// Not refunded: the charge is already disputed (refunding would not avoid it).
    Disputed,
    /// Not refunded: the rule would refund, but this server has no Stripe key to call Stripe
    /// with (the seller is still told of the warning).
    NoStripeKey,
}

impl EfwDecision {
    pub fn refunds(self) -> bool {
        matches!(
            self,
            EfwDecision::RefundAlways | EfwDecision::RefundNotDownloaded
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EfwDecision::RefundAlways => "refund_always",
            EfwDecision::RefundNotDownloaded => "refund_not_downloaded",
            EfwDecision::SettingOff => "setting_off",
            EfwDecision::Downloaded => "downloaded",
            EfwDecision::NotActionable => "not_actionable",
            EfwDecision::FullyRefunded => "fully_refunded",
            EfwDecision::Disputed => "disputed",
            EfwDecision::NoStripeKey => "no_stripe_key",
        }
    }

    /// The decision in the seller's words (the timeline, the notification), ending with the
    /// rule in force where the rule decided.
    pub fn words(self) -> &'static str {
        match self {
            EfwDecision::RefundAlways => {
                "refunded automatically under the seller's rule (efw_auto_refund: always)"
            }
            EfwDecision::RefundNotDownloaded => {
                "refunded automatically under the seller's rule: the product was never \
                 downloaded (efw_auto_refund: not_downloaded)"
            }
            EfwDecision::SettingOff => {
                "not refunded automatically: the seller's rule is off (efw_auto_refund: off)"
            }
            EfwDecision::Downloaded => {
                "not refunded automatically: the customer downloaded the product \
                 (efw_auto_refund: not_downloaded)"
            }
            EfwDecision::NotActionable => {
                "not refunded automatically: Stripe no longer marks the warning actionable"
            }
            EfwDecision::FullyRefunded => {
                "not refunded automatically: the order was already refunded in full"
            }
            EfwDecision::Disputed => "not refunded automatically: the payment is already disputed",
            EfwDecision::NoStripeKey => {
                "not refunded automatically: this server has no Stripe key to refund with"
            }
        }
    }
}

/// A refund call claimed before Stripe is called: whoever holds an unexpired claim is the only
/// one who may call; a claim whose holder crashed is taken over after `until`, with the same
/// attempt (so the same key: Stripe replays its first answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefundClaim {
    #[serde(rename = "u")]
    pub until: i64,
    #[serde(rename = "n")]
    pub attempt: u32,
}

/// The refund Stripe created for the warning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefundRequested {
    #[serde(rename = "t")]
    pub at: i64,
    #[serde(rename = "id")]
    pub refund_id: String,
}

impl WarningActionFact {
    fn merge(&mut self, other: &WarningActionFact) {
        if let Some(theirs) = other.decided {
            if self.decided.is_none_or(|mine| theirs < mine) {
                self.decided = Some(theirs);
            }
        }
        if other.claim > self.claim {
            self.claim = other.claim;
        }
        self.attempt = self.attempt.max(other.attempt);
        if let Some(theirs) = &other.requested {
            if self.requested.as_ref().is_none_or(|mine| theirs < mine) {
                self.requested = Some(theirs.clone());
            }
        }
        merge_reg(&mut self.last_error, &other.last_error);
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error
            .as_ref()
            .map(|r| r.value.as_str())
            .filter(|e| !e.is_empty())
    }

    /// The refund was decided and Stripe has not accepted it yet, and the last try failed.
    pub fn refund_failed(&self) -> bool {
        self.decided.is_some_and(|d| d.decision.refunds())
            && self.requested.is_none()
            && self.last_error().is_some()
    }
}

/// What we filed to one phase of one dispute through Stripe's API (contract section 9), keyed by
/// [`DisputePhase::evidence_key`]: kept apart from [`DisputeFact`] (what Stripe says about the
/// dispute) so both merge on their own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFact {
    /// The last call Stripe accepted (draft or submission): the greatest wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<i64>,
    /// The accepted submission: Stripe accepts one, so the earliest wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<i64>,
    /// Who made the submission of `submitted_at` (it goes with the earliest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<Submitter>,
    /// When the seller accepted the dispute (Stripe closed it): the earliest wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<i64>,
    /// The newest failure in words; an empty value (a later success) clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<Reg<String>>,
    /// The seller's saved statement (newest wins; empty: none), sent with any submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Reg<String>>,
    /// The sweep's plan for the automatic submission, newest plan wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Reg<AutoPlan>>,
    /// A submission in flight: claimed with a conditional write before Stripe is called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<SubmitClaim>,
    /// The `Idempotency-Key` generations of the file uploads and of the dispute update. Stripe
    /// replays a key's first answer for 24 hours, failures included, and refuses a key reused
    /// with other parameters: each generation moves on once a call has concluded (accepted, or
    /// refused or failed for good), so the next request is a new attempt with a new key, while
    /// a retry of an attempt that never concluded (a crash) reuses its key and is replayed. The
    /// greatest wins.
    #[serde(default, skip_serializing_if = "is_zero_u32", rename = "ug")]
    pub upload_generation: u32,
    #[serde(default, skip_serializing_if = "is_zero_u32", rename = "dg")]
    pub update_generation: u32,
}

/// Who submitted evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitter {
    Seller,
    Auto,
}

impl Submitter {
    pub fn as_str(self) -> &'static str {
        match self {
            Submitter::Seller => "seller",
            Submitter::Auto => "auto",
        }
    }
}

/// When the backend plans to submit, or why it will not (contract section 9.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AutoPlan {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// Why there is no planned submission (a `sweep::NoAutoSubmit` word).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// A submission claimed before Stripe is called: whoever holds an unexpired claim is the only
/// one who may submit; a claim whose holder crashed is taken over after `until`, with the same
/// generation and `as_of` (so the same request and key: Stripe replays its first answer).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubmitClaim {
    pub until: i64,
    /// The update generation the claimed call uses.
    pub generation: u32,
    /// The evidence is built from what was known at this time (downloads, SES events).
    pub as_of: i64,
    pub by: Submitter,
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

impl EvidenceFact {
    fn merge(&mut self, other: &EvidenceFact) {
        merge_max(&mut self.saved_at, other.saved_at);
        match (self.submitted_at, other.submitted_at) {
            (_, None) => {}
            (None, Some(_)) => {
                self.submitted_at = other.submitted_at;
                self.submitted_by = other.submitted_by;
            }
            (Some(mine), Some(theirs)) => {
                if (theirs, other.submitted_by) < (mine, self.submitted_by) {
                    self.submitted_at = other.submitted_at;
                    self.submitted_by = other.submitted_by;
                }
            }
        }
        merge_min(&mut self.accepted_at, other.accepted_at);
        merge_reg(&mut self.last_error, &other.last_error);
        merge_reg(&mut self.statement, &other.statement);
        merge_reg(&mut self.plan, &other.plan);
        if other.claim > self.claim {
            self.claim = other.claim.clone();
        }
        self.upload_generation = self.upload_generation.max(other.upload_generation);
        self.update_generation = self.update_generation.max(other.update_generation);
    }

    /// Whether anything was recorded for this phase that the order shows (else `null`).
    pub fn recorded(&self) -> bool {
        self.saved_at.is_some()
            || self.submitted_at.is_some()
            || self.accepted_at.is_some()
            || self.last_error().is_some()
            || self.statement().is_some()
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error
            .as_ref()
            .map(|r| r.value.as_str())
            .filter(|e| !e.is_empty())
    }

    pub fn statement(&self) -> Option<&str> {
        self.statement
            .as_ref()
            .map(|r| r.value.as_str())
            .filter(|e| !e.is_empty())
    }

    /// The planned automatic submission time, if any: none once this phase was submitted or
    /// accepted (the plan the sweep stored is then one that will never run).
    pub fn auto_submit_at(&self) -> Option<i64> {
        if self.submitted_at.is_some() || self.accepted_at.is_some() {
            return None;
        }
        self.plan.as_ref().and_then(|p| p.value.at)
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
    pub mail: BTreeMap<String, crate::order::message_facts::MessageFacts>,
    /// Evidence filed to each dispute, by dispute id (contract section 9).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dispute_evidence: BTreeMap<String, EvidenceFact>,
    /// What the backend did about each early fraud warning, by warning id (contract section 12).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub warning_actions: BTreeMap<String, WarningActionFact>,
    /// The seller's notifications about this order, by occurrence key (contract section 12).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notices: BTreeMap<String, super::notices::NoticeFact>,
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
        merge_map(
            &mut self.warning_actions,
            &other.warning_actions,
            WarningActionFact::merge,
        );
        // Bounded like the warnings they belong to: the greatest ids, a pure function of the union.
        while self.warning_actions.len() > MAX_OBJECTS {
            self.warning_actions.pop_first();
        }
        merge_map(
            &mut self.notices,
            &other.notices,
            super::notices::NoticeFact::merge,
        );
        // The greatest keys, a pure function of the union (the bound is above what the sources
        // can produce: see `notices::MAX_NOTICES`).
        while self.notices.len() > super::notices::MAX_NOTICES {
            self.notices.pop_first();
        }
        self.timeline.extend(other.timeline.iter().cloned());
        while self.timeline.len() > MAX_TIMELINE {
            self.timeline.pop_first();
        }
        merge_map(
            &mut self.mail,
            &other.mail,
            crate::order::message_facts::MessageFacts::merge,
        );
        keep_newest_messages(&mut self.mail, super::mail::MAX_MESSAGES);
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
    mail: &mut BTreeMap<String, crate::order::message_facts::MessageFacts>,
    max: usize,
) {
    keep_newest(mail, max, |k, m| (m.accepted_ms, k.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned() -> EvidenceFact {
        EvidenceFact {
            saved_at: Some(100),
            plan: Some(Reg {
                rank: 0,
                at: 100,
                value: AutoPlan {
                    at: Some(5_000),
                    why: None,
                },
            }),
            ..EvidenceFact::default()
        }
    }

    #[test]
    fn given_a_planned_submission_when_nothing_else_happened_then_it_shows() {
        assert_eq!(planned().auto_submit_at(), Some(5_000));
    }

    #[test]
    fn given_a_planned_submission_when_the_seller_accepts_then_none_is_planned() {
        // GIVEN the sweep's plan; WHEN the seller accepts the dispute (Stripe closed it)
        let accepted = EvidenceFact {
            accepted_at: Some(200),
            ..planned()
        };
        // THEN no automatic submission is shown: it will never happen
        assert_eq!(accepted.auto_submit_at(), None);
    }

    #[test]
    fn given_a_planned_submission_when_it_was_submitted_then_none_is_planned() {
        let submitted = EvidenceFact {
            submitted_at: Some(300),
            submitted_by: Some(Submitter::Seller),
            ..planned()
        };
        assert_eq!(submitted.auto_submit_at(), None);
    }
}
