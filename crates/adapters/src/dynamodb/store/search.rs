//! Search by the customer's email: the email index read ascending from the prefix, in batches,
//! bounded (past [`EMAIL_SEARCH_KEY_BOUND`] keys the prefix is refused as too broad).

use super::*;

/// How many email-index keys one email search page reads at most (about 330 read units of
/// keys): past it the prefix is refused as too broad, never answered incompletely.
pub const EMAIL_SEARCH_KEY_BOUND: usize = 20_000;
/// Keys read by the first ascending batch of an email search, and at most by one batch (the
/// batch doubles while batches hold several addresses).
pub(super) const EMAIL_SCAN_FIRST_BATCH: usize = 25;

impl DynamoStore {
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
    pub(super) async fn list_by_email(
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
    pub(super) async fn email_keys(
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
