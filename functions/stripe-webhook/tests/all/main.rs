//! The webhook's integration tests, as one test binary: every file here is a module of it (one
//! link of the dependency graph instead of five, the longest step of a test build).

mod contention;
mod hostile;
mod observability;
mod runtime_protocol;
mod webhook;
