//! Who is calling: the seller id comes only from verified JWT claims, never from another header,
//! the path or the query (contract section 5).
//!
//! - `LocalHs256` (one machine): verifies `Authorization: Bearer` HS256 tokens itself, as strictly
//!   as the HTTP API's JWT authorizer does in AWS. Only HS256 is accepted (so `alg: none` and
//!   algorithm confusion are refused); `exp` is required and checked, `nbf` and `iat` are checked
//!   when present (`iat` no later than now, within the leeway); a token may live at most
//!   [`MAX_TOKEN_LIFETIME_SECS`] (from its `iat`, else from now); `iss` and `aud` are required
//!   and checked when configured (`JWT_ISSUER`, `JWT_AUDIENCE`, as `JwtIssuer` and `JwtAudience`
//!   configure the authorizer).
//! - `LambdaAuthorizer` (AWS): API Gateway's JWT authorizer has already verified the token; the
//!   claims arrive in the HTTP API v2 request context that `lambda_http` puts in the request
//!   extensions. A request without that context is refused.
//!
//! [`Seller`] is the extractor every dashboard handler takes first.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use lambda_http::request::RequestContext;
use leenkies_domain::stripe::event::is_seller_id;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;
/// The longest a seller token may live: a week (`leenkies-local token --ttl` mints no longer).
/// A token that claims a year is a token someone forged or will paste somewhere.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 7 * 24 * 3600;

#[derive(Clone)]
pub enum Auth {
    /// Verify HS256 tokens with `secret`; the seller is the claim `seller_claim`; `iss` must be
    /// `issuer` and `aud` one of `audiences` when they are given.
    LocalHs256 {
        secret: String,
        seller_claim: String,
        issuer: Option<String>,
        audiences: Vec<String>,
    },
    /// Trust API Gateway's JWT authorizer; read the claims from the request context.
    LambdaAuthorizer { seller_claim: String },
}

impl std::fmt::Debug for Auth {
    // The HS256 secret must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::LocalHs256 {
                seller_claim,
                issuer,
                audiences,
                ..
            } => f
                .debug_struct("LocalHs256")
                .field("secret", &"<redacted>")
                .field("seller_claim", seller_claim)
                .field("issuer", issuer)
                .field("audiences", audiences)
                .finish(),
            Auth::LambdaAuthorizer { seller_claim, .. } => f
                .debug_struct("LambdaAuthorizer")
                .field("seller_claim", seller_claim)
                .finish(),
        }
    }
}

impl Auth {
    /// The verified claims of this request, or `Unauthorized`.
    pub fn claims(&self, parts: &Parts) -> Result<Map<String, Value>, ApiError> {
        match self {
            Auth::LocalHs256 {
                secret,
                issuer,
                audiences,
                ..
            } => verify_hs256(secret, issuer.as_deref(), audiences, parts),
            Auth::LambdaAuthorizer { .. } => authorizer_claims(parts),
        }
    }

    pub fn seller_claim(&self) -> &str {
        match self {
            Auth::LocalHs256 { seller_claim, .. } | Auth::LambdaAuthorizer { seller_claim, .. } => {
                seller_claim
            }
        }
    }

