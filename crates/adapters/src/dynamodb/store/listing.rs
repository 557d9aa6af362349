//! Pages of a seller's orders from an index (created, status, disputed), merged with the
//! provisional partition; the card index (Visa CE 3.0's candidates); `BatchGetItem` of orders.

use super::*;

pub(super) const EMAIL_SCAN_MAX_BATCH: usize = 400;
/// Keys per `BatchGetItem` (DynamoDB's limit), and attempts for keys it leaves unprocessed.
pub(super) const BATCH_GET_MAX: usize = 100;
pub(super) const BATCH_GET_ATTEMPTS: u32 = 5;
/// How many orders of the provisional partition (orders whose PaymentIntent's `created` has not
/// arrived yet: `item`) a filtered list or search reads at most to fill one page. Such orders
/// normally live for the seconds between a checkout or charge event and its PaymentIntent's;
/// more than this many at once means the PaymentIntent events are not arriving, and the page is
/// refused as unavailable rather than answered without them.
pub const PROVISIONAL_READ_BOUND: usize = 1_000;

impl DynamoStore {
    pub(super) async fn orders_page(
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

    /// One `Query` per month of the range on the card's fingerprint in its brand's partition
    /// of `by_card` (keys only), then the orders with one `BatchGetItem`.
    pub(super) async fn orders_by_card(
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

    /// One `Query` on `index`, built by `build` for an index name. While a migration runs
    /// (docs/deploy.md) the new index may not exist yet: then the index it replaces, which has
    /// the same keys, answers instead.
    pub(super) async fn query_index(
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
    pub(super) async fn batch_get_orders(
        &self,
        pks: &[String],
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let mut found: HashMap<String, OrderRecord> = HashMap::with_capacity(pks.len());
        let keys = pks.iter().map(|pk| key(pk.clone(), ORDER_SK)).collect();
        self.batch_get(keys, |item| {
            let record = decode_order(item)?;
            found.insert(order_pk(&record.seller_id, &record.order_id), record);
            Ok(())
        })
        .await?;
        Ok(pks.iter().filter_map(|pk| found.remove(pk)).collect())
    }

    /// Eventually consistent `BatchGetItem`s of `keys`, [`BATCH_GET_MAX`] to a request, each
    /// item the table returns handed to `each` (in no particular order; a key with no item is
    /// simply not handed over). Keys DynamoDB leaves unprocessed mean throttling: they are asked
    /// again with a growing pause, and after [`BATCH_GET_ATTEMPTS`] the read is `Unavailable`,
    /// which callers answer as retryable.
    pub(super) async fn batch_get(
        &self,
        keys: Vec<Item>,
        mut each: impl FnMut(Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let keys = built(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
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
                    each(item)?;
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
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(())
    }

    /// The page of `entries` (newest first, already past the cursor): the first `limit` read
    /// in one batch, `next` when more exist.
    pub(super) async fn page_of(
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
    pub(super) async fn list_by_created(
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
    pub(super) async fn index_entries(
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
    pub(super) async fn provisional_entries(
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
    pub(super) fn merged(
        mut main: Vec<IndexEntry>,
        provisional: Vec<IndexEntry>,
    ) -> Vec<IndexEntry> {
        if provisional.is_empty() {
            return main;
        }
        main.extend(provisional);
        main.sort_by(|a, b| b.position.cmp(&a.position));
        let mut seen = std::collections::HashSet::new();
        main.retain(|e| seen.insert(e.pk.clone()));
        main
    }
}

/// What a page needs of one index entry (a keys-only projection: the table's and the index's
/// keys): the order's key, its place in the newest-first order, and for the email index the
/// address.
#[derive(Debug, Clone)]
pub(super) struct IndexEntry {
    pub(super) pk: String,
    pub(super) position: PagePosition,
    pub(super) email: String,
}

impl IndexEntry {
    /// An entry of an index sorted on `gsi1sk` (`<created>#<order id>`).
    pub(super) fn by_created(item: &Item) -> Result<Self, StoreError> {
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
    pub(super) fn by_email(item: &Item) -> Result<Self, StoreError> {
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

pub(super) fn string_attr<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        other => Err(StoreError::Corrupt(format!(
            "index entry without {name}: {other:?}"
        ))),
    }
}

/// `created_sort_key` read back.
pub(super) fn position_from_sort_key(sort: &str) -> Result<PagePosition, StoreError> {
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
pub(super) fn is_missing_index<R>(err: &SdkError<QueryError, R>) -> bool {
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationException")
            && e.message()
                .is_some_and(|m| m.contains("does not have the specified index"))
    })
}

/// The `created_sort_key` range a page may come from: `from`/`to` inclusive, and at most the
/// previous page's last order (inclusive too; that one order is skipped when read).
pub(super) struct CreatedRange {
    pub(super) low: Option<String>,
    pub(super) high: Option<String>,
}

impl CreatedRange {
    /// `None` when the range is empty, so no request is needed (DynamoDB also refuses a
    /// `BETWEEN` whose bounds are reversed).
    pub(super) fn of(query: &OrderQuery) -> Option<Self> {
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
    pub(super) fn email_bounds(&self, email: &str) -> (String, String) {
        (
            format!("{email}#{}", self.low.as_deref().unwrap_or("")),
            format!("{email}#{}", self.high.as_deref().unwrap_or(":")),
        )
    }

    pub(super) fn key_condition(&self) -> (String, HashMap<String, AttributeValue>) {
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
pub(super) fn is_after_position(position: &PagePosition, query: &OrderQuery) -> bool {
    query.after.as_ref().is_none_or(|after| position < after)
}

pub(super) fn in_range(position: &PagePosition, query: &OrderQuery) -> bool {
    let created = position.created_at;
    query.from.is_none_or(|from| created >= from) && query.to.is_none_or(|to| created <= to)
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
