//! How an order, a charge link, a download entry and a refund kept apart look as DynamoDB
//! items, and back.
//!
//! One table, single-table design. Keys and index attributes are derived from the order on every
//! write, so the indexes can never disagree with the facts:
//!
//! | item        | pk                              | sk                      |
//! |-------------|---------------------------------|-------------------------|
//! | order       | `SELLER#<acct>#ORDER#<pi>`      | `ORDER`                 |
//! | download    | `SELLER#<acct>#ORDER#<pi>`      | `DOWNLOAD#<ts>#<n>`     |
//! | charge link | `SELLER#<acct>#CHARGE#<ch>`     | `CHARGE`                |
//! | old refund  | `SELLER#<acct>#ORDER#<pi>`      | `REFUND#<re>`           |
//! | rates       | `SELLER#<acct>#RATES#<YYYY-MM>` | `RATES`                 |
//!
//! GSIs (see `table`): `gsi1` seller + created, `gsi2` seller + lower-cased email + created,
//! `gsi3` seller + status + created, `gsi4` the seller's disputed orders (sparse), `gsi5` the
//! seller's paid orders by card brand and month, sorted by fingerprint (sparse), `gsi6` the
//! sweep's due work across sellers (sparse: `SWEEP` + next look + seller + order, only while a
//! job has work pending). `gsi3` and `gsi4` sort on `gsi1sk`, the one "created" sort key,
//! rather than on copies of it.
//!
//! An order whose `created_at` is still provisional (its PaymentIntent's `created` not seen yet:
//! [`OrderRecord::created_at_provisional`]) is in one listing only, `gsi1` under the seller's
//! provisional partition (`SELLER#<acct>#PROVISIONAL`), and in neither `gsi2` nor `gsi3`: when
//! the PaymentIntent arrives its `created_at` moves, and moving one entry and adding two costs 4
//! write units where moving three costs 6 (docs/performance.md, section 3). The store merges that
//! partition into every list and search.
//! The same item shape is what DynamoDB Streams hands the fulfillment function.
//!
//! Every byte of an order item is paid on each write, once per index it is in, and write units
//! are whole kilobytes: so nothing is stored twice. The seller and order ids are read back from
//! `pk` (ids never contain `#`: the webhook refuses ids that are not Stripe-shaped), and a
//! typical paid order stays under 1 KB (docs/performance.md, section 3).

use std::borrow::Cow;

use leenkies_domain::order::facts::{Facts, RefundFact};
use leenkies_domain::order::refunds::SpilledRefund;
use leenkies_domain::order::{FulfillmentRecord, OrderRecord};
use leenkies_domain::ports::{ChargeLink, DownloadEntry};
use serde::{Deserialize, Serialize};

pub const KIND_ORDER: &str = "order";
pub const KIND_CHARGE_LINK: &str = "charge_link";
pub const KIND_DOWNLOAD: &str = "download";
pub const KIND_REFUND: &str = "refund";
/// Sort-key prefix of a refund kept in an item of its own.
pub const REFUND_SK_PREFIX: &str = "REFUND#";
pub const ORDER_SK: &str = "ORDER";
pub const CHARGE_SK: &str = "CHARGE";

/// An id as one part of a key: the separator `#` and the escape `%` written as `%23` and `%25`.
/// A key built from ids then holds `#` only between its parts, and two different ids never make
/// the same key: a seller id `acct_A#PROVISIONAL` (refused where ids enter, and refused here
/// again) names a partition of its own, never seller A's. Stripe's ids hold neither character,
/// so their keys are unchanged.
pub fn key_part(id: &str) -> Cow<'_, str> {
    if id.contains(['#', '%']) {
        Cow::Owned(id.replace('%', "%25").replace('#', "%23"))
    } else {
        Cow::Borrowed(id)
    }
}

/// [`key_part`] read back.
fn from_key_part(part: &str) -> Cow<'_, str> {
    if part.contains('%') {
        Cow::Owned(part.replace("%23", "#").replace("%25", "%"))
    } else {
        Cow::Borrowed(part)
    }
}

