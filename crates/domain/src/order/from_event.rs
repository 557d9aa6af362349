//! Turns one Stripe event into the facts it states about one order.
//!
//! Each handled event becomes a [`Folding`]: the seller (always the event's `account`, never
//! metadata), where the facts go (the PaymentIntent's order, or — for an object that names only its
//! charge — that charge, until the charge is linked to its order), and the facts themselves.

use std::collections::BTreeMap;

use super::facts::{
    dispute_rank, refund_rank, source, AttemptState, DisputeFact, Facts, FailedAttempt,
    FraudWarningFact, RefundFact, Reg, TimelineEntry,
};
use crate::stripe::event::{
    Charge, ChargeStatus, CheckoutPaymentStatus, CheckoutSession, Dispute, EarlyFraudWarning,
    Event, EventParseError, Metadata, PaymentIntent, Refund, StripeObject,
};

/// Where an event's facts are folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The order whose id is this PaymentIntent id.
    Order { order_id: String },
    /// An object that names only its charge: kept under the charge until the charge's order is
    /// known (contract section 2), never dropped.
    Charge { charge_id: String },
}

/// The facts one event states, and where they go.
#[derive(Debug, Clone)]
pub struct Folding {
    pub seller_id: String,
    pub target: Target,
    pub facts: Facts,
}

/// Why an event changes no order; each is still a `200` to Stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    UnhandledType,
    /// A handled type whose object names neither a PaymentIntent nor a charge (e.g. a Checkout
    /// Session in setup mode).
    NoPaymentReference,
}

impl IgnoreReason {
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::UnhandledType => "unhandled_type",
            IgnoreReason::NoPaymentReference => "no_payment_reference",
        }
    }
}

// Built once per event and consumed at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Interpretation {
    Fold(Box<Folding>),
    Ignore(IgnoreReason),
}

/// Reads the facts out of a parsed event.
pub fn interpret(event: &Event<'_>) -> Result<Interpretation, EventParseError> {
    let Some(object) = event.object()? else {
        return Ok(Interpretation::Ignore(IgnoreReason::UnhandledType));
    };
    let at = event.created;
    let mut facts = Facts {
        first_event_at: Some(at),
        last_event_at: Some(at),
        livemode: Some(Reg::new(0, at, event.livemode)),
        ..Facts::default()
    };
    let kind = event.kind.as_str();
    let (pi, charge) = match object.as_ref() {
        StripeObject::CheckoutSession(cs) => {
            checkout(kind, at, cs, &mut facts);
            (cs.payment_intent.clone(), None)
        }
        StripeObject::PaymentIntent(pi) => {
            payment_intent(kind, at, pi, &mut facts);
            (Some(pi.id.clone()), pi.latest_charge.clone())
        }
        StripeObject::Charge(ch) => {
            charge_facts(kind, at, ch, &mut facts);
            (ch.payment_intent.clone(), Some(ch.id.clone()))
        }
        StripeObject::Refund(re) => {
            refund(at, re, &mut facts);
            (re.payment_intent.clone(), re.charge.clone())
        }
        StripeObject::Dispute(du) => {
            dispute(kind, at, du, &mut facts);
            (du.payment_intent.clone(), du.charge.clone())
        }
        StripeObject::EarlyFraudWarning(w) => {
            fraud_warning(kind, at, w, &mut facts);
            (w.payment_intent.clone(), w.charge.clone())
        }
    };
    if let Some(ch) = &charge {
        facts.charges.insert(ch.clone());
    }
    let target = match (pi, charge) {
        (Some(order_id), _) => Target::Order { order_id },
        (None, Some(charge_id)) => Target::Charge { charge_id },
        (None, None) => return Ok(Interpretation::Ignore(IgnoreReason::NoPaymentReference)),
    };
    Ok(Interpretation::Fold(Box::new(Folding {
        seller_id: event.seller_id().to_owned(),
        target,
        facts,
    })))
}

