//! The `OrderStore` on DynamoDB: one table, item shapes from `item`, indexes from `table`.
//!
//! Every write is conditional on the version read (or on the item not existing), so concurrent
//! folds never lose a fact; an order and its charge links go in one `TransactWriteItems`. Every
//! list call is a `Query` on an index whose cost follows the page, never a `Scan`. Every request
//! asks for its consumed capacity, added up in a [`CapacityMeter`].

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnConsumedCapacity, ReturnValue, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::{
    ChargeLink, DownloadEntry, LinkWrite, OrderFilter, OrderPage, OrderQuery, OrderStore,
    PagePosition, StoreError, MAX_DOWNLOADS_LOGGED,
};

use super::capacity::{Access, Capacity, CapacityMeter};
use super::errors::{corrupt, from_sdk, from_sdk_with_reasons};
use super::item::{
    charge_pk, created_sort_key, disputed_partition, order_pk, seller_partition, status_partition,
    ChargeLinkItem, DownloadItem, OrderItem, CHARGE_SK, KIND_DOWNLOAD, ORDER_SK,
};
use super::table::{self, Index};

/// Sort key of the per-order download counter (not a `DOWNLOAD#` item, so never listed).
pub const DOWNLOAD_COUNTER_SK: &str = "DOWNLOADS";
const DOWNLOAD_PREFIX: &str = "DOWNLOAD#";
const KIND_DOWNLOAD_COUNTER: &str = "download_counter";

/// How many index entries an email search reads at most before answering with what it has:
/// the email index sorts by email first, so a prefix search reads every match.
pub const EMAIL_SEARCH_BOUND: usize = 5_000;

type Item = HashMap<String, AttributeValue>;

