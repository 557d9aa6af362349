//! The reconcile function's integration tests, as one test binary: every file here is a module of
//! it (one link of the dependency graph instead of one per file, the longest step of a test build).
//! `support` holds what they share; it captures logs per thread (`set_default`), never with a
//! global subscriber.

mod support;

mod backfill;
mod reconcile;
