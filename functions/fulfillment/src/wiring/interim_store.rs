//! INTERIM, to be deleted at merge: the smallest DynamoDB `OrderStore` the fulfillment function
//! needs (read one order, write it back conditionally on its version), so the binary works
//! before `leenkies_adapters::dynamodb::store::DynamoStore` lands. Every other call answers
//! `Unavailable`: fulfillment never makes them.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use leenkies_adapters::dynamodb::item::{order_pk, OrderItem, ORDER_SK};
use leenkies_adapters::dynamodb::table::{PARTITION_KEY, SORT_KEY};
use leenkies_domain::ports::{
    ChargeLink, DownloadEntry, LinkWrite, OrderPage, OrderQuery, OrderStore, StoreError,
};
use leenkies_domain::OrderRecord;

pub struct InterimOrderStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl InterimOrderStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }
}

fn unavailable<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(e.code().unwrap_or("dispatch").to_owned())
}

fn unsupported() -> StoreError {
    StoreError::Unavailable("not supported by the interim fulfillment store".to_owned())
}

#[async_trait]
impl OrderStore for InterimOrderStore {
    async fn get_order(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                PARTITION_KEY,
                AttributeValue::S(order_pk(seller_id, order_id)),
            )
            .key(SORT_KEY, AttributeValue::S(ORDER_SK.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        match out.item {
            None => Ok(None),
            Some(item) => serde_dynamo::from_item::<_, OrderItem>(item)
                .map(|i| Some(i.into()))
                .map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    async fn put_order(
        &self,
        record: &OrderRecord,
        expected_version: Option<u64>,
        links: &[LinkWrite],
    ) -> Result<(), StoreError> {
        if !links.is_empty() {
            return Err(unsupported());
        }
        let item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(OrderItem::from(record))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        put = match expected_version {
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
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn get_charge_link(&self, _: &str, _: &str) -> Result<Option<ChargeLink>, StoreError> {
        Err(unsupported())
    }

    async fn put_charge_link(&self, _: &ChargeLink, _: Option<u64>) -> Result<(), StoreError> {
        Err(unsupported())
    }

    async fn list_orders(&self, _: &str, _: &OrderQuery) -> Result<OrderPage, StoreError> {
        Err(unsupported())
    }

    async fn record_download(
        &self,
        _: &str,
        _: &str,
        _: &DownloadEntry,
    ) -> Result<bool, StoreError> {
        Err(unsupported())
    }

    async fn list_downloads(&self, _: &str, _: &str) -> Result<Vec<DownloadEntry>, StoreError> {
        Err(unsupported())
    }
}
