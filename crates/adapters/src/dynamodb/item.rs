//! How an order, a charge link and a download entry look as DynamoDB items, and back.
//!
//! One table, single-table design. Keys and index attributes are derived from the order on every
//! write, so the indexes can never disagree with the facts:
//!
//! | item        | pk                              | sk                      |
//! |-------------|---------------------------------|-------------------------|
//! | order       | `SELLER#<acct>#ORDER#<pi>`      | `ORDER`                 |
//! | download    | `SELLER#<acct>#ORDER#<pi>`      | `DOWNLOAD#<ts>#<n>`     |
//! | charge link | `SELLER#<acct>#CHARGE#<ch>`     | `CHARGE`                |
//!
//! GSIs (see `table`): `gsi1` seller + created, `gsi2` seller + lower-cased email + created,
//! `gsi3` seller + status + created, `gsi4` the seller's disputed orders (sparse).
//! The same item shape is what DynamoDB Streams hands the fulfillment function.

use leenkies_domain::order::facts::Facts;
use leenkies_domain::order::{FulfillmentRecord, OrderRecord};
use leenkies_domain::ports::{ChargeLink, DownloadEntry};
use serde::{Deserialize, Serialize};

pub const KIND_ORDER: &str = "order";
pub const KIND_CHARGE_LINK: &str = "charge_link";
pub const KIND_DOWNLOAD: &str = "download";
pub const ORDER_SK: &str = "ORDER";
pub const CHARGE_SK: &str = "CHARGE";

pub fn order_pk(seller_id: &str, order_id: &str) -> String {
    format!("SELLER#{seller_id}#ORDER#{order_id}")
}

pub fn charge_pk(seller_id: &str, charge_id: &str) -> String {
    format!("SELLER#{seller_id}#CHARGE#{charge_id}")
}

pub fn seller_partition(seller_id: &str) -> String {
    format!("SELLER#{seller_id}")
}

pub fn status_partition(seller_id: &str, status: &str) -> String {
    format!("SELLER#{seller_id}#STATUS#{status}")
}

pub fn disputed_partition(seller_id: &str) -> String {
    format!("SELLER#{seller_id}#DISPUTED")
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
    pub seller_id: String,
    pub order_id: String,
    pub version: u64,
    pub created_ts: i64,
    pub payment_status: String,
    /// Paid, not revoked, email and product known: what the stream filter selects on.
    pub deliverable: bool,
    pub fulfillment_status: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    pub gsi3pk: String,
    pub gsi3sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi4pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi4sk: Option<String>,
    pub facts: Facts,
    #[serde(default)]
    pub fulfillment: FulfillmentRecord,
}

impl From<&OrderRecord> for OrderItem {
    fn from(r: &OrderRecord) -> Self {
        let created = r.facts.created_at();
        let status = r.facts.payment_status().as_str().to_owned();
        let by_created = created_sort_key(created, &r.order_id);
        let email = r.facts.customer_email().map(str::to_lowercase);
        let disputed = !r.facts.disputes.is_empty();
        OrderItem {
            pk: order_pk(&r.seller_id, &r.order_id),
            sk: ORDER_SK.to_owned(),
            kind: KIND_ORDER.to_owned(),
            seller_id: r.seller_id.clone(),
            order_id: r.order_id.clone(),
            version: r.version,
            created_ts: created,
            deliverable: r.facts.deliverable(),
            fulfillment_status: r.fulfillment.state.as_str().to_owned(),
            gsi1pk: seller_partition(&r.seller_id),
            gsi1sk: by_created.clone(),
            gsi2pk: email.as_ref().map(|_| seller_partition(&r.seller_id)),
            gsi2sk: email
                .as_ref()
                .map(|e| email_sort_key(e, created, &r.order_id)),
            gsi3pk: status_partition(&r.seller_id, &status),
            gsi3sk: by_created.clone(),
            gsi4pk: disputed.then(|| disputed_partition(&r.seller_id)),
            gsi4sk: disputed.then_some(by_created),
            payment_status: status,
            facts: r.facts.clone(),
            fulfillment: r.fulfillment.clone(),
        }
    }
}

impl From<OrderItem> for OrderRecord {
    fn from(item: OrderItem) -> Self {
        OrderRecord {
            seller_id: item.seller_id,
            order_id: item.order_id,
            version: item.version,
            facts: item.facts,
            fulfillment: item.fulfillment,
        }
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

/// Decodes a stream image (or any item map) into an order, if it is one.
pub fn order_from_image(
    image: serde_dynamo::Item,
) -> Result<Option<OrderRecord>, serde_dynamo::Error> {
    let is_order =
        matches!(image.get("kind"), Some(serde_dynamo::AttributeValue::S(k)) if k == KIND_ORDER);
    if !is_order {
        return Ok(None);
    }
    let item: OrderItem = serde_dynamo::from_item(image)?;
    Ok(Some(item.into()))
}

/// Encodes an order as a stream image (used by the local change pump).
pub fn order_to_image(record: &OrderRecord) -> Result<serde_dynamo::Item, serde_dynamo::Error> {
    serde_dynamo::to_item(OrderItem::from(record))
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
        let item: OrderItem = serde_dynamo::from_item(image.clone()).unwrap();
        assert_eq!(
            item.gsi2sk.as_deref(),
            Some("jo@example.com#000000000005#pi_1")
        );
        assert!(item.gsi4pk.is_none());
        assert_eq!(order_from_image(image).unwrap(), Some(r));
    }
}
