//! Stripe's API as the orders API needs it: filing dispute evidence on the seller's account
//! (contract section 9).
//!
//! - [`disputes`]: the [`DisputeFiler`](leenkies_domain::evidence::filing::DisputeFiler) adapter:
//!   the receipt uploaded to Stripe's Files API (reqwest multipart), then the dispute updated
//!   with async-stripe, both as the seller, idempotent and retried;
//! - [`receipt_pdf`]: the order confirmation rendered as a small, deterministic PDF.

pub mod disputes;
pub mod receipt_pdf;

pub use disputes::{StripeConfig, StripeDisputes, StripeRetry};
