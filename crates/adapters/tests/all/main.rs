//! The adapters' integration tests, as one test binary: every file here is a module of it (one
//! link of the dependency graph instead of one per file, the longest step of a test build). `support` comes first, so
//! its `both_stores!` macro is in scope in every module after it.

#[macro_use]
mod support;

mod capacity;
mod ce3_conformance;
mod ce3_scenarios;
mod config_reads;
mod conformance;
mod delivery;
mod efw;
mod export_conformance;
mod item_size;
mod notify_profiles;
mod ops_dynamodb;
mod seller_notices_conformance;
mod ses_moto;
mod ses_request;
mod settings_conformance;
mod setup;
mod stream;
mod stripe_disputes;
mod stripe_profiles;
mod sweep;
mod template;
