//! `GET /orders` (a filtered, cursor-paged list) and `GET /orders/{order_id}` (one order).

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use leenkies_domain::{OrderRecord, OrderView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::cursor;
use crate::error::{ApiError, ErrorBody};
use crate::filters::{parse_limit, Filters, Params};
use crate::listing;
use crate::state::ApiState;

/// Longest order id accepted; Stripe ids are far shorter.
const MAX_ORDER_ID_LEN: usize = 255;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    /// Newest first.
    pub orders: Vec<OrderView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The `{order_id}` path segment, checked to be a plausible id. Anything else is answered `404`,
/// exactly like a missing order, so the shape check reveals nothing either.
#[derive(Debug, Clone)]
pub struct OrderId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for OrderId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::NotFound)?;
        let valid = !id.is_empty()
            && id.len() <= MAX_ORDER_ID_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(OrderId(id))
        } else {
            Err(ApiError::NotFound)
        }
    }
}

/// Reads one order of this seller; another seller's order is `NotFound` like a missing one.
pub async fn load_order(
    state: &ApiState,
    seller: &str,
    order_id: &str,
) -> Result<OrderRecord, ApiError> {
    // The store is keyed by seller: another seller's order is simply not there.
    state
        .store
        .get_order(seller, order_id)
        .await?
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    summary = "List the seller's orders, newest first",
    description = "Filters combine. With both `email` and `status`, the store is searched by email and the status is applied on those results; a page may then hold fewer than `limit` orders while `next_cursor` is still set. A cursor is valid only for the seller and the filters that produced it.",
    params(
        ("status" = Option<crate::filters::StatusQuery>, Query, description = "A payment_status (`pending`, `succeeded`, `failed`, `canceled`, `partially_refunded`, `refunded`) or `disputed` (at least one dispute)"),
        ("email" = Option<String>, Query, min_length = 2, max_length = 254, description = "Customer email, case-insensitive: exact match or prefix, at least 2 characters (one: `400 prefix_too_short`; a prefix shared by more than 2,000 addresses: `400 prefix_too_broad`)"),
        ("from" = Option<String>, Query, format = DateTime, description = "RFC 3339, inclusive lower bound on created_at"),
        ("to" = Option<String>, Query, format = DateTime, description = "RFC 3339, inclusive upper bound on created_at"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size, default 25"),
        ("cursor" = Option<String>, Query, max_length = 1024, description = "Opaque `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of orders", body = OrderList),
        (status = 400, description = "A bad query value (invalid_status, invalid_email, prefix_too_short, prefix_too_broad, invalid_timestamp, invalid_range, invalid_limit, invalid_cursor)", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn list(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Json<OrderList>, ApiError> {
    let filters = Filters::parse(&params)?;
    let limit = parse_limit(&params)?;
    let digest = filters.digest();
    let after = params
        .get("cursor")
        .map(|c| cursor::decode(&state.cursor_key, &seller, &digest, c))
        .transpose()?;
    let page = listing::page(state.store.as_ref(), &seller, &filters, limit, after).await?;
    let next_cursor = page
        .next
        .map(|position| cursor::encode(&state.cursor_key, &seller, &digest, &position))
        .transpose()?;
    let mut orders = Vec::with_capacity(page.orders.len());
    for record in &page.orders {
        orders.push(leenkies_domain::listing::order_view(state.store.as_ref(), record).await?);
    }
    Ok(Json(OrderList {
        orders,
        next_cursor,
    }))
}

#[utoipa::path(
    get,
    path = "/orders/{order_id}",
    tag = "orders",
    summary = "One order",
    params(("order_id" = String, Path, description = "The order id: the Stripe PaymentIntent id (`pi_…`), or the Checkout Session id (`cs_…`) of an order that needed no payment")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order for this seller (missing and another seller's look the same)", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn get(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    OrderId(order_id): OrderId,
) -> Result<Json<OrderView>, ApiError> {
    let record = load_order(&state, &seller, &order_id).await?;
    Ok(Json(
        leenkies_domain::listing::order_view(state.store.as_ref(), &record).await?,
    ))
}
