//! `leenkies-local token --seller acct_… [--ttl SECONDS]` (contract section 6): mints a seller
//! token for the local runner and prints it (line 1) with the dashboard's sign-in address
//! (line 2) on standard output; notices go to standard error. Local use only: no Lambda mints
//! tokens, and the token is never written to a log.

use jsonwebtoken::{encode, EncodingKey, Header};
use leenkies_domain::clock::now_secs;
use serde_json::{json, Map, Value};

use crate::cli::{ServerArgs, TokenArgs};
use crate::settings::{env_or, ResolvedKeys};

/// A week: longer-lived local tokens are a mistake waiting to be pasted somewhere (and the
/// runner refuses a token that lives longer).
pub const MAX_TTL_SECS: u64 = orders_api::auth::MAX_TOKEN_LIFETIME_SECS;

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
    // The runner refuses a token whose seller is of another shape: say so now, not at sign-in.
    if !leenkies_domain::stripe::event::is_seller_id(seller) {
        return Err(
            "--seller must be a Stripe account id such as acct_1QHx4R8cKdV3nWpT (acct_ and letters and digits), or platform"
                .into(),
        );
    }
    Ok(())
}

/// Claims the runner accepts for `seller`, valid for `ttl` seconds from now: the configured
/// seller claim, and `iss` / `aud` when the runner checks them.
pub fn runner_claims(seller: &str, ttl: u64) -> Map<String, Value> {
    let (seller_claim, _) = env_or("SELLER_ID_CLAIM", "sub");
    let mut claims = claims(seller, &seller_claim, now_secs(), ttl);
    // The runner checks `iss` and `aud` when they are configured: mint what it will accept.
    if let (iss, false) = env_or("JWT_ISSUER", "") {
        claims.insert("iss".into(), json!(iss));
    }
    if let Some(aud) = env_or("JWT_AUDIENCE", "")
        .0
        .split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
    {
        claims.insert("aud".into(), json!(aud));
    }
    claims
}

pub fn run(server: &ServerArgs, args: TokenArgs) -> Result<(), String> {
    check_seller(&args.seller)?;
    if args.ttl == 0 || args.ttl > MAX_TTL_SECS {
        return Err(format!("--ttl must be from 1 to {MAX_TTL_SECS} seconds"));
    }
    // The same key the runner verifies with: the variable, else the keys file.
    let keys = ResolvedKeys::resolve(server.keys_file.as_deref())?;
    if let Some(notice) = keys.notice() {
        eprintln!("{notice}");
    }
    let token = mint(&keys.jwt_secret, &runner_claims(&args.seller, args.ttl))?;
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
        assert!(check_seller("acct_A#PROVISIONAL").is_err());
        assert!(check_seller("user_1").is_err());
        assert!(check_seller("acct_1").is_ok());
        assert!(check_seller("platform").is_ok());
    }

    #[test]
    fn sign_in_address_puts_the_token_in_the_fragment() {
        assert_eq!(
            sign_in_address("127.0.0.1:3000", "a.b.c"),
            "http://127.0.0.1:3000/dashboard#token=a.b.c"
        );
    }
}