pub fn order_pk(seller_id: &str, order_id: &str) -> String {
    format!(
        "SELLER#{}#ORDER#{}",
        key_part(seller_id),
        key_part(order_id)
    )
}

pub fn charge_pk(seller_id: &str, charge_id: &str) -> String {
    format!(
        "SELLER#{}#CHARGE#{}",
        key_part(seller_id),
        key_part(charge_id)
    )
}

pub fn seller_partition(seller_id: &str) -> String {
    format!("SELLER#{}", key_part(seller_id))
}

pub fn status_partition(seller_id: &str, status: &str) -> String {
    format!("SELLER#{}#STATUS#{status}", key_part(seller_id))
}

/// Where orders whose `created_at` may still move are listed (module docs).
pub fn provisional_partition(seller_id: &str) -> String {
    format!("SELLER#{}#PROVISIONAL", key_part(seller_id))
}

pub fn disputed_partition(seller_id: &str) -> String {
    format!("SELLER#{}#DISPUTED", key_part(seller_id))
}

/// The card index's partition of one brand and month (brands hold no `#`: the fold keeps only
/// letters, digits and `_`); its sort key is the card's fingerprint.
pub fn card_partition(seller_id: &str, brand: &str, month: &str) -> String {
    format!(
        "SELLER#{}#CARD#{}#{month}",
        key_part(seller_id),
        key_part(brand)
    )
}

/// A seller's dispute-rate counters of one month (`YYYY-MM`): an item of its own.
pub fn rates_pk(seller_id: &str, month: &str) -> String {
    format!("SELLER#{}#RATES#{month}", key_part(seller_id))
}

pub const RATES_SK: &str = "RATES";
pub const KIND_RATES: &str = "rates";

/// The seller and order ids an order's `pk` was built from.
pub fn ids_from_order_pk(pk: &str) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    let (seller_id, order_id) = pk.strip_prefix("SELLER#")?.split_once("#ORDER#")?;
    (!seller_id.is_empty() && !order_id.is_empty() && !order_id.contains('#'))
        .then(|| (from_key_part(seller_id), from_key_part(order_id)))
}

/// The one partition of the sweep's index.
pub const SWEEP_PARTITION: &str = "SWEEP";

/// The sweep's sort key: fixed-width seconds of the next look, then seller and order (the table
/// key, read back from the entry's `pk`, names them too: this keeps entries of one second apart).
pub fn sweep_sort_key(due: i64, seller_id: &str, order_id: &str) -> String {
    format!(
        "{:012}#{}#{}",
        due.max(0),
        key_part(seller_id),
        key_part(order_id)
    )
}

/// Sort key ordering orders by creation: fixed-width seconds, then the order id.
pub fn created_sort_key(created_at: i64, order_id: &str) -> String {
    format!("{:012}#{order_id}", created_at.max(0))
}

pub fn email_sort_key(email_lower: &str, created_at: i64, order_id: &str) -> String {
    format!("{email_lower}#{}", created_sort_key(created_at, order_id))
}

/// The order item. Top-level attributes other than `facts` and `fulfillment` are derived, for
/// keys, indexes and the stream filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub pk: String,
    pub sk: String,
    pub kind: String,
    pub version: u64,
    /// Paid, not revoked, email and product known: what the stream filter selects on (which
    /// matches `true` only, so `false` is not stored).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deliverable: bool,
    pub fulfillment_status: String,
    /// The order owes its seller a notification (`notify::due`): what the stream filter's
    /// second pattern selects on (sparse like `deliverable`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub notify_due: bool,
    /// `payment_status` is `failed`: the stream filter's third pattern, for the seller's
    /// `failure_pattern` check (sparse).
    #[serde(default, skip_serializing_if = "is_false")]
    pub payment_failed: bool,
    pub gsi1pk: String,
    pub gsi1sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    /// `None` while `created_at` is provisional (module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi4pk: Option<String>,
    /// The card index (`table::BY_CARD`): only a paid order with a card fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi5pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi5sk: Option<String>,
    /// The sweep's index (`table::SWEEP_DUE`, sparse): present while some job has work pending
    /// on the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi6pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi6sk: Option<String>,
    pub facts: Facts,
    /// Not stored while nothing has happened to the delivery email (every byte is paid on each
    /// write).
    #[serde(default, skip_serializing_if = "is_untouched")]
    pub fulfillment: FulfillmentRecord,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_untouched(f: &FulfillmentRecord) -> bool {
    *f == FulfillmentRecord::default()
}

