//! The exports function: the orders table's stream, filtered to export jobs that still need work
//! (`stream_filter::EXPORTS_FILTER`), drives `leenkies_domain::export::Worker`, one step per
//! record. Each step's own write is the next step's record, so the stream is the queue: no SQS,
//! no self-invocation. A step stops before the invocation's deadline and records that it did, so
//! a large export spans as many invocations as it needs.
//!
//! Partial batch failures: a record whose step failed transiently (store or bucket unavailable)
//! is reported with its `SequenceNumber` and the batch stops there (streams are ordered per
//! shard), so Lambda retries from that record on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use leenkies_adapters::dynamodb::exports::job_of_record;
use leenkies_domain::export::{ExportJobs, ExportSink, Worker};
use leenkies_domain::ports::OrderStore;

/// Time kept back before the deadline: one more store page and the progress write fit in it.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

pub struct Exporter {
    pub orders: Arc<dyn OrderStore>,
    pub jobs: Arc<dyn ExportJobs>,
    pub sink: Arc<dyn ExportSink>,
    pub part_bytes: usize,
}

impl Exporter {
    /// Runs one step per record until `deadline` (less [`DEADLINE_MARGIN`]).
    pub async fn handle_batch(&self, event: Event, deadline: Instant) -> DynamoDbEventResponse {
        self.handle_records(&event.records, deadline).await
    }

    pub async fn handle_records(
        &self,
        records: &[EventRecord],
        deadline: Instant,
    ) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        let stop_at = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        let out_of_time = move || Instant::now() >= stop_at;
        for record in records {
            let Some((seller, id, version)) = job_of_record(record) else {
                continue; // not a job: the filter should not have passed it
            };
            let worker = Worker {
                orders: self.orders.as_ref(),
                jobs: self.jobs.as_ref(),
                sink: self.sink.as_ref(),
                part_bytes: self.part_bytes,
                out_of_time: &out_of_time,
                now: leenkies_domain::clock::now_secs(),
            };
            match worker.advance(&seller, &id, Some(version)).await {
                Ok(step) => tracing::info!(job_id = %id, ?step, "export step"),
                Err(error) => {
                    tracing::warn!(job_id = %id, %error, "export step failed; the record is retried");
                    // Lambda retries from the first failed record on.
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = record.change.sequence_number.clone();
                    response.batch_item_failures.push(failure);
                    break;
                }
            }
        }
        response
    }
}
