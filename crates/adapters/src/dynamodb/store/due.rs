//! The sweep's index of due work on DynamoDB.

use super::*;

/// The sweep's index: one `Query` per page on the sparse `sweep_due` GSI, entries up to `up_to`
/// (the sort key's fixed-width seconds compare as text), oldest first. Keys only: the entry's
/// table `pk` names the order, its `gsi6sk` the time.
#[async_trait]
impl leenkies_domain::sweep::DueOrders for DynamoStore {
    async fn due_orders(
        &self,
        up_to: i64,
        after: Option<&leenkies_domain::sweep::DueOrder>,
        limit: usize,
    ) -> Result<leenkies_domain::sweep::DuePage, StoreError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        use leenkies_domain::sweep::{DueOrder, DuePage};
        let index = table::SWEEP_DUE;
        let s = |v: String| AttributeValue::S(v);
        // Every key of second `up_to` sorts below `<up_to + 1>` (the next second's prefix).
        let hi = format!("{:012}", up_to.max(-1) + 1);
        let mut values = HashMap::from([
            (
                ":pk".to_owned(),
                s(super::super::item::SWEEP_PARTITION.to_owned()),
            ),
            (":hi".to_owned(), s(hi)),
        ]);
        let names = HashMap::from([
            ("#pk".to_owned(), index.hash.to_owned()),
            ("#sk".to_owned(), index.range.to_owned()),
        ]);
        let condition = match after {
            Some(a) => {
                values.insert(
                    ":lo".to_owned(),
                    s(super::super::item::sweep_sort_key(
                        a.due,
                        &a.seller_id,
                        &a.order_id,
                    )),
                );
                "#pk = :pk AND #sk BETWEEN :lo AND :hi"
            }
            None => "#pk = :pk AND #sk < :hi",
        };
        let out = self
            .query_index(index, |name| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(name)
                    .key_condition_expression(condition)
                    .set_expression_attribute_names(Some(names.clone()))
                    .set_expression_attribute_values(Some(values.clone()))
                    .scan_index_forward(true)
                    // One more than asked, to know whether a next page exists; and one for the
                    // `after` entry itself, which BETWEEN includes.
                    .limit(i32::try_from(limit + 2).unwrap_or(i32::MAX))
                    .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            })
            .await?;
        let mut orders = Vec::new();
        for item in out.items.unwrap_or_default() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
            let (Some(pk), Some(sk)) = (text(table::PARTITION_KEY), text(index.range)) else {
                return Err(StoreError::Corrupt(
                    "sweep index entry without its keys".into(),
                ));
            };
            let Some((seller_id, order_id)) = super::super::item::ids_from_order_pk(pk) else {
                return Err(StoreError::Corrupt(
                    "sweep index entry with a key that is not an order's".into(),
                ));
            };
            let due = sk
                .split('#')
                .next()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| {
                    StoreError::Corrupt("sweep index entry with an unreadable time".into())
                })?;
            let entry = DueOrder {
                due,
                seller_id: seller_id.into_owned(),
                order_id: order_id.into_owned(),
            };
            if after.is_some_and(|a| *a >= entry) {
                continue;
            }
            orders.push(entry);
        }
        let next = if orders.len() > limit {
            orders.truncate(limit);
            orders.last().cloned()
        } else {
            None
        };
        Ok(DuePage { orders, next })
    }
}