impl From<&OrderRecord> for OrderItem {
    fn from(r: &OrderRecord) -> Self {
        let created = r.facts.created_at();
        let status = r.facts.payment_status().as_str();
        let provisional = r.created_at_provisional();
        // A provisional order is listed by its provisional partition alone (module docs).
        let email = r
            .facts
            .customer_email()
            .filter(|_| !provisional)
            .map(str::to_lowercase);
        let disputed = !r.facts.disputes.is_empty();
        let card = leenkies_domain::evidence::ce3::indexed_card(r);
        let due = leenkies_domain::sweep::next_look(r);
        OrderItem {
            pk: order_pk(&r.seller_id, &r.order_id),
            sk: ORDER_SK.to_owned(),
            kind: KIND_ORDER.to_owned(),
            version: r.version,
            deliverable: r.facts.deliverable(),
            fulfillment_status: r.fulfillment.state.as_str().to_owned(),
            notify_due: leenkies_domain::notify::due(r),
            payment_failed: r.facts.payment_status() == leenkies_domain::PaymentStatus::Failed,
            gsi1pk: if provisional {
                provisional_partition(&r.seller_id)
            } else {
                seller_partition(&r.seller_id)
            },
            gsi1sk: created_sort_key(created, &r.order_id),
            gsi2pk: email.as_ref().map(|_| seller_partition(&r.seller_id)),
            gsi2sk: email
                .as_ref()
                .map(|e| email_sort_key(e, created, &r.order_id)),
            gsi3pk: (!provisional).then(|| status_partition(&r.seller_id, status)),
            gsi4pk: disputed.then(|| disputed_partition(&r.seller_id)),
            gsi5pk: card.map(|c| card_partition(&r.seller_id, c.brand, &c.month.label())),
            gsi5sk: card.map(|c| c.fingerprint.to_owned()),
            gsi6pk: due.map(|_| SWEEP_PARTITION.to_owned()),
            gsi6sk: due.map(|at| sweep_sort_key(at, &r.seller_id, &r.order_id)),
            facts: r.facts.clone(),
            fulfillment: r.fulfillment.clone(),
        }
    }
}

impl OrderItem {
    /// The order this item stores; `None` when its `pk` is not an order key.
    pub fn into_record(self) -> Option<OrderRecord> {
        let (seller_id, order_id) = ids_from_order_pk(&self.pk)?;
        Some(OrderRecord {
            seller_id: seller_id.into_owned(),
            order_id: order_id.into_owned(),
            version: self.version,
            facts: self.facts,
            fulfillment: self.fulfillment,
        })
    }
}

/// The charge link item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeLinkItem {
    pub pk: String,
    pub sk: String,
    pub kind: String,
    pub seller_id: String,
    pub charge_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default)]
    pub pending: Facts,
    pub version: u64,
}

impl From<&ChargeLink> for ChargeLinkItem {
    fn from(l: &ChargeLink) -> Self {
        ChargeLinkItem {
            pk: charge_pk(&l.seller_id, &l.charge_id),
            sk: CHARGE_SK.to_owned(),
            kind: KIND_CHARGE_LINK.to_owned(),
            seller_id: l.seller_id.clone(),
            charge_id: l.charge_id.clone(),
            order_id: l.order_id.clone(),
            pending: l.pending.clone(),
            version: l.version,
        }
    }
}

