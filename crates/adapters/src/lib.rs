//! Adapters at the edge, each next to its own conversions:
//!
//! - [`config`]: the environment, read the same way by every binary;
//! - [`dynamodb`]: the orders table (definition, item shapes, the `OrderStore` adapter, the
//!   operations items, local setup, the stream reader);
//! - [`exports`]: where export jobs write their CSV (S3 multipart upload, a local folder);
//! - [`metrics`]: CloudWatch Embedded Metric Format lines;
//! - [`mail`]: the SES v2 mailer and the outbox-folder mailer;
//! - [`secrets`]: secrets read once at start-up;
//! - [`stripe`]: dispute evidence filed on the seller's Stripe account, and its receipt PDF;
//! - [`telemetry`]: JSON logs.
//!
//! The embedded store lives beside its port in `leenkies-domain` (`memory_store`): it has no
//! AWS types.

pub mod config;
pub mod dynamodb;
pub mod exports;
pub mod mail;
pub mod metrics;
pub mod secrets;
pub mod stripe;
pub mod telemetry;

pub use dynamodb::{DynamoStore, StreamReader};
