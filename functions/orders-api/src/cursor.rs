//! Opaque list cursors: `base64url(json [version, seller, filters digest, created_at, order_id])`
//! `.` `base64url(HMAC-SHA256)`. The MAC (key `cursor_key`) makes them unforgeable; the seller and
//! the filters digest inside make one seller's cursor useless to another, and a cursor useless with
//! other filters. Any failure is the same `400 invalid_cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use leenkies_domain::ports::PagePosition;
use sha2::Sha256;

use crate::error::ApiError;

const VERSION: &str = "c1";
/// Cursors longer than this are refused before any work.
const MAX_CURSOR_LEN: usize = 1024;

fn mac(key: &[u8]) -> Result<Hmac<Sha256>, ApiError> {
    // HMAC accepts keys of any length, so this does not fail in practice; still no panic here.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| ApiError::Internal)
}

pub fn encode(
    key: &[u8],
    seller: &str,
    filters: &[u8; 32],
    position: &PagePosition,
) -> Result<String, ApiError> {
    let body = serde_json::json!([
        VERSION,
        seller,
        hex::encode(filters),
        position.created_at,
        position.order_id
    ]);
    let encoded = URL_SAFE_NO_PAD.encode(body.to_string());
    let mut m = mac(key)?;
    m.update(encoded.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    Ok(format!("{encoded}.{sig}"))
}

fn invalid() -> ApiError {
    ApiError::bad_request(
        "invalid_cursor",
        "cursor is not valid for this listing; start again without a cursor",
    )
}

/// The position a cursor resumes after, if it was issued by us, to this seller, for these filters.
pub fn decode(
    key: &[u8],
    seller: &str,
    filters: &[u8; 32],
    cursor: &str,
) -> Result<PagePosition, ApiError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let (encoded, sig) = cursor.split_once('.').ok_or_else(invalid)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| invalid())?;
    let mut m = mac(key)?;
    m.update(encoded.as_bytes());
    m.verify_slice(&sig).map_err(|_| invalid())?;
    let body = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| invalid())?;
    let (version, cursor_seller, digest, created_at, order_id): (
        String,
        String,
        String,
        i64,
        String,
    ) = serde_json::from_slice(&body).map_err(|_| invalid())?;
    if version != VERSION || cursor_seller != seller || digest != hex::encode(filters) {
        tracing::info!("cursor replayed by another seller or with other filters");
        return Err(invalid());
    }
    Ok(PagePosition {
        created_at,
        order_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> PagePosition {
        PagePosition {
            created_at: 1_778_227_200,
            order_id: "pi_1".into(),
        }
    }

    #[test]
    fn given_a_cursor_when_decoded_by_its_seller_with_its_filters_then_its_position() {
        let c = encode(b"k", "acct_A", &[1; 32], &position()).unwrap();
        assert_eq!(decode(b"k", "acct_A", &[1; 32], &c).unwrap(), position());
    }

    #[test]
    fn given_a_cursor_when_key_seller_or_filters_differ_then_refused() {
        let c = encode(b"k", "acct_A", &[1; 32], &position()).unwrap();
        assert!(decode(b"other", "acct_A", &[1; 32], &c).is_err());
        assert!(decode(b"k", "acct_B", &[1; 32], &c).is_err());
        assert!(decode(b"k", "acct_A", &[2; 32], &c).is_err());
        assert!(decode(b"k", "acct_A", &[1; 32], &"a".repeat(2000)).is_err());
    }
}
