//! Download tokens: which order, seller and product a link opens, signed with HMAC-SHA256.
//!
//! `base64url(json [version, seller, order, product]) "." base64url(mac)`. The MAC covers the
//! encoded claims, so altering any byte (another order, another seller) breaks it; it is checked
//! in constant time.
//!
//! Version `d1` signs only seller, order and product, so every email of one order would carry
//! the same link. A resend signs `d2`, `[version, seller, order, product, issue]`, where `issue`
//! names the email (contract section 10): each email's link differs, and every link already
//! emailed (`d1` or `d2`) keeps verifying, since nothing is stored per token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const VERSION: &str = "d1";
/// Tokens naming the email they were issued in.
const VERSION_ISSUED: &str = "d2";
/// Longest `issue` signed into a token.
pub const MAX_ISSUE_LEN: usize = 64;
/// Tokens longer than this are refused before any work.
pub const MAX_TOKEN_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadClaims {
    pub seller_id: String,
    pub order_id: String,
    pub product_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed download token")]
    Malformed,
    #[error("download token signature does not match")]
    BadSignature,
}

/// The key that signs download links (`DOWNLOAD_SIGNING_KEY`), and the previous keys that still
/// verify while a rotation is under way (links already emailed keep working; only the current
/// key signs).
#[derive(Clone)]
pub struct DownloadKey {
    current: Vec<u8>,
    previous: Vec<Vec<u8>>,
}

impl DownloadKey {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self {
            current: key.into(),
            previous: Vec::new(),
        }
    }

    /// The first key signs and verifies; the others (a rotation's `previous`) only verify.
    /// `None` when there is no key at all.
    pub fn rotating(keys: impl IntoIterator<Item = Vec<u8>>) -> Option<Self> {
        let mut keys = keys.into_iter();
        let current = keys.next()?;
        Some(Self {
            current,
            previous: keys.collect(),
        })
    }

    fn mac(&self) -> Hmac<Sha256> {
        mac_with(&self.current)
    }

    pub fn sign(&self, claims: &DownloadClaims) -> String {
        let body = serde_json::to_vec(&(
            VERSION,
            &claims.seller_id,
            &claims.order_id,
            &claims.product_id,
        ))
        .unwrap_or_default();
        self.sign_body(&body)
    }

    /// Signs a token that also names the email it goes out in (`issue`, at most
    /// [`MAX_ISSUE_LEN`] characters): different for every email of one order.
    pub fn sign_issued(&self, claims: &DownloadClaims, issue: &str) -> String {
        let issue: String = issue.chars().take(MAX_ISSUE_LEN).collect();
        let body = serde_json::to_vec(&(
            VERSION_ISSUED,
            &claims.seller_id,
            &claims.order_id,
            &claims.product_id,
            issue,
        ))
        .unwrap_or_default();
        self.sign_body(&body)
    }

    fn sign_body(&self, body: &[u8]) -> String {
        let encoded = URL_SAFE_NO_PAD.encode(body);
        let mut mac = self.mac();
        mac.update(encoded.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{encoded}.{sig}")
    }

    pub fn verify(&self, token: &str) -> Result<DownloadClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let (encoded, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| TokenError::Malformed)?;
        // Every key is tried (constant time each), so which one matched is not observable.
        let matched =
            std::iter::once(&self.current)
                .chain(&self.previous)
                .fold(false, |matched, key| {
                    let mut mac = mac_with(key);
                    mac.update(encoded.as_bytes());
                    mac.verify_slice(&sig).is_ok() | matched
                });
        if !matched {
            return Err(TokenError::BadSignature);
        }
        let body = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| TokenError::Malformed)?;
        let fields: Vec<String> =
            serde_json::from_slice(&body).map_err(|_| TokenError::Malformed)?;
        match fields.as_slice() {
            [version, seller_id, order_id, product_id] if version == VERSION => {
                Ok(DownloadClaims {
                    seller_id: seller_id.clone(),
                    order_id: order_id.clone(),
                    product_id: product_id.clone(),
                })
            }
            [version, seller_id, order_id, product_id, _issue] if version == VERSION_ISSUED => {
                Ok(DownloadClaims {
                    seller_id: seller_id.clone(),
                    order_id: order_id.clone(),
                    product_id: product_id.clone(),
                })
            }
            _ => Err(TokenError::Malformed),
        }
    }
}