impl From<ChargeLinkItem> for ChargeLink {
    fn from(i: ChargeLinkItem) -> Self {
        ChargeLink {
            seller_id: i.seller_id,
            charge_id: i.charge_id,
            order_id: i.order_id,
            pending: i.pending,
            version: i.version,
        }
    }
}

/// One download-log item, beside its order in the same partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadItem {
    pub pk: String,
    pub sk: String,
    pub kind: String,
    #[serde(flatten)]
    pub entry: DownloadEntry,
}

/// A refund kept in an item of its own beside its order (`order::refunds`): in no index, and
/// written only in the same transaction as the order whose tally counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundItem {
    pub pk: String,
    pub sk: String,
    pub kind: String,
    pub fact: RefundFact,
}

impl RefundItem {
    pub fn new(seller_id: &str, order_id: &str, refund: &SpilledRefund) -> Self {
        Self {
            pk: order_pk(seller_id, order_id),
            sk: refund_sort_key(&refund.refund_id),
            kind: KIND_REFUND.to_owned(),
            fact: refund.fact.clone(),
        }
    }

    /// The refund back, its id read from the sort key.
    pub fn into_spilled(self) -> Option<SpilledRefund> {
        let refund_id = self.sk.strip_prefix(REFUND_SK_PREFIX)?.to_owned();
        Some(SpilledRefund {
            refund_id,
            fact: self.fact,
        })
    }
}

pub fn refund_sort_key(refund_id: &str) -> String {
    format!("{REFUND_SK_PREFIX}{refund_id}")
}

/// Decodes a stream image (or any item map) into an order, if it is one, whichever attribute
/// names it was stored with (`names`).
pub fn order_from_image(
    mut image: serde_dynamo::Item,
) -> Result<Option<OrderRecord>, serde_dynamo::Error> {
    let is_order =
        matches!(image.get("kind"), Some(serde_dynamo::AttributeValue::S(k)) if k == KIND_ORDER);
    if !is_order {
        return Ok(None);
    }
    super::names::from_stored(&mut image);
    let item: OrderItem = serde_dynamo::from_item(image)?;
    let pk = item.pk.clone();
    item.into_record().map(Some).ok_or_else(|| {
        <serde_dynamo::Error as serde::de::Error>::custom(format!("not an order key: {pk}"))
    })
}

/// Encodes an order as the item the store writes with `names` (and a stream image holds).
pub fn order_to_stored(
    record: &OrderRecord,
    names: super::names::AttributeNames,
) -> Result<serde_dynamo::Item, serde_dynamo::Error> {
    let mut item = serde_dynamo::to_item(OrderItem::from(record))?;
    super::names::to_stored(&mut item, names);
    Ok(item)
}

