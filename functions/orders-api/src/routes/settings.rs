//! `GET`/`PUT /settings` (contract section 11): the seller's settings, defaults filled in.
//!
//! Thin: the body is read as bytes and parsed here, so any body that is not a JSON object is
//! `400 invalid_settings`; the domain's one settings type validates every key (the message names
//! the field) before anything is saved.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use leenkies_domain::seller_settings::{
    settings_of, update_settings, SettingsStore, UpdateSettingsError,
};
use leenkies_domain::settings::SellerSettings;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

fn store(state: &ApiState) -> Result<&Arc<dyn SettingsStore>, ApiError> {
    state.settings.as_ref().ok_or(ApiError::NotConfigured {
        code: "settings_not_configured",
        message: "seller settings are not configured on this server".into(),
    })
}

#[utoipa::path(
    get,
    path = "/settings",
    tag = "settings",
    summary = "The seller's settings, defaults filled in",
    responses(
        (status = 200, description = "The settings in force", body = SellerSettings),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn get(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
) -> Result<Json<SellerSettings>, ApiError> {
    let store = store(&state)?;
    Ok(Json(settings_of(store.as_ref(), &seller).await?))
}

#[utoipa::path(
    put,
    path = "/settings",
    tag = "settings",
    summary = "Change the seller's settings (the whole object or any of its keys)",
    description = "Answers the settings now in force. An unknown key, a wrong type or a value out of range is `400 invalid_settings`, the message naming the field; nothing is saved then. A change is in force for the next sweep and the next event.",
    request_body(content = SellerSettings, content_type = "application/json", description = "Any of the keys"),
    responses(
        (status = 200, description = "The settings now in force", body = SellerSettings),
        (status = 400, description = "`invalid_settings`", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn put(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SellerSettings>, ApiError> {
    let invalid = |message: String| ApiError::bad_request("invalid_settings", message);
    let body = body.map_err(|_| invalid("the body must be a JSON object of settings".into()))?;
    let change: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| invalid("the body must be a JSON object of settings".into()))?;
    let store = store(&state)?;
    match update_settings(store.as_ref(), &seller, &change).await {
        Ok(settings) => {
            tracing::info!(route = "settings", seller_id = %seller, "settings saved");
            Ok(Json(settings))
        }
        Err(UpdateSettingsError::Invalid(e)) => Err(invalid(e.to_string())),
        Err(UpdateSettingsError::Store(e)) => Err(e.into()),
    }
}
