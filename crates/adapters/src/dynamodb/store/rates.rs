//! The seller's dispute-rate counters (one small item per month) and the card index's sales
//! count.

use super::*;

impl DynamoStore {
    /// One `UpdateItem` (`ADD`) per month: an item of a few dozen bytes, 1 write unit.
    pub(super) async fn add_rate_counts(
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
    pub(super) async fn rates_of(
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
    pub(super) async fn rate_counters(
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
        let keys = by_pk.keys().map(|pk| key(pk.clone(), RATES_SK)).collect();
        self.batch_get(keys, |item| {
            let pk = string_attr(&item, table::PARTITION_KEY)?;
            let Some(month) = by_pk.get(pk) else {
                return Ok(());
            };
            let mut counts = MonthCounts::new();
            for counter in Counter::ALL {
                if let Some(AttributeValue::N(n)) = item.get(counter_attribute(counter)) {
                    let n = n
                        .parse::<i64>()
                        .map_err(|e| StoreError::Corrupt(format!("rates counter {n:?}: {e}")))?;
                    counts.insert(counter, n);
                }
            }
            found.insert(*month, counts);
            Ok(())
        })
        .await?;
        Ok(found)
    }

    /// The number of `brand` orders the card index lists for `month` (`Select=COUNT`,
    /// eventually consistent, page after page).
    pub(super) async fn card_sales(
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
pub(super) fn counter_attribute(counter: Counter) -> &'static str {
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
