//! The envelope reader behind `Event::parse` (in `event`, which depends on this module and not the
//! other way round): one serde pass over
//! the body that either types `data.object` on the spot (when the caller knows which struct it
//! is) or keeps it as raw JSON, and the cheap look at the end of the body that guesses the type.
//!
//! Field rules match what `#[derive(Deserialize)]` would give the envelope: unknown fields are
//! ignored, a repeated field is an error, `id`, `type` and `data.object` are required, and
//! `created`, `livemode`, `account` and `api_version` default when absent.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::value::RawValue;

use super::event_type::ObjectKind;
use super::objects::StripeObject;

/// The envelope's fields as read; `event` turns it into an `Event`.
#[derive(Debug)]
pub(super) struct Envelope<'a> {
    pub id: String,
    pub kind: String,
    pub created: i64,
    pub livemode: bool,
    pub account: Option<String>,
    pub api_version: Option<String>,
    pub object: ObjectSlot<'a>,
}

/// `data.object`: typed during the pass, or the raw JSON to type later. Not boxed: an event
/// lives on the stack for one delivery, and the typed variant is the common one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(super) enum ObjectSlot<'a> {
    Raw(&'a RawValue),
    Typed(StripeObject),
}

/// The value of the last `"type"` key in the body, read without parsing: Stripe writes the
/// event's `type` last, so this is nearly always the event type, found in a few hundred bytes.
/// It is only a hint: `Event::parse` checks it against the parsed
/// envelope (a `"type"` inside `data.object`, or escapes, simply lose the fast path).
pub(super) fn type_hint(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"type\"";
    let at = memchr::memmem::rfind(body, KEY)?;
    let rest = &body[at + KEY.len()..];
    let rest = skip_whitespace(rest).strip_prefix(b":")?;
    let rest = skip_whitespace(rest).strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] != b'"' {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()
}

fn skip_whitespace(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    &bytes[n..]
}

/// Reads the envelope; with `object_kind`, `data.object` is typed as that struct in the same pass.
pub(super) fn read(
    body: &[u8],
    object_kind: Option<ObjectKind>,
) -> Result<Envelope<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let event = de.deserialize_map(EnvelopeVisitor { object_kind })?;
    de.end()?;
    Ok(event)
}

struct EnvelopeVisitor {
    object_kind: Option<ObjectKind>,
}

/// Stores a field, refusing a second occurrence as the derived reader does.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Stripe event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut id = None;
        let mut kind = None;
        let mut created = None;
        let mut livemode = None;
        let mut account = None;
        let mut api_version = None;
        let mut object = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "id" => once(&mut id, "id", map.next_value::<String>()?)?,
                "type" => once(&mut kind, "type", map.next_value::<String>()?)?,
                "created" => once(&mut created, "created", map.next_value::<i64>()?)?,
                "livemode" => once(&mut livemode, "livemode", map.next_value::<bool>()?)?,
                "account" => once(&mut account, "account", map.next_value::<Option<String>>()?)?,
                "api_version" => once(
                    &mut api_version,
                    "api_version",
                    map.next_value::<Option<String>>()?,
                )?,
                "data" => once(
                    &mut object,
                    "data",
                    map.next_value_seed(DataSeed {
                        object_kind: self.object_kind,
                    })?,
                )?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Envelope {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            kind: kind.ok_or_else(|| de::Error::missing_field("type"))?,
            created: created.unwrap_or_default(),
            livemode: livemode.unwrap_or_default(),
            account: account.flatten(),
            api_version: api_version.flatten(),
            object: object.ok_or_else(|| de::Error::missing_field("data"))?,
        })
    }
}

/// `data`: only `object` is read; `previous_attributes` and anything newer are skipped.
struct DataSeed {
    object_kind: Option<ObjectKind>,
}

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = ObjectSlot<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ObjectSlot<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed {
    type Value = ObjectSlot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the event's data object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectSlot<'de>, A::Error> {
        let mut object = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "object" {
                let slot = match self.object_kind {
                    Some(kind) => ObjectSlot::Typed(map.next_value_seed(TypedObject(kind))?),
                    None => ObjectSlot::Raw(map.next_value::<&'de RawValue>()?),
                };
                once(&mut object, "object", slot)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        object.ok_or_else(|| de::Error::missing_field("object"))
    }
}

struct TypedObject(ObjectKind);

impl<'de> DeserializeSeed<'de> for TypedObject {
    type Value = StripeObject;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<StripeObject, D::Error> {
        self.0.read(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_stripe_ordered_body_when_hinted_then_the_last_type_is_read() {
        // GIVEN a body whose object also has a `type` key, and the event's `type` last
        let body = br#"{"id":"evt_1","data":{"object":{"outcome":{"type":"authorized"}}},"type" : "charge.succeeded"}"#;
        // WHEN / THEN the hint is the event's type
        assert_eq!(type_hint(body), Some("charge.succeeded"));
    }

    #[test]
    fn given_bodies_without_a_clean_type_when_hinted_then_no_hint() {
        assert_eq!(type_hint(br#"{"id":"evt_1"}"#), None);
        assert_eq!(type_hint(br#"{"type":"charge.\u0073ucceeded"}"#), None);
        assert_eq!(type_hint(br#"{"type":5}"#), None);
        assert_eq!(type_hint(br#"{"type":"unterminated"#), None);
    }

    #[test]
    fn given_a_repeated_envelope_field_when_read_then_an_error() {
        // GIVEN two `type` fields (a body meant to be read differently by different parsers)
        let body = br#"{"id":"evt_1","type":"a","type":"b","data":{"object":{}}}"#;
        // WHEN read either way / THEN it is refused
        assert!(read(body, None).is_err());
        assert!(read(body, Some(ObjectKind::Charge)).is_err());
    }

    #[test]
    fn given_a_repeated_data_object_when_read_then_an_error() {
        let body =
            br#"{"id":"evt_1","type":"a","data":{"object":{"id":"ch_1"},"object":{"id":"ch_2"}}}"#;
        assert!(read(body, None).is_err());
    }

    #[test]
    fn given_trailing_bytes_when_read_then_an_error() {
        let body = br#"{"id":"evt_1","type":"a","data":{"object":{}}} x"#;
        assert!(read(body, None).is_err());
    }
}
