//! The `OrderStore` on DynamoDB: one table, item shapes from `item`, indexes from `table`.
//!
//! Every write is conditional on the version read (or on the item not existing), so concurrent
//! folds never lose a fact. An order with one new charge is two plain conditional puts, the
//! link first (`put_link_then_order` says why that converges); an order whose links held
//! pending facts, or several links at once, goes in one `TransactWriteItems`, so the pending
//! facts join the order in the same step that clears them; so does an order that spills old
//! refunds into items of their own (`order::refunds`: rare, past 24 refunds). Every
//! list call is a `Query` on an index whose cost follows the page, never a `Scan`. Every request
//! asks for its consumed capacity, added up in a [`CapacityMeter`].
//!
//! The code is split along what it does: [`writes`] (conditional puts, the charge links'
//! transaction), [`listing`] (pages of an index, the card index), [`search`] (the email index),
//! [`downloads`] (the per-order download log), [`rates`] (the dispute-rate counters), [`due`]
//! (the sweep's index). This file holds the store, the helpers they share, and its
//! [`OrderStore`] answer to the domain, which calls into them.

mod downloads;
mod due;
mod listing;
mod rates;
mod search;
mod writes;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValue, Select,
    TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::{
    ChargeLink, DownloadEntry, LinkWrite, OrderFilter, OrderPage, OrderQuery, OrderStore,
    PagePosition, SpilledRefund, StoreError, MAX_CARD_MONTHS, MAX_DOWNLOADS_LOGGED,
    MAX_EMAIL_SEARCH_ADDRESSES,
};
use leenkies_domain::rates::{Brand, Counter, Measure, Month, MonthCounts, MonthIncrement};

use super::capacity::{sdk_item_size, Access, Capacity, CapacityMeter};
use super::errors::{corrupt, from_sdk, from_sdk_with_reasons};
use super::item::{
    card_partition, charge_pk, created_sort_key, disputed_partition, order_pk, order_to_stored,
    provisional_partition, rates_pk, refund_sort_key, seller_partition, status_partition,
    ChargeLinkItem, DownloadItem, OrderItem, RefundItem, CHARGE_SK, KIND_DOWNLOAD, KIND_RATES,
    ORDER_SK, RATES_SK, REFUND_SK_PREFIX,
};
use super::names::AttributeNames;
use super::table::{self, Index};

// Listing's shared items (the index entry, the created range), visible to each part through
// its `use super::*`.
use listing::*;

pub use downloads::DOWNLOAD_COUNTER_SK;
pub use listing::PROVISIONAL_READ_BOUND;
pub use search::EMAIL_SEARCH_KEY_BOUND;

type Item = HashMap<String, AttributeValue>;

