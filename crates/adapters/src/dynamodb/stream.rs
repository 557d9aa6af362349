//! Reads the orders table's real stream (DynamoDB Local has one too) and hands back batches
//! shaped exactly like the fulfillment Lambda's event (`aws_lambda_events` `EventRecord`s), so
//! the local runner feeds the same handler the same records AWS would.
//!
//! Shards are read from the trim horizon on first start; a child shard is read only once its
//! parent is exhausted, so changes to one item stay in order, as the Lambda event source does.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::dynamodb::{EventRecord, StreamRecord, StreamViewType};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use leenkies_domain::ports::StoreError;

use super::errors::from_sdk;

/// Records per `GetRecords` call (the service maximum).
const RECORDS_PER_CALL: i32 = 1000;
/// Re-list shards at least every this many polls, in case a shard appeared without one of ours
/// closing.
const REFRESH_EVERY: u32 = 50;

#[derive(Debug, Default)]
struct Shard {
    parent: Option<String>,
    iterator: Option<String>,
    /// Last sequence number handed out: where to resume if the iterator expires.
    last_sequence: Option<String>,
    /// Read to its end: the shard is closed and nothing is left.
    exhausted: bool,
}

/// Follows every shard of one table's stream.
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    region: String,
    shards: BTreeMap<String, Shard>,
    polls_since_refresh: u32,
    must_refresh: bool,
}

impl StreamReader {
    /// Finds the table's latest stream. Reading starts at the trim horizon of every shard.
    pub async fn open(
        dynamodb: &aws_sdk_dynamodb::Client,
        streams: aws_sdk_dynamodbstreams::Client,
        table: &str,
    ) -> Result<Self, StoreError> {
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeTable", e))?;
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| StoreError::Unavailable(format!("table {table} has no stream")))?
            .to_owned();
        let region = streams
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_owned());
        Ok(Self {
            client: streams,
            stream_arn,
            region,
            shards: BTreeMap::new(),
            polls_since_refresh: 0,
            must_refresh: true,
        })
    }

    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    /// Everything new on the stream since the last call (empty when nothing is), oldest first
    /// within each shard. The caller loops with a short sleep.
    pub async fn next_batch(&mut self) -> Result<Vec<EventRecord>, StoreError> {
        self.polls_since_refresh += 1;
        if self.must_refresh || self.polls_since_refresh >= REFRESH_EVERY {
            self.refresh_shards().await?;
        }
        let mut batch = Vec::new();
        for shard_id in self.ready_shards() {
            self.read_shard(&shard_id, &mut batch).await?;
        }
        Ok(batch)
    }

    /// Open shards whose parent (if we know it) has been read to its end.
    fn ready_shards(&self) -> Vec<String> {
        self.shards
            .iter()
            .filter(|(_, s)| !s.exhausted)
            .filter(|(_, s)| {
                s.parent
                    .as_ref()
                    .and_then(|p| self.shards.get(p))
                    .is_none_or(|p| p.exhausted)
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    async fn refresh_shards(&mut self) -> Result<(), StoreError> {
        let mut start: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(|e| from_sdk("DescribeStream", e))?;
            let Some(description) = out.stream_description() else {
                break;
            };
            for shard in description.shards() {
                let Some(id) = shard.shard_id() else { continue };
                self.shards.entry(id.to_owned()).or_insert_with(|| Shard {
                    parent: shard.parent_shard_id().map(str::to_owned),
                    ..Shard::default()
                });
            }
            start = description.last_evaluated_shard_id().map(str::to_owned);
            if start.is_none() {
                break;
            }
        }
        self.must_refresh = false;
        self.polls_since_refresh = 0;
        Ok(())
    }

    async fn iterator_for(&self, shard_id: &str) -> Result<Option<String>, StoreError> {
        let last = self
            .shards
            .get(shard_id)
            .and_then(|s| s.last_sequence.clone());
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard_id);
        let request = match last {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        match request.send().await {
            Ok(out) => Ok(out.shard_iterator().map(str::to_owned)),
            // The shard aged out of the stream (24 h): nothing left to read there.
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(from_sdk("GetShardIterator", e)),
        }
    }

    async fn read_shard(
        &mut self,
        shard_id: &str,
        batch: &mut Vec<EventRecord>,
    ) -> Result<(), StoreError> {
        let iterator = match self.shards.get(shard_id).and_then(|s| s.iterator.clone()) {
            Some(it) => it,
            None => match self.iterator_for(shard_id).await? {
                Some(it) => it,
                None => {
                    self.close(shard_id);
                    return Ok(());
                }
            },
        };
        let result = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(RECORDS_PER_CALL)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            // Iterators live 15 minutes: get a new one after the last record handed out.
            Err(e) if e.code() == Some("ExpiredIteratorException") => {
                self.set_iterator(shard_id, None);
                return Ok(());
            }
            // What we had not read yet was trimmed: carry on from the oldest record left.
            Err(e) if e.code() == Some("TrimmedDataAccessException") => {
                tracing::warn!(shard_id, "stream records were trimmed before being read");
                if let Some(s) = self.shards.get_mut(shard_id) {
                    s.iterator = None;
                    s.last_sequence = None;
                }
                return Ok(());
            }
            Err(e) => return Err(from_sdk("GetRecords", e)),
        };
        for record in out.records() {
            let event = to_event_record(record, &self.stream_arn, &self.region);
            if let Some(sequence) = &event.change.sequence_number {
                if let Some(s) = self.shards.get_mut(shard_id) {
                    s.last_sequence = Some(sequence.clone());
                }
            }
            batch.push(event);
        }
        match out.next_shard_iterator() {
            Some(next) => self.set_iterator(shard_id, Some(next.to_owned())),
            // A closed shard read to its end: its children (listed on refresh) come next.
            None => self.close(shard_id),
        }
        Ok(())
    }

    fn set_iterator(&mut self, shard_id: &str, iterator: Option<String>) {
        if let Some(s) = self.shards.get_mut(shard_id) {
            s.iterator = iterator;
        }
    }

    fn close(&mut self, shard_id: &str) {
        if let Some(s) = self.shards.get_mut(shard_id) {
            s.exhausted = true;
            s.iterator = None;
        }
        self.must_refresh = true;
    }
}

