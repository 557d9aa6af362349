//! Seller settings in the orders table (`leenkies_domain::seller_settings::SettingsStore`).
//!
//! | item     | pk                          | sk         | attributes                                  |
//! |----------|-----------------------------|------------|---------------------------------------------|
//! | settings | `SELLER#<seller>#SETTINGS`  | `SETTINGS` | `kind` = `settings`, `version`, `doc` (JSON) |
//!
//! One small item per seller, in a partition no order shares and with none of the index keys,
//! so it never shows up in a listing, a search, the stats or a stream filter (`kind = order`).
//! The document is the whole settings object (every key, defaults included), written
//! conditionally on the version; read strongly consistent, so a change is in force for the
//! next sweep and the next event.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use leenkies_domain::ports::StoreError;
use leenkies_domain::seller_settings::{SettingsStore, StoredSettings};
use leenkies_domain::settings::SellerSettings;

use super::table::{PARTITION_KEY, SORT_KEY};

pub const KIND: &str = "settings";
const SORT: &str = "SETTINGS";

pub fn partition_of(seller_id: &str) -> String {
    format!(
        "SELLER#{}#SETTINGS",
        crate::dynamodb::item::key_part(seller_id)
    )
}

#[derive(Clone, Debug)]
pub struct DynamoSettings {
    client: Client,
    table: String,
}

impl DynamoSettings {
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
impl SettingsStore for DynamoSettings {
    async fn get_settings(&self, seller_id: &str) -> Result<Option<StoredSettings>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(partition_of(seller_id)))
            .key(SORT_KEY, s(SORT))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("settings of {seller_id}: {what}"));
        let doc = item
            .get("doc")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| corrupt("no doc"))?;
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("no version"))?;
        let settings: SellerSettings =
            serde_json::from_str(doc).map_err(|e| corrupt(&e.to_string()))?;
        Ok(Some(StoredSettings { settings, version }))
    }

    async fn put_settings(
        &self,
        seller_id: &str,
        settings: &SellerSettings,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let doc = serde_json::to_string(settings)
            .map_err(|e| StoreError::Corrupt(format!("settings of {seller_id}: {e}")))?;
        let version = expected.map_or(1, |v| v + 1);
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), s(partition_of(seller_id))),
            (SORT_KEY.to_owned(), s(SORT)),
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