/// The orders table through the AWS SDK. Cheap to clone: clones share the client and the meter.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    meter: CapacityMeter,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            meter: CapacityMeter::default(),
        }
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

    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| from_sdk("GetItem", e))?;
        self.meter.record(Access::Read, out.consumed_capacity());
        Ok(out.item)
    }

    /// One conditional PutItem: `expected` None means "must not exist", else "still at version".
    async fn put_conditional(&self, item: Item, expected: Option<u64>) -> Result<(), StoreError> {
        let cond = VersionCondition::new(expected);
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond.expression)
            .set_expression_attribute_names(cond.names)
            .set_expression_attribute_values(cond.values)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| from_sdk("PutItem", e))?;
        self.meter.record(Access::Write, out.consumed_capacity());
        Ok(())
    }

    fn conditional_put(&self, item: Item, expected: Option<u64>) -> Result<Put, StoreError> {
        let cond = VersionCondition::new(expected);
        built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(cond.expression)
                .set_expression_attribute_names(cond.names)
                .set_expression_attribute_values(cond.values)
                .build(),
        )
    }

    async fn put_with_links(
        &self,
        record: &OrderRecord,
        order: Item,
        expected: Option<u64>,
        links: &[LinkWrite],
    ) -> Result<(), StoreError> {
        let mut writes = vec![TransactWriteItem::builder()
            .put(self.conditional_put(order, expected)?)
            .build()];
        for link in links {
            let item = ChargeLinkItem::from(&ChargeLink {
                seller_id: record.seller_id.clone(),
                charge_id: link.charge_id.clone(),
                order_id: Some(record.order_id.clone()),
                pending: Default::default(),
                version: link.expected_version.unwrap_or(0) + 1,
            });
            let put = self.conditional_put(encode("charge link", item)?, link.expected_version)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| from_sdk_with_reasons("TransactWriteItems", e, cancellation_reasons))?;
        self.meter.record(Access::Write, out.consumed_capacity());
        Ok(())
    }

    /// Reads one page from an index whose sort key is `created_sort_key` (gsi1, gsi3, gsi4).
    async fn list_by_created(
        &self,
        index: Index,
        partition: String,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        let Some(range) = CreatedRange::of(query) else {
            return Ok(OrderPage::default());
        };
        let limit = query.limit.max(1);
        // One more than the page to know whether a next page exists, and one more again when
        // the range's inclusive upper bound is the previous page's last order (skipped below).
        let wanted = limit + 1 + usize::from(query.after.is_some());
        let (condition, mut values) = range.key_condition();
        values.insert(":pk".into(), s(partition));
        let mut names = HashMap::from([("#pk".to_owned(), index.hash.to_owned())]);
        // DynamoDB refuses a name the expression does not use.
        if condition.contains("#sk") {
            names.insert("#sk".to_owned(), index.range.to_owned());
        }
        let mut records: Vec<OrderRecord> = Vec::with_capacity(wanted);
        let mut start: Option<Item> = None;
        loop {
            let remaining = wanted.saturating_sub(records.len()).max(1);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index.name)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| from_sdk("Query", e))?;
            self.meter.record(Access::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                let record = decode_order(item)?;
                if is_after(&record, query) {
                    records.push(record);
                }
            }
            start = out.last_evaluated_key;
            if records.len() > limit || start.is_none() {
                break;
            }
        }
        Ok(page(records, limit))
    }

    /// Email search: the email index sorts by email, then created, so every match is read
    /// (bounded), then ordered newest first in memory.
    async fn list_by_email(
        &self,
        seller_id: &str,
        prefix: &str,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        let index = table::BY_EMAIL;
        let mut names = HashMap::from([("#pk".to_owned(), index.hash.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), s(seller_partition(seller_id)))]);
        let condition = if prefix.is_empty() {
            // DynamoDB refuses an empty key value: no prefix means every order with an email.
            "#pk = :pk".to_owned()
        } else {
            names.insert("#sk".into(), index.range.into());
            values.insert(":prefix".into(), s(prefix.to_owned()));
            "#pk = :pk AND begins_with(#sk, :prefix)".to_owned()
        };
        let mut matching = Vec::new();
        let mut read = 0usize;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index.name)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| from_sdk("Query", e))?;
            self.meter.record(Access::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                read += 1;
                let record = decode_order(item)?;
                // Re-checked on the decoded email: the sort key also holds `#created#id`, so a
                // prefix containing `#` could otherwise match past the email.
                let email_matches = record
                    .facts
                    .customer_email()
                    .is_some_and(|e| e.to_lowercase().starts_with(prefix));
                if email_matches && in_created_range(&record, query) && is_after(&record, query) {
                    matching.push(record);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
            if read >= EMAIL_SEARCH_BOUND {
                tracing::warn!(
                    seller_id,
                    read,
                    "email search stopped at its bound; results may be incomplete"
                );
                break;
            }
        }
        matching.sort_by_key(|r| std::cmp::Reverse(PagePosition::of(r)));
        Ok(page(matching, query.limit.max(1)))
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

    async fn put_order(
        &self,
        record: &OrderRecord,
        expected_version: Option<u64>,
        links: &[LinkWrite],
    ) -> Result<(), StoreError> {
        let order = encode("order", OrderItem::from(record))?;
        if links.is_empty() {
            self.put_conditional(order, expected_version).await
        } else {
            self.put_with_links(record, order, expected_version, links)
                .await
        }
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
        match &query.filter {
            OrderFilter::All => {
                self.list_by_created(table::BY_CREATED, seller_partition(seller_id), query)
                    .await
            }
            OrderFilter::Status(status) => {
                let partition = status_partition(seller_id, status.as_str());
                self.list_by_created(table::BY_STATUS, partition, query)
                    .await
            }
            OrderFilter::Disputed => {
                self.list_by_created(table::DISPUTED, disputed_partition(seller_id), query)
                    .await
            }
            OrderFilter::EmailPrefix(prefix) => self.list_by_email(seller_id, prefix, query).await,
        }
    }

    async fn record_download(
        &self,
        seller_id: &str,
        order_id: &str,
        entry: &DownloadEntry,
    ) -> Result<bool, StoreError> {
        let pk = order_pk(seller_id, order_id);
        // Claim a slot first: the conditional ADD is atomic, so concurrent downloads can never
        // log more than the bound, and the slot number orders downloads within one second. If
        // the put below fails, the slot is wasted (the bound is reached a little earlier),
        // never exceeded.
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), DOWNLOAD_COUNTER_SK)))
            .update_expression("SET #kind = :kind ADD #n :one")
            .condition_expression("attribute_not_exists(#n) OR #n < :max")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(
                ":max",
                AttributeValue::N(MAX_DOWNLOADS_LOGGED.to_string()),
            )
            .expression_attribute_values(":kind", s(KIND_DOWNLOAD_COUNTER.to_owned()))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        let claimed = match claimed.map_err(|e| from_sdk("UpdateItem", e)) {
            Ok(out) => out,
            Err(StoreError::Conflict) => return Ok(false),
            Err(e) => return Err(e),
        };
        self.meter
            .record(Access::Write, claimed.consumed_capacity());
        let slot = match claimed.attributes().and_then(|a| a.get("n")) {
            Some(AttributeValue::N(n)) => n
                .parse::<u64>()
                .map_err(|e| StoreError::Corrupt(format!("download counter {n:?}: {e}")))?,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "download counter missing from the update's answer: {other:?}"
                )))
            }
        };
        let item = DownloadItem {
            pk,
            sk: format!("{DOWNLOAD_PREFIX}{:012}#{slot:06}", entry.at.max(0)),
            kind: KIND_DOWNLOAD.to_owned(),
            entry: entry.clone(),
        };
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode("download", item)?))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| from_sdk("PutItem", e))?;
        self.meter.record(Access::Write, out.consumed_capacity());
        Ok(true)
    }

    async fn list_downloads(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<DownloadEntry>, StoreError> {
        let mut entries = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", table::PARTITION_KEY)
                .expression_attribute_names("#sk", table::SORT_KEY)
                .expression_attribute_values(":pk", s(order_pk(seller_id, order_id)))
                .expression_attribute_values(":prefix", s(DOWNLOAD_PREFIX.to_owned()))
                .consistent_read(true)
                .scan_index_forward(true)
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| from_sdk("Query", e))?;
            self.meter.record(Access::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                let download: DownloadItem =
                    serde_dynamo::from_item(item).map_err(|e| corrupt("download", e))?;
                entries.push(download.entry);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(entries);
            }
        }
    }
}

