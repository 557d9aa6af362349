//! `stripe-webhook`: what Stripe calls for every payment, refund and dispute of every seller.
//!
//! One request walks named steps ([`handler`]): read the body within its limit, verify the
//! source (signature over the raw bytes), parse the envelope, check the mode, interpret the event
//! into facts, fold the facts into the order. Each step's failure maps to one answer
//! ([`response`]): `400` for anything the sender got wrong, `413` for an oversized body, `5xx`
//! only when a dependency failed so that Stripe retries, `200` otherwise. Every delivery also
//! leaves one JSON log line and one EMF metric line, and (debounced) the seller and the mode's
//! "last event received" for operators (read by the orders API's `GET /health/webhooks`).
//!
//! What an event *means* (mode, type, facts, fold) is the domain's ingestion use case
//! (`leenkies_domain::ingest`), shared with the backfill and the reconcile job; this crate is the
//! HTTP transport around it.

pub mod config;
pub mod handler;
pub mod response;

pub use config::{LiveMode, WebhookConfig};
pub use handler::{router, WebhookState};
pub use response::{Ack, WebhookError};
