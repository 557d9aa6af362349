//! Turns one Stripe event into the facts it states about one order.
//!
//! Each handled event becomes a [`Folding`]: the seller (always the event's `account`, never
//! metadata), where the facts go (the PaymentIntent's order, or — for an object that names only its
//! charge — that charge, until the charge is linked to its order), and the facts themselves.

use std::collections::{BTreeMap, BTreeSet};

use super::facts::{
    dispute_rank, refund_rank, source, AttemptState, CardFact, Ce3Fact, DisputeEvent, DisputeFact,
    DisputeStep, Facts, FailedAttempt, FraudWarningFact, RefundFact, Reg, TimelineEntry,
};
use crate::stripe::event::{
    Charge, ChargeStatus, CheckoutPaymentStatus, CheckoutSession, Dispute, EarlyFraudWarning,
    Event, EventParseError, EventType, Metadata, PaymentIntent, Refund, StripeObject,
};

/// What a handled event type says about its object. [`step`] is the one exhaustive match over
/// [`EventType`]: a new variant that is not folded here is a compile error, not a silent no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Checkout(CheckoutStep),
    PaymentIntent(PaymentIntentStep),
    Charge(ChargeStep),
    /// Every refund event states the refund's current status; the type adds nothing.
    Refund,
    Dispute(DisputeStep),
    FraudWarning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckoutStep {
    Completed,
    AsyncPaymentSucceeded,
    AsyncPaymentFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PaymentIntentStep {
    Succeeded,
    PaymentFailed,
    Processing,
    Canceled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChargeStep {
    Succeeded,
    Failed,
    /// Metadata, the receipt email or the description changed on the charge (issue 18 class 7).
    Updated,
    Refunded,
}

fn step(event_type: EventType) -> Step {
    use EventType as T;
    match event_type {
        T::CheckoutSessionCompleted => Step::Checkout(CheckoutStep::Completed),
        T::CheckoutSessionAsyncPaymentSucceeded => {
            Step::Checkout(CheckoutStep::AsyncPaymentSucceeded)
        }
        T::CheckoutSessionAsyncPaymentFailed => Step::Checkout(CheckoutStep::AsyncPaymentFailed),
        T::PaymentIntentSucceeded => Step::PaymentIntent(PaymentIntentStep::Succeeded),
        T::PaymentIntentPaymentFailed => Step::PaymentIntent(PaymentIntentStep::PaymentFailed),
        T::PaymentIntentProcessing => Step::PaymentIntent(PaymentIntentStep::Processing),
        T::PaymentIntentCanceled => Step::PaymentIntent(PaymentIntentStep::Canceled),
        T::ChargeSucceeded => Step::Charge(ChargeStep::Succeeded),
        T::ChargeFailed => Step::Charge(ChargeStep::Failed),
        T::ChargeUpdated => Step::Charge(ChargeStep::Updated),
        T::ChargeRefunded => Step::Charge(ChargeStep::Refunded),
        T::ChargeRefundUpdated | T::RefundCreated | T::RefundUpdated | T::RefundFailed => {
            Step::Refund
        }
        T::ChargeDisputeCreated => Step::Dispute(DisputeStep::Created),
        T::ChargeDisputeUpdated => Step::Dispute(DisputeStep::Updated),
        T::ChargeDisputeClosed => Step::Dispute(DisputeStep::Closed),
        T::ChargeDisputeFundsWithdrawn => Step::Dispute(DisputeStep::FundsWithdrawn),
        T::ChargeDisputeFundsReinstated => Step::Dispute(DisputeStep::FundsReinstated),
        T::RadarEarlyFraudWarningCreated | T::RadarEarlyFraudWarningUpdated => Step::FraudWarning,
    }
}

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
    let Some(event_type) = event.event_type() else {
        return Ok(Interpretation::Ignore(IgnoreReason::UnhandledType));
    };
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
    let (pi, charge) = match (step(event_type), object.as_ref()) {
        (Step::Checkout(step), StripeObject::CheckoutSession(cs)) => {
            checkout(step, at, cs, &mut facts);
            // A free order has no PaymentIntent: the session id is the order id.
            let order_id = match &cs.payment_intent {
                None if cs.is_free_order() => Some(cs.id.clone()),
                pi => pi.clone(),
            };
            (order_id, None)
        }
        (Step::PaymentIntent(step), StripeObject::PaymentIntent(pi)) => {
            payment_intent(step, at, pi, &mut facts);
            (Some(pi.id.clone()), pi.latest_charge.clone())
        }
        (Step::Charge(step), StripeObject::Charge(ch)) => {
            charge_facts(step, at, ch, &mut facts);
            (ch.payment_intent.clone(), Some(ch.id.clone()))
        }
        (Step::Refund, StripeObject::Refund(re)) => {
            refund(at, re, &mut facts);
            (re.payment_intent.clone(), re.charge.clone())
        }
        (Step::Dispute(step), StripeObject::Dispute(du)) => {
            dispute(step, at, du, &mut facts);
            (du.payment_intent.clone(), du.charge.clone())
        }
        (Step::FraudWarning, StripeObject::EarlyFraudWarning(w)) => {
            fraud_warning(event_type, at, w, &mut facts);
            (w.payment_intent.clone(), w.charge.clone())
        }
        // Cannot happen: `Event::object` reads the struct `EventType::object_kind` names.
        _ => {
            return Err(EventParseError::Object {
                event_id: event.id.clone(),
                expected: event_type.object_kind().name(),
                reason: "object does not match the event type".into(),
            })
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
    facts.customer_ip = reg(&valid_ip(metadata.customer_ip.as_deref()));
    facts.customer_account_id = reg(&valid_metadata(
        "customer_account_id",
        metadata.customer_account_id.as_deref(),
        ACCOUNT_ID_CHARS,
    ));
    facts.device_fingerprint = reg(&valid_metadata(
        "device_fingerprint",
        metadata.device_fingerprint.as_deref(),
        DEVICE_FINGERPRINT_CHARS,
    ));
}

/// `customer_account_id`: at most 200 characters (contract section 9.5).
pub const ACCOUNT_ID_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
/// `device_fingerprint`: a browser fingerprint of 20 to 200 characters (contract section 9.5).
pub const DEVICE_FINGERPRINT_CHARS: std::ops::RangeInclusive<usize> = 20..=200;

/// A CE 3.0 identifier from the storefront's metadata, trimmed, when its length is in `chars`
/// and it holds no control character; anything else is dropped, said in a log line that names
/// the key and why, never the value (it identifies a buyer).
fn valid_metadata(
    key: &'static str,
    raw: Option<&str>,
    chars: std::ops::RangeInclusive<usize>,
) -> Option<String> {
    let value = raw?.trim();
    let length = value.chars().count();
    let why = if !chars.contains(&length) {
        "length out of range"
    } else if value.chars().any(char::is_control) {
        "control character"
    } else {
        return Some(value.to_owned());
    };
    tracing::info!(
        key,
        length,
        reason = why,
        "storefront metadata value dropped"
    );
    None
}

fn note(facts: &mut Facts, at: i64, kind: &str, detail: String) {
    facts.timeline.insert(TimelineEntry {
        at,
        kind: kind.to_owned(),
        detail,
    });
}

fn checkout(step: CheckoutStep, at: i64, cs: &CheckoutSession, facts: &mut Facts) {
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
        .or_else(|| cs.customer_email.clone())
        .map(|e| Reg::new(source::email::CHECKOUT, at, e));
    // The session's amount may be in the presentment currency: the payment's own wins.
    let money = source::money::CHECKOUT;
    facts.amount = cs.amount_total.map(|a| Reg::new(money, at, a));
    facts.currency = cs.currency.clone().map(|c| Reg::new(money, at, c));
    let paid = cs.payment_status == CheckoutPaymentStatus::Paid || cs.is_free_order();
    if cs.is_free_order() {
        // Nothing was charged: amount 0 in the session's currency, whatever `amount_total` says.
        facts.amount = Some(Reg::new(money, at, 0));
    }
    match step {
        CheckoutStep::Completed | CheckoutStep::AsyncPaymentSucceeded if paid => {
            facts.succeeded_at = Some(at);
        }
        CheckoutStep::AsyncPaymentFailed => {
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
        CheckoutStep::Completed => {
            note(facts, at, "checkout_completed", "awaiting payment".into());
        }
        // Not paid yet: the payment's own events say when it is.
        CheckoutStep::AsyncPaymentSucceeded => {}
    }
}

fn payment_intent(step: PaymentIntentStep, at: i64, pi: &PaymentIntent, facts: &mut Facts) {
    let rank = source::PAYMENT_INTENT;
    describe(facts, rank, at, &pi.metadata);
    facts.pi_created = pi.created;
    facts.customer_email = pi
        .receipt_email
        .clone()
        .map(|e| Reg::new(source::email::PAYMENT_INTENT, at, e));
    let money = source::money::PAYMENT_INTENT;
    facts.amount = pi.amount.map(|a| Reg::new(money, at, a));
    facts.currency = pi.currency.clone().map(|c| Reg::new(money, at, c));
    // Older API versions list the charges instead of naming the latest one: each is this
    // order's, so an object naming only its charge finds the order (issue 18 class 6).
    facts
        .charges
        .extend(pi.charges.data.iter().filter_map(|c| c.id.clone()));
    match step {
        PaymentIntentStep::Succeeded => facts.succeeded_at = Some(at),
        PaymentIntentStep::Processing => {
            facts.attempt = Some(Reg::new(0, at, AttemptState::Processing));
            note(
                facts,
                at,
                "payment_processing",
                "payment is processing".into(),
            );
        }
        PaymentIntentStep::Canceled => {
            facts.attempt = Some(Reg::new(0, at, AttemptState::Canceled));
            note(
                facts,
                at,
                "payment_canceled",
                "payment intent canceled".into(),
            );
        }
        PaymentIntentStep::PaymentFailed => {
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
    }
}

fn charge_facts(step: ChargeStep, at: i64, ch: &Charge, facts: &mut Facts) {
    let rank = source::CHARGE;
    describe(facts, rank, at, &ch.metadata);
    let receipt = ch
        .receipt_email
        .clone()
        .map(|e| Reg::new(source::email::CHARGE_RECEIPT, at, e));
    let billing = ch
        .billing_details
        .as_ref()
        .and_then(|b| b.email.clone())
        .map(|e| Reg::new(source::email::CHARGE_BILLING, at, e));
    facts.customer_email = receipt.or(billing);
    billing_details(at, ch, facts);
    card(at, ch, facts);
    let money = source::money::CHARGE;
    facts.amount = ch.amount.map(|a| Reg::new(money, at, a));
    facts.currency = ch.currency.clone().map(|c| Reg::new(money, at, c));
    let succeeded = ch.status == ChargeStatus::Succeeded;
    match step {
        ChargeStep::Succeeded | ChargeStep::Updated if succeeded => {
            facts.succeeded_at = Some(at);
        }
        ChargeStep::Refunded => {
            // A refunded charge was paid, whatever status a newer API version reports.
            facts.succeeded_at = Some(at);
        }
        ChargeStep::Failed => {
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
        // A `charge.succeeded` whose charge is not (yet) succeeded, or an update of a pending
        // or failed charge: only its description counts.
        ChargeStep::Succeeded | ChargeStep::Updated => {}
    }
    // Older API versions embed the charge's refunds: each is a refund fact like a refund event's
    // (issue 18 classes 6 and 8).
    facts
        .refunds
        .extend(ch.refunds.data.iter().map(|re| refund_fact(at, re)));
    if step == ChargeStep::Refunded || ch.amount_refunded.unwrap_or(0) > 0 {
        facts.charge_amount_refunded = ch.amount_refunded.map(|a| Reg::new(0, at, a));
    }
}

fn refund(at: i64, re: &Refund, facts: &mut Facts) {
    // No note in the stored timeline: the view derives each refund's entry from its fact.
    let (id, fact) = refund_fact(at, re);
    facts.refunds = BTreeMap::from([(id, fact)]);
}

/// A refund as the event at `at` states it.
fn refund_fact(at: i64, re: &Refund) -> (String, RefundFact) {
    let status = re.status.clone().unwrap_or_else(|| "pending".to_owned());
    let fact = RefundFact {
        state: Reg::new(refund_rank(&status), at, status),
        amount: re.amount.unwrap_or(0),
        created: re.created,
        failure_reason: re.failure_reason.clone().map(|r| Reg::new(0, at, r)),
    };
    (re.id.clone(), fact)
}

fn dispute(step: DisputeStep, at: i64, du: &Dispute, facts: &mut Facts) {
    let status = du
        .status
        .clone()
        .unwrap_or_else(|| "needs_response".to_owned());
    // The balance transactions tell the money trail even if a funds_* event went missing.
    let withdrawn =
        step == DisputeStep::FundsWithdrawn || du.balance_transactions.iter().any(|t| t.amount < 0);
    let reinstated = step == DisputeStep::FundsReinstated
        || du.balance_transactions.iter().any(|t| t.amount > 0);
    // No note in the order's history: the event is kept with its dispute (`history`), and the
    // view says it in the timeline.
    let details = du.evidence_details.as_ref();
    let card = du
        .payment_method_details
        .as_ref()
        .and_then(|p| p.card.as_ref());
    let reg = |v: Option<String>| v.map(|v| Reg::new(0, at, v));
    facts.disputes = BTreeMap::from([(
        du.id.clone(),
        DisputeFact {
            history: BTreeSet::from([DisputeEvent(at, step, status.clone())]),
            state: Reg::new(dispute_rank(&status), at, status),
            reason: du.reason.clone().map(|r| Reg::new(0, at, r)),
            amount: du.amount.map(|a| Reg::new(0, at, a)),
            // A `due_by` of 0 or null (no response possible) is kept as 0: as the newest fact
            // it closes the window an older date opened.
            evidence_due_by: details.map(|e| Reg::new(0, at, e.due_by.unwrap_or(0).max(0))),
            created: du.created,
            funds_withdrawn: withdrawn,
            funds_reinstated: reinstated,
            case_type: reg(card.and_then(|c| c.case_type.clone())),
            network_reason_code: reg(card.and_then(|c| c.network_reason_code.clone())),
            card_brand: reg(card.and_then(|c| c.brand.clone())),
            past_due: details.and_then(|e| e.past_due).map(|p| Reg::new(0, at, p)),
            submission_count: details
                .and_then(|e| e.submission_count)
                .map(|n| Reg::new(0, at, n.max(0))),
            ce3: ce3_eligibility(at, du),
        },
    )]);
}

/// Stripe lists three required actions today; a few more are kept, no more.
const MAX_REQUIRED_ACTIONS: usize = 8;

/// Stripe's Visa CE 3.0 eligibility of the dispute, when the event states it (contract 9.5):
/// kept on the dispute, the newest event's statement wins.
fn ce3_eligibility(at: i64, du: &Dispute) -> Option<Reg<Ce3Fact>> {
    let ce3 = du
        .evidence_details
        .as_ref()
        .and_then(|e| e.enhanced_eligibility.as_ref())
        .and_then(|e| e.visa_compelling_evidence_3.as_ref())?;
    // Untrusted text, kept on the order item: Stripe's words are short and few.
    let word = |w: &String| (w.chars().count() <= MAX_CARD_PART_CHARS).then(|| w.clone());
    Some(Reg::new(
        0,
        at,
        Ce3Fact {
            status: ce3.status.as_ref().and_then(word),
            required_actions: ce3
                .required_actions
                .iter()
                .filter_map(word)
                .take(MAX_REQUIRED_ACTIONS)
                .collect(),
        },
    ))
}

fn fraud_warning(event_type: EventType, at: i64, w: &EarlyFraudWarning, facts: &mut Facts) {
    let step = event_type
        .as_str()
        .trim_start_matches("radar.early_fraud_warning.");
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

/// Longest billing name, and address part, kept: enough for any real one, and the order item
/// stays small (issue 17) whatever an untrusted value holds.
const MAX_BILLING_PART_CHARS: usize = 200;
/// Longest billing address line kept (all its parts): a real one is far shorter.
const MAX_BILLING_ADDRESS_CHARS: usize = 300;

/// The storefront's `customer_ip` when it is one valid IPv4 or IPv6 address, in its canonical
/// form; anything else (a list, a host name, a zone id, markup) is not kept.
fn valid_ip(raw: Option<&str>) -> Option<String> {
    raw?.trim()
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// Longest card fingerprint or brand kept: Stripe's are 16 and a dozen characters; anything
/// longer is not Stripe's and is not kept (the order item stays small).
const MAX_CARD_PART_CHARS: usize = 64;

/// The card the charge was paid with, ranked like the billing details: the succeeded charge's
/// over a declined attempt's.
fn card(at: i64, ch: &Charge, facts: &mut Facts) {
    let Some(details) = ch
        .payment_method_details
        .as_ref()
        .and_then(|d| d.card.as_ref())
    else {
        return;
    };
    let part = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.chars().count() <= MAX_CARD_PART_CHARS)
            .filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(str::to_owned)
    };
    let fact = CardFact {
        fingerprint: part(&details.fingerprint),
        brand: part(&details.brand).map(|b| b.to_ascii_lowercase()),
    };
    if fact.fingerprint.is_none() && fact.brand.is_none() {
        return;
    }
    let rank = if ch.status == ChargeStatus::Succeeded {
        source::billing::SUCCEEDED_CHARGE
    } else {
        source::billing::OTHER_CHARGE
    };
    facts.card = Some(Reg::new(rank, at, fact));
}

/// Trimmed, one line, bounded; `None` when nothing is left.
fn billing_part(raw: Option<&str>) -> Option<String> {
    let one_line = raw?.split_whitespace().collect::<Vec<_>>().join(" ");
    let part: String = one_line.chars().take(MAX_BILLING_PART_CHARS).collect();
    (!part.is_empty()).then_some(part)
}

/// The charge's `billing_details` name and address as evidence registers: the address as one
/// line (`line1, line2, city, state postal_code, country`, the parts present), as Stripe's
/// `billing_address` evidence field takes it.
fn billing_details(at: i64, ch: &Charge, facts: &mut Facts) {
    let Some(details) = &ch.billing_details else {
        return;
    };
    let rank = if ch.status == ChargeStatus::Succeeded {
        source::billing::SUCCEEDED_CHARGE
    } else {
        source::billing::OTHER_CHARGE
    };
    facts.customer_name = billing_part(details.name.as_deref()).map(|n| Reg::new(rank, at, n));
    let Some(address) = &details.address else {
        return;
    };
    let part = |v: &Option<String>| billing_part(v.as_deref());
    let region = [part(&address.state), part(&address.postal_code)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [
        part(&address.line1),
        part(&address.line2),
        part(&address.city),
        (!region.is_empty()).then_some(region),
        part(&address.country),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !parts.is_empty() {
        let line: String = parts
            .join(", ")
            .chars()
            .take(MAX_BILLING_ADDRESS_CHARS)
            .collect();
        facts.billing_address = Some(Reg::new(rank, at, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpreted(body: &str) -> Interpretation {
        interpret(&Event::parse(body.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn given_a_charge_updated_with_the_product_when_interpreted_then_it_describes_the_order() {
        // GIVEN a `charge.updated` whose metadata names the product, added after payment
        let body = r#"{"id":"evt_1","type":"charge.updated","created":7,"account":"acct_1",
            "data":{"object":{"id":"ch_1","payment_intent":"pi_1","status":"succeeded",
            "metadata":{"product_id":"prod_1"}}}}"#;
        // WHEN it is interpreted
        let Interpretation::Fold(folding) = interpreted(body) else {
            panic!("charge.updated was not folded")
        };
        // THEN it is about the PaymentIntent's order, names the product, and the charge is paid
        assert_eq!(
            folding.target,
            Target::Order {
                order_id: "pi_1".into()
            }
        );
        assert_eq!(folding.facts.product_id.unwrap().value, "prod_1");
        assert_eq!(folding.facts.succeeded_at, Some(7));
        assert!(folding.facts.charges.contains("ch_1"));
    }

    #[test]
    fn given_a_type_we_do_not_handle_when_interpreted_then_ignored_as_unhandled() {
        let body = r#"{"id":"evt_1","type":"payment_intent.requires_action","created":7,
            "data":{"object":{"id":"pi_1"}}}"#;
        assert!(matches!(
            interpreted(body),
            Interpretation::Ignore(IgnoreReason::UnhandledType)
        ));
    }
}