/// `attribute_not_exists(pk)` for a new item, `version = :v` for an update.
struct VersionCondition {
    expression: String,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl VersionCondition {
    fn new(expected: Option<u64>) -> Self {
        match expected {
            None => Self {
                expression: "attribute_not_exists(#pk)".into(),
                names: Some(HashMap::from([(
                    "#pk".to_owned(),
                    table::PARTITION_KEY.to_owned(),
                )])),
                values: None,
            },
            Some(v) => Self {
                expression: "#version = :v".into(),
                names: Some(HashMap::from([(
                    "#version".to_owned(),
                    "version".to_owned(),
                )])),
                values: Some(HashMap::from([(
                    ":v".to_owned(),
                    AttributeValue::N(v.to_string()),
                )])),
            },
        }
    }
}

/// The `created_sort_key` range a page may come from: `from`/`to` inclusive, and at most the
/// previous page's last order (inclusive too; that one order is skipped when read).
struct CreatedRange {
    low: Option<String>,
    high: Option<String>,
}

impl CreatedRange {
    /// `None` when the range is empty, so no request is needed (DynamoDB also refuses a
    /// `BETWEEN` whose bounds are reversed).
    fn of(query: &OrderQuery) -> Option<Self> {
        if query.to.is_some_and(|to| to < 0) {
            return None;
        }
        let low = query.from.map(|from| created_sort_key(from, ""));
        // `$` sorts right after `#`: every key of second `to` is below it.
        let to_bound = query.to.map(|to| format!("{:012}$", to));
        let after_bound = query
            .after
            .as_ref()
            .map(|a| created_sort_key(a.created_at, &a.order_id));
        let high = match (to_bound, after_bound) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let (Some(l), Some(h)) = (&low, &high) {
            if l > h {
                return None;
            }
        }
        Some(Self { low, high })
    }

