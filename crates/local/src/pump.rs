//! The change pump: hands the changes of an order that pass the fulfillment function's stream
//! filter to its handler as DynamoDB stream records, as Lambda's event source mapping does in
//! AWS. A record the handler reports as failed is retried with back-off before the next one
//! (streams are ordered per shard).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::EventRecord;
use fulfillment::Fulfiller;
use leenkies_adapters::dynamodb::item::order_to_image;
use leenkies_adapters::dynamodb::stream::StreamReader;
use leenkies_adapters::dynamodb::stream_filter::passes_fulfillment_filter;
use leenkies_domain::memory_store::OrderChange;
use tokio::sync::mpsc::UnboundedReceiver;

/// Where changes come from: the embedded store's feed, or DynamoDB Local's real stream.
pub enum ChangeSource {
    Memory(UnboundedReceiver<OrderChange>),
    Stream(Box<StreamReader>),
}

pub async fn run(source: ChangeSource, fulfiller: Arc<Fulfiller>) {
    run_with_exports(source, fulfiller, None).await
}

/// [`run`], also handing DynamoDB Local's export-job records (those passing the exports
/// function's filter) to the export worker. The embedded store's job writes reach the worker by
/// their own feed (`crate::exports::pump`).
pub async fn run_with_exports(
    source: ChangeSource,
    fulfiller: Arc<Fulfiller>,
    exports: Option<crate::exports::LocalExports>,
) {
    match source {
        ChangeSource::Memory(mut changes) => {
            let mut sequence: u64 = 0;
            while let Some(change) = changes.recv().await {
                // The event source mapping's filter in template.yaml (an order item, deliverable,
                // fulfillment pending or sending; or one owing its seller a notification, or whose payment
                // failed): in AWS
                // a change that fails it never invokes the function. The domain's checks first
                // skip the encoding for most changes; the record then passes the template's own
                // patterns, evaluated as Lambda does (`stream_filter`), so the runner cannot
                // deliver what AWS would filter out.
                let failed =
                    change.new.facts.payment_status() == leenkies_domain::PaymentStatus::Failed;
                if !change.new.awaiting_delivery()
                    && !leenkies_domain::notify::due(&change.new)
                    && !failed
                {
                    continue;
                }
                sequence += 1;
                match to_record(&change, sequence) {
                    Some(record) if passes_fulfillment_filter(&record) => {
                        deliver(&fulfiller, vec![record]).await
                    }
                    Some(_) => {
                        tracing::error!(order_id = %change.new.order_id,
                            "awaiting delivery or a notification but filtered out by the stream's FilterCriteria: AWS would not deliver it")
                    }
                    None => {
                        tracing::error!(order_id = %change.new.order_id, "order could not be encoded as a stream record")
                    }
                }
            }
        }
        ChangeSource::Stream(mut reader) => loop {
            match reader.next_batch().await {
                Ok(records) if records.is_empty() => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(mut records) => {
                    if let Some(exports) = &exports {
                        for record in records.iter().filter(|r| {
                            leenkies_adapters::dynamodb::stream_filter::passes_exports_filter(r)
                        }) {
                            exports.handle(record).await;
                        }
                    }
                    // What the event source mapping would hand the function in AWS.
                    records.retain(passes_fulfillment_filter);
                    if !records.is_empty() {
                        deliver(&fulfiller, records).await
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the table stream failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        },
    }
}

/// Delivers a batch; on a reported failure, re-delivers from the failed record on, with back-off,
/// as Lambda does. The handler itself gives up (and marks the order failed) after its attempts.
async fn deliver(fulfiller: &Fulfiller, mut records: Vec<EventRecord>) {
    let mut delay = Duration::from_millis(100);
    while !records.is_empty() {
        let response = fulfiller.handle_records(&records).await;
        let Some(failed) = response
            .batch_item_failures
            .first()
            .and_then(|f| f.item_identifier.clone())
        else {
            return;
        };
        let at = records
            .iter()
            .position(|r| r.change.sequence_number.as_deref() == Some(failed.as_str()))
            .unwrap_or(0);
        records.drain(..at);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn to_record(change: &OrderChange, sequence: u64) -> Option<EventRecord> {
    let mut record = EventRecord::default();
    record.event_name = if change.old.is_some() {
        "MODIFY"
    } else {
        "INSERT"
    }
    .to_owned();
    record.event_source = Some("aws:dynamodb".to_owned());
    record.event_id = format!("local-{sequence}");
    record.aws_region = "local".to_owned();
    record.change.sequence_number = Some(format!("{sequence:021}"));
    record.change.new_image = order_to_image(&change.new).ok()?;
    if let Some(old) = &change.old {
        record.change.old_image = order_to_image(old).ok()?;
    }
    Some(record)
}
