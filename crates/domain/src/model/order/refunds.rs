//! Every refund counts, however many (contract section 4; issue 18 class 8), while the order's own
//! item stays small (issue 17: under 1 KB typical, 4 KB at most).
//!
//! The order item keeps at most [`SPILL_ABOVE`] refunds. Past that, all but the
//! [`INLINE_REFUNDS`] newest (by their own `created`, then id) *spill* into items of their own in
//! the order's partition, written in the same atomic write as the order (a transaction: twice the
//! write units, so spilling several at once, not one per new refund), and the order keeps a
//! [`RefundTally`]: what the spilled refunds add
//! to `refunded_amount` and give back. Once spilled, a refund lives in its item for good: a later
//! event about it merges there (the fold reads it first) and moves the tally by the difference.
//! So the set of refunds and their merged states is the same whatever the arrival order, and so is
//! everything derived from them; only which refunds sit in which item may differ, and nothing
//! shown depends on that (the order's page lists both, see `view`).
//!
//! A typical order has zero or one refund and never reads or writes anything here.

use serde::{Deserialize, Serialize};

use super::reg::{latest_first, merge_min, merge_reg, Reg};

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

/// Refunds left on the order item after a spill (about 120 bytes each).
pub const INLINE_REFUNDS: usize = 16;
/// Refunds the order item holds at most (about 3 KB of them, so the item stays under 4 KB):
/// one more and the oldest spill, down to [`INLINE_REFUNDS`].
pub const SPILL_ABOVE: usize = 24;

/// Refunds spilled by one write at most: the order and its spilled items go in one DynamoDB
/// transaction (at most 100 items). Past it the order item holds a few more until the next fold
/// (the facts' own bound, `MAX_REFUNDS`, is far above); an event names at most a few refunds
/// (a Charge embeds one page of its refunds, 10 by default), so the refunds one event updates stay far below the limit too.
pub const MAX_SPILLS_PER_WRITE: usize = 25;

/// A refund kept in an item of its own in the order's partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpilledRefund {
    pub refund_id: String,
    pub fact: RefundFact,
}

/// What the order's spilled refunds add up to. Only the fold changes it, in the same atomic write
/// as the spilled items it sums, so it always equals the sum over those items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefundTally {
    /// Spilled refunds.
    #[serde(rename = "n")]
    pub count: u32,
    /// Sum of those whose latest status counts (`pending`, `requires_action`, `succeeded`).
    #[serde(rename = "a")]
    pub active: i64,
    /// Sum of those that failed or were canceled, and how many.
    #[serde(rename = "r")]
    pub reversed: i64,
    #[serde(rename = "rn")]
    pub reversed_count: u32,
}

impl RefundTally {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Counts a refund that has just spilled.
    pub fn add(&mut self, refund: &RefundFact) {
        self.count = self.count.saturating_add(1);
        self.shift(refund, 1);
    }

    /// A spilled refund's state moved from `before` to `after`.
    pub fn replace(&mut self, before: &RefundFact, after: &RefundFact) {
        self.shift(before, -1);
        self.shift(after, 1);
    }

    fn shift(&mut self, refund: &RefundFact, sign: i64) {
        if refund.is_active() {
            self.active = self
                .active
                .saturating_add(sign.saturating_mul(refund.amount));
        }
        if refund.is_reversed() {
            self.reversed = self
                .reversed
                .saturating_add(sign.saturating_mul(refund.amount));
            self.reversed_count = if sign > 0 {
                self.reversed_count.saturating_add(1)
            } else {
                self.reversed_count.saturating_sub(1)
            };
        }
    }

    /// The fold never merges two stored orders, and facts from events carry no tally, so one
    /// side is always empty; keeping the greater makes the merge a semilattice all the same.
    pub fn merge(&mut self, other: &RefundTally) {
        if *other > *self {
            *self = *other;
        }
    }
}

/// The rank a refund keeps its place on the order item by: the newest stay.
pub fn refund_age(refund_id: &str, refund: &RefundFact) -> (Option<i64>, String) {
    (refund.created, refund_id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{refund_rank, Facts, Reg};

    fn refund(amount: i64, status: &str, created: i64) -> RefundFact {
        RefundFact {
            state: Reg::new(refund_rank(status), created, status.into()),
            amount,
            created: Some(created),
            failure_reason: None,
        }
    }

    #[test]
    fn given_more_refunds_than_kept_when_spilled_then_the_oldest_leave_and_still_count() {
        // GIVEN 20 refunds of 100 on an order's facts, one of them failed
        let mut facts = Facts::default();
        for i in 0..20 {
            let status = if i == 2 { "failed" } else { "succeeded" };
            facts
                .refunds
                .insert(format!("re_{i:02}"), refund(100, status, 1_000 + i));
        }
        let before = facts.refunded_amount();
        // WHEN the facts keep 16, at most 3 spilled per write
        let first = facts.spill_refunds(INLINE_REFUNDS, 3);
        let second = facts.spill_refunds(INLINE_REFUNDS, MAX_SPILLS_PER_WRITE);
        // THEN the 4 oldest left, in two writes, and nothing changed in what counts
        let ids: Vec<&str> = first
            .iter()
            .chain(&second)
            .map(|r| r.refund_id.as_str())
            .collect();
        assert_eq!(ids, ["re_00", "re_01", "re_02", "re_03"]);
        assert_eq!(facts.refunds.len(), INLINE_REFUNDS);
        assert_eq!(facts.spilled_refunds.count, 4);
        assert_eq!(facts.spilled_refunds.active, 300);
        assert_eq!(facts.spilled_refunds.reversed, 100);
        assert_eq!(facts.spilled_refunds.reversed_count, 1);
        assert_eq!(facts.refunded_amount(), before);
    }

    #[test]
    fn given_a_spilled_refund_when_its_state_moves_then_the_tally_moves_by_the_difference() {
        // GIVEN a tally holding one succeeded refund of 250
        let succeeded = refund(250, "succeeded", 1_000);
        let mut tally = RefundTally::default();
        tally.add(&succeeded);
        // WHEN it fails, then (a later event) is canceled
        let failed = refund(250, "failed", 2_000);
        tally.replace(&succeeded, &failed);
        let canceled = refund(250, "canceled", 3_000);
        tally.replace(&failed, &canceled);
        // THEN it no longer counts, is given back once, and is still one refund
        assert_eq!(
            tally,
            RefundTally {
                count: 1,
                active: 0,
                reversed: 250,
                reversed_count: 1
            }
        );
    }
}
