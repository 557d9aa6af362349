//! The Stripe event types this service handles: the single source of truth (issue 13 item 2).
//!
//! Everything that needs the list reads it from [`EventType`]: the webhook's parse (which object
//! `data.object` is), the fold (`order::from_event` matches on it exhaustively, so a variant that
//! is not folded does not compile), the backfill (each type's stream, named so that adding a type
//! resets no other stream's progress), and `docs/deploy.md` (a test checks its event list).
//!
//! How to add a type: add the variant here with its Stripe name, object kind and stream, list it
//! in `ALL` and in `docs/deploy.md`, then fold it where the compiler points.

use super::objects::StripeObject;

/// A Stripe event type we fold into orders (contract section 3). A type string we do not know
/// parses to `None`: the event is acknowledged with `200` and ignored, never rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    CheckoutSessionCompleted,
    CheckoutSessionAsyncPaymentSucceeded,
    CheckoutSessionAsyncPaymentFailed,
    PaymentIntentSucceeded,
    PaymentIntentPaymentFailed,
    PaymentIntentProcessing,
    PaymentIntentCanceled,
    ChargeSucceeded,
    ChargeFailed,
    ChargeUpdated,
    ChargeRefunded,
    ChargeRefundUpdated,
    RefundCreated,
    RefundUpdated,
    RefundFailed,
    ChargeDisputeCreated,
    ChargeDisputeUpdated,
    ChargeDisputeClosed,
    ChargeDisputeFundsWithdrawn,
    ChargeDisputeFundsReinstated,
    RadarEarlyFraudWarningCreated,
    RadarEarlyFraudWarningUpdated,
}

/// A group of event types that the backfill lists from Stripe's Events API in one walk, with its
/// own stored progress. Streams are named, not numbered: a type added to one stream changes only
/// that stream's type list (and so restarts only that stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackfillStream {
    /// Checkout Sessions, PaymentIntents and charges: how an order is paid.
    Payments,
    /// Refunds, disputes and early fraud warnings: what happens after payment.
    AfterPayment,
}

impl BackfillStream {
    /// Every stream, in the order the backfill walks them.
    pub const ALL: [BackfillStream; 2] = [BackfillStream::Payments, BackfillStream::AfterPayment];

    /// The stream's stored name (the key of its progress): never change one.
    pub fn name(self) -> &'static str {
        match self {
            BackfillStream::Payments => "payments",
            BackfillStream::AfterPayment => "after_payment",
        }
    }

    /// The event types of this stream, in [`EventType::ALL`] order.
    pub fn event_types(self) -> Vec<EventType> {
        EventType::ALL
            .iter()
            .copied()
            .filter(|t| t.backfill_stream() == self)
            .collect()
    }
}

impl EventType {
    /// Every handled type, in the order of contract section 3.
    pub const ALL: [EventType; 22] = [
        EventType::CheckoutSessionCompleted,
        EventType::CheckoutSessionAsyncPaymentSucceeded,
        EventType::CheckoutSessionAsyncPaymentFailed,
        EventType::PaymentIntentSucceeded,
        EventType::PaymentIntentPaymentFailed,
        EventType::PaymentIntentProcessing,
        EventType::PaymentIntentCanceled,
        EventType::ChargeSucceeded,
        EventType::ChargeFailed,
        EventType::ChargeUpdated,
        EventType::ChargeRefunded,
        EventType::ChargeRefundUpdated,
        EventType::RefundCreated,
        EventType::RefundUpdated,
        EventType::RefundFailed,
        EventType::ChargeDisputeCreated,
        EventType::ChargeDisputeUpdated,
        EventType::ChargeDisputeClosed,
        EventType::ChargeDisputeFundsWithdrawn,
        EventType::ChargeDisputeFundsReinstated,
        EventType::RadarEarlyFraudWarningCreated,
        EventType::RadarEarlyFraudWarningUpdated,
    ];

