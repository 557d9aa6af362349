//! The per-order download log: a bounded counter claims a slot, then one item per download.

use super::*;

/// Sort key of the per-order download counter (not a `DOWNLOAD#` item, so never listed).
pub const DOWNLOAD_COUNTER_SK: &str = "DOWNLOADS";
pub(super) const DOWNLOAD_PREFIX: &str = "DOWNLOAD#";
pub(super) const KIND_DOWNLOAD_COUNTER: &str = "download_counter";

impl DynamoStore {
    pub(super) async fn log_download(
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

    pub(super) async fn downloads_of(
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
}
