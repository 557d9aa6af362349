//! The sweep's early-fraud-warning job (contract section 12): a warned order refunded in full
//! through Stripe's Refunds API as the seller, when the seller's `efw_auto_refund` rule says so,
//! off the webhook's request path. A warned charge is very likely to become a fraud dispute;
//! refunding it first avoids the dispute and its fee (the fraud report still counts in Visa's
//! ratio). The refund then reaches the order through the webhook like any refund.
//!
//! - **Decided once** ([`decide`]): the first sweep that sees a warning on a paid order applies
//!   the seller's rule and records the decision ([`EfwDecision`]) with a timeline entry; the
//!   earliest decision wins a race, so a settings change later never makes a second one. A
//!   warning on an order not paid yet waits for the payment.
//! - **At most once**: the refund call is claimed on the order (a conditional write, with a
//!   lease) before Stripe is called, with an `Idempotency-Key` from the warning's id and an
//!   attempt number ([`idempotency_key`]) that moves on only after a definitive refusal: two
//!   sweeps, or a sweep after a crash, send the same request and Stripe applies it once.
//! - **Failures**: recorded on the order (`last_error`, shown as `efw_refund_failed` in
//!   `attention`) and retried by the next sweep while the warning stays actionable and the
//!   order is neither refunded in full nor disputed.

use async_trait::async_trait;

use super::{SweepContext, SweepJob, SweepReport};
use crate::apply::{fold_into_order, RetryPolicy};
use crate::order::facts::{
    EfwDecided, EfwDecision, Facts, RefundClaim, RefundRequested, Reg, TimelineEntry,
    WarningActionFact,
};
use crate::order::OrderRecord;
use crate::ports::{RefundError, RefundRequest, Refunder, StoreError};
use crate::settings::EfwAutoRefund;

/// How long a refund claim holds before another process may take it over: longer than one
/// call with its retries takes.
pub const REFUND_LEASE_SECS: i64 = 120;

/// Whether the order still holds warning `warning_id` as something a refund would answer:
/// actionable, paid, not refunded in full, not disputed; or why not.
fn refundable(record: &OrderRecord, warning_id: &str) -> Result<(), Option<EfwDecision>> {
    let f = &record.facts;
    let actionable = f
        .fraud_warnings
        .get(warning_id)
        .is_some_and(|w| w.actionable.value);
    if !f.succeeded() {
        // Not paid (yet): nothing to decide until the payment's event arrives.
        return Err(None);
    }
    if !actionable {
        return Err(Some(EfwDecision::NotActionable));
    }
    if f.amount().is_some_and(|a| f.refunded_amount() >= a) {
        return Err(Some(EfwDecision::FullyRefunded));
    }
    if !f.disputes.is_empty() {
        return Err(Some(EfwDecision::Disputed));
    }
    Ok(())
}

/// The rule for warning `warning_id` on `record` under the seller's `setting`, `downloaded`
/// saying whether the customer ever downloaded the product; `None` while the order is not paid.
pub fn decide(
    record: &OrderRecord,
    warning_id: &str,
    setting: EfwAutoRefund,
    downloaded: bool,
) -> Option<EfwDecision> {
    if let Err(why) = refundable(record, warning_id) {
        return why;
    }
    Some(match setting {
        EfwAutoRefund::Off => EfwDecision::SettingOff,
        EfwAutoRefund::Always => EfwDecision::RefundAlways,
        EfwAutoRefund::NotDownloaded if downloaded => EfwDecision::Downloaded,
        EfwAutoRefund::NotDownloaded => EfwDecision::RefundNotDownloaded,
    })
}

/// The refund's `Idempotency-Key`: the warning's id and the attempt number, which moves on only
/// after a definitive failure, so a retried or repeated call is replayed by Stripe and a call
/// after a refusal is a new request.
pub fn idempotency_key(warning_id: &str, attempt: u32) -> String {
    format!("efw-refund:{warning_id}:{attempt}")
}

/// Whether a refund claim on `action` still stands at `now` (its attempt has not concluded).
fn claim_is_live(action: &WarningActionFact, now: i64) -> bool {
    action
        .claim
        .is_some_and(|c| c.attempt == action.attempt && c.until > now)
}

/// When the job next needs to look at the order: at once for a warning on a paid order not
/// decided yet, or decided for a refund Stripe has not accepted while the order still calls for
/// it (after a live claim's lease); else never.
pub fn next_look(record: &OrderRecord) -> Option<i64> {
    record
        .facts
        .fraud_warnings
        .iter()
        .filter_map(|(id, w)| {
            let action = record.facts.warning_actions.get(id);
            match action.and_then(|a| a.decided) {
                None => {
                    let decidable = !matches!(refundable(record, id), Err(None));
                    decidable.then_some(w.actionable.at.max(0))
                }
                Some(d) => {
                    let action = action?;
                    let pending = d.decision.refunds()
                        && action.requested.is_none()
                        && refundable(record, id).is_ok();
                    pending.then(|| match action.claim {
                        Some(c) if c.attempt == action.attempt => c.until.max(d.at),
                        _ => d.at,
                    })
                }
            }
        })
        .min()
}

