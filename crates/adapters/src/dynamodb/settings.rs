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

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use leenkies_domain::ports::StoreError;
use leenkies_domain::seller_settings::{SettingsStore, StoredSettings};
use leenkies_domain::settings::SellerSettings;

use super::versioned_doc::DocItem;

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

impl DynamoSettings {
    fn doc<'a>(&'a self, seller_id: &str) -> DocItem<'a> {
        DocItem {
            client: &self.client,
            table: &self.table,
            pk: partition_of(seller_id),
            sk: SORT,
            kind: KIND,
            what: format!("settings of {seller_id}"),
        }
    }
}

#[async_trait]
impl SettingsStore for DynamoSettings {
    async fn get_settings(&self, seller_id: &str) -> Result<Option<StoredSettings>, StoreError> {
        Ok(self
            .doc(seller_id)
            .get::<SellerSettings>()
            .await?
            .map(|(settings, version)| StoredSettings { settings, version }))
    }

    async fn put_settings(
        &self,
        seller_id: &str,
        settings: &SellerSettings,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        self.doc(seller_id).put(settings, expected).await
    }
}
