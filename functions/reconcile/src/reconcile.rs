//! Reconcile: re-reads from Stripe what an order still has open, and folds what changed as facts,
//! so that an outcome whose event never arrived (a missed `charge.dispute.closed`) still lands.
//!
//! Open means: a dispute not closed (`won`, `lost`, `prevented`, `warning_closed`), a refund still
//! `pending` or `requires_action`, or a payment `processing` for longer than the configured age.
//! Orders are found with the store's indexed listings (disputed; pending; partially refunded and
//! refunded, since an open refund counts towards the refunded amount) within a look-back window,
//! never with a scan.
//!
//! A re-read object is folded through the webhook's path as an event of the matching type, created
//! now (the time we learnt it). An object whose state matches what the order already knows is not
//! folded at all: a quiet run writes nothing.

use std::collections::BTreeMap;

use leenkies_adapters::metrics::{self, Metrics};
use leenkies_domain::ingest::{ingest_body, IngestDeps, IngestError, IngestOutcome};
use leenkies_domain::ops::OpsStore;
use leenkies_domain::order::facts::{dispute_is_closed, AttemptState};
use leenkies_domain::order::{OrderRecord, PaymentStatus};
use leenkies_domain::ports::{OrderFilter, OrderQuery, OrderStore, StoreError};
use leenkies_domain::stripe::event::{EventType, PLATFORM_SELLER};
use serde::Serialize;
use serde_json::{json, Value};

use crate::stripe_api::{ApiError, ObjectKind, StripeApi, STRIPE_API_VERSION};

#[derive(Debug, Clone, Copy)]
pub struct ReconcileOptions {
    /// A payment processing for longer than this is re-read.
    pub processing_max_age_secs: i64,
    /// Orders created longer ago than this are not examined (disputes open up to ~120 days).
    pub lookback_secs: i64,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self {
            processing_max_age_secs: 3_600,
            lookback_secs: 180 * 86_400,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ReconcileSummary {
    pub orders_examined: u64,
    pub objects_read: u64,
    /// Objects whose state had moved on and were folded.
    pub changed: u64,
    pub errors: Vec<String>,
}

/// One object to re-read, and what the order believes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Open {
    kind: ObjectKind,
    id: String,
    known_status: String,
}

/// What is still open on one order.
fn open_objects(order: &OrderRecord, now: i64, options: &ReconcileOptions) -> Vec<Open> {
    let facts = &order.facts;
    let mut open = Vec::new();
    for (id, dispute) in &facts.disputes {
        if !dispute_is_closed(dispute.status()) {
            open.push(Open {
                kind: ObjectKind::Dispute,
                id: id.clone(),
                known_status: dispute.status().to_owned(),
            });
        }
    }
    for (id, refund) in &facts.refunds {
        if matches!(refund.status(), "pending" | "requires_action") {
            open.push(Open {
                kind: ObjectKind::Refund,
                id: id.clone(),
                known_status: refund.status().to_owned(),
            });
        }
    }
    if let Some(attempt) = &facts.attempt {
        if !facts.succeeded()
            && attempt.value == AttemptState::Processing
            && now - attempt.at > options.processing_max_age_secs
        {
            open.push(Open {
                kind: ObjectKind::PaymentIntent,
                id: order.order_id.clone(),
                known_status: "processing".into(),
            });
        }
    }
    open
}

/// The event type that states `object`'s current status, or `None` when it says nothing new.
fn event_type_for(kind: ObjectKind, status: &str) -> Option<EventType> {
    match kind {
        ObjectKind::Dispute if dispute_is_closed(status) => Some(EventType::ChargeDisputeClosed),
        ObjectKind::Dispute => Some(EventType::ChargeDisputeUpdated),
        ObjectKind::Refund if status == "failed" => Some(EventType::RefundFailed),
        ObjectKind::Refund => Some(EventType::RefundUpdated),
        ObjectKind::PaymentIntent => match status {
            "succeeded" => Some(EventType::PaymentIntentSucceeded),
            "canceled" => Some(EventType::PaymentIntentCanceled),
            // Back to asking for a payment method: the processing attempt failed.
            "requires_payment_method" => Some(EventType::PaymentIntentPaymentFailed),
            _ => None,
        },
    }
}

/// An event envelope around a re-read object, as the webhook path reads it.
fn synthetic_event(seller: &str, event_type: EventType, object: &Value, now: i64) -> Value {
    let object_id = object["id"].as_str().unwrap_or("unknown");
    let status = object["status"].as_str().unwrap_or("unknown");
    let mut event = json!({
        "id": format!("evt_reconcile_{object_id}_{status}"),
        "object": "event",
        "type": event_type.as_str(),
        "created": now,
        "livemode": object["livemode"].as_bool().unwrap_or(false),
        // The object was read at the client's version; the envelope says so.
        "api_version": STRIPE_API_VERSION,
        "data": {"object": object},
    });
    if seller != PLATFORM_SELLER {
        event["account"] = json!(seller);
    }
    event
}

pub struct Reconcile<'a> {
    pub api: &'a StripeApi,
    pub ingest: &'a IngestDeps,
    pub store: &'a dyn OrderStore,
    pub ops: &'a dyn OpsStore,
    pub metrics: &'a Metrics,
    pub options: ReconcileOptions,
    pub now: i64,
}

