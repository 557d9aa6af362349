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

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use leenkies_domain::notify::failure_pattern::{SellerNotices, StoredNotice};
use leenkies_domain::notify::NoticeFact;
use leenkies_domain::ports::StoreError;

use super::versioned_doc::DocItem;

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

impl DynamoSellerNotices {
    fn doc<'a>(&'a self, seller_id: &str, key: &'a str) -> DocItem<'a> {
        DocItem {
            client: &self.client,
            table: &self.table,
            pk: partition_of(seller_id),
            sk: key,
            kind: KIND,
            what: format!("notice {key} of {seller_id}"),
        }
    }
}

#[async_trait]
impl SellerNotices for DynamoSellerNotices {
    async fn get_seller_notice(
        &self,
        seller_id: &str,
        key: &str,
    ) -> Result<Option<StoredNotice>, StoreError> {
        Ok(self
            .doc(seller_id, key)
            .get::<NoticeFact>()
            .await?
            .map(|(fact, version)| StoredNotice { fact, version }))
    }

    async fn put_seller_notice(
        &self,
        seller_id: &str,
        key: &str,
        fact: &NoticeFact,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        self.doc(seller_id, key).put(fact, expected).await
    }
}
