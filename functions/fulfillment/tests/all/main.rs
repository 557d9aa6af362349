//! The fulfillment function's integration tests, as one test binary: every file here is a module of
//! it (one link of the dependency graph instead of one per file, the longest step of a test build).
//! `common` holds what they share. They set no process-global state (no global logger, no
//! environment variable).

mod common;

mod exactly_once;
mod failure_pattern;
mod failures;
mod no_email;
mod notify;
mod notify_dynamodb;
mod runtime_protocol;
