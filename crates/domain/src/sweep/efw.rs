//! The seller's rule for early fraud warnings (contract section 12), pure: whether a warned
//! order is refunded in full by the backend, and why (or why not), and the refund's
//! `Idempotency-Key`. A warned charge is very likely to become a fraud dispute; refunding it
//! first avoids the dispute and its fee (the fraud report still counts in Visa's ratio).
//!
//! Not yet run by the sweep: the job that calls Stripe's Refunds API under a claim and records
//! the outcome builds on [`decide`] and [`idempotency_key`].

use crate::order::OrderRecord;
use crate::settings::EfwAutoRefund;

/// Why the backend refunds the warned order: the timeline's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundWhy {
    /// `efw_auto_refund` is `always`.
    Always,
    /// `efw_auto_refund` is `not_downloaded` and the product was never downloaded.
    NotDownloaded,
}

impl RefundWhy {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundWhy::Always => "refunded automatically: early fraud warning (rule: always)",
            RefundWhy::NotDownloaded => {
                "refunded automatically: early fraud warning, never downloaded (rule: not_downloaded)"
            }
        }
    }
}

/// Why the warned order is not refunded by the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRefund {
    /// `efw_auto_refund` is `off` (the default).
    SettingOff,
    /// `not_downloaded`, and the customer downloaded the product.
    Downloaded,
    /// No such warning on the order, or Stripe says it is no longer actionable.
    NotActionable,
    /// The order never succeeded: nothing to refund.
    NotPaid,
    /// Already refunded in full.
    FullyRefunded,
    /// A dispute exists: refunding now would not avoid it (the dispute's own flow answers it).
    Disputed,
}

/// The rule for warning `warning_id` on `record` under the seller's `setting`, `downloaded`
/// saying whether the customer ever downloaded the product.
pub fn decide(
    record: &OrderRecord,
    warning_id: &str,
    setting: EfwAutoRefund,
    downloaded: bool,
) -> Result<RefundWhy, NoRefund> {
    let f = &record.facts;
    let actionable = f
        .fraud_warnings
        .get(warning_id)
        .is_some_and(|w| w.actionable.value);
    if !actionable {
        return Err(NoRefund::NotActionable);
    }
    if !f.succeeded() {
        return Err(NoRefund::NotPaid);
    }
    if f.amount().is_some_and(|a| f.refunded_amount() >= a) {
        return Err(NoRefund::FullyRefunded);
    }
    if !f.disputes.is_empty() {
        return Err(NoRefund::Disputed);
    }
    match setting {
        EfwAutoRefund::Off => Err(NoRefund::SettingOff),
        EfwAutoRefund::Always => Ok(RefundWhy::Always),
        EfwAutoRefund::NotDownloaded if downloaded => Err(NoRefund::Downloaded),
        EfwAutoRefund::NotDownloaded => Ok(RefundWhy::NotDownloaded),
    }
}

/// The refund's `Idempotency-Key`: the warning's id and the attempt number, which moves on only
/// after a definitive failure, so a retried or repeated call is replayed by Stripe and a call
/// after a refusal is a new request.
pub fn idempotency_key(warning_id: &str, attempt: u32) -> String {
    format!("efw-refund:{warning_id}:{attempt}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{DisputeFact, FraudWarningFact, RefundFact, Reg};

    const AT: i64 = 1_781_524_800;

    /// A paid order of 2,500 with an actionable warning `issfr_1`.
    fn warned() -> OrderRecord {
        let mut r = OrderRecord::new("acct_1Seller", "pi_1");
        let f = &mut r.facts;
        f.pi_created = Some(AT);
        f.succeeded_at = Some(AT + 5);
        f.amount = Some(Reg::new(3, AT, 2500));
        f.fraud_warnings.insert(
            "issfr_1".into(),
            FraudWarningFact {
                actionable: Reg::new(0, AT + 60, true),
                fraud_type: Some(Reg::new(0, AT + 60, "made_with_stolen_card".into())),
                created: Some(AT + 60),
            },
        );
        r
    }

    fn refunded(r: &mut OrderRecord, amount: i64) {
        r.facts.refunds.insert(
            "re_1".into(),
            RefundFact {
                state: Reg::new(
                    crate::order::facts::refund_rank("succeeded"),
                    AT + 90,
                    "succeeded".into(),
                ),
                amount,
                created: Some(AT + 90),
                failure_reason: None,
            },
        );
    }

    #[test]
    fn given_each_setting_and_download_when_decided_then_the_contracts_rule() {
        use EfwAutoRefund::*;
        // GIVEN / WHEN / THEN: setting, downloaded → refunded and why, or why not
        let cases = [
            (Off, false, Err(NoRefund::SettingOff)),
            (Off, true, Err(NoRefund::SettingOff)),
            (NotDownloaded, false, Ok(RefundWhy::NotDownloaded)),
            (NotDownloaded, true, Err(NoRefund::Downloaded)),
            (Always, false, Ok(RefundWhy::Always)),
            (Always, true, Ok(RefundWhy::Always)),
        ];
        for (setting, downloaded, expected) in cases {
            assert_eq!(
                decide(&warned(), "issfr_1", setting, downloaded),
                expected,
                "{setting:?} downloaded={downloaded}"
            );
        }
    }

    #[test]
    fn given_an_order_that_cannot_or_need_not_be_refunded_when_decided_then_never_refunded() {
        // GIVEN a warning Stripe no longer calls actionable
        let mut r = warned();
        r.facts
            .fraud_warnings
            .get_mut("issfr_1")
            .unwrap()
            .actionable = Reg::new(0, AT + 120, false);
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Err(NoRefund::NotActionable)
        );
        // GIVEN an unknown warning id
        assert_eq!(
            decide(&warned(), "issfr_other", EfwAutoRefund::Always, false),
            Err(NoRefund::NotActionable)
        );
        // GIVEN an order that never succeeded
        let mut r = warned();
        r.facts.succeeded_at = None;
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Err(NoRefund::NotPaid)
        );
        // GIVEN an order refunded in full; THEN nothing more; a partial refund still refunds
        let mut r = warned();
        refunded(&mut r, 2500);
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Err(NoRefund::FullyRefunded)
        );
        let mut r = warned();
        refunded(&mut r, 1000);
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Ok(RefundWhy::Always)
        );
        // GIVEN an order already disputed
        let mut r = warned();
        r.facts.disputes.insert(
            "du_1".into(),
            DisputeFact {
                state: Reg::new(0, AT + 100, "needs_response".into()),
                ..DisputeFact::default()
            },
        );
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Err(NoRefund::Disputed)
        );
    }

    #[test]
    fn given_attempts_when_keyed_then_the_same_attempt_replays_and_the_next_is_new() {
        assert_eq!(idempotency_key("issfr_1", 0), idempotency_key("issfr_1", 0));
        assert_ne!(idempotency_key("issfr_1", 0), idempotency_key("issfr_1", 1));
        assert_ne!(idempotency_key("issfr_1", 0), idempotency_key("issfr_2", 0));
    }
}
