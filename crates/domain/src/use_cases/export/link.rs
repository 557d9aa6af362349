//! The local runner's download link of a finished export: `/local/exports/<seller>/<id>.csv?
//! expires=<unix s>&sig=<hex>`, an HMAC-SHA256 over seller, id and expiry, so a link cannot be
//! altered to reach another seller's file nor used after it expires. (In AWS the link is a
//! presigned S3 GET instead.)

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

fn mac(key: &[u8], seller_id: &str, id: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => unreachable_mac(),
    };
    // Length-prefixed fields: no two (seller, id) pairs sign the same bytes.
    for part in [seller_id, id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&expires.to_be_bytes());
    mac
}

#[cold]
fn unreachable_mac() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(b"k").unwrap_or_else(|_| unreachable!())
}

/// The link's signature (lowercase hex).
pub fn sign(key: &[u8], seller_id: &str, id: &str, expires: i64) -> String {
    hex::encode(mac(key, seller_id, id, expires).finalize().into_bytes())
}

/// Whether `sig` signs (seller, id, expires) and `now` is not past `expires` (constant time).
pub fn verify(key: &[u8], seller_id: &str, id: &str, expires: i64, sig: &str, now: i64) -> bool {
    let Ok(sig) = hex::decode(sig) else {
        return false;
    };
    let valid = mac(key, seller_id, id, expires).verify_slice(&sig).is_ok();
    valid && now <= expires
}

/// The path and query of the link (the caller puts its base URL in front).
pub fn path(key: &[u8], seller_id: &str, id: &str, expires: i64) -> String {
    format!(
        "/local/exports/{seller_id}/{id}.csv?expires={expires}&sig={}",
        sign(key, seller_id, id, expires)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_signed_link_when_checked_then_only_the_same_job_before_expiry_passes() {
        // GIVEN a link to job j1 of seller A, expiring at 1000
        let sig = sign(b"key", "acct_A", "j1", 1000);
        // THEN it passes for that job until it expires
        assert!(verify(b"key", "acct_A", "j1", 1000, &sig, 1000));
        assert!(!verify(b"key", "acct_A", "j1", 1000, &sig, 1001), "expired");
        // AND not for another seller, job, expiry or key, nor garbage
        assert!(!verify(b"key", "acct_B", "j1", 1000, &sig, 0));
        assert!(!verify(b"key", "acct_A", "j2", 1000, &sig, 0));
        assert!(!verify(b"key", "acct_A", "j1", 9999, &sig, 0));
        assert!(!verify(b"other", "acct_A", "j1", 1000, &sig, 0));
        assert!(!verify(b"key", "acct_A", "j1", 1000, "zz", 0));
    }
}
