//! One DynamoDB Streams record, decoded into the order it is about. Anything that is not an
//! order change (a charge link, a download entry, a REMOVE, an image we cannot read) is skipped
//! with a reason, never an error: one odd record must not block the shard.

use aws_lambda_events::event::dynamodb::EventRecord;
use leenkies_adapters::dynamodb::item::order_from_image;
use leenkies_domain::OrderRecord;

/// What a stream record is, for the fulfillment function.
#[derive(Debug)]
pub enum Change {
    // Boxed: an order is large and most records of a busy table are skipped.
    Order {
        old: Option<Box<OrderRecord>>,
        new: Box<OrderRecord>,
    },
    Skip {
        reason: &'static str,
        detail: Option<String>,
    },
}

/// Decodes a record's images. An unreadable old image counts as absent: at worst the order gets
/// one more look, which the claim makes harmless.
pub fn decode(record: &EventRecord) -> Change {
    if record.event_name.eq_ignore_ascii_case("REMOVE") {
        return skip("remove");
    }
    if record.change.new_image.is_empty() {
        return skip("no_new_image");
    }
    let new = match order_from_image(record.change.new_image.clone()) {
        Ok(Some(order)) => Box::new(order),
        Ok(None) => return skip("not_an_order"),
        Err(e) => {
            return Change::Skip {
                reason: "undecodable",
                detail: Some(e.to_string()),
            }
        }
    };
    let old = if record.change.old_image.is_empty() {
        None
    } else {
        order_from_image(record.change.old_image.clone())
            .ok()
            .flatten()
            .map(Box::new)
    };
    Change::Order { old, new }
}

fn skip(reason: &'static str) -> Change {
    Change::Skip {
        reason,
        detail: None,
    }
}

/// The id Lambda expects in `batchItemFailures`: the record's sequence number (the event id only
/// if a record ever came without one).
pub fn item_identifier(record: &EventRecord) -> String {
    record
        .change
        .sequence_number
        .clone()
        .unwrap_or_else(|| record.event_id.clone())
}