fn mac_with(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length")
}

impl std::fmt::Debug for DownloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DownloadKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> DownloadClaims {
        DownloadClaims {
            seller_id: "acct_A".into(),
            order_id: "pi_1".into(),
            product_id: "prod_x".into(),
        }
    }

    #[test]
    fn given_a_signed_token_when_verified_then_its_claims() {
        let key = DownloadKey::new("k1");
        assert_eq!(key.verify(&key.sign(&claims())), Ok(claims()));
    }

    #[test]
    fn given_a_token_for_another_order_spliced_in_when_verified_then_bad_signature() {
        // GIVEN a valid token and the claims of another order signed by nobody
        let key = DownloadKey::new("k1");
        let token = key.sign(&claims());
        let (_, sig) = token.split_once('.').unwrap();
        let forged_body = URL_SAFE_NO_PAD.encode(br#"["d1","acct_A","pi_2","prod_x"]"#);
        // WHEN the signature is reused on the altered claims THEN it is refused
        assert_eq!(
            key.verify(&format!("{forged_body}.{sig}")),
            Err(TokenError::BadSignature)
        );
        // AND a token signed with another key is refused
        assert_eq!(
            key.verify(&DownloadKey::new("k2").sign(&claims())),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn given_a_rotation_when_an_old_link_is_verified_then_it_still_opens_and_new_links_use_the_new_key(
    ) {
        // GIVEN a link emailed before the rotation, and the rotated key set {new, old}
        let old_link = DownloadKey::new("old").sign(&claims());
        let rotated = DownloadKey::rotating([b"new".to_vec(), b"old".to_vec()]).expect("two keys");
        // THEN the old link still verifies, new links are signed with the new key only
        assert_eq!(rotated.verify(&old_link), Ok(claims()));
        let new_link = rotated.sign(&claims());
        assert_eq!(DownloadKey::new("new").verify(&new_link), Ok(claims()));
        assert!(DownloadKey::new("old").verify(&new_link).is_err());
        // AND once the old key is dropped, the old link is refused
        assert_eq!(
            DownloadKey::new("new").verify(&old_link),
            Err(TokenError::BadSignature)
        );
        assert!(DownloadKey::rotating(Vec::<Vec<u8>>::new()).is_none());
    }

    #[test]
    fn given_emails_of_one_order_when_their_links_are_signed_then_all_differ_and_all_open() {
        // GIVEN the first email's link and two resends' links
        let key = DownloadKey::new("k1");
        let first = key.sign(&claims());
        let r1 = key.sign_issued(&claims(), "a1b2");
        let r2 = key.sign_issued(&claims(), "c3d4");
        // THEN every link is different, and every one still opens the same order
        assert_ne!(first, r1);
        assert_ne!(r1, r2);
        for t in [&first, &r1, &r2] {
            assert_eq!(key.verify(t), Ok(claims()));
        }
        // AND a resend's link altered to another order is refused
        let (_, sig) = r1.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"["d2","acct_A","pi_2","prod_x","a1b2"]"#);
        assert_eq!(
            key.verify(&format!("{forged}.{sig}")),
            Err(TokenError::BadSignature)
        );
        // AND a well-signed body of an unknown shape is malformed
        let odd = key.sign_body(br#"["d2","acct_A","pi_1"]"#);
        assert_eq!(key.verify(&odd), Err(TokenError::Malformed));
    }

    #[test]
    fn given_garbage_when_verified_then_malformed() {
        let key = DownloadKey::new("k1");
        for t in ["", "abc", "a.b.c", "!!.??", &"a".repeat(5000)] {
            assert!(key.verify(t).is_err(), "{t}");
        }
    }
}
