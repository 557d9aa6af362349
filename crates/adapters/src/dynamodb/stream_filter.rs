//! The fulfillment function's stream filter, as code: the pattern `template.yaml` gives the event
//! source mapping (`FilterCriteria`), and an evaluator of Lambda's filter rules for the subset
//! the pattern uses. The local pump evaluates the same pattern on the records it builds, and a
//! test evaluates the template's own pattern on the adapter's items, so a drift between the item
//! shape, the template and the local runner fails a test here instead of silently stopping the
//! emails in AWS only.
//!
//! Supported (what Lambda documents for event filtering): nested objects match field by field,
//! a list matches when the value equals one of its literal elements (strings, numbers, booleans,
//! null). Anything else in a pattern (`prefix`, `anything-but`, …) is refused as not matching.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::Value;

/// The filter of the fulfillment function's DynamoDB Streams event source (`template.yaml`,
/// `FulfillmentFunction` → `Events` → `FilterCriteria`): an inserted or modified order item that
/// is deliverable and whose fulfillment is pending or being sent.
pub const FULFILLMENT_FILTER: &str = r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["order"]}, "deliverable": {"BOOL": [true]}, "fulfillment_status": {"S": ["pending", "sending"]}}}}"#;

/// The fulfillment function's second filter pattern (the event source mapping passes a record
/// that matches either): an order item that owes its seller a notification (contract section
/// 12), whatever its delivery. The stream keeps its two readers: notifications ride on this one.
pub const NOTIFY_FILTER: &str = r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["order"]}, "notify_due": {"BOOL": [true]}}}}"#;

/// The fulfillment function's third pattern: an order item whose payment failed, for the
/// seller's `failure_pattern` check (the handler looks only when an attempt is new).
pub const PAYMENT_FAILED_FILTER: &str = r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["order"]}, "payment_failed": {"BOOL": [true]}}}}"#;

/// Every pattern of the fulfillment function's `FilterCriteria`, in the template's order.
pub const FULFILLMENT_FILTERS: [&str; 3] =
    [FULFILLMENT_FILTER, NOTIFY_FILTER, PAYMENT_FAILED_FILTER];

/// The filter of the exports function's DynamoDB Streams event source (`template.yaml`,
/// `ExportsFunction` → `Events` → `FilterCriteria`): a written export job that still needs work.
pub const EXPORTS_FILTER: &str = r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["export_job"]}, "job_status": {"S": ["queued", "running"]}}}}"#;

/// Whether this stream record would invoke the exports function in AWS.
pub fn passes_exports_filter(record: &EventRecord) -> bool {
    let Ok(pattern) = serde_json::from_str::<Value>(EXPORTS_FILTER) else {
        return false;
    };
    serde_json::to_value(record).is_ok_and(|event| matches(&pattern, &event))
}

/// Whether `event` (a stream record as Lambda's JSON) passes `pattern`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, sub)| match event.get(key) {
            Some(value) => matches(sub, value),
            None => false,
        }),
        Value::Array(allowed) => allowed.iter().any(|literal| match literal {
            Value::Object(_) | Value::Array(_) => false,
            literal => literal == event,
        }),
        _ => false,
    }
}

/// Whether this stream record would invoke the fulfillment function in AWS: it matches one of
/// [`FULFILLMENT_FILTERS`].
pub fn passes_fulfillment_filter(record: &EventRecord) -> bool {
    let Ok(event) = serde_json::to_value(record) else {
        return false;
    };
    FULFILLMENT_FILTERS.iter().any(|pattern| {
        serde_json::from_str::<Value>(pattern).is_ok_and(|pattern| matches(&pattern, &event))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn given_patterns_when_matched_then_lambdas_rules() {
        let pattern = json!({"a": ["x", "y"], "b": {"c": [true]}});
        assert!(matches(
            &pattern,
            &json!({"a": "y", "b": {"c": true, "d": 1}})
        ));
        assert!(!matches(&pattern, &json!({"a": "z", "b": {"c": true}})));
        assert!(!matches(&pattern, &json!({"a": "x", "b": {"c": false}})));
        assert!(!matches(&pattern, &json!({"a": "x"})), "a missing field");
        // An operator this evaluator does not implement never matches (fails closed).
        assert!(!matches(
            &json!({"a": [{"prefix": "x"}]}),
            &json!({"a": "xy"})
        ));
    }
}