fn describe(facts: &mut Facts, rank: u8, at: i64, metadata: &Metadata) {
    let reg = |v: &Option<String>| v.clone().map(|v| Reg::new(rank, at, v));
    facts.reference = reg(&metadata.order_id).or(facts.reference.take());
    facts.product_id = reg(&metadata.product_id);
    facts.product_name = reg(&metadata.product_name);
    facts.store_name = reg(&metadata.store_name);
}

fn note(facts: &mut Facts, at: i64, kind: &str, detail: String) {
    facts.timeline.insert(TimelineEntry {
        at,
        kind: kind.to_owned(),
        detail,
    });
}

fn checkout(kind: &str, at: i64, cs: &CheckoutSession, facts: &mut Facts) {
    let rank = source::CHECKOUT;
    // client_reference_id is the storefront's reference too; metadata.order_id wins when both.
    facts.reference = cs
        .client_reference_id
        .clone()
        .map(|r| Reg::new(rank, at, r));
    describe(facts, rank, at, &cs.metadata);
    facts.customer_email = cs
        .customer_details
        .as_ref()
        .and_then(|d| d.email.clone())
        .map(|e| Reg::new(rank, at, e));
    facts.amount = cs.amount_total.map(|a| Reg::new(rank, at, a));
    facts.currency = cs.currency.clone().map(|c| Reg::new(rank, at, c));
    let paid = cs.payment_status == CheckoutPaymentStatus::Paid;
    match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" if paid => {
            facts.succeeded_at = Some(at);
        }
        "checkout.session.async_payment_failed" => {
            // Carries no code: card_declined with code null (contract section 4).
            facts.attempt = Some(Reg::new(0, at, AttemptState::Failed));
            facts.failures.insert(
                format!("checkout:{}", cs.id),
                FailedAttempt {
                    at,
                    ..Default::default()
                },
            );
        }
        "checkout.session.completed" => {
            note(facts, at, "checkout_completed", "awaiting payment".into());
        }
        _ => {}
    }
}

fn payment_intent(kind: &str, at: i64, pi: &PaymentIntent, facts: &mut Facts) {
    let rank = source::PAYMENT_INTENT;
    describe(facts, rank, at, &pi.metadata);
    facts.pi_created = pi.created;
    facts.customer_email = pi.receipt_email.clone().map(|e| Reg::new(rank, at, e));
    facts.amount = pi.amount.map(|a| Reg::new(rank, at, a));
    facts.currency = pi.currency.clone().map(|c| Reg::new(rank, at, c));
    match kind {
        "payment_intent.succeeded" => facts.succeeded_at = Some(at),
        "payment_intent.processing" => {
            facts.attempt = Some(Reg::new(0, at, AttemptState::Processing));
            note(
                facts,
                at,
                "payment_processing",
                "payment is processing".into(),
            );
        }
        "payment_intent.canceled" => {
            facts.attempt = Some(Reg::new(0, at, AttemptState::Canceled));
            note(
                facts,
                at,
                "payment_canceled",
                "payment intent canceled".into(),
            );
        }
        "payment_intent.payment_failed" => {
            facts.attempt = Some(Reg::new(0, at, AttemptState::Failed));
            let err = pi.last_payment_error.as_ref();
            let key = err
                .and_then(|e| e.charge.clone())
                .unwrap_or_else(|| format!("pi_attempt:{at}"));
            if let Some(ch) = err.and_then(|e| e.charge.clone()) {
                facts.charges.insert(ch);
            }
            let reg = |v: Option<&String>| v.cloned().map(|v| Reg::new(0, at, v));
            facts.failures.insert(
                key,
                FailedAttempt {
                    at,
                    decline_code: reg(err.and_then(|e| e.decline_code.as_ref())),
                    code: reg(err.and_then(|e| e.code.as_ref())),
                    message: reg(err.and_then(|e| e.message.as_ref())),
                    ..Default::default()
                },
            );
        }
        _ => {}
    }
}