/// One stream record as the Lambda event source delivers it.
pub fn to_event_record(record: &Record, stream_arn: &str, region: &str) -> EventRecord {
    let mut event = EventRecord::default();
    event.aws_region = record.aws_region().unwrap_or(region).to_owned();
    event.event_id = record.event_id().unwrap_or_default().to_owned();
    event.event_name = record
        .event_name()
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    event.event_source = Some(record.event_source().unwrap_or("aws:dynamodb").to_owned());
    event.event_version = record.event_version().map(str::to_owned);
    event.event_source_arn = Some(stream_arn.to_owned());
    if let Some(change) = record.dynamodb() {
        event.change = to_stream_record(change);
    }
    event
}

fn to_stream_record(change: &aws_sdk_dynamodbstreams::types::StreamRecord) -> StreamRecord {
    let mut out = StreamRecord::default();
    if let Some(at) = change.approximate_creation_date_time() {
        if let Some(t) = chrono::DateTime::from_timestamp(at.secs(), at.subsec_nanos()) {
            out.approximate_creation_date_time = t;
        }
    }
    out.keys = image(change.keys());
    out.new_image = image(change.new_image());
    out.old_image = image(change.old_image());
    out.sequence_number = change.sequence_number().map(str::to_owned);
    out.size_bytes = change.size_bytes().unwrap_or(0);
    out.stream_view_type = change.stream_view_type().and_then(|v| match v.as_str() {
        "NEW_IMAGE" => Some(StreamViewType::NewImage),
        "OLD_IMAGE" => Some(StreamViewType::OldImage),
        "NEW_AND_OLD_IMAGES" => Some(StreamViewType::NewAndOldImages),
        "KEYS_ONLY" => Some(StreamViewType::KeysOnly),
        _ => None,
    });
    out
}

/// serde_dynamo converts the streams SDK's attribute values (feature `aws-sdk-dynamodbstreams+1`).
fn image(
    map: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>,
) -> serde_dynamo::Item {
    let converted: HashMap<String, serde_dynamo::AttributeValue> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), serde_dynamo::AttributeValue::from(v.clone())))
        .collect();
    serde_dynamo::Item::from(converted)
}
