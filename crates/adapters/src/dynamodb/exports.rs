//! Export jobs in the orders table (`leenkies_domain::export::ExportJobs`).
//!
//! | item       | pk                 | sk     | attributes                                        |
//! |------------|--------------------|--------|---------------------------------------------------|
//! | export job | `EXPORT#<seller>`  | `<id>` | `kind` = `export_job`, `job_status`, `version`, `seller_id`, `job_id`, `expires_at`, `doc` (JSON of the job) |
//!
//! A partition per seller that no order shares, and none of the index keys (`gsi1pk`…), so a
//! job never shows up in a listing, a search, the stats or the fulfillment stream filter
//! (`kind = order`). The exports function's own filter ([`super::stream_filter::EXPORTS_FILTER`])
//! passes the writes of jobs that still need work (`job_status` `queued` or `running`).
//! `expires_at` is the job's end of life in Unix seconds (a TTL attribute, should the table get
//! one). Every write is conditional on the version.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use leenkies_domain::export::{job_id_floor, ExportJob, ExportJobs};
use leenkies_domain::ports::StoreError;

use super::table::{PARTITION_KEY, SORT_KEY};

pub const KIND: &str = "export_job";

/// The seller's jobs partition (the id escaped as in every key: `super::item::key_part`).
pub fn partition_of(seller_id: &str) -> String {
    format!("EXPORT#{}", super::item::key_part(seller_id))
}

#[derive(Clone, Debug)]
pub struct DynamoExports {
    client: Client,
    table: String,
}

impl DynamoExports {
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

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
}

fn item_of(job: &ExportJob) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let doc = serde_json::to_string(job)
        .map_err(|e| StoreError::Corrupt(format!("export job {}: {e}", job.id)))?;
    Ok(HashMap::from([
        (PARTITION_KEY.to_owned(), s(partition_of(&job.seller_id))),
        (SORT_KEY.to_owned(), s(&job.id)),
        ("kind".to_owned(), s(KIND)),
        ("job_status".to_owned(), s(job.status.as_str())),
        ("version".to_owned(), n(job.version)),
        ("seller_id".to_owned(), s(&job.seller_id)),
        ("job_id".to_owned(), s(&job.id)),
        ("expires_at".to_owned(), n(job.expires_at())),
        ("doc".to_owned(), s(doc)),
    ]))
}

#[async_trait]
impl ExportJobs for DynamoExports {
    async fn create_job(&self, job: &ExportJob) -> Result<(), StoreError> {
        self.put(job, None).await
    }

    async fn get_job(&self, seller_id: &str, id: &str) -> Result<Option<ExportJob>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(partition_of(seller_id)))
            .key(SORT_KEY, s(id))
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
            .ok_or_else(|| StoreError::Corrupt(format!("export job {id} has no doc")))?;
        let job: ExportJob = serde_json::from_str(doc)
            .map_err(|e| StoreError::Corrupt(format!("export job {id}: {e}")))?;
        // The key decides ownership, never the document.
        Ok((job.seller_id == seller_id && job.id == id).then_some(job))
    }

    async fn save_job(&self, job: &ExportJob, expected_version: u64) -> Result<(), StoreError> {
        self.put(job, Some(expected_version)).await
    }

    /// One `Query` of the seller's partition from the first id of `since` on (ids sort by their
    /// creation time: `export::job_id`), strongly consistent, every page.
    async fn recent_jobs(&self, seller_id: &str, since: i64) -> Result<Vec<ExportJob>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk >= :since")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_values(":pk", s(partition_of(seller_id)))
                .expression_attribute_values(":since", s(job_id_floor(since)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                let Some(doc) = item.get("doc").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                let job: ExportJob = serde_json::from_str(doc)
                    .map_err(|e| StoreError::Corrupt(format!("export job: {e}")))?;
                // Ids of before time-ordered ids sort anywhere: the time decides.
                if job.seller_id == seller_id && job.created_at >= since {
                    out.push(job);
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
        }
    }
}

impl DynamoExports {
    async fn put(&self, job: &ExportJob, expected: Option<u64>) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(job)?));
        put = match expected {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY),
            Some(v) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", n(v)),
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

/// The job a stream record is about: (seller, id, version) from its new image.
pub fn job_of_record(record: &EventRecord) -> Option<(String, String, u64)> {
    let image = &record.change.new_image;
    let text = |name: &str| match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    if text("kind").as_deref() != Some(KIND) {
        return None;
    }
    let version = match image.get("version") {
        Some(serde_dynamo::AttributeValue::N(v)) => v.parse().ok()?,
        _ => return None,
    };
    Some((text("seller_id")?, text("job_id")?, version))
}

/// A job item as a stream record's image would carry it (the local pump's records): the
/// attributes the exports filter and [`job_of_record`] read.
pub fn job_to_image(job: &ExportJob) -> Result<serde_dynamo::Item, serde_dynamo::Error> {
    #[derive(serde::Serialize)]
    struct Image<'a> {
        kind: &'static str,
        job_status: &'static str,
        version: u64,
        seller_id: &'a str,
        job_id: &'a str,
    }
    serde_dynamo::to_item(Image {
        kind: KIND,
        job_status: job.status.as_str(),
        version: job.version,
        seller_id: &job.seller_id,
        job_id: &job.id,
    })
}
