//! The fulfillment function: DynamoDB Streams records of the orders table in, at most one
//! delivery email per order out (contract section 7), and the seller's notifications, once per
//! occurrence (section 12).
//!
//! - [`config`]: what the function is told (base URL, signing key, attempts, lease);
//! - [`stream`]: a stream record decoded into the order's old and new images;
//! - [`deliver`]: one order: re-read, claim, send, record — the exactly-once part;
//! - [`notices`]: the seller's notifications of one order (section 12), each once: the same
//!   claim, send, record discipline;
//! - [`failure_pattern`]: after a newly failed payment, the seller's `failure_pattern` email at
//!   most once a day;
//! - [`handler`]: the batch plumbing and the partial-batch response;
//! - [`ses_events`]: the second handler (binary `ses-events`): SES events from EventBridge
//!   recorded on the order of their message (contract section 10).
//!
//! The decisions themselves are pure and live in `leenkies_domain::fulfillment`.

pub mod config;
pub mod deliver;
pub mod failure_pattern;
pub mod handler;
pub mod notices;
pub mod ses_events;
pub mod stream;

pub use config::FulfillmentConfig;
pub use deliver::Outcome;
pub use handler::Fulfiller;