impl Reconcile<'_> {
    pub async fn run(&self, account: Option<&str>) -> Result<ReconcileSummary, StoreError> {
        let sellers = match account {
            Some(a) => vec![a.to_owned()],
            None => self.ops.list_sellers().await?,
        };
        let mut summary = ReconcileSummary::default();
        for seller in sellers {
            let orders = match self.candidates(&seller).await {
                Ok(orders) => orders,
                Err(e) => {
                    summary
                        .errors
                        .push(format!("{seller}: listing orders: {e}"));
                    continue;
                }
            };
            for order in orders.values() {
                summary.orders_examined += 1;
                for open in open_objects(order, self.now, &self.options) {
                    match self.refresh(&seller, &open).await {
                        Ok(changed) => {
                            summary.objects_read += 1;
                            summary.changed += u64::from(changed);
                        }
                        Err(e) => {
                            tracing::error!(account = %seller, object_id = %open.id, error = %e,
                                "reconcile could not refresh an object");
                            summary.errors.push(format!("{seller}/{}: {e}", open.id));
                        }
                    }
                }
            }
        }
        self.metrics
            .count(metrics::RECONCILE_CHANGES, &[], summary.changed);
        tracing::info!(
            orders_examined = summary.orders_examined,
            objects_read = summary.objects_read,
            changed = summary.changed,
            errors = summary.errors.len(),
            "reconcile done"
        );
        Ok(summary)
    }

    /// The seller's orders that may have something open, by indexed listings, de-duplicated.
    async fn candidates(&self, seller: &str) -> Result<BTreeMap<String, OrderRecord>, StoreError> {
        let filters = [
            OrderFilter::Disputed,
            OrderFilter::Status(PaymentStatus::Pending),
            OrderFilter::Status(PaymentStatus::PartiallyRefunded),
            OrderFilter::Status(PaymentStatus::Refunded),
        ];
        let mut found = BTreeMap::new();
        for filter in filters {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .list_orders(
                        seller,
                        &OrderQuery {
                            filter: filter.clone(),
                            from: Some(self.now - self.options.lookback_secs),
                            to: None,
                            limit: 100,
                            after: after.take(),
                        },
                    )
                    .await?;
                for order in page.orders {
                    found.insert(order.order_id.clone(), order);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(found)
    }

    /// Re-reads one object; folds it when its status moved on. `Ok(true)` when it did.
    async fn refresh(&self, seller: &str, open: &Open) -> Result<bool, RefreshError> {
        let object = self.api.retrieve(seller, open.kind, &open.id).await?;
        let status = object["status"].as_str().unwrap_or_default();
        if status == open.known_status {
            return Ok(false);
        }
        let Some(event_type) = event_type_for(open.kind, status) else {
            return Ok(false);
        };
        let event = synthetic_event(seller, event_type, &object, self.now);
        let body = serde_json::to_vec(&event).map_err(|e| RefreshError::Encode(e.to_string()))?;
        let outcome = ingest_body(&body, self.ingest).await?;
        tracing::info!(account = %seller, object_id = %open.id, from = %open.known_status,
            to = status, outcome = outcome.metric_name(), "reconcile folded a changed object");
        Ok(matches!(outcome, IngestOutcome::Applied { .. }))
    }
}

#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("encoding the event: {0}")]
    Encode(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use leenkies_domain::order::from_event::{interpret, Interpretation};
    use leenkies_domain::stripe::event::Event;

    /// The facts a re-read object comes to, through the same reading as the webhook's.
    fn facts_of(
        seller: &str,
        kind: ObjectKind,
        object: Value,
    ) -> leenkies_domain::order::facts::Facts {
        let status = object["status"].as_str().unwrap().to_owned();
        let event_type = event_type_for(kind, &status).unwrap();
        let body = serde_json::to_vec(&synthetic_event(seller, event_type, &object, 1_790_000_000))
            .unwrap();
        let event = Event::parse(&body).unwrap();
        assert_eq!(event.api_version.as_deref(), Some(STRIPE_API_VERSION));
        match interpret(&event).unwrap() {
            Interpretation::Fold(folding) => folding.facts,
            Interpretation::Ignore(reason) => panic!("ignored: {reason:?}"),
        }
    }

    #[test]
    fn given_objects_in_the_clients_api_version_when_re_read_then_they_fold_like_webhook_ones() {
        // GIVEN a dispute and a refund as Stripe renders them at 2026-09-30.endive: `prevented`
        // (clover and later), `presentment_details` (basil and later), fields added since
        let dispute = json!({"id": "du_1Endive", "object": "dispute", "amount": 2500,
            "currency": "usd", "charge": "ch_1Endive", "payment_intent": "pi_1Endive",
            "status": "prevented", "reason": "fraudulent", "created": 1_789_000_000,
            "livemode": true, "is_charge_refundable": false,
            "enhanced_eligibility_types": ["visa_compelling_evidence_3"],
            "evidence_details": {"due_by": 1_789_900_000, "enhanced_eligibility": {},
                "has_evidence": false, "past_due": false, "submission_count": 0},
            "payment_method_details": {"type": "card", "card": {"brand": "visa",
                "case_type": "chargeback", "network_reason_code": "10.4"}},
            "balance_transactions": [], "metadata": {}});
        let refund = json!({"id": "re_1Endive", "object": "refund", "amount": 700,
            "currency": "usd", "charge": "ch_1Endive", "payment_intent": "pi_1Endive",
            "status": "failed", "failure_reason": "expired_or_canceled_card",
            "created": 1_789_100_000, "livemode": true,
            "presentment_details": {"presentment_amount": 650, "presentment_currency": "eur"},
            "destination_details": {"type": "card", "card": {"type": "refund"}},
            "metadata": {}});
        // WHEN they are re-read and folded
        let d = facts_of("acct_1Endive", ObjectKind::Dispute, dispute);
        let r = facts_of("acct_1Endive", ObjectKind::Refund, refund);
        // THEN the dispute is closed as prevented and the refund failed, in the store's currency
        let dispute = d.disputes.get("du_1Endive").expect("the dispute is known");
        assert_eq!(dispute.status(), "prevented");
        let refund = r.refunds.get("re_1Endive").expect("the refund is known");
        assert_eq!((refund.status(), refund.amount), ("failed", 700));
    }

    #[test]
    fn given_statuses_when_mapped_then_each_object_gets_the_event_that_states_it() {
        assert_eq!(
            event_type_for(ObjectKind::Dispute, "won"),
            Some(EventType::ChargeDisputeClosed)
        );
        assert_eq!(
            event_type_for(ObjectKind::Dispute, "under_review"),
            Some(EventType::ChargeDisputeUpdated)
        );
        assert_eq!(
            event_type_for(ObjectKind::Refund, "failed"),
            Some(EventType::RefundFailed)
        );
        assert_eq!(
            event_type_for(ObjectKind::Refund, "succeeded"),
            Some(EventType::RefundUpdated)
        );
        assert_eq!(
            event_type_for(ObjectKind::PaymentIntent, "requires_payment_method"),
            Some(EventType::PaymentIntentPaymentFailed)
        );
        assert_eq!(
            event_type_for(ObjectKind::PaymentIntent, "processing"),
            None
        );
    }
}
