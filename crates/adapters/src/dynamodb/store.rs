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

/// Sort key of the per-order download counter (not a `DOWNLOAD#` item, so never listed).
pub const DOWNLOAD_COUNTER_SK: &str = "DOWNLOADS";
const DOWNLOAD_PREFIX: &str = "DOWNLOAD#";
const KIND_DOWNLOAD_COUNTER: &str = "download_counter";

/// How many email-index keys one email search page reads at most (about 330 read units of
/// keys): past it the prefix is refused as too broad, never answered incompletely.
pub const EMAIL_SEARCH_KEY_BOUND: usize = 20_000;
/// Keys read by the first ascending batch of an email search, and at most by one batch (the
/// batch doubles while batches hold several addresses).
const EMAIL_SCAN_FIRST_BATCH: usize = 25;
const EMAIL_SCAN_MAX_BATCH: usize = 400;
/// Keys per `BatchGetItem` (DynamoDB's limit), and attempts for keys it leaves unprocessed.
const BATCH_GET_MAX: usize = 100;
const BATCH_GET_ATTEMPTS: u32 = 5;
/// How many orders of the provisional partition (orders whose PaymentIntent's `created` has not
/// arrived yet: `item`) a filtered list or search reads at most to fill one page. Such orders
/// normally live for the seconds between a checkout or charge event and its PaymentIntent's;
/// more than this many at once means the PaymentIntent events are not arriving, and the page is
/// refused as unavailable rather than answered without them.
pub const PROVISIONAL_READ_BOUND: usize = 1_000;

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

    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("GetItem", e))?;
        self.meter.record(Access::Read, out.consumed_capacity());
        Ok(out.item)
    }

    /// One conditional PutItem: `expected` None means "must not exist", else "still at version".
    async fn put_conditional(&self, item: Item, expected: Option<u64>) -> Result<(), StoreError> {
        let cond = VersionCondition::new(expected);
        let bytes = sdk_item_size(&item);
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond.expression)
            .set_expression_attribute_names(cond.names)
            .set_expression_attribute_values(cond.values)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("PutItem", e))
            .inspect_err(|e| self.count_refused(e, bytes, 1.0))?;
        self.meter.record(Access::Write, out.consumed_capacity());
        Ok(())
    }

    /// A refused condition is billed as the write it would have been (see `capacity`).
    fn count_refused(&self, err: &StoreError, bytes: usize, factor: f64) {
        if *err == StoreError::Conflict {
            self.meter.record_failed_write(bytes, factor);
        }
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

    /// The common case of a new charge (an event naming its order and one charge not seen
    /// before) without a transaction, which bills every item twice: first the link, on the
    /// condition that it does not exist or already points at this order, then the order.
    ///
    /// Why two plain writes converge: a link that points at an order never holds pending
    /// facts (they are cleared in the write that sets `order_id`, and facts naming only a
    /// charge that has an order go straight to that order). So if the link exists without
    /// pending facts for another purpose, the condition fails and the fold re-reads the
    /// links, merging what waits there (the transaction below). If the order write then fails
    /// (a concurrent fold) or never happens (a crash), the link already points at the order
    /// the event named: later facts about the charge reach that order, and the retried fold
    /// (Stripe retries, the fold re-reads) finds the link pointing at it and writes the order.
    async fn put_link_then_order(
        &self,
        record: &OrderRecord,
        order: Item,
        expected: Option<u64>,
        link: &LinkWrite,
    ) -> Result<(), StoreError> {
        let item = encode(
            "charge link",
            ChargeLinkItem::from(&ChargeLink {
                seller_id: record.seller_id.clone(),
                charge_id: link.charge_id.clone(),
                order_id: Some(record.order_id.clone()),
                pending: Default::default(),
                version: 1,
            }),
        )?;
        let bytes = sdk_item_size(&item);
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #order_id = :order_id")
            .expression_attribute_names("#pk", table::PARTITION_KEY)
            .expression_attribute_names("#order_id", "order_id")
            .expression_attribute_values(":order_id", s(record.order_id.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("PutItem", e))
            .inspect_err(|e| self.count_refused(e, bytes, 1.0))?;
        self.meter.record(Access::Write, out.consumed_capacity());
        self.put_conditional(order, expected).await
    }

    /// The order, its links and its newly spilled or updated refunds in one `TransactWriteItems`:
    /// all of it or nothing, conditional on the order's version and each link's.
    async fn put_with_links(
        &self,
        record: &OrderRecord,
        order: Item,
        expected: Option<u64>,
        links: &[LinkWrite],
        refunds: &[SpilledRefund],
    ) -> Result<(), StoreError> {
        // A transaction bills every item twice; a cancelled one too.
        let mut bytes = sdk_item_size(&order);
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
            let item = encode("charge link", item)?;
            bytes = bytes.max(sdk_item_size(&item));
            let put = self.conditional_put(item, link.expected_version)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        for refund in refunds {
            // No condition of its own: the order's version guards the tally that sums it.
            let item = encode(
                "refund",
                RefundItem::new(&record.seller_id, &record.order_id, refund),
            )?;
            bytes = bytes.max(sdk_item_size(&item));
            let put = built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build(),
            )?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let items = writes.len();
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk_with_reasons("TransactWriteItems", e, cancellation_reasons))
            .inspect_err(|e| self.count_refused(e, bytes, 2.0 * items as f64))?;
        self.meter.record(Access::Write, out.consumed_capacity());
        Ok(())
    }

    /// One `Query` on `index`, built by `build` for an index name. While a migration runs
    /// (docs/deploy.md) the new index may not exist yet: then the index it replaces, which has
    /// the same keys, answers instead.
    async fn query_index(
        &self,
        index: Index,
        build: impl Fn(&str) -> QueryFluentBuilder,
    ) -> Result<QueryOutput, StoreError> {
        let out = match build(index.name).send().await {
            Ok(out) => out,
            // A new index replaces none: until CloudFormation has created it, it is unavailable.
            Err(e) if is_missing_index(&e) && index.previous == index.name => {
                return Err(StoreError::Unavailable(format!(
                    "index {} is not there yet",
                    index.name
                )))
            }
            Err(e) if is_missing_index(&e) => {
                tracing::info!(
                    index = index.name,
                    previous = index.previous,
                    "index not there yet; reading the one it replaces"
                );
                build(index.previous)
                    .send()
                    .await
                    .map_err(|e| from_sdk("Query", e))?
            }
            Err(e) => return Err(from_sdk("Query", e)),
        };
        self.meter.record(Access::Read, out.consumed_capacity());
        Ok(out)
    }

    /// The orders of a page, read with eventually consistent `BatchGetItem`s (half a read unit
    /// per order under 4 KB), in the order of `keys`. An order the table does not return (never
    /// the case: orders are not deleted) is left out.
    async fn batch_get_orders(&self, pks: &[String]) -> Result<Vec<OrderRecord>, StoreError> {
        let mut found: HashMap<String, OrderRecord> = HashMap::with_capacity(pks.len());
        for chunk in pks.chunks(BATCH_GET_MAX) {
            let keys = built(
                KeysAndAttributes::builder()
                    .set_keys(Some(
                        chunk.iter().map(|pk| key(pk.clone(), ORDER_SK)).collect(),
                    ))
                    .consistent_read(false)
                    .build(),
            )?;
            let mut request = HashMap::from([(self.table.clone(), keys)]);
            for attempt in 0..BATCH_GET_ATTEMPTS {
                let out = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request))
                    .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                    .send()
                    .await
                    .map_err(|e| from_sdk("BatchGetItem", e))?;
                self.meter.record(Access::Read, out.consumed_capacity());
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let record = decode_order(item)?;
                    found.insert(order_pk(&record.seller_id, &record.order_id), record);
                }
                request = out.unprocessed_keys.unwrap_or_default();
                request.retain(|_, k| !k.keys().is_empty());
                if request.is_empty() {
                    break;
                }
                if attempt + 1 == BATCH_GET_ATTEMPTS {
                    return Err(StoreError::Unavailable(
                        "BatchGetItem: keys left unprocessed (throttled)".into(),
                    ));
                }
                // Unprocessed keys mean throttling: back off before asking again.
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(pks.iter().filter_map(|pk| found.remove(pk)).collect())
    }

    /// The page of `entries` (newest first, already past the cursor): the first `limit` read
    /// in one batch, `next` when more exist.
    async fn page_of(
        &self,
        mut entries: Vec<IndexEntry>,
        limit: usize,
    ) -> Result<OrderPage, StoreError> {
        let next = (entries.len() > limit).then(|| entries[limit - 1].position.clone());
        entries.truncate(limit);
        let pks: Vec<String> = entries.into_iter().map(|e| e.pk).collect();
        Ok(OrderPage {
            orders: self.batch_get_orders(&pks).await?,
            next,
        })
    }

    /// Reads one page from an index whose sort key is `created_sort_key` (by created, by
    /// status, disputed): the page's keys from the index, then the orders.
    async fn list_by_created(
        &self,
        index: Index,
        partition: String,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        let entries = self.index_entries(index, partition, query).await?;
        self.page_of(entries, query.limit.max(1)).await
    }

    /// The entries of one partition of an index sorted on `created_sort_key`, newest first,
    /// within the query's range and past its cursor: a page and one more (to know whether a
    /// next page exists).
    async fn index_entries(
        &self,
        index: Index,
        partition: String,
        query: &OrderQuery,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        let Some(range) = CreatedRange::of(query) else {
            return Ok(Vec::new());
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
        let mut entries: Vec<IndexEntry> = Vec::with_capacity(wanted);
        let mut start: Option<Item> = None;
        loop {
            let remaining = wanted.saturating_sub(entries.len()).max(1);
            let exclusive_start = start.take();
            let out = self
                .query_index(index, |name| {
                    self.client
                        .query()
                        .table_name(&self.table)
                        .index_name(name)
                        .key_condition_expression(&condition)
                        .set_expression_attribute_names(Some(names.clone()))
                        .set_expression_attribute_values(Some(values.clone()))
                        .scan_index_forward(false)
                        .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                        .set_exclusive_start_key(exclusive_start.clone())
                        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                })
                .await?;
            for item in out.items.unwrap_or_default() {
                let entry = IndexEntry::by_created(&item)?;
                if is_after_position(&entry.position, query) {
                    entries.push(entry);
                }
            }
            start = out.last_evaluated_key;
            if entries.len() > limit || start.is_none() {
                break;
            }
        }
        Ok(entries)
    }

    /// The seller's provisional orders (`item`: listed nowhere else until their PaymentIntent's
    /// `created` arrives) that a page of `query` may show, newest first: a page and one more of
    /// those that `keep` accepts. Without a filter the index keys are enough; with one, the
    /// orders are read (eventually consistent, like the page) and tested, at most
    /// [`PROVISIONAL_READ_BOUND`] of them. One that has meanwhile settled is left out here:
    /// its own listings have it.
    async fn provisional_entries(
        &self,
        seller_id: &str,
        query: &OrderQuery,
        keep: Option<&(dyn Fn(&OrderRecord) -> bool + Sync)>,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        let partition = provisional_partition(seller_id);
        let Some(keep) = keep else {
            return self
                .index_entries(table::BY_CREATED, partition, query)
                .await;
        };
        let wanted = query.limit.max(1) + 1;
        let mut kept = Vec::new();
        let mut read = 0usize;
        let mut page = query.clone();
        page.limit = 100;
        loop {
            let entries = self
                .index_entries(table::BY_CREATED, partition.clone(), &page)
                .await?;
            let more = entries.len() > page.limit;
            let entries: Vec<IndexEntry> = entries.into_iter().take(page.limit).collect();
            let last = entries.last().map(|e| e.position.clone());
            read += entries.len();
            let pks: Vec<String> = entries.iter().map(|e| e.pk.clone()).collect();
            let orders: HashMap<String, OrderRecord> = self
                .batch_get_orders(&pks)
                .await?
                .into_iter()
                .map(|o| (order_pk(&o.seller_id, &o.order_id), o))
                .collect();
            for entry in entries {
                if orders
                    .get(&entry.pk)
                    .is_some_and(|o| o.created_at_provisional() && keep(o))
                {
                    kept.push(entry);
                }
            }
            if kept.len() >= wanted || !more {
                break;
            }
            if read >= PROVISIONAL_READ_BOUND {
                return Err(StoreError::Unavailable(format!(
                    "more than {PROVISIONAL_READ_BOUND} orders await their PaymentIntent's events"
                )));
            }
            page.after = last;
        }
        Ok(kept)
    }

    /// `main` and `provisional` entries as one newest-first list; an order in both (its index
    /// entries are eventually consistent while it settles) counts once.
    fn merged(mut main: Vec<IndexEntry>, provisional: Vec<IndexEntry>) -> Vec<IndexEntry> {
        if provisional.is_empty() {
            return main;
        }
        main.extend(provisional);
        main.sort_by(|a, b| b.position.cmp(&a.position));
        let mut seen = std::collections::HashSet::new();
        main.retain(|e| seen.insert(e.pk.clone()));
        main
    }

    /// Email search, equal address or prefix, newest first, at a cost that follows the number
    /// of distinct addresses under the prefix rather than the number of their orders.
    ///
    /// The email index sorts by address, then created. It is read in ascending batches of
    /// keys; an address whose entries all fit in a batch is complete there; for the address a
    /// batch stops inside of, one newest-first `Query` of at most a page (plus the cursor's
    /// one) of its entries takes its newest, and the scan skips past the rest of its entries.
    /// Then every candidate is ordered newest first and the page is read with `BatchGetItem`.
    /// So 100k orders of one address cost about one page; a prefix that spans more than
    /// [`MAX_EMAIL_SEARCH_ADDRESSES`] addresses, or would read more than
    /// [`EMAIL_SEARCH_KEY_BOUND`] index keys, is refused as too broad rather than answered
    /// incompletely.
    async fn list_by_email(
        &self,
        seller_id: &str,
        prefix: &str,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        let Some(range) = CreatedRange::of(query) else {
            return Ok(OrderPage::default());
        };
        let limit = query.limit.max(1);
        let wanted = limit + 1 + usize::from(query.after.is_some());
        let partition = seller_partition(seller_id);
        // Every key under the prefix is below this: U+10FFFF is the greatest code point.
        let high = format!("{prefix}\u{10FFFF}");
        let mut low: Option<String> = (!prefix.is_empty()).then(|| prefix.to_owned());
        let mut candidates: Vec<IndexEntry> = Vec::new();
        let mut addresses = 0usize;
        let mut keys_read = 0usize;
        let mut batch = EMAIL_SCAN_FIRST_BATCH;
        loop {
            let out = self
                .email_keys(&partition, low.as_deref(), &high, batch, true)
                .await?;
            let more = out.last_evaluated_key.is_some();
            let mut entries = Vec::new();
            for item in out.items.unwrap_or_default() {
                entries.push(IndexEntry::by_email(&item)?);
            }
            keys_read += entries.len();
            let Some(last_email) = entries.last().map(|e| e.email.clone()) else {
                break;
            };
            // Every address of the batch but the last is complete; so is the last when the
            // index holds nothing more under the prefix.
            let cut = more.then_some(last_email);
            let mut seen: Option<&str> = None;
            let mut batch_addresses = 0usize;
            for entry in &entries {
                if seen != Some(entry.email.as_str()) {
                    seen = Some(entry.email.as_str());
                    batch_addresses += 1;
                }
            }
            addresses += batch_addresses;
            for entry in entries {
                if cut.as_deref() == Some(entry.email.as_str()) {
                    continue;
                }
                if entry.email.starts_with(prefix)
                    && in_range(&entry.position, query)
                    && is_after_position(&entry.position, query)
                {
                    candidates.push(entry);
                }
            }
            if addresses > MAX_EMAIL_SEARCH_ADDRESSES || keys_read > EMAIL_SEARCH_KEY_BOUND {
                return Err(StoreError::TooBroad(format!(
                    "more than {MAX_EMAIL_SEARCH_ADDRESSES} addresses or \
                     {EMAIL_SEARCH_KEY_BOUND} orders start with this prefix"
                )));
            }
            let Some(email) = cut else { break };
            // The address the batch stopped in: its newest entries within the range, then on
            // past all of its entries (`:` sorts after the digits of `#<created>`).
            let (lo, hi) = range.email_bounds(&email);
            let newest = self
                .email_keys(&partition, Some(&lo), &hi, wanted, false)
                .await?;
            for item in newest.items.unwrap_or_default() {
                let entry = IndexEntry::by_email(&item)?;
                keys_read += 1;
                if entry.email == email
                    && in_range(&entry.position, query)
                    && is_after_position(&entry.position, query)
                {
                    candidates.push(entry);
                }
            }
            low = Some(format!("{email}#:"));
            // Many addresses per batch: read more at once; one address filling a batch: its
            // orders are many, and the next address may be too.
            batch = if batch_addresses > 1 {
                (batch * 2).min(EMAIL_SCAN_MAX_BATCH)
            } else {
                EMAIL_SCAN_FIRST_BATCH
            };
        }
        let keep = |o: &OrderRecord| {
            o.facts
                .customer_email()
                .is_some_and(|e| e.to_lowercase().starts_with(prefix))
        };
        let provisional = self
            .provisional_entries(seller_id, query, Some(&keep))
            .await?;
        let mut candidates = Self::merged(candidates, provisional);
        candidates.sort_by(|a, b| b.position.cmp(&a.position));
        candidates.truncate(wanted);
        self.page_of(candidates, limit).await
    }

    /// One `Query` of email-index keys between `low` (inclusive; none: from the start of the
    /// seller) and `high`, ascending or newest first.
    async fn email_keys(
        &self,
        partition: &str,
        low: Option<&str>,
        high: &str,
        limit: usize,
        ascending: bool,
    ) -> Result<QueryOutput, StoreError> {
        let index = table::BY_EMAIL;
        let names = HashMap::from([
            ("#pk".to_owned(), index.hash.to_owned()),
            ("#sk".to_owned(), index.range.to_owned()),
        ]);
        let mut values = HashMap::from([
            (":pk".to_owned(), s(partition.to_owned())),
            (":hi".to_owned(), s(high.to_owned())),
        ]);
        // DynamoDB refuses an empty key value: no prefix means from the first address.
        let condition = match low {
            Some(low) => {
                values.insert(":lo".to_owned(), s(low.to_owned()));
                "#pk = :pk AND #sk BETWEEN :lo AND :hi"
            }
            None => "#pk = :pk AND #sk <= :hi",
        };
        self.query_index(index, |name| {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(name)
                .key_condition_expression(condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(ascending)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        })
        .await
    }
}

/// What a page needs of one index entry (a keys-only projection: the table's and the index's
/// keys): the order's key, its place in the newest-first order, and for the email index the
/// address.
#[derive(Debug, Clone)]
struct IndexEntry {
    pk: String,
    position: PagePosition,
    email: String,
}

impl IndexEntry {
    /// An entry of an index sorted on `gsi1sk` (`<created>#<order id>`).
    fn by_created(item: &Item) -> Result<Self, StoreError> {
        let pk = string_attr(item, table::PARTITION_KEY)?;
        let sort = string_attr(item, table::BY_CREATED.range)?;
        Ok(Self {
            position: position_from_sort_key(sort)?,
            pk: pk.to_owned(),
            email: String::new(),
        })
    }

    /// An entry of the email index (`<email>#<created>#<order id>`; ids and created never
    /// contain `#`, an address may).
    fn by_email(item: &Item) -> Result<Self, StoreError> {
        let pk = string_attr(item, table::PARTITION_KEY)?;
        let sort = string_attr(item, table::BY_EMAIL.range)?;
        let mut parts = sort.rsplitn(3, '#');
        let (Some(order_id), Some(created), Some(email)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Corrupt(format!("email index key {sort:?}")));
        };
        Ok(Self {
            position: position_from_sort_key(&format!("{created}#{order_id}"))?,
            pk: pk.to_owned(),
            email: email.to_owned(),
        })
    }
}

