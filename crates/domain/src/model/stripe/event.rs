//! Lenient, typed Stripe event parsing, in one pass over the body when it can be.
//!
//! We read only the fields we use, into our own structs (`objects`): unknown fields are ignored,
//! every enum has a catch-all variant, and a newer API version, an added field or a new enum value
//! is never a reason to reject a validly signed event (contract section 3).
//!
//! Which struct `data.object` is depends on the event's `type`, which Stripe sends *after*
//! `data`. Reading `data.object` as raw JSON first and typing it afterwards walks those bytes
//! twice (about 40% of the parse cost, measured: docs/performance.md section 1). So `parse` reads
//! the type from the end of the body first (`envelope::type_hint`), types `data.object` during
//! the one pass, and checks the hint against the envelope's real `type`. Any disagreement or
//! error falls back to the two-pass reading, which is what decides errors: the fast path can
//! never accept or reject a body differently.

use std::borrow::Cow;

pub use super::event_type::{BackfillStream, EventType, ObjectKind};
pub use super::objects::*;

use super::envelope::{self, Envelope, ObjectSlot};

/// The envelope of every Stripe event, with `data.object` typed or still raw.
#[derive(Debug)]
pub struct Event<'a> {
    pub id: String,
    pub kind: String,
    pub created: i64,
    pub livemode: bool,
    /// The connected account the event comes from; absent for the platform's own events.
    pub account: Option<String>,
    pub api_version: Option<String>,
    pub(super) object: ObjectSlot<'a>,
}

impl<'a> From<Envelope<'a>> for Event<'a> {
    fn from(e: Envelope<'a>) -> Self {
        Event {
            id: e.id,
            kind: e.kind,
            created: e.created,
            livemode: e.livemode,
            account: e.account,
            api_version: e.api_version,
            object: e.object,
        }
    }
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
    /// Parses the envelope from the raw body (the bytes that were signed), typing `data.object`
    /// in the same pass when the type read from the end of the body turns out to be the real one.
    pub fn parse(body: &'a [u8]) -> Result<Self, EventParseError> {
        let hinted = envelope::type_hint(body).and_then(ObjectKind::of_event_type);
        if let Some(hint) = hinted {
            if let Ok(event) = envelope::read(body, Some(hint)).map(Event::from) {
                if ObjectKind::of_event_type(&event.kind) == Some(hint) && event.is_valid() {
                    return Ok(event);
                }
            }
        }
        Self::parse_two_pass(body)
    }

    /// The reference reading: `data.object` kept raw, typed later by [`Event::object`].
    pub fn parse_two_pass(body: &'a [u8]) -> Result<Self, EventParseError> {
        let event: Event = envelope::read(body, None)
            .map(Event::from)
            .map_err(|e| EventParseError::Envelope(e.to_string()))?;
        if !event.is_valid() {
            return Err(EventParseError::Envelope("missing id or type".into()));
        }
        Ok(event)
    }

    /// The handled type of this event; `None` for a type we do not handle.
    pub fn event_type(&self) -> Option<EventType> {
        EventType::parse(&self.kind)
    }

    fn is_valid(&self) -> bool {
        !self.id.is_empty() && !self.kind.is_empty()
    }

    /// The seller this event belongs to: its connected account, else the platform.
    pub fn seller_id(&self) -> &str {
        match self.account.as_deref() {
            Some(acct) if !acct.is_empty() => acct,
            _ => PLATFORM_SELLER,
        }
    }

    /// Whether `data.object` was typed during the parse (one pass) rather than kept raw.
    pub fn typed_in_one_pass(&self) -> bool {
        matches!(self.object, ObjectSlot::Typed(_))
    }

    /// Types `data.object` according to the event type; `None` for types we do not handle.
    pub fn object(&self) -> Result<Option<Cow<'_, StripeObject>>, EventParseError> {
        let Some(kind) = self.event_type().map(EventType::object_kind) else {
            return Ok(None);
        };
        match &self.object {
            ObjectSlot::Typed(object) => Ok(Some(Cow::Borrowed(object))),
            ObjectSlot::Raw(raw) => {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                kind.read(&mut de)
                    .map(|object| Some(Cow::Owned(object)))
                    .map_err(|e| EventParseError::Object {
                        event_id: self.id.clone(),
                        expected: kind.name(),
                        reason: e.to_string(),
                    })
            }
        }
    }
}

/// The seller id of events that carry no `account` (contract section 2).
pub const PLATFORM_SELLER: &str = "platform";

