//! Who is calling: the seller id comes only from verified JWT claims, never from another header,
//! the path or the query (contract section 5).
//!
//! - `LocalHs256` (one machine): verifies `Authorization: Bearer` HS256 tokens itself. Only HS256
//!   is accepted (so `alg: none` and algorithm confusion are refused), `exp` is required and
//!   checked, `nbf` is checked when present.
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
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The default claim naming the seller (`SELLER_ID_CLAIM` overrides it).
pub const DEFAULT_SELLER_CLAIM: &str = "sub";
/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;
/// Longest seller id we accept from a claim; Stripe account ids are far shorter.
const MAX_SELLER_ID_LEN: usize = 255;

#[derive(Clone)]
pub enum Auth {
    /// Verify HS256 tokens with `secret`; the seller is the claim `seller_claim`.
    LocalHs256 {
        secret: String,
        seller_claim: String,
    },
    /// Trust API Gateway's JWT authorizer; read the claims from the request context.
    LambdaAuthorizer { seller_claim: String },
}

impl std::fmt::Debug for Auth {
    // The HS256 secret must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::LocalHs256 { seller_claim, .. } => f
                .debug_struct("LocalHs256")
                .field("secret", &"<redacted>")
                .field("seller_claim", seller_claim)
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
            Auth::LocalHs256 { secret, .. } => verify_hs256(secret, parts),
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
        match claims.get(self.seller_claim()) {
            Some(Value::String(s))
                if !s.is_empty()
                    && s.len() <= MAX_SELLER_ID_LEN
                    && !s.chars().any(char::is_control) =>
            {
                Ok(s.clone())
            }
            _ => {
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

fn verify_hs256(secret: &str, parts: &Parts) -> Result<Map<String, Value>, ApiError> {
    let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    // Local dashboard tokens carry no audience; AWS checks `aud` in the authorizer.
    validation.validate_aud = false;
    let key = DecodingKey::from_secret(secret.as_bytes());
    decode::<Map<String, Value>>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            // The kind (expired, bad signature…) helps whoever debugs; the token itself is not logged.
            tracing::info!(reason = ?e.kind(), "bearer token refused");
            ApiError::Unauthorized
        })
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
