//! CloudWatch metrics as Embedded Metric Format (EMF) lines on stdout.
//!
//! In Lambda, every stdout line that is a JSON object with an `_aws.CloudWatchMetrics` block
//! becomes metrics in the `Leenkies` namespace: no SDK call, no extra latency, no IAM permission.
//! Tests swap the sink for a capture and assert on the lines.
//!
//! The names below are what `template.yaml`'s alarms and the operator docs refer to; change them
//! together. Functions owned by other modules (fulfillment's emails) call the named helpers.

use std::sync::{Arc, Mutex};

use serde::ser::{Serialize, SerializeMap, Serializer};
#[cfg(test)]
use serde_json::json;
use serde_json::Value;

pub const NAMESPACE: &str = "Leenkies";

/// Webhook deliveries by `EventType` and `Outcome` (applied, duplicate, ignored, or an error code).
pub const WEBHOOK_EVENTS: &str = "WebhookEvents";
/// Deliveries refused for a missing, malformed, stale or wrong signature (alarmed on spikes).
pub const SIGNATURE_FAILURES: &str = "SignatureFailures";
/// Folds that ran out of retries on version conflicts (answered 503; Stripe retries).
pub const FOLD_CONFLICTS: &str = "FoldConflicts";
/// Delivery emails sent / failed (fulfillment calls [`Metrics::email_sent`] / [`Metrics::email_failed`]).
pub const EMAILS_SENT: &str = "EmailsSent";
pub const EMAILS_FAILED: &str = "EmailsFailed";
/// Events the backfill folded that the store did not know yet (`applied`), by `Account`-free dims.
pub const BACKFILL_EVENTS_APPLIED: &str = "BackfillEventsApplied";
pub const BACKFILL_EVENTS_READ: &str = "BackfillEventsRead";
/// Stripe API calls by `Outcome` (ok, retried, failed).
pub const STRIPE_API_CALLS: &str = "StripeApiCalls";
/// Open objects the reconcile job re-read and found changed.
pub const RECONCILE_CHANGES: &str = "ReconcileChanges";
/// Seconds since the last webhook delivery, by `Mode`; and 1/0 "stale during business hours".
pub const WEBHOOK_EVENT_AGE: &str = "WebhookEventAgeSeconds";
pub const WEBHOOK_STALE: &str = "WebhookStale";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

#[derive(Clone)]
enum Sink {
    Stdout,
    Capture(Arc<Mutex<Vec<String>>>),
}

/// An EMF emitter for one service (the `Service` dimension on every metric).
#[derive(Clone)]
pub struct Metrics {
    service: &'static str,
    sink: Sink,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("service", &self.service)
            .finish()
    }
}

/// The lines a capturing [`Metrics`] wrote (tests).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sum of metric `name` over the lines whose dimensions include every pair in `dims`.
    pub fn sum(&self, name: &str, dims: &[(&str, &str)]) -> f64 {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| dims.iter().all(|(k, want)| v[*k].as_str() == Some(want)))
            .filter_map(|v| v[name].as_f64())
            .sum()
    }
}

impl Metrics {
    /// Writes to stdout (Lambda's log stream, where CloudWatch extracts the metrics).
    pub fn stdout(service: &'static str) -> Self {
        Self {
            service,
            sink: Sink::Stdout,
        }
    }

    /// Collects the lines in memory instead.
    pub fn capture(service: &'static str) -> (Self, Captured) {
        let captured = Captured::default();
        (
            Self {
                service,
                sink: Sink::Capture(captured.0.clone()),
            },
            captured,
        )
    }

    /// One EMF line carrying `values` under one dimension set (`Service` plus `dims`).
    pub fn emit(&self, dims: &[(&str, &str)], values: &[(&str, f64, Unit)]) {
        let line = self.line(dims, values, time_ms());
        match &self.sink {
            // `println!` (not a raw stdout handle) so that `cargo test` captures it.
            Sink::Stdout => println!("{line}"),
            Sink::Capture(lines) => lines.lock().unwrap_or_else(|p| p.into_inner()).push(line),
        }
    }

    pub fn count(&self, name: &str, dims: &[(&str, &str)], value: u64) {
        self.emit(dims, &[(name, value as f64, Unit::Count)]);
    }

    /// For fulfillment: one delivery email sent.
    pub fn email_sent(&self) {
        self.count(EMAILS_SENT, &[], 1);
    }

