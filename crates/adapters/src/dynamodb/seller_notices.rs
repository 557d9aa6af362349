//! Seller-level notice records in the orders table
//! (`leenkies_domain::notify::failure_pattern::SellerNotices`, contract section 12).
//!
//! | item          | pk                         | sk            | attributes                                       |
//! |---------------|----------------------------|---------------|--------------------------------------------------|
//! | seller notice | `SELLER#<seller>#NOTICES`  | `<key>`       | `kind` = `seller_notice`, `version`, `doc` (JSON) |
//!
//! One small item per seller and key (`failure_pattern#YYYY-MM-DD`, `failure_pattern#check`), in
//! a partition no order shares and with none of the index keys, so it never shows up in a
//! listing, the stats or a stream filter (`kind = order`). Written conditionally on its version
//! (`PutItem`), read strongly consistent (`GetItem`): the fulfillment function's two actions.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use leenkies_domain::notify::failure_pattern::{SellerNotices, StoredNotice};
use leenkies_domain::notify::NoticeFact;
use leenkies_domain::ports::StoreError;

use super::table::{PARTITION_KEY, SORT_KEY};

pub const KIND: &str = "seller_notice";

pub fn partition_of(seller_id: &str) -> String {
    format!(
        "SELLER#{}#NOTICES",
        crate::dynamodb::item::key_part(seller_id)
    )
}

#[derive(Clone, Debug)]
pub struct DynamoSellerNotices {
    client: Client,
    table: String,
}

impl DynamoSellerNotices {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
}

#[async_trait]
impl SellerNotices for DynamoSellerNotices {
    async fn get_seller_notice(
        &self,
        seller_id: &str,
        key: &str,
    ) -> Result<Option<StoredNotice>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(partition_of(seller_id)))
            .key(SORT_KEY, s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("notice {key} of {seller_id}: {what}"));
        let doc = item
            .get("doc")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| corrupt("no doc"))?;
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("no version"))?;
        let fact: NoticeFact = serde_json::from_str(doc).map_err(|e| corrupt(&e.to_string()))?;
        Ok(Some(StoredNotice { fact, version }))
    }

    async fn put_seller_notice(
        &self,
        seller_id: &str,
        key: &str,
        fact: &NoticeFact,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let doc = serde_json::to_string(fact)
            .map_err(|e| StoreError::Corrupt(format!("notice {key} of {seller_id}: {e}")))?;
        let version = expected.map_or(1, |v| v + 1);
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), s(partition_of(seller_id))),
            (SORT_KEY.to_owned(), s(key)),
            ("kind".to_owned(), s(KIND)),
            ("version".to_owned(), AttributeValue::N(version.to_string())),
            ("doc".to_owned(), s(doc)),
        ]);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        put = match expected {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY),
            Some(v) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
