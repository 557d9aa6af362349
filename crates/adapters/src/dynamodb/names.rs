//! The order item's stored attribute names: the domain's long field names, or short ones that
//! keep a typical order under the 1 KB of one write unit.
//!
//! DynamoDB bills every attribute name on every write, nested map keys included, and rounds
//! each write up to whole kilobytes: the names of `facts` and `fulfillment` were about a fifth
//! of a typical order item (1,088 bytes, 2 write units). Short names are written under other
//! attribute names (`f` for `facts`, `u` for `fulfillment`) so that code from before them,
//! which requires `facts`, fails to read such an item and retries, rather than reading an order
//! with no facts and writing that back. Reading accepts both forms, always; which one this
//! process writes is [`AttributeNames`] (`ORDER_ITEM_NAMES`, `docs/deploy.md` says how a stack
//! deployed before short names switches: first `long`, then `short`).
//!
//! Only names are changed, by the tables below, level by level (so an id used as a map key, a
//! refund's or a dispute's, is never renamed); a name not in a table passes through, so a field
//! added later is stored under its own name until it gets a short one.

use std::collections::HashMap;

use serde_dynamo::AttributeValue;

/// Which attribute names this process writes (it reads both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttributeNames {
    /// The short names and the `f`/`u` attributes.
    #[default]
    Short,
    /// The domain's field names under `facts`/`fulfillment`: what releases before short
    /// names read.
    Long,
}

impl AttributeNames {
    /// `short` or `long`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "short" => Some(Self::Short),
            "long" => Some(Self::Long),
            _ => None,
        }
    }
}

/// Top-level attributes holding the two renamed maps: (long, short).
const FACTS_ATTRIBUTE: (&str, &str) = ("facts", "f");
const FULFILLMENT_ATTRIBUTE: (&str, &str) = ("fulfillment", "u");

/// One map's renamed fields, and the maps or lists of maps inside it (by long name).
struct Level {
    names: &'static [(&'static str, &'static str)],
    children: &'static [(&'static str, Child)],
}

enum Child {
    /// A map from ids to values of this level.
    EachValue(&'static Level),
    /// A list of maps of this level.
    EachItem(&'static Level),
}

const FACTS: Level = Level {
    names: &[
        ("pi_created", "pc"),
        ("first_event_at", "fe"),
        ("last_event_at", "le"),
        ("livemode", "lm"),
        ("reference", "rf"),
        ("product_id", "pi"),
        ("product_name", "pn"),
        ("customer_email", "em"),
        ("store_name", "sn"),
        ("customer_ip", "ip"),
        ("customer_name", "cn"),
        ("billing_address", "ba"),
        ("amount", "am"),
        ("currency", "cu"),
        ("succeeded_at", "sa"),
        ("attempt", "at"),
        ("failures", "fl"),
        ("charge_amount_refunded", "ar"),
        ("refunds", "rs"),
        ("spilled_refunds", "sr"),
        ("disputes", "ds"),
        ("fraud_warnings", "fw"),
        ("charges", "ch"),
        ("timeline", "tl"),
        ("mail", "ml"),
        ("dispute_evidence", "de"),
        ("notices", "nt"),
        ("customer_account_id", "ca"),
        ("device_fingerprint", "df"),
        ("card", "cd"),
    ],
    children: &[
        ("failures", Child::EachValue(&FAILED_ATTEMPT)),
        ("refunds", Child::EachValue(&REFUND)),
        ("disputes", Child::EachValue(&DISPUTE)),
        ("fraud_warnings", Child::EachValue(&FRAUD_WARNING)),
        ("timeline", Child::EachItem(&TIMELINE_ENTRY)),
        ("dispute_evidence", Child::EachValue(&EVIDENCE)),
    ],
};

const FAILED_ATTEMPT: Level = Level {
    names: &[
        ("at", "t"),
        ("decline_code", "dc"),
        ("code", "c"),
        ("message", "m"),
        ("outcome_type", "ot"),
        ("outcome_reason", "or"),
        ("failure_code", "fc"),
        ("failure_message", "fm"),
    ],
    children: &[],
};

const REFUND: Level = Level {
    names: &[
        ("state", "s"),
        ("amount", "a"),
        ("created", "c"),
        ("failure_reason", "fr"),
    ],
    children: &[],
};

const DISPUTE: Level = Level {
    names: &[
        ("state", "s"),
        ("reason", "r"),
        ("amount", "a"),
        ("evidence_due_by", "due"),
        ("created", "c"),
        ("funds_withdrawn", "fw"),
        ("funds_reinstated", "fr"),
        ("history", "h"),
        ("case_type", "ct"),
        ("network_reason_code", "nrc"),
        ("past_due", "pd"),
        ("submission_count", "sc"),
        ("ce3", "c3"),
        ("card_brand", "cb"),
    ],
    children: &[],
};

const FRAUD_WARNING: Level = Level {
    names: &[("actionable", "a"), ("fraud_type", "ft"), ("created", "c")],
    children: &[],
};

const TIMELINE_ENTRY: Level = Level {
    names: &[("at", "t"), ("kind", "k"), ("detail", "d")],
    children: &[],
};

const EVIDENCE: Level = Level {
    names: &[
        ("saved_at", "sv"),
        ("submitted_at", "sb"),
        ("submitted_by", "by"),
        ("accepted_at", "ac"),
        ("last_error", "le"),
        ("statement", "st"),
        ("plan", "pl"),
        ("claim", "cl"),
    ],
    children: &[],
};

const FULFILLMENT: Level = Level {
    names: &[
        ("state", "s"),
        ("lease_until", "lu"),
        ("attempts", "n"),
        ("sent_at", "sa"),
        ("message_id", "m"),
        ("recipient", "to"),
        ("subject", "sj"),
        ("last_error", "e"),
        ("product_id", "p"),
        ("resends", "r"),
        ("template_version", "tv"),
    ],
    children: &[],
};

#[derive(Clone, Copy)]
enum Direction {
    ToShort,
    ToLong,
}

impl Level {
    fn renamed<'a>(&self, name: &'a str, direction: Direction) -> &'a str {
        let found = self.names.iter().find(|(long, short)| match direction {
            Direction::ToShort => *long == name,
            Direction::ToLong => *short == name,
        });
        match (found, direction) {
            (Some((_, short)), Direction::ToShort) => short,
            (Some((long, _)), Direction::ToLong) => long,
            (None, _) => name,
        }
    }