/// The early-fraud-warning job: decides under the seller's rule and refunds through Stripe.
pub struct EfwRefundJob<'a> {
    pub refunder: &'a dyn Refunder,
}

#[async_trait]
impl SweepJob for EfwRefundJob<'_> {
    fn name(&self) -> &'static str {
        "efw"
    }

    async fn run(
        &self,
        ctx: &SweepContext<'_>,
        record: &OrderRecord,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let ids: Vec<String> = record.facts.fraud_warnings.keys().cloned().collect();
        for id in ids {
            self.one(ctx, record, &id, report).await?;
        }
        Ok(())
    }
}

impl EfwRefundJob<'_> {
    async fn one(
        &self,
        ctx: &SweepContext<'_>,
        record: &OrderRecord,
        id: &str,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let action = record.facts.warning_actions.get(id);
        let decided = match action.and_then(|a| a.decided) {
            Some(d) => d,
            None => {
                let downloaded = match ctx.settings.efw_auto_refund {
                    EfwAutoRefund::NotDownloaded => !ctx
                        .store
                        .list_downloads(&record.seller_id, &record.order_id)
                        .await?
                        .is_empty(),
                    _ => false,
                };
                let Some(decision) = decide(record, id, ctx.settings.efw_auto_refund, downloaded)
                else {
                    return Ok(());
                };
                let decided = EfwDecided {
                    at: ctx.now,
                    decision,
                };
                let stored = record_decision(ctx, record, id, decided).await?;
                report.count(&format!("efw.decided.{}", decision.as_str()));
                tracing::info!(job = "efw", order_id = %record.order_id, warning_id = %id, decision = decision.as_str(), "early fraud warning decided");
                // A concurrent sweep's earlier decision wins: act on what the order holds.
                stored
                    .facts
                    .warning_actions
                    .get(id)
                    .and_then(|a| a.decided)
                    .unwrap_or(decided)
            }
        };
        if !decided.decision.refunds() {
            return Ok(());
        }
        self.refund(ctx, record, id, decided).await.map(|done| {
            report.count(done);
        })
    }

    /// Claims and sends the refund; what it did, in the report's words.
    async fn refund(
        &self,
        ctx: &SweepContext<'_>,
        record: &OrderRecord,
        id: &str,
        decided: EfwDecided,
    ) -> Result<&'static str, StoreError> {
        let Some((record, attempt)) = claim(ctx, record, id).await? else {
            return Ok("efw.in_flight");
        };
        let Some(charge_id) = record.facts.paid_charge().map(str::to_owned) else {
            // Paid, yet no charge known: nothing to refund by charge; say so and retry later.
            record_outcome(
                ctx,
                &record,
                id,
                attempt,
                Err(&RefundError::Unavailable {
                    message: "the paying charge is not known yet".into(),
                }),
                decided,
            )
            .await?;
            return Ok("efw.refund_failed");
        };
        let request = RefundRequest {
            seller_id: record.seller_id.clone(),
            charge_id,
            idempotency_key: idempotency_key(id, attempt),
        };
        let result = self.refunder.refund(&request).await;
        let done = match &result {
            Ok(_) => "efw.refunded",
            Err(_) => "efw.refund_failed",
        };
        if let Err(error) = &result {
            tracing::warn!(job = "efw", order_id = %record.order_id, warning_id = %id, %error, "automatic refund failed");
        } else {
            tracing::info!(job = "efw", order_id = %record.order_id, warning_id = %id, "refunded automatically");
        }
        record_outcome(
            ctx,
            &record,
            id,
            attempt,
            result.as_ref().map(String::as_str),
            decided,
        )
        .await?;
        Ok(done)
    }
}

/// Records the decision (the earliest wins) with its timeline entry; returns the order as
/// written.
async fn record_decision(
    ctx: &SweepContext<'_>,
    record: &OrderRecord,
    id: &str,
    decided: EfwDecided,
) -> Result<OrderRecord, StoreError> {
    let mut facts = Facts::default();
    facts.warning_actions.insert(
        id.to_owned(),
        WarningActionFact {
            decided: Some(decided),
            ..WarningActionFact::default()
        },
    );
    if !decided.decision.refunds() {
        facts.timeline.insert(TimelineEntry {
            at: ctx.now,
            kind: "early_fraud_warning_decided".into(),
            detail: format!("early fraud warning {id}: {}", decided.decision.words()),
        });
    }
    fold_into_order(
        ctx.store,
        &record.seller_id,
        &record.order_id,
        &facts,
        RetryPolicy::default(),
    )
    .await?;
    Ok(ctx
        .store
        .get_order(&record.seller_id, &record.order_id)
        .await?
        .unwrap_or_else(|| record.clone()))
}

