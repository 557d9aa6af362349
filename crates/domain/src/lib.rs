//! The Leenkies orders domain. Pure: no Lambda, HTTP or AWS SDK types.
//!
//! - [`stripe`]: the webhook signature policy and lenient, typed event parsing;
//! - [`order`]: the order as a fold of Stripe facts, and its derived view;
//! - [`apply`]: folding an event into the store with conditional writes;
//! - [`ingest`]: the ingestion use case (mode, type, facts, ids, fold) that the webhook, the
//!   backfill and the reconcile job share;
//! - [`fulfillment`]: when and how the delivery email goes out, exactly once;
//! - [`delivery`]: SES delivery facts by message id, and the seller's resend;
//! - [`tokens`]: signed download links;
//! - [`text`]: the one sanitiser of display text from outside (emails, CSV, the page);
//! - [`evidence`]: dispute evidence built from the order and filed to Stripe through a port;
//! - [`ports`]: what the domain needs from a store and a mailer;
//! - [`listing`]: one page of a seller's orders for the list filters (list, CSV, export jobs);
//! - [`export`]: export jobs of any size, written in parts by a worker off the stream;
//! - [`money`]: minor units to major units by Stripe's currency table;
//! - [`notify`]: the seller's notification emails (section 12), each sent once per occurrence;
//! - [`ops`]: what operating it needs: sellers seen, backfill progress, the webhook heartbeat;
//! - [`settings`]: each seller's settings (section 11), validated by one type;
//! - [`sweep`]: the scheduled sweep: work owed to sellers, found through an index of due times.

pub mod apply;
pub mod clock;
pub mod delivery;
pub mod evidence;
pub mod export;
pub mod fulfillment;
pub mod ingest;
pub mod listing;
pub mod memory_store;
pub mod money;
pub mod notify;
pub mod ops;
pub mod order;
pub mod ports;
pub mod rates;
pub mod settings;
pub mod store_identity;
pub mod stripe;
pub mod sweep;
pub mod text;
pub mod tokens;

pub use order::view::OrderView;
pub use order::{OrderRecord, PaymentStatus};