fn string_attr<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        other => Err(StoreError::Corrupt(format!(
            "index entry without {name}: {other:?}"
        ))),
    }
}

/// `created_sort_key` read back.
fn position_from_sort_key(sort: &str) -> Result<PagePosition, StoreError> {
    let (created, order_id) = sort
        .split_once('#')
        .ok_or_else(|| StoreError::Corrupt(format!("created sort key {sort:?}")))?;
    let created_at = created
        .parse::<i64>()
        .map_err(|e| StoreError::Corrupt(format!("created sort key {sort:?}: {e}")))?;
    Ok(PagePosition {
        created_at,
        order_id: order_id.to_owned(),
    })
}

/// Whether DynamoDB refused a query because the table has no index of that name (yet).
fn is_missing_index<R>(err: &SdkError<QueryError, R>) -> bool {
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationException")
            && e.message()
                .is_some_and(|m| m.contains("does not have the specified index"))
    })
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
        let limit = query.limit.max(1);
        match &query.filter {
            OrderFilter::All => {
                let main = self
                    .index_entries(table::BY_CREATED, seller_partition(seller_id), query)
                    .await?;
                let provisional = self.provisional_entries(seller_id, query, None).await?;
                self.page_of(Self::merged(main, provisional), limit).await
            }
            OrderFilter::Status(status) => {
                let partition = status_partition(seller_id, status.as_str());
                let main = self
                    .index_entries(table::BY_STATUS, partition, query)
                    .await?;
                let status = *status;
                let keep = move |o: &OrderRecord| o.facts.payment_status() == status;
                let provisional = self
                    .provisional_entries(seller_id, query, Some(&keep))
                    .await?;
                self.page_of(Self::merged(main, provisional), limit).await
            }
            // A provisional order keeps its `disputed` entry (rare: a dispute before its
            // PaymentIntent's events), so this index needs no merge.
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
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
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
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
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
        let items = self
            .query_partition(order_pk(seller_id, order_id), DOWNLOAD_PREFIX)
            .await?;
        items
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item::<_, DownloadItem>(item)
                    .map(|d| d.entry)
                    .map_err(|e| corrupt("download", e))
            })
            .collect()
    }

    /// One `Query` per month of the range on the card's fingerprint in its brand's partition
    /// of `by_card` (keys only), then the orders with one `BatchGetItem`.
    async fn list_orders_by_card(
        &self,
        seller_id: &str,
        brand: &str,
        fingerprint: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        if to < from {
            return Ok(Vec::new());
        }
        // The newest months only: a lookup's reads stay bounded whatever range it asks.
        let last = Month::of(to);
        let first = Month(Month::of(from).0.max(last.0 - MAX_CARD_MONTHS));
        let mut pks = Vec::new();
        for month in first.0..=last.0 {
            let partition = card_partition(seller_id, brand, &Month(month).label());
            let mut start: Option<Item> = None;
            loop {
                let exclusive_start = start.take();
                let out = self
                    .query_index(table::BY_CARD, |name| {
                        self.client
                            .query()
                            .table_name(&self.table)
                            .index_name(name)
                            .key_condition_expression("#pk = :pk AND #sk = :fp")
                            .expression_attribute_names("#pk", table::BY_CARD.hash)
                            .expression_attribute_names("#sk", table::BY_CARD.range)
                            .expression_attribute_values(":pk", s(partition.clone()))
                            .expression_attribute_values(":fp", s(fingerprint.to_owned()))
                            .set_exclusive_start_key(exclusive_start.clone())
                            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                    })
                    .await?;
                for item in out.items.unwrap_or_default() {
                    pks.push(string_attr(&item, table::PARTITION_KEY)?.to_owned());
                }
                start = out.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        let mut orders: Vec<OrderRecord> = self
            .batch_get_orders(&pks)
            .await?
            .into_iter()
            .filter(|o| (from..=to).contains(&o.facts.created_at()))
            .collect();
        orders.sort_by_key(|o| std::cmp::Reverse(PagePosition::of(o)));
        orders.truncate(limit);
        Ok(orders)
    }

    /// One `UpdateItem` (`ADD`) per month: an item of a few dozen bytes, 1 write unit.
    async fn add_to_rates(
        &self,
        seller_id: &str,
        increments: &[MonthIncrement],
    ) -> Result<(), StoreError> {
        for inc in increments {
            if inc.deltas.is_empty() {
                continue;
            }
            let mut adds = Vec::new();
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(rates_pk(seller_id, &inc.month.label()), RATES_SK)))
                .expression_attribute_names("#kind", "kind")
                .expression_attribute_values(":kind", s(KIND_RATES.to_owned()));
            for (i, (counter, delta)) in inc.deltas.iter().enumerate() {
                adds.push(format!("#c{i} :v{i}"));
                request = request
                    .expression_attribute_names(format!("#c{i}"), counter_attribute(*counter))
                    .expression_attribute_values(
                        format!(":v{i}"),
                        AttributeValue::N(delta.to_string()),
                    );
            }
            let out = request
                .update_expression(format!("SET #kind = :kind ADD {}", adds.join(", ")))
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await
                .map_err(|e| from_sdk("UpdateItem", e))?;
            self.meter.record(Access::Write, out.consumed_capacity());
        }
        Ok(())
    }

    /// The counters (one `BatchGetItem`), and per month and brand one keys-only `Query` count
    /// of the card index (its cost follows that month's card sales: 4 KB of entries, about 30
    /// orders, per half read unit).
    async fn get_rates(
        &self,
        seller_id: &str,
        months: &[Month],
    ) -> Result<std::collections::BTreeMap<Month, MonthCounts>, StoreError> {
        let mut found = self.rate_counters(seller_id, months).await?;
        // Sales per brand: a keys-only count of the card index's partition of each month.
        for month in months {
            for brand in [Brand::Visa, Brand::Mastercard] {
                let sales = self.card_sales(seller_id, brand, *month).await?;
                if sales > 0 {
                    found.entry(*month).or_default().insert(
                        Counter {
                            measure: Measure::Sales,
                            brand: Some(brand),
                        },
                        sales,
                    );
                }
            }
        }
        Ok(found)
    }
}

