//! Recovery and operability: the `reconcile` Lambda and `leenkies-local backfill`.
//!
//! - [`stripe_api`]: Stripe's Events, Disputes, Refunds and PaymentIntents through `async-stripe`,
//!   with back-off on 429 and 5xx and one log line per call;
//! - [`backfill`]: each account's events since a time, oldest first, folded through the webhook's
//!   code path, with stored per-account progress;
//! - [`reconcile`]: re-reads open disputes, pending refunds and long-processing payments;
//! - [`job`]: one scheduled or operator-invoked run of all of it, plus the heartbeat metric;
//! - [`config`], [`lambda`]: the environment and the Lambda adapter.

pub mod backfill;
pub mod config;
pub mod job;
pub mod lambda;
pub mod reconcile;
pub mod stripe_api;