/// Claims the refund call of warning `id` (a conditional write on the order, re-read fresh);
/// `None` when it is not to be made now: someone else's live claim, already requested, or the
/// order no longer calls for it. Returns the order as claimed and the attempt to send.
async fn claim(
    ctx: &SweepContext<'_>,
    record: &OrderRecord,
    id: &str,
) -> Result<Option<(OrderRecord, u32)>, StoreError> {
    let policy = RetryPolicy::default();
    let mut tries = 0;
    loop {
        tries += 1;
        let Some(current) = ctx
            .store
            .get_order(&record.seller_id, &record.order_id)
            .await?
        else {
            return Ok(None);
        };
        let action = current
            .facts
            .warning_actions
            .get(id)
            .cloned()
            .unwrap_or_default();
        if action.requested.is_some()
            || claim_is_live(&action, ctx.now)
            || refundable(&current, id).is_err()
        {
            return Ok(None);
        }
        let attempt = action.attempt;
        let mut next = current.clone();
        next.facts
            .warning_actions
            .entry(id.to_owned())
            .or_default()
            .claim = Some(RefundClaim {
            until: ctx.now + REFUND_LEASE_SECS,
            attempt,
        });
        next.version = current.version + 1;
        match ctx.store.put_order(&next, Some(current.version), &[]).await {
            Ok(()) => return Ok(Some((next, attempt))),
            Err(StoreError::Conflict) if tries < policy.max_attempts => policy.pause(tries).await,
            Err(StoreError::Conflict) => return Err(StoreError::Contention),
            Err(e) => return Err(e),
        }
    }
}

/// Records a concluded call: on success the refund's id, the error cleared and a timeline entry
/// that says it was automatic and why; on a refusal or a stored failure the error and the next
/// attempt number; when Stripe was unreachable the error only (the same attempt, the same key,
/// is replayed after the claim's lease).
async fn record_outcome(
    ctx: &SweepContext<'_>,
    record: &OrderRecord,
    id: &str,
    attempt: u32,
    result: Result<&str, &RefundError>,
    decided: EfwDecided,
) -> Result<(), StoreError> {
    let mut action = WarningActionFact::default();
    let mut facts = Facts::default();
    match result {
        Ok(refund_id) => {
            action.requested = Some(RefundRequested {
                at: ctx.now,
                refund_id: refund_id.to_owned(),
            });
            action.last_error = Some(Reg::new(0, ctx.now, String::new()));
            facts.timeline.insert(TimelineEntry {
                at: ctx.now,
                kind: "efw_refund_requested".into(),
                detail: format!(
                    "early fraud warning {id}: {}; Stripe refund {refund_id} of the full amount",
                    decided.decision.words()
                ),
            });
        }
        Err(error) => {
            if error.ends_attempt() {
                action.attempt = attempt + 1;
            }
            action.last_error = Some(Reg::new(0, ctx.now, error.to_string()));
        }
    }
    facts.warning_actions.insert(id.to_owned(), action);
    fold_into_order(
        ctx.store,
        &record.seller_id,
        &record.order_id,
        &facts,
        RetryPolicy::default(),
    )
    .await?;
    Ok(())
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
            (Off, false, EfwDecision::SettingOff),
            (Off, true, EfwDecision::SettingOff),
            (NotDownloaded, false, EfwDecision::RefundNotDownloaded),
            (NotDownloaded, true, EfwDecision::Downloaded),
            (Always, false, EfwDecision::RefundAlways),
            (Always, true, EfwDecision::RefundAlways),
        ];
        for (setting, downloaded, expected) in cases {
            assert_eq!(
                decide(&warned(), "issfr_1", setting, downloaded),
                Some(expected),
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
            Some(EfwDecision::NotActionable)
        );
        // GIVEN an unknown warning id
        assert_eq!(
            decide(&warned(), "issfr_other", EfwAutoRefund::Always, false),
            Some(EfwDecision::NotActionable)
        );
        // GIVEN an order that never succeeded
        let mut r = warned();
        r.facts.succeeded_at = None;
        assert_eq!(decide(&r, "issfr_1", EfwAutoRefund::Always, false), None);
        // GIVEN an order refunded in full; THEN nothing more; a partial refund still refunds
        let mut r = warned();
        refunded(&mut r, 2500);
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Some(EfwDecision::FullyRefunded)
        );
        let mut r = warned();
        refunded(&mut r, 1000);
        assert_eq!(
            decide(&r, "issfr_1", EfwAutoRefund::Always, false),
            Some(EfwDecision::RefundAlways)
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
            Some(EfwDecision::Disputed)
        );
    }

    #[test]
    fn given_attempts_when_keyed_then_the_same_attempt_replays_and_the_next_is_new() {
        assert_eq!(idempotency_key("issfr_1", 0), idempotency_key("issfr_1", 0));
        assert_ne!(idempotency_key("issfr_1", 0), idempotency_key("issfr_1", 1));
        assert_ne!(idempotency_key("issfr_1", 0), idempotency_key("issfr_2", 0));
    }
}
