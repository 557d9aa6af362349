//! Fixture events signed as Stripe signs them.

use std::path::PathBuf;

/// The shared fixtures folder (`../shared/fixtures/stripe` beside the repository), or
/// `LEENKIES_SHARED`'s: the one lookup of `leenkies-fixtures`.
pub fn shared_fixtures() -> PathBuf {
    leenkies_fixtures::shared_stripe()
}

/// Our own fixtures (`tests/fixtures/stripe`).
pub fn own_fixtures() -> PathBuf {
    leenkies_fixtures::own_stripe()
}

/// A shared event file's bytes.
pub fn shared_event(name: &str) -> Vec<u8> {
    leenkies_fixtures::shared_event(name)
}

/// `Stripe-Signature` for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    leenkies_domain::stripe::signature::sign(secret, timestamp, body)
}
