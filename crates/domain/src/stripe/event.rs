//! Lenient, typed Stripe event parsing.
//!
//! We read only the fields we use, into our own structs: unknown fields are ignored, every enum has
//! a catch-all variant, and `data.object` is kept as raw JSON until the event type tells us which
//! object to expect. A newer API version, an added field or a new enum value is therefore never a
//! reason to reject a validly signed event (contract section 3).

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The envelope of every Stripe event. `data.object` stays raw until [`Event::object`] types it.
#[derive(Debug, Deserialize)]
pub struct Event<'a> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub livemode: bool,
    /// The connected account the event comes from; absent for the platform's own events.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(borrow)]
    pub data: EventData<'a>,
}

#[derive(Debug, Deserialize)]
pub struct EventData<'a> {
    #[serde(borrow)]
    pub object: &'a RawValue,
}

/// Why a body is not a Stripe event we can read.
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    #[error("body is not a Stripe event: {0}")]
    Envelope(String),
    #[error("event {event_id}: data.object is not a {expected}: {reason}")]
    Object {
        event_id: String,
        expected: &'static str,
        reason: String,
    },
}

impl<'a> Event<'a> {
    /// Parses the envelope from the raw body (the bytes that were signed).
    pub fn parse(body: &'a [u8]) -> Result<Self, EventParseError> {
        let event: Event<'a> =
            serde_json::from_slice(body).map_err(|e| EventParseError::Envelope(e.to_string()))?;
        if event.id.is_empty() || event.kind.is_empty() {
            return Err(EventParseError::Envelope("missing id or type".into()));
        }
        Ok(event)
    }

    /// The seller this event belongs to: its connected account, else the platform.
    pub fn seller_id(&self) -> &str {
        match self.account.as_deref() {
            Some(acct) if !acct.is_empty() => acct,
            _ => PLATFORM_SELLER,
        }
    }

    /// Types `data.object` according to the event type; `None` for types we do not handle.
    pub fn object(&self) -> Result<Option<StripeObject>, EventParseError> {
        let kind = self.kind.as_str();
        let raw = self.data.object.get();
        let typed = |expected: &'static str, r: Result<StripeObject, serde_json::Error>| {
            r.map_err(|e| EventParseError::Object {
                event_id: self.id.clone(),
                expected,
                reason: e.to_string(),
            })
        };
        let object = match kind {
            "checkout.session.completed"
            | "checkout.session.async_payment_succeeded"
            | "checkout.session.async_payment_failed" => typed(
                "checkout.session",
                serde_json::from_str(raw).map(StripeObject::CheckoutSession),
            )?,
            "payment_intent.succeeded"
            | "payment_intent.payment_failed"
            | "payment_intent.processing"
            | "payment_intent.canceled" => typed(
                "payment_intent",
                serde_json::from_str(raw).map(StripeObject::PaymentIntent),
            )?,
            "charge.succeeded" | "charge.failed" | "charge.refunded" => typed(
                "charge",
                serde_json::from_str(raw).map(StripeObject::Charge),
            )?,
            "charge.refund.updated" | "refund.created" | "refund.updated" | "refund.failed" => {
                typed(
                    "refund",
                    serde_json::from_str(raw).map(StripeObject::Refund),
                )?
            }
            "charge.dispute.created"
            | "charge.dispute.updated"
            | "charge.dispute.closed"
            | "charge.dispute.funds_withdrawn"
            | "charge.dispute.funds_reinstated" => typed(
                "dispute",
                serde_json::from_str(raw).map(StripeObject::Dispute),
            )?,
            "radar.early_fraud_warning.created" | "radar.early_fraud_warning.updated" => typed(
                "radar.early_fraud_warning",
                serde_json::from_str(raw).map(StripeObject::EarlyFraudWarning),
            )?,
            _ => return Ok(None),
        };
        Ok(Some(object))
    }
}

/// The seller id of events that carry no `account` (contract section 2).
pub const PLATFORM_SELLER: &str = "platform";

/// The event types this service folds into orders (contract section 3).
pub const HANDLED_EVENT_TYPES: &[&str] = &[
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "radar.early_fraud_warning.created",
    "radar.early_fraud_warning.updated",
];

/// The objects we read out of `data.object`.
#[derive(Debug)]
pub enum StripeObject {
    CheckoutSession(CheckoutSession),
    PaymentIntent(PaymentIntent),
    Charge(Charge),
    Refund(Refund),
    Dispute(Dispute),
    EarlyFraudWarning(EarlyFraudWarning),
}

