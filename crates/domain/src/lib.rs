//! The Leenkies orders domain. Pure: no Lambda, HTTP or AWS SDK types.
//!
//! The crate's folders are its layers (`infra/check_cycles.py` holds them in CI):
//!
//! - [`model`]: what the business is made of, naming nothing else of ours: the order as a fold
//!   of Stripe facts and its derived view ([`order`]), Stripe's events as typed values
//!   ([`stripe`]), money, text, time, download tokens, dispute-rate counts, the seller's
//!   settings and store identity;
//! - [`ports`]: what the use cases need from the world (the order store, the mailer, the store
//!   profiles, the refunder), naming only the model;
//! - [`use_cases`]: what the functions do, naming both: ingesting an event ([`ingest`], folding
//!   it with conditional writes in [`apply`]), [`fulfillment`] and [`delivery`], dispute
//!   [`evidence`], [`export`] and [`listing`], the seller's settings ([`seller_settings`]), the
//!   scheduled [`sweep`], the seller's notification emails ([`notify`]), and [`ops`]. A use case keeps the port only it calls beside it;
//! - [`memory_store`]: the embedded store, implementing every port, for tests and the local
//!   runner.
//!
//! Each model and use-case module is also re-exported at the crate's root, so callers write
//! `leenkies_domain::order::…`, `leenkies_domain::ingest::…`.

pub mod memory_store;
pub mod model;
pub mod ports;
pub mod use_cases;

pub use model::{clock, money, order, rates, settings, store_identity, stripe, text, tokens};
pub use use_cases::{
    apply, delivery, evidence, export, fulfillment, ingest, listing, notify, ops, seller_settings,
    sweep,
};

pub use order::view::OrderView;
pub use order::{OrderRecord, PaymentStatus};
