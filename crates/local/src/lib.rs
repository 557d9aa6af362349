//! `leenkies-local` as a library: the same composition the binary runs, so integration tests
//! can start the whole system in-process and talk to it over real HTTP.

pub mod backfill_cmd;
pub mod cli;
pub mod demo;
pub mod exports;
pub mod http_server;
pub mod keys;
pub mod pump;
pub mod send_event;
pub mod serve;
pub mod ses_events;
pub mod settings;
pub mod token_cmd;