/// The storefront's metadata; other keys are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default, deserialize_with = "lenient_string")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub product_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub product_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub payment_status: CheckoutPaymentStatus,
    #[serde(default)]
    pub customer_details: Option<CustomerDetails>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutPaymentStatus {
    Paid,
    Unpaid,
    NoPaymentRequired,
    #[default]
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct CustomerDetails {
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub receipt_email: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub latest_charge: Option<String>,
}

/// `PaymentIntent.last_payment_error`: the issuer's and Stripe's reasons for a failed attempt.
#[derive(Debug, Default, Deserialize)]
pub struct PaymentError {
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Charge {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub amount_refunded: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub status: ChargeStatus,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub billing_details: Option<BillingDetails>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(default)]
    pub failure_code: Option<String>,
    #[serde(default)]
    pub failure_message: Option<String>,
    #[serde(default)]
    pub outcome: Option<ChargeOutcome>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Succeeded,
    Pending,
    Failed,
    #[default]
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct BillingDetails {
    #[serde(default)]
    pub email: Option<String>,
}

/// `Charge.outcome`: Radar's and the network's verdict. `type` is kept as a string because new
/// values appear and only `blocked` and `issuer_declined` matter to us.
#[derive(Debug, Default, Deserialize)]
pub struct ChargeOutcome {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    /// Kept as a string: Stripe's values (`pending`, `requires_action`, `succeeded`, `failed`,
    /// `canceled`) are ranked by the fold, and a newer one is stored as it is.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Dispute {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    /// Stripe's own status, passed through (contract section 4), newer values included.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub evidence_details: Option<EvidenceDetails>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub balance_transactions: Vec<BalanceTransaction>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EvidenceDetails {
    /// 0 when the bank allows no response; treated as unknown.
    #[serde(default)]
    pub due_by: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BalanceTransaction {
    #[serde(default)]
    pub amount: i64,
}

#[derive(Debug, Deserialize)]
pub struct EarlyFraudWarning {
    pub id: String,
    #[serde(default)]
    pub actionable: Option<bool>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub fraud_type: Option<String>,
}

/// An expandable reference: Stripe sends either the id or the expanded object with an `id`.
fn expandable_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Id(String),
        Object { id: String },
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<IdOrObject>::deserialize(d)? {
        Some(IdOrObject::Id(id)) | Some(IdOrObject::Object { id }) if !id.is_empty() => Some(id),
        _ => None,
    })
}

/// Metadata values are strings in Stripe; anything else is treated as absent rather than fatal.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        S(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Lenient>::deserialize(d)? {
        Some(Lenient::S(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// `null` where we expect an object or a list is read as its empty default.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_an_event_with_unknown_fields_and_enum_values_when_parsed_then_it_is_read() {
        // GIVEN a checkout session from a newer API version with values we do not know
        let body =
            br#"{"id":"evt_1","type":"checkout.session.completed","created":5,"livemode":false,
            "api_version":"2099-01-01.zebra","brand_new_field":{"x":1},
            "data":{"object":{"id":"cs_1","payment_intent":{"id":"pi_1","object":"payment_intent"},
            "payment_status":"partially_paid_someday","ui_mode":"elements","metadata":null,
            "customer_details":{"email":"a@b.c","new":true}}}}"#;
        // WHEN it is parsed
        let event = Event::parse(body).unwrap();
        let object = event.object().unwrap().unwrap();
        // THEN the fields we use are there and the unknown enum value is `Other`
        let StripeObject::CheckoutSession(cs) = object else {
            panic!("wrong object")
        };
        assert_eq!(cs.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(cs.payment_status, CheckoutPaymentStatus::Other);
        assert_eq!(event.seller_id(), PLATFORM_SELLER);
    }

    #[test]
    fn given_an_unhandled_type_when_typed_then_none() {
        let body =
            br#"{"id":"evt_1","type":"plan.created","created":5,"data":{"object":{"id":"x"}}}"#;
        let event = Event::parse(body).unwrap();
        assert!(event.object().unwrap().is_none());
    }

    #[test]
    fn given_a_body_that_is_not_an_event_when_parsed_then_an_error() {
        assert!(Event::parse(b"not json").is_err());
        assert!(Event::parse(br#"{"id":"evt_1"}"#).is_err());
        assert!(Event::parse(br#"{"id":"","type":"x","data":{"object":{}}}"#).is_err());
    }

    #[test]
    fn given_a_handled_type_whose_object_lacks_an_id_when_typed_then_an_error() {
        let body = br#"{"id":"evt_1","type":"charge.succeeded","created":5,"data":{"object":{"amount":5}}}"#;
        let event = Event::parse(body).unwrap();
        assert!(event.object().is_err());
    }
}