fn charge_facts(kind: &str, at: i64, ch: &Charge, facts: &mut Facts) {
    let rank = source::CHARGE;
    describe(facts, rank, at, &ch.metadata);
    facts.customer_email = ch
        .billing_details
        .as_ref()
        .and_then(|b| b.email.clone())
        .map(|e| Reg::new(rank, at, e));
    facts.amount = ch.amount.map(|a| Reg::new(rank, at, a));
    facts.currency = ch.currency.clone().map(|c| Reg::new(rank, at, c));
    match kind {
        "charge.succeeded" | "charge.refunded" if ch.status == ChargeStatus::Succeeded => {
            facts.succeeded_at = Some(at);
        }
        "charge.refunded" => {
            // A refunded charge was paid, whatever status a newer API version reports.
            facts.succeeded_at = Some(at);
        }
        "charge.failed" => {
            facts.attempt = Some(Reg::new(0, at, AttemptState::Failed));
            let reg = |v: Option<&String>| v.cloned().map(|v| Reg::new(0, at, v));
            let outcome = ch.outcome.as_ref();
            facts.failures.insert(
                ch.id.clone(),
                FailedAttempt {
                    at,
                    outcome_type: reg(outcome.and_then(|o| o.kind.as_ref())),
                    outcome_reason: reg(outcome.and_then(|o| o.reason.as_ref())),
                    failure_code: reg(ch.failure_code.as_ref()),
                    failure_message: reg(ch.failure_message.as_ref()),
                    ..Default::default()
                },
            );
        }
        _ => {}
    }
    if kind == "charge.refunded" || ch.amount_refunded.unwrap_or(0) > 0 {
        facts.charge_amount_refunded = ch.amount_refunded.map(|a| Reg::new(0, at, a));
    }
}

fn refund(at: i64, re: &Refund, facts: &mut Facts) {
    let status = re.status.clone().unwrap_or_else(|| "pending".to_owned());
    let amount = re.amount.unwrap_or(0);
    note(
        facts,
        at,
        &format!("refund_{status}"),
        format!("{}: {amount}", re.id),
    );
    facts.refunds = BTreeMap::from([(
        re.id.clone(),
        RefundFact {
            state: Reg::new(refund_rank(&status), at, status),
            amount,
            created: re.created,
            failure_reason: re.failure_reason.clone().map(|r| Reg::new(0, at, r)),
        },
    )]);
}

fn dispute(kind: &str, at: i64, du: &Dispute, facts: &mut Facts) {
    let status = du
        .status
        .clone()
        .unwrap_or_else(|| "needs_response".to_owned());
    // The balance transactions tell the money trail even if a funds_* event went missing.
    let withdrawn = kind == "charge.dispute.funds_withdrawn"
        || du.balance_transactions.iter().any(|t| t.amount < 0);
    let reinstated = kind == "charge.dispute.funds_reinstated"
        || du.balance_transactions.iter().any(|t| t.amount > 0);
    let step = kind.trim_start_matches("charge.dispute.");
    note(
        facts,
        at,
        &format!("dispute_{step}"),
        format!("{}: {status}", du.id),
    );
    facts.disputes = BTreeMap::from([(
        du.id.clone(),
        DisputeFact {
            state: Reg::new(dispute_rank(&status), at, status),
            reason: du.reason.clone().map(|r| Reg::new(0, at, r)),
            amount: du.amount.map(|a| Reg::new(0, at, a)),
            evidence_due_by: du
                .evidence_details
                .as_ref()
                .and_then(|e| e.due_by)
                .filter(|d| *d > 0)
                .map(|d| Reg::new(0, at, d)),
            created: du.created,
            funds_withdrawn: withdrawn,
            funds_reinstated: reinstated,
        },
    )]);
}

fn fraud_warning(kind: &str, at: i64, w: &EarlyFraudWarning, facts: &mut Facts) {
    let step = kind.trim_start_matches("radar.early_fraud_warning.");
    let fraud_type = w.fraud_type.clone().unwrap_or_else(|| "unknown".into());
    note(
        facts,
        at,
        &format!("early_fraud_warning_{step}"),
        format!("{}: {fraud_type}", w.id),
    );
    facts.fraud_warnings = BTreeMap::from([(
        w.id.clone(),
        FraudWarningFact {
            actionable: Reg::new(0, at, w.actionable.unwrap_or(true)),
            fraud_type: w.fraud_type.clone().map(|t| Reg::new(0, at, t)),
            created: w.created,
        },
    )]);
}