    /// Stripe's name of the type, as in the event's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CheckoutSessionCompleted => "checkout.session.completed",
            EventType::CheckoutSessionAsyncPaymentSucceeded => {
                "checkout.session.async_payment_succeeded"
            }
            EventType::CheckoutSessionAsyncPaymentFailed => "checkout.session.async_payment_failed",
            EventType::PaymentIntentSucceeded => "payment_intent.succeeded",
            EventType::PaymentIntentPaymentFailed => "payment_intent.payment_failed",
            EventType::PaymentIntentProcessing => "payment_intent.processing",
            EventType::PaymentIntentCanceled => "payment_intent.canceled",
            EventType::ChargeSucceeded => "charge.succeeded",
            EventType::ChargeFailed => "charge.failed",
            EventType::ChargeUpdated => "charge.updated",
            EventType::ChargeRefunded => "charge.refunded",
            EventType::ChargeRefundUpdated => "charge.refund.updated",
            EventType::RefundCreated => "refund.created",
            EventType::RefundUpdated => "refund.updated",
            EventType::RefundFailed => "refund.failed",
            EventType::ChargeDisputeCreated => "charge.dispute.created",
            EventType::ChargeDisputeUpdated => "charge.dispute.updated",
            EventType::ChargeDisputeClosed => "charge.dispute.closed",
            EventType::ChargeDisputeFundsWithdrawn => "charge.dispute.funds_withdrawn",
            EventType::ChargeDisputeFundsReinstated => "charge.dispute.funds_reinstated",
            EventType::RadarEarlyFraudWarningCreated => "radar.early_fraud_warning.created",
            EventType::RadarEarlyFraudWarningUpdated => "radar.early_fraud_warning.updated",
        }
    }

    /// The handled type named `name`; `None` for a type we do not handle (answered `200`, ignored).
    pub fn parse(name: &str) -> Option<EventType> {
        // 22 short comparisons, on the webhook path once per event: cheaper than building a map.
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The struct `data.object` is read into.
    pub fn object_kind(self) -> ObjectKind {
        match self {
            EventType::CheckoutSessionCompleted
            | EventType::CheckoutSessionAsyncPaymentSucceeded
            | EventType::CheckoutSessionAsyncPaymentFailed => ObjectKind::CheckoutSession,
            EventType::PaymentIntentSucceeded
            | EventType::PaymentIntentPaymentFailed
            | EventType::PaymentIntentProcessing
            | EventType::PaymentIntentCanceled => ObjectKind::PaymentIntent,
            EventType::ChargeSucceeded
            | EventType::ChargeFailed
            | EventType::ChargeUpdated
            | EventType::ChargeRefunded => ObjectKind::Charge,
            // `charge.refund.updated` carries a refund, not a charge.
            EventType::ChargeRefundUpdated
            | EventType::RefundCreated
            | EventType::RefundUpdated
            | EventType::RefundFailed => ObjectKind::Refund,
            EventType::ChargeDisputeCreated
            | EventType::ChargeDisputeUpdated
            | EventType::ChargeDisputeClosed
            | EventType::ChargeDisputeFundsWithdrawn
            | EventType::ChargeDisputeFundsReinstated => ObjectKind::Dispute,
            EventType::RadarEarlyFraudWarningCreated | EventType::RadarEarlyFraudWarningUpdated => {
                ObjectKind::EarlyFraudWarning
            }
        }
    }

    /// The backfill stream that lists this type.
    pub fn backfill_stream(self) -> BackfillStream {
        match self.object_kind() {
            ObjectKind::CheckoutSession | ObjectKind::PaymentIntent | ObjectKind::Charge => {
                BackfillStream::Payments
            }
            ObjectKind::Refund | ObjectKind::Dispute | ObjectKind::EarlyFraudWarning => {
                BackfillStream::AfterPayment
            }
        }
    }
}

/// The struct an event type's `data.object` is read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    CheckoutSession,
    PaymentIntent,
    Charge,
    Refund,
    Dispute,
    EarlyFraudWarning,
}

impl ObjectKind {
    /// The object an event type carries; `None` for types we do not handle.
    pub fn of_event_type(kind: &str) -> Option<Self> {
        EventType::parse(kind).map(EventType::object_kind)
    }

