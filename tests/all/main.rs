//! The whole system's tests over HTTP, as one test binary: every file here is a module of it (one
//! link of the dependency graph instead of one per file, the longest step of a test build).
//! `system` starts the whole system in this process for a test.
//!
//! `hostile_system` stays a binary of its own: it installs a global log subscriber to capture every
//! function's logs, which in a shared process would also capture (and slow) every other test.

mod system;

mod dispute_evidence;
mod exports_over_http;
mod outage;
mod scenarios_over_http;
mod seller_notifications_over_http;
mod ses_events_over_http;
mod store_identity;
mod storm;
