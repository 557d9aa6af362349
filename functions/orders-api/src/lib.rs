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

use axum::Router;

pub use auth::{Auth, Seller};
pub use error::ApiError;
pub use health::{HealthConfig, OperatorClaim};
pub use state::{ApiState, Clock, ProductFiles};

/// The orders API as one router: every route of [`routes::table`], with the state applied. The
/// Lambda, `leenkies-local` and the tests all build it here.
pub fn router(state: ApiState) -> Router {
    routes::table()
        .into_iter()
        .fold(Router::new(), |router, route| {
            let (path, handler) = route.into_parts();
            router.route(&path, handler)
        })
        .fallback(routes::fallback::not_found)
        .method_not_allowed_fallback(routes::fallback::method_not_allowed)
        .with_state(Arc::new(state))
}
