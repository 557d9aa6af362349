//! The order as the API shows it (contract section 4): derived from the record on every read,
//! never stored, so it can never disagree with the facts.

use serde::Serialize;

use super::facts::RefundFact;
use super::failure::classify;
use super::mail;
use super::message_facts::DeliveryStatus;
use super::refunds::SpilledRefund;
use super::{OrderRecord, PaymentStatus};
use crate::clock::rfc3339;
use crate::clock::rfc3339_ms;
use crate::text::shown;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub order_id: String,
    pub seller_id: String,
    pub reference: Option<String>,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub customer_email: Option<String>,
    /// In the currency's minor unit.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// Whether the order's events came from Stripe's live mode (`false`: test mode), for the
    /// links to the seller's Stripe Dashboard (`…/test/payments/…`).
    pub livemode: bool,
    pub payment_status: PaymentStatus,
    pub refunded_amount: i64,
    pub failure: Option<FailureView>,
    pub dispute: Option<DisputeView>,
    pub disputes: Vec<DisputeView>,
    pub refunds: Vec<RefundView>,
    pub early_fraud_warning: bool,
    pub access_revoked: bool,
    pub attention: Vec<String>,
    pub fulfillment: FulfillmentView,
    pub created_at: String,
    pub updated_at: String,
    pub timeline: Vec<TimelineView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureView {
    /// One of `insufficient_funds`, `card_declined`, `expired_card`, `incorrect_card_details`,
    /// `fraud_blocked`.
    pub category: String,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisputeView {
    pub id: String,
    /// Stripe's own status, newer values passed through.
    pub status: String,
    pub reason: Option<String>,
    pub amount: Option<i64>,
    /// RFC 3339, or `null` when Stripe gives none (its schema makes `evidence_details.due_by`
    /// nullable: an inquiry or a closed dispute may carry none).
    pub evidence_due_by: Option<String>,
    pub funds_withdrawn: bool,
    pub funds_reinstated: bool,
    pub created_at: Option<String>,
    /// `payment_method_details.card.case_type`: `inquiry`, `chargeback`, `compliance`,
    /// `block`, `resolution`, a newer value passed through, or null.
    pub case_type: Option<String>,
    pub network_reason_code: Option<String>,
    /// Stripe's `evidence_details.past_due`: the last submission reached Stripe late.
    pub submitted_late: bool,
    /// Stripe's `evidence_details.submission_count`.
    pub submission_count: i64,
    /// Visa Compelling Evidence 3.0 (contract section 9.5) for a Visa fraud dispute, else null.
    pub ce3: Option<Ce3View>,
    /// When the backend plans to submit unless the seller acts (RFC 3339), or null.
    pub auto_submit_at: Option<String>,
    /// Why there is no planned automatic submission (`setting_off`, `no_strong_evidence`,
    /// `compliance`, `stripe_not_configured`, `submitted`, `accepted`, `closed`, `past_due`),
    /// or absent when one is planned or the sweep has not looked yet. Not a contract field: the
    /// page's "why not"; left out when there is nothing to say, so a dispute the sweep has not
    /// looked at carries exactly the contract's fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_submit_skipped: Option<String>,
    /// What we filed for the dispute's current phase (contract section 9); `null` before
    /// anything was recorded for it.
    pub evidence: Option<DisputeEvidenceView>,
}

/// `ce3` of a Visa fraud dispute.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ce3View {
    /// Stripe's `enhanced_eligibility.visa_compelling_evidence_3.status`, or null.
    pub status: Option<String>,
    pub required_actions: Vec<String>,
    /// The order ids that qualify as prior undisputed transactions, newest first.
    pub qualifying_orders: Vec<String>,
}