/// The orders table through the AWS SDK. Cheap to clone: clones share the client and the meter.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    meter: CapacityMeter,
    /// The attribute names order items are written with (`names`; read in either).
    names: AttributeNames,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            meter: CapacityMeter::default(),
            names: AttributeNames::default(),
        }
    }

    /// The same store writing order items with `names` (`ORDER_ITEM_NAMES`: `names` says when
    /// a deployed stack needs `long` for one deploy).
    pub fn with_attribute_names(mut self, names: AttributeNames) -> Self {
        self.names = names;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Capacity consumed by every successful request of this store (and its clones) so far.
    /// Take a snapshot before and use `Capacity::since` to measure one event or one page.
    pub fn consumed(&self) -> Capacity {
        self.meter.snapshot()
    }

    /// The meter, for the other item kinds of this table (`messages`).
    pub(crate) fn meter(&self) -> &CapacityMeter {
        &self.meter
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn get_order(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Option<OrderRecord>, StoreError> {
        self.get_item(order_pk(seller_id, order_id), ORDER_SK)
            .await?
            .map(decode_order)
            .transpose()
    }

    async fn write_order(
        &self,
        record: &OrderRecord,
        expected_version: Option<u64>,
        links: &[LinkWrite],
        refunds: &[SpilledRefund],
    ) -> Result<(), StoreError> {
        let order: Item = order_to_stored(record, self.names)
            .map_err(|e| StoreError::Corrupt(format!("encoding order: {e}")))?
            .into();
        match links {
            _ if !refunds.is_empty() => {
                self.put_with_links(record, order, expected_version, links, refunds)
                    .await
            }
            [] => self.put_conditional(order, expected_version).await,
            [link] if link.expected_version.is_none() => {
                self.put_link_then_order(record, order, expected_version, link)
                    .await
            }
            _ => {
                self.put_with_links(record, order, expected_version, links, &[])
                    .await
            }
        }
    }

    async fn get_spilled_refunds(
        &self,
        seller_id: &str,
        order_id: &str,
        refund_ids: &[String],
    ) -> Result<Vec<SpilledRefund>, StoreError> {
        // An event names a few refunds at most: one strongly consistent read each.
        let mut out = Vec::new();
        for id in refund_ids {
            if let Some(item) = self
                .get_item(order_pk(seller_id, order_id), &refund_sort_key(id))
                .await?
            {
                out.push(decode_refund(item)?);
            }
        }
        Ok(out)
    }

    async fn list_spilled_refunds(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<SpilledRefund>, StoreError> {
        let items = self
            .query_partition(order_pk(seller_id, order_id), REFUND_SK_PREFIX)
            .await?;
        items.into_iter().map(decode_refund).collect()
    }

    async fn get_charge_link(
        &self,
        seller_id: &str,
        charge_id: &str,
    ) -> Result<Option<ChargeLink>, StoreError> {
        let Some(item) = self
            .get_item(charge_pk(seller_id, charge_id), CHARGE_SK)
            .await?
        else {
            return Ok(None);
        };
        let link: ChargeLinkItem =
            serde_dynamo::from_item(item).map_err(|e| corrupt("charge link", e))?;
        Ok(Some(link.into()))
    }

    async fn put_charge_link(
        &self,
        link: &ChargeLink,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let item = encode("charge link", ChargeLinkItem::from(link))?;
        self.put_conditional(item, expected_version).await
    }

    async fn list_orders(
        &self,
        seller_id: &str,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        self.orders_page(seller_id, query).await
    }

    async fn record_download(
        &self,
        seller_id: &str,
        order_id: &str,
        entry: &DownloadEntry,
    ) -> Result<bool, StoreError> {
        self.log_download(seller_id, order_id, entry).await
    }

    async fn list_downloads(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<DownloadEntry>, StoreError> {
        self.downloads_of(seller_id, order_id).await
    }

    async fn list_orders_by_card(
        &self,
        seller_id: &str,
        brand: &str,
        fingerprint: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        self.orders_by_card(seller_id, brand, fingerprint, from, to, limit)
            .await
    }

    async fn add_to_rates(
        &self,
        seller_id: &str,
        increments: &[MonthIncrement],
    ) -> Result<(), StoreError> {
        self.add_rate_counts(seller_id, increments).await
    }

    async fn get_rates(
        &self,
        seller_id: &str,
        months: &[Month],
    ) -> Result<std::collections::BTreeMap<Month, MonthCounts>, StoreError> {
        self.rates_of(seller_id, months).await
    }
}

impl DynamoStore {
    /// Every item of one partition whose sort key starts with `prefix`, in sort-key order,
    /// strongly consistent, page after page.
    pub(super) async fn query_partition(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", table::PARTITION_KEY)
                .expression_attribute_names("#sk", table::SORT_KEY)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix.to_owned()))
                .consistent_read(true)
                .scan_index_forward(true)
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await
                .map_err(|e| from_sdk("Query", e))?;
            self.meter.record(Access::Read, out.consumed_capacity());
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        (table::PARTITION_KEY.to_owned(), s(pk)),
        (table::SORT_KEY.to_owned(), s(sk.to_owned())),
    ])
}

fn s(value: String) -> AttributeValue {
    AttributeValue::S(value)
}

fn encode<T: serde::Serialize>(what: &str, value: T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(format!("encoding {what}: {e}")))
}

fn decode_refund(item: Item) -> Result<SpilledRefund, StoreError> {
    let refund: RefundItem = serde_dynamo::from_item(item).map_err(|e| corrupt("refund", e))?;
    let sk = refund.sk.clone();
    refund
        .into_spilled()
        .ok_or_else(|| StoreError::Corrupt(format!("refund item with sort key {sk:?}")))
}

fn decode_order(item: Item) -> Result<OrderRecord, StoreError> {
    let mut item = serde_dynamo::Item::from(item);
    super::names::from_stored(&mut item);
    let order: OrderItem = serde_dynamo::from_item(item).map_err(|e| corrupt("order", e))?;
    let pk = order.pk.clone();
    order
        .into_record()
        .ok_or_else(|| StoreError::Corrupt(format!("order: not an order key: {pk}")))
}

fn built<T>(result: Result<T, BuildError>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Unavailable(format!("building a request: {e}")))
}
