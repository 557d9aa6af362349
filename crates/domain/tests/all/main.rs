//! The domain's integration tests, as one test binary: every file here is a module of it (one link
//! of the dependency graph instead of one per file, the longest step of a test build). They share
//! no process-global state (no logger, no environment variable).

mod fuzz;
mod scenarios;
mod ses_events;
mod signature_cases;
