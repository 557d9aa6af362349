//! `leenkies-local`'s integration tests, as one test binary: every file here is a module of it (one
//! link of the dependency graph instead of one per file, the longest step of a test build). They
//! share no process-global state: `keys` runs the binary in processes of its own, with their own
//! environment.

mod keys;
mod slow_clients;
