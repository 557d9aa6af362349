//! `leenkies-local token --seller acct_… [--ttl SECONDS]` (contract section 6): mints a seller
//! token for the local runner and prints it (line 1) with the dashboard's sign-in address
//! (line 2) on standard output; notices go to standard error. Local use only: no Lambda mints
//! tokens, and the token is never written to a log.

use jsonwebtoken::{encode, EncodingKey, Header};
use leenkies_domain::clock::now_secs;
use serde_json::{json, Map, Value};

use crate::cli::{ServerArgs, TokenArgs};
use crate::settings::{env_or, DEV_JWT_SECRET};

/// One hour, as the contract says.
pub const DEFAULT_TTL_SECS: u64 = 3600;
/// A week: longer-lived local tokens are a mistake waiting to be pasted somewhere.
pub const MAX_TTL_SECS: u64 = 7 * 24 * 3600;

/// The token's claims: `sub` (and the configured seller claim, if another) = the seller.
pub fn claims(seller: &str, seller_claim: &str, now: i64, ttl: u64) -> Map<String, Value> {
    let exp = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(seller));
    claims.insert(seller_claim.into(), json!(seller));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(exp));
    claims
}

/// Signs HS256 with `secret`.
pub fn mint(secret: &str, claims: &Map<String, Value>) -> Result<String, String> {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot sign the token: {e}"))
}

/// `http://<addr>/dashboard#token=<token>`: the fragment never reaches a server log.
pub fn sign_in_address(addr: &str, token: &str) -> String {
    format!("http://{addr}/dashboard#token={token}")
}

fn check_seller(seller: &str) -> Result<(), String> {
    if seller.is_empty()
        || seller.len() > 255
        || seller.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(
            "--seller must be a Stripe account id such as acct_1QHx4R8cKdV3nWpT (or platform)"
                .into(),
        );
    }
    if seller != "platform" && !seller.starts_with("acct_") {
        eprintln!("note: {seller:?} does not look like a Stripe account id (acct_…); the token is made anyway");
    }
    Ok(())
}

pub fn run(server: &ServerArgs, args: TokenArgs) -> Result<(), String> {
    check_seller(&args.seller)?;
    if args.ttl == 0 || args.ttl > MAX_TTL_SECS {
        return Err(format!("--ttl must be from 1 to {MAX_TTL_SECS} seconds"));
    }
    let (secret, dev) = env_or("LEENKIES_JWT_SECRET", DEV_JWT_SECRET);
    if dev {
        eprintln!("LEENKIES_JWT_SECRET not set: signed with the dev key of leenkies-local");
    }
    let (seller_claim, _) = env_or("SELLER_ID_CLAIM", "sub");
    let token = mint(
        &secret,
        &claims(&args.seller, &seller_claim, now_secs(), args.ttl),
    )?;
    println!("{token}");
    println!("{}", sign_in_address(&server.addr, &token));
    eprintln!(
        "valid for {} s; open the second line in a browser",
        args.ttl
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};

    #[test]
    fn given_a_seller_when_minted_then_the_local_verifier_reads_sub_and_exp() {
        // GIVEN a token for acct_A valid for 60 s
        let now = now_secs();
        let token = mint("k", &claims("acct_A", "sub", now, 60)).unwrap();
        // WHEN verified as the runner verifies (HS256, exp required)
        let data = decode::<Map<String, Value>>(
            &token,
            &DecodingKey::from_secret(b"k"),
            &Validation::new(Algorithm::HS256),
        )
        .unwrap();
        // THEN sub is the seller and exp is now + ttl
        assert_eq!(data.claims["sub"], "acct_A");
        assert_eq!(data.claims["exp"], now + 60);
    }

    #[test]
    fn given_another_seller_claim_when_minted_then_both_claims_name_the_seller() {
        let c = claims("acct_A", "custom:seller_id", 0, 1);
        assert_eq!(c["custom:seller_id"], "acct_A");
        assert_eq!(c["sub"], "acct_A");
    }

    #[test]
    fn given_bad_sellers_when_checked_then_refused() {
        assert!(check_seller("").is_err());
        assert!(check_seller("acct 1").is_err());
        assert!(check_seller("acct_1\n").is_err());
        assert!(check_seller("acct_1").is_ok());
    }

    #[test]
    fn sign_in_address_puts_the_token_in_the_fragment() {
        assert_eq!(
            sign_in_address("127.0.0.1:3000", "a.b.c"),
            "http://127.0.0.1:3000/dashboard#token=a.b.c"
        );
    }
}
