//! The orders API's integration tests, as one test binary: every file here is a module of it.
//!
//! One binary instead of fourteen: each binary links the whole dependency graph again (about
//! 5-6 s of a 2-core machine per binary), so the test build is that much shorter.
//! The modules share nothing global (no logger, no environment variable), so running their
//! tests in one process changes nothing.

mod common;

mod auth;
mod dashboard;
mod deployed;
mod dispute_evidence;
mod downloads;
mod errors;
mod export_csv;
mod health;
mod hostile;
mod openapi;
mod order_evidence;
mod orders_list;
mod resend;
mod runtime_protocol;
mod settings;
mod stats;
