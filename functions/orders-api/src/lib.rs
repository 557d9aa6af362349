//! The orders API: the seller dashboard's routes (`/orders…`, `/stats/…`, `/openapi.json`),
//! the dashboard page itself (`/dashboard…`), and the customers' download links (`/downloads/{token}`), as one axum router.
//!
//! In AWS `main` serves it with `lambda_http`; on one machine `leenkies-local` mounts the same
//! router (serve it with `into_make_service_with_connect_info::<SocketAddr>()` so download logs
//! carry the client IP).

pub mod auth;
pub mod config;
pub mod cursor;
pub mod dashboard;
pub mod error;
pub mod filters;
pub mod health;
pub mod listing;
pub mod routes;
pub mod state;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

pub use auth::{Auth, Seller};
pub use error::ApiError;
pub use health::{health_router, OperatorClaim};
pub use state::{ApiState, Clock, ProductFiles};

/// Every route of the contract's section 5 and the download link, with the state applied.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/orders", get(routes::orders::list))
        // A static segment wins over `{order_id}` in axum's matcher, so the export is reachable.
        .route("/orders/export.csv", get(routes::export::export))
        // Export jobs (issue 17 item 4): static segments, matched before `{order_id}`.
        .route("/orders/exports", post(routes::exports::create))
        .route("/orders/exports/{id}", get(routes::exports::get))
        .route("/orders/{order_id}", get(routes::orders::get))
        .route(
            "/orders/{order_id}/evidence",
            get(routes::evidence::evidence),
        )
        .route(
            "/orders/{order_id}/disputes/{dispute_id}/evidence",
            post(routes::dispute_evidence::file).get(routes::dispute_evidence::preview),
        )
        .route(
            "/orders/{order_id}/disputes/{dispute_id}/accept",
            post(routes::dispute_evidence::accept),
        )
        .route(
            "/settings",
            get(routes::settings::get).put(routes::settings::put),
        )
        .route("/orders/{order_id}/resend", post(routes::resend::resend))
        .route("/stats/failures", get(routes::stats::failures))
        .route("/stats/disputes", get(routes::stats::disputes))
        // The seller dashboard (contract section 8): the page, its assets and config.json.
        .merge(dashboard::routes())
        .route("/openapi.json", get(routes::openapi::openapi_json))
        .route("/downloads/{token}", get(routes::downloads::download))
        // Operator routes (e.g. `GET /health/webhooks`, checked against the operator claim of
        // `Auth`) are added here by the team that owns them.
        .fallback(routes::fallback::not_found)
        .method_not_allowed_fallback(routes::fallback::method_not_allowed)
        .with_state(Arc::new(state))
}