    /// The seller id of this request, from the verified claims only.
    pub fn seller(&self, parts: &Parts) -> Result<String, ApiError> {
        let claims = self.claims(parts)?;
        // Only a Stripe-shaped account id or `platform`: the claim becomes part of store keys, and
        // an identity provider may let a user shape it (`acct_A#PROVISIONAL` would otherwise name
        // another seller's partition).
        match claims.get(self.seller_claim()) {
            Some(Value::String(s)) if is_seller_id(s) => Ok(s.clone()),
            Some(_) => {
                tracing::info!(
                    claim = self.seller_claim(),
                    "token's seller claim is not a seller id"
                );
                Err(ApiError::Unauthorized)
            }
            None => {
                tracing::info!(claim = self.seller_claim(), "token lacks the seller claim");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn verify_hs256(
    secret: &str,
    issuer: Option<&str>,
    audiences: &[String],
    parts: &Parts,
) -> Result<Map<String, Value>, ApiError> {
    let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    let mut required = vec!["exp"];
    if let Some(issuer) = issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    if audiences.is_empty() {
        // Local dashboard tokens carry no audience unless one is configured.
        validation.validate_aud = false;
    } else {
        validation.set_audience(audiences);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    let key = DecodingKey::from_secret(secret.as_bytes());
    let claims = decode::<Map<String, Value>>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            // The kind (expired, bad signature…) helps whoever debugs; the token itself is not logged.
            tracing::info!(reason = ?e.kind(), "bearer token refused");
            ApiError::Unauthorized
        })?;
    check_times(&claims, leenkies_domain::clock::now_secs()).map_err(|reason| {
        tracing::info!(reason, "bearer token refused");
        ApiError::Unauthorized
    })?;
    Ok(claims)
}

/// `iat` not in the future (beyond the leeway), and a lifetime of at most
/// [`MAX_TOKEN_LIFETIME_SECS`] from `iat` (else from `now`) to `exp`. `exp` was checked already.
fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), &'static str> {
    let leeway = LEEWAY_SECS as i64;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("exp is not a whole number")?;
    let issued = match claims.get("iat") {
        None => now,
        Some(iat) => {
            let iat = iat.as_i64().ok_or("iat is not a whole number")?;
            if iat > now + leeway {
                return Err("iat in the future");
            }
            iat
        }
    };
    if exp.saturating_sub(issued) > MAX_TOKEN_LIFETIME_SECS as i64 + leeway {
        return Err("lifetime longer than allowed");
    }
    Ok(())
}

fn authorizer_claims(parts: &Parts) -> Result<Map<String, Value>, ApiError> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>() else {
        tracing::warn!("no API Gateway v2 request context: refusing");
        return Err(ApiError::Unauthorized);
    };
    let claims = ctx
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|jwt| &jwt.claims)
        .ok_or(ApiError::Unauthorized)?;
    Ok(claims
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect())
}

/// The authenticated seller of a dashboard request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller(pub String);

/// Any state that can lend its [`Auth`] (the API's state does): this module never names the
/// state type, so `state` depends on `auth` and not the other way round.
pub trait HasAuth {
    fn auth(&self) -> &Auth;
}

impl<S: HasAuth + Send + Sync> FromRequestParts<Arc<S>> for Seller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<S>,
    ) -> Result<Self, Self::Rejection> {
        state.auth().seller(parts).map(Seller)
    }
}

/// The claim that marks an operator: `name=value` (`role=operator` by default). A claim holding a
/// list (JSON array, or API Gateway's `[a b]` rendering of one) matches when it contains `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorClaim {
    pub name: String,
    pub value: String,
}

impl Default for OperatorClaim {
    fn default() -> Self {
        Self {
            name: "role".into(),
            value: "operator".into(),
        }
    }
}

impl OperatorClaim {
    /// Parses `name=value`; `None` for anything else.
    pub fn parse(spec: &str) -> Option<Self> {
        let (name, value) = spec.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        (!name.is_empty() && !value.is_empty()).then(|| Self {
            name: name.into(),
            value: value.into(),
        })
    }

    /// The claim from the `OPERATOR_CLAIM` setting (read by the caller's typed configuration),
    /// or the default when unset or not `name=value` (logged).
    pub fn from_setting(spec: Option<&str>) -> Self {
        match spec {
            Some(spec) if !spec.trim().is_empty() => Self::parse(spec).unwrap_or_else(|| {
                tracing::warn!(value = %spec, "OPERATOR_CLAIM is not name=value; using role=operator");
                Self::default()
            }),
            _ => Self::default(),
        }
    }

    pub fn matches(&self, claims: &Map<String, Value>) -> bool {
        match claims.get(&self.name) {
            Some(Value::String(s)) => {
                s == &self.value
                    || s.trim_matches(|c| c == '[' || c == ']')
                        .split([' ', ','])
                        .any(|part| part == self.value)
            }
            Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(&self.value)),
            Some(Value::Bool(true)) => self.value == "true",
            _ => false,
        }
    }
}