    fn child(&self, long_name: &str) -> Option<&Child> {
        self.children
            .iter()
            .find(|(name, _)| *name == long_name)
            .map(|(_, child)| child)
    }

    fn rename(&'static self, value: &mut AttributeValue, direction: Direction) {
        let AttributeValue::M(map) = value else {
            return;
        };
        let renamed: HashMap<String, AttributeValue> = std::mem::take(map)
            .into_iter()
            .map(|(name, mut inner)| {
                let long = match direction {
                    Direction::ToShort => name.clone(),
                    Direction::ToLong => self.renamed(&name, direction).to_owned(),
                };
                match (self.child(&long), &mut inner) {
                    (Some(Child::EachValue(level)), AttributeValue::M(entries)) => {
                        for entry in entries.values_mut() {
                            level.rename(entry, direction);
                        }
                    }
                    (Some(Child::EachItem(level)), AttributeValue::L(items)) => {
                        for item in items.iter_mut() {
                            level.rename(item, direction);
                        }
                    }
                    _ => {}
                }
                let stored = match direction {
                    Direction::ToShort => self.renamed(&name, direction).to_owned(),
                    Direction::ToLong => long,
                };
                (stored, inner)
            })
            .collect();
        *map = renamed;
    }
}

/// Turns an order item encoded with the domain's names into what this process stores.
pub fn to_stored(item: &mut serde_dynamo::Item, names: AttributeNames) {
    if names == AttributeNames::Long {
        return;
    }
    for ((long, short), level) in [
        (FACTS_ATTRIBUTE, &FACTS),
        (FULFILLMENT_ATTRIBUTE, &FULFILLMENT),
    ] {
        if let Some(mut value) = item.remove(long) {
            level.rename(&mut value, Direction::ToShort);
            item.insert(short.to_owned(), value);
        }
    }
}

/// Turns a stored order item, in either form, back into the domain's names.
pub fn from_stored(item: &mut serde_dynamo::Item) {
    for ((long, short), level) in [
        (FACTS_ATTRIBUTE, &FACTS),
        (FULFILLMENT_ATTRIBUTE, &FULFILLMENT),
    ] {
        if let Some(mut value) = item.remove(short) {
            level.rename(&mut value, Direction::ToLong);
            item.insert(long.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> Vec<(&'static str, &'static Level)> {
        vec![
            ("facts", &FACTS),
            ("failed attempt", &FAILED_ATTEMPT),
            ("refund", &REFUND),
            ("dispute", &DISPUTE),
            ("fraud warning", &FRAUD_WARNING),
            ("timeline entry", &TIMELINE_ENTRY),
            ("evidence", &EVIDENCE),
            ("fulfillment", &FULFILLMENT),
        ]
    }

    #[test]
    fn given_each_level_when_its_names_are_compared_then_each_short_name_means_one_field() {
        for (what, level) in levels() {
            let longs: std::collections::BTreeSet<_> = level.names.iter().map(|n| n.0).collect();
            let shorts: std::collections::BTreeSet<_> = level.names.iter().map(|n| n.1).collect();
            // THEN no two fields share a short name, no field is listed twice
            assert_eq!(longs.len(), level.names.len(), "{what}: a long name twice");
            assert_eq!(
                shorts.len(),
                level.names.len(),
                "{what}: a short name twice"
            );
            // AND no short name is another field's long name, so reading is unambiguous
            for (long, short) in level.names {
                assert!(
                    !longs.contains(short) || short == long,
                    "{what}: {short} is also a long name"
                );
            }
            // AND every child is a renamed field
            for (child, _) in level.children {
                assert!(
                    longs.contains(child),
                    "{what}: child {child} has no short name"
                );
            }
        }
    }

    #[test]
    fn given_the_long_form_when_stored_long_then_it_is_untouched() {
        let mut item = serde_dynamo::Item::from(HashMap::from([(
            "facts".to_owned(),
            AttributeValue::M(HashMap::from([(
                "pi_created".to_owned(),
                AttributeValue::N("5".into()),
            )])),
        )]));
        let before = item.clone();
        to_stored(&mut item, AttributeNames::Long);
        assert_eq!(item, before);
    }

    #[test]
    fn given_a_setting_when_parsed_then_only_the_two_words_are_known() {
        assert_eq!(AttributeNames::parse("short"), Some(AttributeNames::Short));
        assert_eq!(AttributeNames::parse(" long "), Some(AttributeNames::Long));
        assert_eq!(AttributeNames::parse("Short"), None);
        assert_eq!(AttributeNames::parse(""), None);
    }
}
