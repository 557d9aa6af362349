//! `GET /health/webhooks`: when each mode last received a validly signed Stripe delivery, and
//! whether that is alarming now. For operators, not sellers: the same JWT as the dashboard, but it
//! must carry the operator claim (`OPERATOR_CLAIM`, default `role=operator`).
//!
//! ```json
//! {"live": {"last_event_at": "2026-05-08T08:00:00Z", "age_seconds": 42},
//!  "test": {"last_event_at": null, "age_seconds": null},
//!  "watched": "live", "stale": false}
//! ```
//!
//! `stale` follows [`StalePolicy`]: only during business hours, the watched mode's last event is
//! older than allowed. The scheduled reconcile job publishes the same judgement as a metric, which
//! `template.yaml` alarms on.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leenkies_domain::clock::rfc3339;
use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::{Mode, OpsStore};
use serde_json::json;

use crate::auth::Auth;
pub use crate::auth::OperatorClaim;
use crate::error::ApiError;
use crate::state::ApiState;
pub use crate::state::HealthConfig;

/// Whether a request comes from an operator: the token verified by the orders API's one
/// verification path ([`Auth`]: HS256 locally, API Gateway's authorizer in AWS), then the claim.
fn check_operator(auth: &Auth, claim: &OperatorClaim, parts: &Parts) -> Result<(), ApiError> {
    let claims = auth.claims(parts)?;
    if claim.matches(&claims) {
        Ok(())
    } else {
        tracing::info!(claim = %claim.name, "token lacks the operator claim");
        Err(ApiError::NotOperator)
    }
}

/// The route alone, with its own state and clock (tests of the route itself).
pub fn health_router_with_clock(
    ops: Arc<dyn OpsStore>,
    auth: Auth,
    claim: OperatorClaim,
    policy: StalePolicy,
    watched: Mode,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
) -> Router {
    let config = HealthConfig {
        ops,
        claim,
        policy,
        watched,
    };
    Router::new().route(
        "/health/webhooks",
        get(move |request: Request| async move { answer(&auth, &config, clock(), request).await }),
    )
}

/// `GET /health/webhooks`; `404` on a deployment that did not configure it.
#[utoipa::path(
    get,
    path = "/health/webhooks",
    tag = "operations",
    summary = "When each mode last received a validly signed Stripe delivery (operators only)",
    description = "Needs a JWT that carries the operator claim (`OPERATOR_CLAIM`, default `role=operator`). `stale` is true when the watched mode has been silent longer than allowed during business hours.",
    responses(
        (status = 200, description = "Last delivery per mode", content_type = "application/json", body = Object),
        (status = 401, description = "No or bad token", body = crate::error::ErrorBody),
        (status = 403, description = "The token lacks the operator claim", body = crate::error::ErrorBody),
        (status = 503, description = "The store did not answer", body = crate::error::ErrorBody),
    )
)]
pub async fn webhook_health(State(state): State<Arc<ApiState>>, request: Request) -> Response {
    match &state.health {
        Some(config) => answer(&state.auth, config, state.now(), request).await,
        // Authentication first, as on every route that needs a token.
        None => {
            let (parts, _) = request.into_parts();
            match state.auth.claims(&parts) {
                Ok(_) => ApiError::NotFound.into_response(),
                Err(denied) => denied.into_response(),
            }
        }
    }
}

async fn answer(auth: &Auth, state: &HealthConfig, now: i64, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(denied) = check_operator(auth, &state.claim, &parts) {
        return denied.into_response();
    }
    let last = match state.ops.last_events().await {
        Ok(last) => last,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let at = |mode: Mode| last.iter().find(|l| l.mode == mode).map(|l| l.at);
    let describe = |mode: Mode| match at(mode) {
        Some(t) => json!({"last_event_at": rfc3339(t), "age_seconds": (now - t).max(0)}),
        None => json!({"last_event_at": null, "age_seconds": null}),
    };
    let stale = state.policy.is_stale(at(state.watched), now);
    tracing::info!(
        route = "/health/webhooks",
        stale,
        watched = state.watched.as_str(),
        "operator health read"
    );
    Json(json!({
        "live": describe(Mode::Live),
        "test": describe(Mode::Test),
        "watched": state.watched.as_str(),
        "stale": stale,
    }))
    .into_response()
}