    /// For fulfillment: one delivery email failed (`transient` or `rejected`).
    pub fn email_failed(&self, kind: &str) {
        self.count(EMAILS_FAILED, &[("Reason", kind)], 1);
    }

    /// The EMF JSON object, written straight from the borrowed names and values: this runs on
    /// every webhook delivery, and building a `serde_json::Value` tree for it cost about a tenth
    /// of the webhook's CPU per request (measured with `perf`; docs/performance.md).
    fn line(&self, dims: &[(&str, &str)], values: &[(&str, f64, Unit)], ts: u128) -> String {
        let line = EmfLine {
            service: self.service,
            dims,
            values,
            timestamp: ts as u64,
        };
        // Serializing borrowed strings and numbers into a String cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }
}

/// One EMF line: `_aws` metadata first, then the dimension values and the metric values.
struct EmfLine<'a> {
    service: &'a str,
    dims: &'a [(&'a str, &'a str)],
    values: &'a [(&'a str, f64, Unit)],
    timestamp: u64,
}

impl Serialize for EmfLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut root = serializer.serialize_map(Some(2 + self.dims.len() + self.values.len()))?;
        root.serialize_entry("_aws", &AwsMetadata(self))?;
        root.serialize_entry("Service", self.service)?;
        for (k, v) in self.dims {
            root.serialize_entry(k, v)?;
        }
        for (name, value, _) in self.values {
            root.serialize_entry(name, value)?;
        }
        root.end()
    }
}

struct AwsMetadata<'a>(&'a EmfLine<'a>);

impl Serialize for AwsMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let line = self.0;
        let mut aws = serializer.serialize_map(Some(2))?;
        aws.serialize_entry("Timestamp", &line.timestamp)?;
        aws.serialize_entry("CloudWatchMetrics", &[Directive(line)])?;
        aws.end()
    }
}

/// The one metric directive: namespace, one dimension set (`Service` plus the dims), the metrics.
struct Directive<'a>(&'a EmfLine<'a>);

impl Serialize for Directive<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let line = self.0;
        let names: Vec<&str> = std::iter::once("Service")
            .chain(line.dims.iter().map(|(k, _)| *k))
            .collect();
        let definitions: Vec<MetricDefinition> = line
            .values
            .iter()
            .map(|(name, _, unit)| MetricDefinition {
                name,
                unit: unit.as_str(),
            })
            .collect();
        let mut directive = serializer.serialize_map(Some(3))?;
        directive.serialize_entry("Namespace", NAMESPACE)?;
        directive.serialize_entry("Dimensions", &[names])?;
        directive.serialize_entry("Metrics", &definitions)?;
        directive.end()
    }
}

#[derive(serde::Serialize)]
struct MetricDefinition<'a> {
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "Unit")]
    unit: &'a str,
}

fn time_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_count_when_emitted_then_the_line_is_valid_emf() {
        // GIVEN a capturing emitter
        let (metrics, captured) = Metrics::capture("stripe-webhook");
        // WHEN one event outcome is counted
        metrics.count(
            WEBHOOK_EVENTS,
            &[("EventType", "charge.succeeded"), ("Outcome", "applied")],
            1,
        );
        // THEN the line names the namespace, the dimension set and the metric, with its value
        let lines = captured.lines();
        assert_eq!(lines.len(), 1);
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Leenkies");
        assert_eq!(
            cw["Dimensions"],
            json!([["Service", "EventType", "Outcome"]])
        );
        assert_eq!(
            cw["Metrics"],
            json!([{"Name": "WebhookEvents", "Unit": "Count"}])
        );
        assert!(v["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        assert_eq!(v["Service"], "stripe-webhook");
        assert_eq!(v["WebhookEvents"], 1.0);
        assert_eq!(captured.sum(WEBHOOK_EVENTS, &[("Outcome", "applied")]), 1.0);
    }

    #[test]
    fn given_fulfillment_helpers_when_called_then_emails_are_counted() {
        let (metrics, captured) = Metrics::capture("fulfillment");
        metrics.email_sent();
        metrics.email_failed("transient");
        assert_eq!(captured.sum(EMAILS_SENT, &[]), 1.0);
        assert_eq!(captured.sum(EMAILS_FAILED, &[("Reason", "transient")]), 1.0);
    }
}