/// `evidence` of a dispute's current phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisputeEvidenceView {
    pub saved_at: Option<String>,
    pub submitted_at: Option<String>,
    /// `seller` or `auto`.
    pub submitted_by: Option<String>,
    pub accepted_at: Option<String>,
    /// The last failure in words, or null.
    pub last_error: Option<String>,
    /// The seller's saved statement, or null.
    pub statement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundView {
    pub id: String,
    pub amount: i64,
    pub status: String,
    pub failure_reason: Option<String>,
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FulfillmentView {
    /// `pending` | `sent` | `skipped` | `failed`.
    pub status: String,
    pub sent_at: Option<String>,
    pub message_id: Option<String>,
    /// What SES said about the order's newest email; `null` until SES reported on it.
    pub delivery: Option<DeliveryView>,
    /// The seller's resends, oldest first (sent ones; one in flight has no message id yet).
    pub resends: Vec<ResendView>,
}

/// `fulfillment.delivery` (contract section 10).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    /// `sent` | `delivered` | `delayed` | `bounced` | `complained` | `rejected`.
    pub status: DeliveryStatus,
    /// The SES record's own time (RFC 3339, milliseconds).
    pub at: String,
    /// The SMTP response, or the bounce / complaint / delay type, or the rejection reason.
    pub detail: String,
    /// Which email this is about.
    pub message_id: String,
    /// The address that email went to (a resend may go to a corrected address).
    pub recipient: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResendView {
    pub requested_at: String,
    pub sent_at: Option<String>,
    pub message_id: Option<String>,
    /// Where it went: a corrected address the seller gave, else the order's customer email.
    pub recipient: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineView {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

impl OrderView {
    /// Derives the view from the stored record. Refunds the order keeps in items of their own
    /// are counted but not listed: see [`OrderView::with_spilled_refunds`].
    pub fn of(record: &OrderRecord) -> Self {
        Self::with_spilled_refunds(record, &[])
    }

    /// The view listing every refund: those on the order item and those the store keeps in
    /// items of their own (`order::refunds`), read with `OrderStore::list_spilled_refunds`.
    pub fn with_spilled_refunds(record: &OrderRecord, spilled: &[SpilledRefund]) -> Self {
        let f = &record.facts;
        let failure = f.latest_failure().map(|attempt| {
            let c = classify(attempt);
            FailureView {
                category: c.category.as_str().to_owned(),
                code: c.code,
                message: c.message.as_deref().map(shown),
            }
        });
        let mut disputes: Vec<(i64, DisputeView)> = f
            .disputes
            .iter()
            .map(|(id, d)| {
                let view = DisputeView {
                    id: id.clone(),
                    status: d.status().to_owned(),
                    reason: d.reason.as_ref().map(|r| r.value.clone()),
                    amount: d.amount.as_ref().map(|r| r.value),
                    evidence_due_by: d.due_by().map(rfc3339),
                    funds_withdrawn: d.funds_withdrawn,
                    funds_reinstated: d.funds_reinstated,
                    created_at: d.created.map(rfc3339),
                    case_type: d.case_type().map(str::to_owned),
                    network_reason_code: d.network_reason_code.as_ref().map(|r| r.value.clone()),
                    submitted_late: d.past_due.as_ref().is_some_and(|r| r.value),
                    submission_count: d.submission_count.as_ref().map_or(0, |r| r.value),
                    ce3: ce3_view(d),
                    auto_submit_at: current_evidence(f, id, d)
                        .and_then(|e| e.auto_submit_at())
                        .map(rfc3339),
                    auto_submit_skipped: current_evidence(f, id, d)
                        .and_then(|e| e.plan.as_ref())
                        .and_then(|p| p.value.why.clone()),
                    evidence: current_evidence(f, id, d)
                        .filter(|e| e.recorded())
                        .map(evidence_view),
                };
                (d.created.unwrap_or(0), view)
            })
            .collect();
        disputes.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        let disputes: Vec<DisputeView> = disputes.into_iter().map(|(_, d)| d).collect();
        let dispute = f
            .latest_dispute()
            .and_then(|(id, _)| disputes.iter().find(|d| &d.id == id).cloned());
        let refund_facts: Vec<(&String, &RefundFact)> = f
            .refunds
            .iter()
            .chain(spilled.iter().map(|s| (&s.refund_id, &s.fact)))
            .collect();
        let mut refunds: Vec<RefundView> = refund_facts
            .iter()
            .map(|&(id, r)| RefundView {
                id: id.clone(),
                amount: r.amount,
                status: r.status().to_owned(),
                failure_reason: r.failure_reason.as_ref().map(|x| x.value.clone()),
                created_at: r.created.map(rfc3339),
            })
            .collect();
        refunds.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        OrderView {
            order_id: record.order_id.clone(),
            seller_id: record.seller_id.clone(),
            // Text from outside, shown as the display-text sanitiser leaves it (`crate::text`).
            reference: f.reference().map(shown),
            product_id: f.product_id().map(shown),
            product_name: f.product_name().map(shown),
            customer_email: f.customer_email().map(shown),
            amount: f.amount(),
            currency: f.currency().map(str::to_owned),
            livemode: f.livemode.as_ref().is_some_and(|r| r.value),
            payment_status: f.payment_status(),
            refunded_amount: f.refunded_amount(),
            failure,
            dispute,
            disputes,
            refunds,
            early_fraud_warning: f.early_fraud_warning(),
            access_revoked: f.access_revoked(),
            attention: record.attention().into_iter().map(str::to_owned).collect(),
            fulfillment: FulfillmentView {
                status: record.fulfillment_status().to_owned(),
                sent_at: record.fulfillment.sent_at.map(rfc3339),
                message_id: record.fulfillment.message_id.clone(),
                delivery: delivery_view(record),
                resends: record
                    .fulfillment
                    .resends
                    .iter()
                    .map(|r| ResendView {
                        requested_at: rfc3339(r.claimed_at),
                        sent_at: r.sent_at.map(rfc3339),
                        message_id: r.message_id.clone(),
                        recipient: r
                            .recipient
                            .clone()
                            .or_else(|| f.customer_email().map(str::to_owned)),
                    })
                    .collect(),
            },
            created_at: rfc3339(f.created_at()),
            updated_at: rfc3339(record.updated_at()),
            timeline: timeline(record, &refund_facts),
        }
    }
}

/// The stored history plus the entries derived from facts (success, failed attempts, each
/// dispute's events, each refund's latest state, the delivery email), oldest first.
///
/// Refunds are not noted in the stored history: their facts (kept on the order or in items of
/// their own) already say each one's latest state and when, and thirty refunds of notes alone
/// took an order item past 4 KB (issue 17). A refund shows its latest state, the step Stripe
/// reported last, not every step before it.
fn timeline(record: &OrderRecord, refunds: &[(&String, &RefundFact)]) -> Vec<TimelineView> {
    let f = &record.facts;
    let mut entries: Vec<(i64, String, String)> = f
        .timeline
        .iter()
        .map(|e| (e.at, e.kind.clone(), e.detail.clone()))
        .collect();
    if let Some(at) = f.succeeded_at {
        let amount = match (f.amount(), f.currency()) {
            (Some(a), Some(c)) => format!("{a} {c}"),
            (Some(a), None) => a.to_string(),
            _ => String::new(),
        };
        entries.push((
            at,
            "payment_succeeded".into(),
            format!("paid {amount}").trim().into(),
        ));
    }
    for attempt in f.failures.values() {
        let c = classify(attempt);
        let code = c.code.map(|c| format!(" ({c})")).unwrap_or_default();
        entries.push((
            attempt.at,
            "payment_failed".into(),
            format!("{}{code}", c.category.as_str()),
        ));
    }
    for (id, d) in &f.disputes {
        for super::facts::DisputeEvent(at, step, status) in &d.history {
            entries.push((
                *at,
                format!("dispute_{}", step.as_str()),
                format!("{id}: {status}"),
            ));
        }
    }
    for (id, r) in refunds {
        entries.push((
            r.state.at,
            format!("refund_{}", r.status()),
            format!("{id}: {}", r.amount),
        ));
    }
    if let (Some(at), Some(id)) = (record.fulfillment.sent_at, &record.fulfillment.message_id) {
        entries.push((
            at,
            "email_sent".into(),
            format!("download link sent, message {id}"),
        ));
    }
    for r in &record.fulfillment.resends {
        if let (Some(at), Some(id)) = (r.sent_at, &r.message_id) {
            let to = r
                .recipient
                .as_deref()
                .map(|to| format!(" to {to}"))
                .unwrap_or_default();
            entries.push((
                at,
                "email_resent".into(),
                format!("download link sent again{to} at the seller's request, message {id}"),
            ));
        }
    }
    for (id, m) in &f.mail {
        if let Some(d) = &m.delivery {
            entries.push((
                d.at_ms.div_euclid(1000),
                "email_delivered".into(),
                format!(
                    "message {id} accepted by the receiving server: {}",
                    d.smtp_response.as_deref().unwrap_or("no SMTP response")
                ),
            ));
        }
        if let Some(s) = m
            .state
            .as_ref()
            .filter(|s| !matches!(s.status, DeliveryStatus::Sent | DeliveryStatus::Delivered))
        {
            entries.push((
                s.at_ms.div_euclid(1000),
                format!("email_{}", s.status.as_str()),
                format!("message {id}: {}", s.detail),
            ));
        }
    }
    entries.sort();
    entries.dedup();
    entries
        .into_iter()
        .map(|(at, kind, detail)| TimelineView {
            at: rfc3339(at),
            kind,
            detail: shown(&detail),
        })
        .collect()
}

fn delivery_view(record: &OrderRecord) -> Option<DeliveryView> {
    let newest = mail::emails(record).pop()?;
    let state = newest.facts?.state.as_ref()?;
    let f = &record.fulfillment;
    let recipient = f
        .resends
        .iter()
        .find(|r| r.message_id.as_deref() == Some(newest.message_id))
        .map(|r| r.recipient.clone())
        .unwrap_or_else(|| f.recipient.clone())
        .or_else(|| record.facts.customer_email().map(str::to_owned));
    Some(DeliveryView {
        status: state.status,
        at: rfc3339_ms(state.at_ms),
        detail: shown(&state.detail),
        message_id: newest.message_id.to_owned(),
        recipient,
    })
}

/// The evidence record of the dispute's current phase (contract section 9.1: it starts afresh
/// when an inquiry escalates to a chargeback).
pub fn current_evidence<'a>(
    f: &'a super::facts::Facts,
    dispute_id: &str,
    dispute: &super::facts::DisputeFact,
) -> Option<&'a super::facts::EvidenceFact> {
    f.dispute_evidence
        .get(&dispute.phase().evidence_key(dispute_id))
}

/// A dispute's `evidence`: what was recorded for its current phase; a record that holds only
/// idempotency generations or a plan (nothing filed, nothing failed) shows `null`.
fn evidence_view(e: &super::facts::EvidenceFact) -> DisputeEvidenceView {
    DisputeEvidenceView {
        saved_at: e.saved_at.map(rfc3339),
        submitted_at: e.submitted_at.map(rfc3339),
        submitted_by: e.submitted_by.map(|s| s.as_str().to_owned()),
        accepted_at: e.accepted_at.map(rfc3339),
        last_error: e.last_error().map(str::to_owned),
        statement: e.statement().map(str::to_owned),
    }
}

/// `ce3`: shown for a Visa fraud dispute (contract section 9.5), or whenever Stripe reported an
/// eligibility for it. Which earlier orders qualify needs the store: [`crate::listing::order_view`] fills
/// them in.
fn ce3_view(d: &super::facts::DisputeFact) -> Option<Ce3View> {
    let stripe = d.ce3.as_ref().map(|r| &r.value);
    if stripe.is_none() && !d.is_visa_fraud() {
        return None;
    }
    Some(Ce3View {
        status: stripe.and_then(|c| c.status.clone()),
        required_actions: stripe
            .map(|c| c.required_actions.clone())
            .unwrap_or_default(),
        qualifying_orders: Vec::new(),
    })
}
