//! Writing orders: one conditional put, the new charge link before its order, or one
//! transaction for an order with links that held pending facts or refunds to spill.

use super::*;

impl DynamoStore {
    pub(super) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
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
    pub(super) async fn put_conditional(
        &self,
        item: Item,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
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
    pub(super) fn count_refused(&self, err: &StoreError, bytes: usize, factor: f64) {
        if *err == StoreError::Conflict {
            self.meter.record_failed_write(bytes, factor);
        }
    }

    pub(super) fn conditional_put(
        &self,
        item: Item,
        expected: Option<u64>,
    ) -> Result<Put, StoreError> {
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
    pub(super) async fn put_link_then_order(
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
    pub(super) async fn put_with_links(
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
}

/// `attribute_not_exists(pk)` for a new item, `version = :v` for an update.
pub(super) struct VersionCondition {
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

pub(super) fn cancellation_reasons(err: &TransactWriteItemsError) -> Vec<String> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}
