//! The operations items in the orders table: sellers seen, backfill progress, webhook heartbeats.
//!
//! | item            | pk             | sk                | attributes                     |
//! |-----------------|----------------|-------------------|--------------------------------|
//! | seller seen     | `OPS#SELLERS`  | `<acct>`          | `first_seen`, `last_seen`      |
//! | backfill state  | `OPS#BACKFILL` | `<acct>`          | `doc` (JSON of the progress)   |
//! | heartbeat       | `OPS#WEBHOOKS` | `live` \| `test`  | `at`                           |
//!
//! Three small partitions read with `Query`, never a `Scan`. The `kind` attribute starts with
//! `ops_`, so the fulfillment stream filter (`kind = order`) never sees these items. The webhook
//! writes the seller and heartbeat items through a debounce (`ops::heartbeat`), at most once a
//! minute per key and process.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use leenkies_domain::ops::{BackfillProgress, LastEvent, Mode, OpsStore};
use leenkies_domain::ports::StoreError;

use super::table::{PARTITION_KEY, SORT_KEY};

pub const SELLERS_PK: &str = "OPS#SELLERS";
pub const BACKFILL_PK: &str = "OPS#BACKFILL";
pub const WEBHOOKS_PK: &str = "OPS#WEBHOOKS";

/// `OpsStore` on the orders table.
#[derive(Clone, Debug)]
pub struct DynamoOps {
    client: Client,
    table: String,
}

impl DynamoOps {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Every item of one ops partition, following `LastEvaluatedKey`.
    async fn query_partition(
        &self,
        pk: &str,
    ) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Every SDK failure here is worth retrying later (throttling, network, 5xx); details go to the
/// log of whoever handles the error, never to a client.
fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
}

fn sort_key_of(item: &std::collections::HashMap<String, AttributeValue>) -> Option<&str> {
    item.get(SORT_KEY)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

#[async_trait]
impl OpsStore for DynamoOps {
    async fn list_sellers(&self) -> Result<Vec<String>, StoreError> {
        let items = self.query_partition(SELLERS_PK).await?;
        Ok(items
            .iter()
            .filter_map(sort_key_of)
            .map(str::to_owned)
            .collect())
    }

    async fn note_seller(&self, seller_id: &str, at: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(SELLERS_PK))
            .key(SORT_KEY, s(seller_id))
            .update_expression(
                "SET #kind = :kind, first_seen = if_not_exists(first_seen, :at), last_seen = :at",
            )
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":kind", s("ops_seller"))
            .expression_attribute_values(":at", n(at))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_backfill_progress(
        &self,
        account: &str,
    ) -> Result<Option<BackfillProgress>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(BACKFILL_PK))
            .key(SORT_KEY, s(account))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let doc = item
            .get("doc")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("backfill item {account} has no doc")))?;
        serde_json::from_str(doc)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("backfill item {account}: {e}")))
    }

    async fn put_backfill_progress(&self, progress: &BackfillProgress) -> Result<(), StoreError> {
        let doc = serde_json::to_string(progress)
            .map_err(|e| StoreError::Corrupt(format!("backfill progress: {e}")))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PARTITION_KEY, s(BACKFILL_PK))
            .item(SORT_KEY, s(&progress.account))
            .item("kind", s("ops_backfill"))
            .item("updated_at", n(progress.updated_at))
            .item("doc", s(doc))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn note_event_received(&self, mode: Mode, at: i64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(WEBHOOKS_PK))
            .key(SORT_KEY, s(mode.as_str()))
            .update_expression("SET #kind = :kind, #at = :at")
            // Never backwards: two Lambda instances may write out of order.
            .condition_expression("attribute_not_exists(#at) OR #at < :at")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":kind", s("ops_webhook"))
            .expression_attribute_values(":at", n(at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn last_events(&self) -> Result<Vec<LastEvent>, StoreError> {
        let items = self.query_partition(WEBHOOKS_PK).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let mode = Mode::parse(sort_key_of(item)?)?;
                let at = item.get("at")?.as_n().ok()?.parse().ok()?;
                Some(LastEvent { mode, at })
            })
            .collect())
    }
}