/// Encodes an order as a stream image with the default names (used by the local change pump).
pub fn order_to_image(record: &OrderRecord) -> Result<serde_dynamo::Item, serde_dynamo::Error> {
    order_to_stored(record, super::names::AttributeNames::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use leenkies_domain::order::facts::Reg;

    #[test]
    fn given_an_order_when_encoded_and_decoded_then_identical() {
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.version = 3;
        r.facts.customer_email = Some(Reg::new(2, 10, "Jo@Example.com".into()));
        r.facts.succeeded_at = Some(10);
        r.facts.pi_created = Some(5);
        let image = order_to_image(&r).unwrap();
        let mut long = image.clone();
        crate::dynamodb::names::from_stored(&mut long);
        let item: OrderItem = serde_dynamo::from_item(long).unwrap();
        assert_eq!(
            item.gsi2sk.as_deref(),
            Some("jo@example.com#000000000005#pi_1")
        );
        assert!(item.gsi4pk.is_none());
        assert_eq!(order_from_image(image).unwrap(), Some(r));
    }

    #[test]
    fn given_an_order_key_when_split_then_the_ids_come_back() {
        // GIVEN the key of an order of a connected account and one of the platform
        // WHEN split / THEN the ids it was built from come back
        let ids = |pk: &str| ids_from_order_pk(pk).map(|(s, o)| (s.into_owned(), o.into_owned()));
        let pair = |s: &str, o: &str| Some((s.to_owned(), o.to_owned()));
        assert_eq!(
            ids(&order_pk("acct_1Nv0", "pi_3Mtw")),
            pair("acct_1Nv0", "pi_3Mtw")
        );
        assert_eq!(ids(&order_pk("platform", "pi_9")), pair("platform", "pi_9"));
        // AND keys of other items are not mistaken for orders
        assert_eq!(ids_from_order_pk(&charge_pk("acct_1", "ch_1")), None);
        assert_eq!(ids_from_order_pk("SELLER##ORDER#pi_1"), None);
        assert_eq!(ids_from_order_pk("SELLER#acct_1#ORDER#"), None);
    }

    #[test]
    fn given_ids_holding_the_separator_when_keys_are_built_then_no_key_names_another_sellers_partition(
    ) {
        // GIVEN a seller id shaped to reach seller A's provisional partition, and others
        let hostile = "acct_A#PROVISIONAL";
        // WHEN its keys are built
        // THEN they differ from every key of seller A, and `#` is only ever a separator
        assert_ne!(seller_partition(hostile), provisional_partition("acct_A"));
        assert_ne!(
            provisional_partition(hostile),
            provisional_partition("acct_A")
        );
        assert_ne!(
            order_pk("acct_A#ORDER#pi_1", "x"),
            order_pk("acct_A", "pi_1#ORDER#x")
        );
        assert_ne!(
            status_partition("acct_A#STATUS#failed", "x"),
            status_partition("acct_A", "failed")
        );
        assert_ne!(seller_partition("acct_A%23X"), seller_partition("acct_A#X"));
        assert_eq!(seller_partition(hostile), "SELLER#acct_A%23PROVISIONAL");
        // AND such an order's ids come back as they were given
        let pk = order_pk("acct_A#x%y", "pi_1#2");
        let (s, o) = ids_from_order_pk(&pk).unwrap();
        assert_eq!((s.as_ref(), o.as_ref()), ("acct_A#x%y", "pi_1#2"));
        // AND Stripe's ids make the keys they always made
        assert_eq!(
            order_pk("acct_1Nv0", "pi_3Mtw"),
            "SELLER#acct_1Nv0#ORDER#pi_3Mtw"
        );
    }

    #[test]
    fn given_a_typical_paid_order_when_encoded_then_the_item_is_under_one_kilobyte() {
        // GIVEN a paid order with the fields a storefront checkout gives it
        let mut r = OrderRecord::new("acct_1NvPDxQ2VpbaKpA7", "pi_3Mtw8dLkdIwHu7ix0Y1pQz4A");
        r.version = 4;
        r.facts.pi_created = Some(1_732_000_000);
        r.facts.first_event_at = Some(1_732_000_001);
        r.facts.last_event_at = Some(1_732_000_003);
        r.facts.succeeded_at = Some(1_732_000_002);
        r.facts.livemode = Some(Reg::new(2, 1_732_000_002, false));
        r.facts.customer_email = Some(Reg::new(3, 1_732_000_003, "jenny.rosen@example.com".into()));
        r.facts.product_name = Some(Reg::new(
            3,
            1_732_000_003,
            "Lightroom Presets Vol. 2".into(),
        ));
        r.facts.product_id = Some(Reg::new(3, 1_732_000_003, "prod_NWjs8kKbJWmuuc".into()));
        r.facts.reference = Some(Reg::new(3, 1_732_000_003, "ord_000123".into()));
        r.facts.amount = Some(Reg::new(2, 1_732_000_002, 2900));
        r.facts.currency = Some(Reg::new(2, 1_732_000_002, "usd".into()));
        r.facts.charges.insert("ch_3Mtw8dLkdIwHu7ix0a1b2c3d".into());
        // AND its delivery email sent (an SES message id is 60 characters)
        r.fulfillment.state = leenkies_domain::order::FulfillmentState::Sent;
        r.fulfillment.attempts = 1;
        r.fulfillment.sent_at = Some(1_732_000_005);
        r.fulfillment.message_id =
            Some("010001968f3a6b2e-5c1f0a8e-3d3c-4b7e-9a51-6f2a7c9e1b44-000000".into());
        r.fulfillment.recipient = Some("jenny.rosen@example.com".into());
        r.fulfillment.subject = Some("Your Lightroom Presets Vol. 2 is ready to download".into());
        // WHEN it is encoded as the item DynamoDB stores
        let item = order_to_image(&r).unwrap();
        // THEN by DynamoDB's size rule (names + values) it fits one write unit
        let bytes = crate::dynamodb::capacity::item_size(&item);
        assert!(bytes <= 1024, "typical paid order item is {bytes} bytes");
        // AND neither id is stored outside the key
        assert!(!item.contains_key("seller_id") && !item.contains_key("order_id"));
    }

    /// An order with every kind of fact the names module renames.
    fn busy_order() -> OrderRecord {
        use leenkies_domain::order::facts::{
            refund_rank, AttemptState, DisputeFact, EvidenceFact, FailedAttempt, FraudWarningFact,
            TimelineEntry,
        };
        let mut r = OrderRecord::new("acct_1NvPDxQ2VpbaKpA7", "pi_3Mtw8dLkdIwHu7ix0Y1pQz4A");
        r.version = 7;
        let f = &mut r.facts;
        f.pi_created = Some(100);
        f.first_event_at = Some(101);
        f.last_event_at = Some(190);
        f.livemode = Some(Reg::new(1, 101, true));
        f.reference = Some(Reg::new(3, 101, "ord_1".into()));
        f.product_id = Some(Reg::new(3, 101, "prod_1".into()));
        f.product_name = Some(Reg::new(3, 101, "LUT pack".into()));
        f.customer_email = Some(Reg::new(3, 101, "jo@example.com".into()));
        f.store_name = Some(Reg::new(3, 101, "Jo's".into()));
        f.customer_ip = Some(Reg::new(3, 101, "203.0.113.9".into()));
        f.customer_name = Some(Reg::new(2, 102, "Jo Doe".into()));
        f.billing_address = Some(Reg::new(2, 102, "1 Main St".into()));
        f.amount = Some(Reg::new(2, 101, 2900));
        f.currency = Some(Reg::new(2, 101, "usd".into()));
        f.succeeded_at = Some(120);
        f.attempt = Some(Reg::new(0, 110, AttemptState::Failed));
        f.failures.insert(
            "ch_fail".into(),
            FailedAttempt {
                at: 110,
                decline_code: Some(Reg::new(0, 110, "insufficient_funds".into())),
                code: Some(Reg::new(0, 110, "card_declined".into())),
                message: Some(Reg::new(0, 110, "Your card has insufficient funds.".into())),
                outcome_type: Some(Reg::new(0, 110, "issuer_declined".into())),
                outcome_reason: None,
                failure_code: Some(Reg::new(0, 110, "card_declined".into())),
                failure_message: Some(Reg::new(0, 110, "declined".into())),
            },
        );
        f.charge_amount_refunded = Some(Reg::new(0, 150, 500));
        f.refunds.insert(
            "re_1".into(),
            RefundFact {
                state: Reg::new(refund_rank("failed"), 160, "failed".into()),
                amount: 500,
                created: Some(150),
                failure_reason: Some(Reg::new(0, 160, "expired_or_canceled_card".into())),
            },
        );
        f.disputes.insert(
            "du_1".into(),
            DisputeFact {
                history: std::collections::BTreeSet::from([
                    leenkies_domain::order::facts::DisputeEvent(
                        170,
                        leenkies_domain::order::facts::DisputeStep::Created,
                        "needs_response".into(),
                    ),
                ]),
                state: Reg::new(2, 170, "needs_response".into()),
                reason: Some(Reg::new(0, 170, "fraudulent".into())),
                amount: Some(Reg::new(0, 170, 2900)),
                evidence_due_by: Some(Reg::new(0, 170, 999)),
                created: Some(170),
                funds_withdrawn: true,
                funds_reinstated: false,
                ..Default::default()
            },
        );
        f.fraud_warnings.insert(
            "issfr_1".into(),
            FraudWarningFact {
                actionable: Reg::new(0, 165, true),
                fraud_type: Some(Reg::new(0, 165, "card_never_received".into())),
                created: Some(165),
            },
        );
        f.charges.insert("ch_1".into());
        f.timeline.insert(TimelineEntry {
            at: 170,
            kind: "dispute_created".into(),
            detail: "du_1: needs_response".into(),
        });
        f.dispute_evidence.insert(
            "du_1".into(),
            EvidenceFact {
                saved_at: Some(180),
                submitted_at: Some(185),
                ..Default::default()
            },
        );
        r.fulfillment.state = leenkies_domain::order::FulfillmentState::Sent;
        r.fulfillment.attempts = 1;
        r.fulfillment.sent_at = Some(125);
        r.fulfillment.message_id = Some("0100-msg".into());
        r.fulfillment.recipient = Some("jo@example.com".into());
        r.fulfillment.subject = Some("Your LUT pack".into());
        r.fulfillment.product_id = Some("prod_1".into());
        r
    }

    /// Every map key of `value`, at any depth.
    fn keys(value: &serde_dynamo::AttributeValue, out: &mut Vec<String>) {
        match value {
            serde_dynamo::AttributeValue::M(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            serde_dynamo::AttributeValue::L(l) => l.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn given_a_busy_order_when_stored_with_either_names_then_it_reads_back_the_same() {
        use crate::dynamodb::names::AttributeNames;
        // GIVEN an order with every renamed kind of fact
        let r = busy_order();
        for names in [AttributeNames::Short, AttributeNames::Long] {
            // WHEN stored with these names and read back
            let item = order_to_stored(&r, names).unwrap();
            // THEN it is the same order
            assert_eq!(
                order_from_image(item).unwrap(),
                Some(r.clone()),
                "{names:?}"
            );
        }
    }

    #[test]
    fn given_short_names_when_stored_then_no_long_field_name_is_left_and_old_readers_fail() {
        use crate::dynamodb::names::AttributeNames;
        let r = busy_order();
        let short = order_to_stored(&r, AttributeNames::Short).unwrap();
        let long = order_to_stored(&r, AttributeNames::Long).unwrap();
        // THEN the renamed maps are under their short attributes
        assert!(short.contains_key("f") && short.contains_key("u"));
        assert!(!short.contains_key("facts") && !short.contains_key("fulfillment"));
        // AND no field name of the domain is left inside them (ids stay as they are)
        let mut names = Vec::new();
        keys(&short["f"], &mut names);
        keys(&short["u"], &mut names);
        for long_name in [
            "customer_email",
            "pi_created",
            "decline_code",
            "failure_reason",
            "evidence_due_by",
            "fraud_type",
            "detail",
            "message_id",
            "submitted_at",
            "history",
        ] {
            assert!(!names.iter().any(|n| n == long_name), "{long_name} left");
        }
        for id in ["ch_fail", "re_1", "du_1", "issfr_1"] {
            assert!(names.iter().any(|n| n == id), "{id} renamed");
        }
        // AND it is smaller, by DynamoDB's rule
        let (s, l) = (
            crate::dynamodb::capacity::item_size(&short),
            crate::dynamodb::capacity::item_size(&long),
        );
        assert!(s + 250 < l, "short {s} bytes, long {l} bytes");
        // AND a reader that knows only the long form (a release before short names) fails
        // rather than reading an order without facts
        assert!(serde_dynamo::from_item::<_, OrderItem>(short).is_err());
    }
}
