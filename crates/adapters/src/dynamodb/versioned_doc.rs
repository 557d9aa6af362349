//! One small item holding a JSON document and its version: read strongly consistent, written
//! conditionally on the version read (`None`: must not exist yet), a lost race answered
//! [`StoreError::Conflict`]. The seller's settings (`settings`) and the seller-level notice
//! records (`seller_notices`) are items of this shape, each in a partition no order shares.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use leenkies_domain::ports::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::table::{PARTITION_KEY, SORT_KEY};

/// Where one document lives, and what errors call it (`settings of acct_…`).
pub(crate) struct DocItem<'a> {
    pub client: &'a Client,
    pub table: &'a str,
    pub pk: String,
    pub sk: &'a str,
    /// The item's `kind` attribute.
    pub kind: &'a str,
    pub what: String,
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

impl DocItem<'_> {
    /// The document and its version, or `None` when the item does not exist.
    pub async fn get<T: DeserializeOwned>(&self) -> Result<Option<(T, u64)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table)
            .key(PARTITION_KEY, s(self.pk.clone()))
            .key(SORT_KEY, s(self.sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let corrupt = |why: &str| StoreError::Corrupt(format!("{}: {why}", self.what));
        let doc = item
            .get("doc")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| corrupt("no doc"))?;
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("no version"))?;
        let value = serde_json::from_str(doc).map_err(|e| corrupt(&e.to_string()))?;
        Ok(Some((value, version)))
    }

    /// Writes `value` as version `expected + 1` (1 when `expected` is `None`) if the item is
    /// still at `expected` (`None`: must not exist).
    pub async fn put<T: Serialize>(
        &self,
        value: &T,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let doc = serde_json::to_string(value)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", self.what)))?;
        let version = expected.map_or(1, |v| v + 1);
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), s(self.pk.clone())),
            (SORT_KEY.to_owned(), s(self.sk)),
            ("kind".to_owned(), s(self.kind)),
            ("version".to_owned(), AttributeValue::N(version.to_string())),
            ("doc".to_owned(), s(doc)),
        ]);
        let put = self
            .client
            .put_item()
            .table_name(self.table)
            .set_item(Some(item));
        let put = match expected {
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