impl DynamoStore {
    /// The months' counter items: one eventually consistent `BatchGetItem` (half a read unit
    /// each).
    async fn rate_counters(
        &self,
        seller_id: &str,
        months: &[Month],
    ) -> Result<std::collections::BTreeMap<Month, MonthCounts>, StoreError> {
        let mut found = std::collections::BTreeMap::new();
        if months.is_empty() {
            return Ok(found);
        }
        let by_pk: HashMap<String, Month> = months
            .iter()
            .map(|m| (rates_pk(seller_id, &m.label()), *m))
            .collect();
        let keys = built(
            KeysAndAttributes::builder()
                .set_keys(Some(
                    by_pk.keys().map(|pk| key(pk.clone(), RATES_SK)).collect(),
                ))
                .consistent_read(false)
                .build(),
        )?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        for attempt in 0..BATCH_GET_ATTEMPTS {
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await
                .map_err(|e| from_sdk("BatchGetItem", e))?;
            self.meter.record(Access::Read, out.consumed_capacity());
            for item in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let pk = string_attr(&item, table::PARTITION_KEY)?;
                let Some(month) = by_pk.get(pk) else {
                    continue;
                };
                let mut counts = MonthCounts::new();
                for counter in Counter::ALL {
                    if let Some(AttributeValue::N(n)) = item.get(counter_attribute(counter)) {
                        let n = n.parse::<i64>().map_err(|e| {
                            StoreError::Corrupt(format!("rates counter {n:?}: {e}"))
                        })?;
                        counts.insert(counter, n);
                    }
                }
                found.insert(*month, counts);
            }
            request = out.unprocessed_keys.unwrap_or_default();
            request.retain(|_, k| !k.keys().is_empty());
            if request.is_empty() {
                return Ok(found);
            }
            if attempt + 1 == BATCH_GET_ATTEMPTS {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
        }
        Err(StoreError::Unavailable(
            "BatchGetItem: keys left unprocessed (throttled)".into(),
        ))
    }