    /// Stripe's name of the object, for errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::CheckoutSession => "checkout.session",
            Self::PaymentIntent => "payment_intent",
            Self::Charge => "charge",
            Self::Refund => "refund",
            Self::Dispute => "dispute",
            Self::EarlyFraudWarning => "radar.early_fraud_warning",
        }
    }

    /// Reads the object from any serde deserializer.
    pub fn read<'de, D: serde::Deserializer<'de>>(self, d: D) -> Result<StripeObject, D::Error> {
        use serde::Deserialize;
        Ok(match self {
            Self::CheckoutSession => StripeObject::CheckoutSession(Deserialize::deserialize(d)?),
            Self::PaymentIntent => StripeObject::PaymentIntent(Deserialize::deserialize(d)?),
            Self::Charge => StripeObject::Charge(Deserialize::deserialize(d)?),
            Self::Refund => StripeObject::Refund(Deserialize::deserialize(d)?),
            Self::Dispute => StripeObject::Dispute(Deserialize::deserialize(d)?),
            Self::EarlyFraudWarning => {
                StripeObject::EarlyFraudWarning(Deserialize::deserialize(d)?)
            }
        })
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Stripe's ceiling on `types[]` in one Events API call.
    const STRIPE_MAX_TYPES_PER_CALL: usize = 20;

    #[test]
    fn given_every_type_when_named_and_parsed_back_then_it_round_trips() {
        // GIVEN every handled type / WHEN its name is parsed / THEN it is that type, and names are unique
        let names: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), EventType::ALL.len());
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
    }

    #[test]
    fn given_a_type_we_do_not_handle_when_parsed_then_none() {
        for name in [
            "plan.created",
            "",
            "charge",
            "CHARGE.SUCCEEDED",
            "charge.succeeded ",
            "payment_intent.requires_action",
        ] {
            assert_eq!(EventType::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn given_all_when_compared_with_the_variants_then_no_variant_is_missing() {
        // GIVEN ALL, sorted / THEN it holds each variant once (the exhaustive matches above
        // cover every variant; this catches one left out of ALL)
        let set: BTreeSet<EventType> = EventType::ALL.into_iter().collect();
        assert_eq!(set.len(), EventType::ALL.len());
        // `charge.updated` is in the contract's list since issue 18.
        assert!(set.contains(&EventType::ChargeUpdated));
    }

    #[test]
    fn given_the_streams_when_listed_then_each_type_is_in_exactly_one_and_fits_one_call() {
        let mut seen = Vec::new();
        let mut names = BTreeSet::new();
        for stream in BackfillStream::ALL {
            let types = stream.event_types();
            assert!(!types.is_empty(), "{stream:?} is empty");
            assert!(types.len() <= STRIPE_MAX_TYPES_PER_CALL, "{stream:?}");
            assert!(names.insert(stream.name()), "duplicate stream name");
            seen.extend(types);
        }
        seen.sort();
        let mut all = EventType::ALL.to_vec();
        all.sort();
        assert_eq!(seen, all);
    }

    #[test]
    fn given_the_object_kinds_when_read_then_they_follow_stripes_prefixes() {
        for t in EventType::ALL {
            let name = t.as_str();
            let expected = if name.starts_with("checkout.session.") {
                ObjectKind::CheckoutSession
            } else if name.starts_with("payment_intent.") {
                ObjectKind::PaymentIntent
            } else if name.starts_with("charge.dispute.") {
                ObjectKind::Dispute
            } else if name.starts_with("charge.refund.") || name.starts_with("refund.") {
                ObjectKind::Refund
            } else if name.starts_with("charge.") {
                ObjectKind::Charge
            } else if name.starts_with("radar.early_fraud_warning.") {
                ObjectKind::EarlyFraudWarning
            } else {
                panic!("no object kind rule for {name}")
            };
            assert_eq!(t.object_kind(), expected, "{name}");
        }
    }

    #[test]
    fn given_docs_deploy_when_its_enabled_events_are_read_then_they_are_exactly_the_handled_types()
    {
        // GIVEN the webhook endpoint's event list the operator copies from docs/deploy.md
        let doc = include_str!("../../../../../docs/deploy.md");
        let listed: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.split("enabled_events[]=").nth(1))
            .map(|rest| rest.trim_end_matches(['"', '\\', ' ']).trim())
            .collect();
        // WHEN compared with the enum / THEN they are the same list, in the same order
        let handled: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(listed, handled);
    }
}
