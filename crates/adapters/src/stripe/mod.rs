//! Stripe's API as the orders API and the delivery email need it: filing dispute evidence on the
//! seller's account (contract section 9), and the seller's store name and support address
//! (contract section 10).
//!
//! - [`config`]: the key and hosts, read once from the environment or Secrets Manager;
//! - [`disputes`]: the [`DisputeFiler`](leenkies_domain::evidence::filing::DisputeFiler) adapter:
//!   the receipt uploaded to Stripe's Files API (reqwest multipart), then the dispute updated
//!   with async-stripe, both as the seller, idempotent and retried;
//! - [`refunds`]: the [`Refunder`](leenkies_domain::ports::Refunder) adapter on the same client:
//!   a charge refunded in full, as the seller, idempotent and retried;
//! - [`receipt_pdf`]: the order confirmation rendered as a small, deterministic PDF;
//! - [`profiles`]: the [`StoreProfiles`](leenkies_domain::ports::StoreProfiles) adapter: the
//!   connected account's `business_profile`, read as that account and cached.

pub mod config;
pub mod disputes;
pub mod profiles;
pub mod receipt_pdf;
pub mod refunds;

pub use disputes::{StripeConfig, StripeDisputes, StripeRetry};
pub use profiles::{ProfileSettings, StripeProfiles};