    /// The number of `brand` orders the card index lists for `month` (`Select=COUNT`,
    /// eventually consistent, page after page).
    async fn card_sales(
        &self,
        seller_id: &str,
        brand: Brand,
        month: Month,
    ) -> Result<i64, StoreError> {
        let brand = match brand {
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
        };
        let partition = card_partition(seller_id, brand, &month.label());
        let mut total = 0i64;
        let mut start: Option<Item> = None;
        loop {
            let exclusive_start = start.take();
            let out = self
                .query_index(table::BY_CARD, |name| {
                    self.client
                        .query()
                        .table_name(&self.table)
                        .index_name(name)
                        .key_condition_expression("#pk = :pk")
                        .expression_attribute_names("#pk", table::BY_CARD.hash)
                        .expression_attribute_values(":pk", s(partition.clone()))
                        .select(Select::Count)
                        .set_exclusive_start_key(exclusive_start.clone())
                        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                })
                .await?;
            total += i64::from(out.count);
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(total);
            }
        }
    }
}

/// A rates counter's attribute on its month's item: short, every byte is billed.
fn counter_attribute(counter: Counter) -> &'static str {
    match (counter.measure, counter.brand) {
        (Measure::Sales, None) => "s",
        (Measure::Sales, Some(Brand::Visa)) => "sv",
        (Measure::Sales, Some(Brand::Mastercard)) => "sm",
        (Measure::Disputes, None) => "d",
        (Measure::Disputes, Some(Brand::Visa)) => "dv",
        (Measure::Disputes, Some(Brand::Mastercard)) => "dm",
        (Measure::FraudWarnings, None) => "w",
        (Measure::FraudWarnings, Some(Brand::Visa)) => "wv",
        (Measure::FraudWarnings, Some(Brand::Mastercard)) => "wm",
    }
}

impl DynamoStore {
    /// Every item of one partition whose sort key starts with `prefix`, in sort-key order,
    /// strongly consistent, page after page.
    async fn query_partition(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
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

    /// The same range within one address's entries of the email index (`:` sorts after the
    /// digits, so `<email>#:` is past every entry of that address).
    fn email_bounds(&self, email: &str) -> (String, String) {
        (
            format!("{email}#{}", self.low.as_deref().unwrap_or("")),
            format!("{email}#{}", self.high.as_deref().unwrap_or(":")),
        )
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
fn is_after_position(position: &PagePosition, query: &OrderQuery) -> bool {
    query.after.as_ref().is_none_or(|after| position < after)
}

fn in_range(position: &PagePosition, query: &OrderQuery) -> bool {
    let created = position.created_at;
    query.from.is_none_or(|from| created >= from) && query.to.is_none_or(|to| created <= to)
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