/// Longest seller id accepted anywhere: Stripe documents ids of at most 255 characters.
pub const MAX_SELLER_ID_LEN: usize = 255;

/// Whether `id` is shaped like a seller id (contract sections 2, 3 and 5): a connected Stripe
/// account (`acct_` and ASCII letters and digits, at most 255 characters) or `platform`. The
/// one check for every way a seller id enters: a token's claim, a webhook's `account`. Such an
/// id never holds the store keys' separator (`#`), a path separator or a control character.
pub fn is_seller_id(id: &str) -> bool {
    if id == PLATFORM_SELLER {
        return true;
    }
    id.len() <= MAX_SELLER_ID_LEN
        && id
            .strip_prefix("acct_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_ids_of_every_shape_when_checked_as_seller_ids_then_only_stripe_accounts_and_platform_pass(
    ) {
        for ok in [
            "acct_1QHx4R8cKdV3nWpT",
            "acct_B",
            "platform",
            &format!("acct_{}", "a".repeat(250)),
        ] {
            assert!(is_seller_id(ok), "{ok}");
        }
        for bad in [
            "",
            "acct_",
            "acct_A#PROVISIONAL",
            "acct_A#ORDER#pi_1",
            "acct_A/..",
            "acct_A ",
            "acct_A\n",
            "acct_\u{202e}A",
            "acct_Ä",
            "ACCT_A",
            "user_1",
            "Platform",
            "platform#X",
            &format!("acct_{}", "a".repeat(251)),
        ] {
            assert!(!is_seller_id(bad), "{bad:?}");
        }
    }

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
        let StripeObject::CheckoutSession(cs) = object.as_ref() else {
            panic!("wrong object")
        };
        assert_eq!(cs.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(cs.payment_status, CheckoutPaymentStatus::Other);
        assert_eq!(event.seller_id(), PLATFORM_SELLER);
    }

    #[test]
    fn given_a_stripe_ordered_event_when_parsed_then_its_object_is_typed_in_one_pass() {
        // GIVEN an event as Stripe orders it: `data` first, `type` last
        let body = br#"{"id":"evt_1","object":"event","created":5,"livemode":false,
            "data":{"object":{"id":"ch_1","object":"charge","outcome":{"type":"authorized"},
            "payment_intent":"pi_1","status":"succeeded"},"previous_attributes":{"x":1}},
            "type":"charge.succeeded"}"#;
        // WHEN it is parsed
        let event = Event::parse(body).unwrap();
        // THEN the object was typed during the one pass, and reads like the two-pass reading
        assert!(event.typed_in_one_pass());
        let StripeObject::Charge(charge) = event.object().unwrap().unwrap().into_owned() else {
            panic!("wrong object")
        };
        assert_eq!(charge.payment_intent.as_deref(), Some("pi_1"));
        let two_pass = Event::parse_two_pass(body).unwrap();
        assert!(!two_pass.typed_in_one_pass());
        assert_eq!(
            format!("{:?}", two_pass.object().unwrap()),
            format!("{:?}", event.object().unwrap())
        );
    }

    #[test]
    fn given_a_misleading_type_near_the_end_when_parsed_then_the_real_type_decides() {
        // GIVEN the envelope's `type` first and a `"type"` that names another object last
        let body = br#"{"id":"evt_1","type":"refund.created","created":5,
            "data":{"object":{"id":"re_1","charge":"ch_1","status":"succeeded",
            "metadata":{"type":"charge.succeeded"}}}}"#;
        // WHEN it is parsed
        let event = Event::parse(body).unwrap();
        // THEN the hint was not trusted: the object is the refund the envelope says it is
        assert!(!event.typed_in_one_pass());
        let object = event.object().unwrap().unwrap();
        let StripeObject::Refund(refund) = object.as_ref() else {
            panic!("wrong object")
        };
        assert_eq!(refund.charge.as_deref(), Some("ch_1"));
    }

    #[test]
    fn given_an_object_that_does_not_fit_its_type_when_parsed_then_the_object_error_is_kept() {
        // GIVEN a handled type whose object cannot be read (no id), `type` last as Stripe sends
        let body = br#"{"id":"evt_1","created":5,"data":{"object":{"amount":5}},"type":"charge.succeeded"}"#;
        // WHEN it is parsed / THEN the envelope is fine and typing the object is the error
        let event = Event::parse(body).unwrap();
        assert!(matches!(
            event.object(),
            Err(EventParseError::Object {
                expected: "charge",
                ..
            })
        ));
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
