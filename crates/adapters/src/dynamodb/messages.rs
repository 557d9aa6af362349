//! SES message id → order, on the orders table (contract section 10): SES events carry only the
//! message id, and the order is found from it alone.
//!
//! | item         | pk                 | sk    | attributes                        |
//! |--------------|--------------------|-------|-----------------------------------|
//! | message link | `MSG#<message id>` | `MSG` | `kind`, `seller_id`, `order_id`   |
//!
//! One small item per email sent, in no index (no GSI key attributes): one write unit when the
//! email goes out, one read unit per SES event. `kind` is `ses_message`, so the fulfillment
//! stream filter (`kind = order`) never sees it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use leenkies_domain::delivery::{MessageIndex, MessageOwner};
use leenkies_domain::ports::StoreError;

use super::capacity::Access;
use super::errors::from_sdk;
use super::store::DynamoStore;
use super::table::{PARTITION_KEY, SORT_KEY};

pub const KIND_MESSAGE: &str = "ses_message";
pub const MESSAGE_SK: &str = "MSG";

pub fn message_pk(message_id: &str) -> String {
    format!("MSG#{message_id}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

#[async_trait]
impl MessageIndex for DynamoStore {
    async fn link_message(&self, message_id: &str, owner: &MessageOwner) -> Result<(), StoreError> {
        // Unconditional: writing the same link twice is the same item, and a message id is
        // SES's, never reused for another email.
        let out = self
            .client()
            .put_item()
            .table_name(self.table())
            .item(PARTITION_KEY, s(message_pk(message_id)))
            .item(SORT_KEY, s(MESSAGE_SK))
            .item("kind", s(KIND_MESSAGE))
            .item("seller_id", s(&owner.seller_id))
            .item("order_id", s(&owner.order_id))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| from_sdk("PutItem", e))?;
        self.meter().record(Access::Write, out.consumed_capacity());
        Ok(())
    }

    async fn find_message(&self, message_id: &str) -> Result<Option<MessageOwner>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PARTITION_KEY, s(message_pk(message_id)))
            .key(SORT_KEY, s(MESSAGE_SK))
            // Strong: the link is written a moment before SES's first event can arrive.
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| from_sdk("GetItem", e))?;
        self.meter().record(Access::Read, out.consumed_capacity());
        let Some(item) = out.item else {
            return Ok(None);
        };
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("message link without {name}")))
        };
        Ok(Some(MessageOwner {
            seller_id: text("seller_id")?,
            order_id: text("order_id")?,
        }))
    }
}
