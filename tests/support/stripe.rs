//! Fixture events signed as Stripe signs them.

use std::path::PathBuf;

/// The shared fixtures folder (`../shared/fixtures/stripe` beside the repository), or
/// `LEENKIES_SHARED`'s.
pub fn shared_fixtures() -> PathBuf {
    std::env::var("LEENKIES_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("fixtures/stripe")
}

/// Our own fixtures (`tests/fixtures/stripe`).
pub fn own_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/stripe")
}

/// A shared event file's bytes.
pub fn shared_event(name: &str) -> Vec<u8> {
    let path = shared_fixtures().join("events").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `Stripe-Signature` for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    leenkies_domain::stripe::signature::sign(secret, timestamp, body)
}