    fn key_condition(&self) -> (String, HashMap<String, AttributeValue>) {
        let mut values = HashMap::new();
        let range = match (&self.low, &self.high) {
            (Some(l), Some(h)) => {
                values.insert(":lo".to_owned(), s(l.clone()));
                values.insert(":hi".to_owned(), s(h.clone()));
                " AND #sk BETWEEN :lo AND :hi"
            }
            (Some(l), None) => {
                values.insert(":lo".to_owned(), s(l.clone()));
                " AND #sk >= :lo"
            }
            (None, Some(h)) => {
                values.insert(":hi".to_owned(), s(h.clone()));
                " AND #sk <= :hi"
            }
            (None, None) => "",
        };
        (format!("#pk = :pk{range}"), values)
    }
}

/// Strictly after the previous page's last order in newest-first order.
fn is_after(record: &OrderRecord, query: &OrderQuery) -> bool {
    query
        .after
        .as_ref()
        .is_none_or(|after| PagePosition::of(record) < *after)
}

fn in_created_range(record: &OrderRecord, query: &OrderQuery) -> bool {
    let created = record.facts.created_at();
    query.from.is_none_or(|from| created >= from) && query.to.is_none_or(|to| created <= to)
}

/// Cuts newest-first records to one page; `next` only when more exist.
fn page(mut records: Vec<OrderRecord>, limit: usize) -> OrderPage {
    let next = (records.len() > limit).then(|| PagePosition::of(&records[limit - 1]));
    records.truncate(limit);
    OrderPage {
        orders: records,
        next,
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

fn decode_order(item: Item) -> Result<OrderRecord, StoreError> {
    let order: OrderItem = serde_dynamo::from_item(item).map_err(|e| corrupt("order", e))?;
    let pk = order.pk.clone();
    order
        .into_record()
        .ok_or_else(|| StoreError::Corrupt(format!("order: not an order key: {pk}")))
}

fn built<T>(result: Result<T, BuildError>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Unavailable(format!("building a request: {e}")))
}

fn cancellation_reasons(err: &TransactWriteItemsError) -> Vec<String> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: Option<i64>, to: Option<i64>, after: Option<PagePosition>) -> OrderQuery {
        OrderQuery {
            filter: OrderFilter::All,
            from,
            to,
            limit: 10,
            after,
        }
    }

    #[test]
    fn given_from_and_to_when_ranged_then_bounds_cover_both_seconds_inclusive() {
        let range = CreatedRange::of(&query(Some(10), Some(20), None)).unwrap();
        let (low, high) = (range.low.unwrap(), range.high.unwrap());
        assert!(low.as_str() <= created_sort_key(10, "pi_a").as_str());
        assert!(high.as_str() >= created_sort_key(20, "pi_zzzz").as_str());
        assert!(high.as_str() < created_sort_key(21, "pi_a").as_str());
        assert!(low.as_str() > created_sort_key(9, "pi_zzzz").as_str());
    }

    #[test]
    fn given_a_cursor_before_to_when_ranged_then_the_cursor_bounds_the_page() {
        let after = PagePosition {
            created_at: 15,
            order_id: "pi_b".into(),
        };
        let range = CreatedRange::of(&query(None, Some(20), Some(after))).unwrap();
        assert_eq!(range.high.unwrap(), created_sort_key(15, "pi_b"));
    }

    #[test]
    fn given_reversed_bounds_when_ranged_then_no_request_is_needed() {
        assert!(CreatedRange::of(&query(Some(30), Some(20), None)).is_none());
        assert!(CreatedRange::of(&query(None, Some(-1), None)).is_none());
    }
}
