//! The failed payments of a window of a seller's orders, by category, and whether the pattern
//! points at the seller's configuration rather than at individual customers' cards (contract
//! section 5, `GET /stats/failures`). One fold, shared by the route and the seller's
//! `failure_pattern` notification (section 12), so both say the same.
//!
//! The configuration rule ([`RULE`]): suspect a configuration problem when
//! (a) at least [`MIN_DISTINCT_CUSTOMERS`] distinct customers had a failed payment AND at least
//! half of the window's orders had one, or
//! (b) on one UTC day, at least [`MIN_SAME_DAY_CUSTOMERS`] distinct customers failed with
//! `incorrect_card_details` or `card_declined`.
//! One customer retrying many times counts once: card testers and one unlucky buyer should not
//! look like a broken checkout; many different people failing should.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::failure::{classify, FailureCategory};
use super::{OrderRecord, PaymentStatus};

/// `GET /stats/failures`' default window, in days (the notification's window).
pub const DEFAULT_DAYS: i64 = 30;
pub const MIN_DISTINCT_CUSTOMERS: usize = 5;
pub const MIN_SAME_DAY_CUSTOMERS: usize = 3;
const DAY: i64 = 86_400;

pub const RULE: &str = "suspected when (a) at least 5 distinct customers had a failed payment and at least 50% of the window's orders had one, or (b) at least 3 distinct customers failed with incorrect_card_details or card_declined on the same UTC day";
pub const ADVICE_SUSPECTED: &str = "Many different customers are failing: check your Stripe account and payment method configuration (activated payment methods, currencies, Radar rules, 3D Secure settings, the publishable key your checkout uses) before assuming the cards are at fault.";
pub const ADVICE_CLEAR: &str =
    "Failures look like individual customers' card problems; nothing suggests a configuration issue.";

/// Orders of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryTally {
    /// Orders whose latest failed attempt is in this category.
    pub failed_payments: u64,
    /// Of those, how many are `failed` right now (not paid since).
    pub currently_failed: u64,
}

/// The fold over a window's orders.
#[derive(Debug, Clone, Default)]
pub struct FailureTally {
    pub total_orders: u64,
    pub failed_payments: u64,
    pub currently_failed: u64,
    pub by_category: BTreeMap<FailureCategory, CategoryTally>,
    customers: BTreeSet<String>,
    /// UTC day → distinct customers failing with a card-entry-like category that day.
    same_day: HashMap<i64, BTreeSet<String>>,
}

impl FailureTally {
    /// Counts one order of the window.
    pub fn add(&mut self, record: &OrderRecord) {
        self.total_orders += 1;
        let Some(attempt) = record.facts.latest_failure() else {
            return;
        };
        self.failed_payments += 1;
        let category = classify(attempt).category;
        let now_failed = record.facts.payment_status() == PaymentStatus::Failed;
        self.currently_failed += u64::from(now_failed);
        let count = self.by_category.entry(category).or_default();
        count.failed_payments += 1;
        count.currently_failed += u64::from(now_failed);
        // An order without an email is still one customer: key it by order so it counts once.
        let customer = record
            .facts
            .customer_email()
            .map(str::to_lowercase)
            .unwrap_or_else(|| format!("order:{}", record.order_id));
        if matches!(
            category,
            FailureCategory::IncorrectCardDetails | FailureCategory::CardDeclined
        ) {
            self.same_day
                .entry(attempt.at.div_euclid(DAY))
                .or_default()
                .insert(customer.clone());
        }
        self.customers.insert(customer);
    }

    /// Distinct lower-cased customer emails among the failed payments.
    pub fn distinct_customers(&self) -> usize {
        self.customers.len()
    }

    /// `failed_payments / total_orders`, 0 when there are no orders.
    pub fn failure_rate(&self) -> f64 {
        if self.total_orders == 0 {
            0.0
        } else {
            self.failed_payments as f64 / self.total_orders as f64
        }
    }

    /// The configuration rule ([`RULE`]).
    pub fn suspected(&self) -> bool {
        let rate_high = self.total_orders > 0 && self.failed_payments * 2 >= self.total_orders;
        (self.distinct_customers() >= MIN_DISTINCT_CUSTOMERS && rate_high)
            || self
                .same_day
                .values()
                .any(|c| c.len() >= MIN_SAME_DAY_CUSTOMERS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{FailedAttempt, Reg};

    fn failed(id: &str, email: &str, at: i64, code: &str) -> OrderRecord {
        let mut r = OrderRecord::new("acct_A", id);
        r.facts.customer_email = Some(Reg::new(0, 1, email.to_owned()));
        r.facts.failures.insert(
            format!("ch_{id}"),
            FailedAttempt {
                at,
                decline_code: Some(Reg::new(0, at, code.to_owned())),
                ..FailedAttempt::default()
            },
        );
        r
    }

    #[test]
    fn given_three_customers_failing_on_one_day_when_tallied_then_suspected() {
        let mut t = FailureTally::default();
        for (i, who) in ["a@x.example", "b@x.example", "c@x.example"]
            .iter()
            .enumerate()
        {
            t.add(&failed(
                &format!("pi_{i}"),
                who,
                86_400 * 10 + i as i64,
                "do_not_honor",
            ));
        }
        assert!(t.suspected());
        assert_eq!(t.distinct_customers(), 3);
    }

    #[test]
    fn given_one_customer_retrying_many_times_when_tallied_then_not_suspected() {
        let mut t = FailureTally::default();
        for i in 0..10 {
            t.add(&failed(
                &format!("pi_{i}"),
                "Same@x.example",
                86_400 * 10 + i,
                "do_not_honor",
            ));
        }
        assert!(!t.suspected());
        assert_eq!(t.distinct_customers(), 1);
        assert_eq!(t.failed_payments, 10);
    }
}
