//! `GET /orders/export.csv`: every order matching the `/orders` filters, as CSV, streamed page by
//! page so memory stays flat whatever the number of orders.
//!
//! The rows and their formula neutralising are the domain's (`leenkies_domain::export::csv`),
//! shared with the export jobs (`POST /orders/exports`) for what does not fit one response.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{stream, StreamExt};
use leenkies_domain::ports::PagePosition;
use leenkies_domain::OrderRecord;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::filters::{Filters, Params};
use crate::listing;
use crate::state::ApiState;

use leenkies_domain::export::csv;
use leenkies_domain::export::EXPORT_PAGE;

/// Renders rows (and the header first when asked) with the domain's CSV (shared with the export
/// jobs, so both give the same bytes).
fn render(header: bool, records: &[OrderRecord]) -> Result<Bytes, ::csv::Error> {
    csv::render(header, records).map(Bytes::from)
}

/// Where the stream stands between chunks.
struct Cursor {
    state: Arc<ApiState>,
    seller: String,
    filters: Filters,
    /// `None` once the last page was sent.
    next: Option<PagePosition>,
}

#[utoipa::path(
    get,
    path = "/orders/export.csv",
    tag = "orders",
    summary = "Export every matching order as CSV",
    description = "Same filters as `/orders` (no `limit` or `cursor`: every matching order). Columns: order_id, reference, created_at, customer_email, product_id, product_name, amount, currency, payment_status, refunded_amount, failure_category, failure_code, dispute_status, fulfillment_status, amount_decimal and refunded_decimal (the amounts in the major unit by Stripe's decimals: `25.00`, `1000`, `1.500`), customer_name (the charge's billing name, empty when unknown). Export jobs write the same bytes. Cells that a spreadsheet would evaluate as a formula are prefixed with `'`.",
    params(
        ("status" = Option<crate::filters::StatusQuery>, Query, description = "A payment_status or `disputed`"),
        ("email" = Option<String>, Query, min_length = 2, max_length = 254, description = "Customer email, case-insensitive: exact match or prefix, at least 2 characters (`400 prefix_too_short`, `400 prefix_too_broad` as for `/orders`)"),
        ("from" = Option<String>, Query, format = DateTime, description = "RFC 3339, inclusive"),
        ("to" = Option<String>, Query, format = DateTime, description = "RFC 3339, inclusive"),
    ),
    responses(
        (status = 200, description = "CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, description = "A bad query value", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn export(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Response, ApiError> {
    let filters = Filters::parse(&params)?;
    // The first page is read before answering, so an unavailable store is a clean 503 rather
    // than a 200 with a truncated body.
    let first = listing::page(state.store.as_ref(), &seller, &filters, EXPORT_PAGE, None).await?;
    let head = render(true, &first.orders).map_err(|e| {
        tracing::error!(error = %e, "csv rendering failed");
        ApiError::Internal
    })?;
    let rest = stream::unfold(
        Cursor {
            state,
            seller,
            filters,
            next: first.next,
        },
        |mut c| async move {
            let after = c.next.take()?;
            let page = listing::page(
                c.state.store.as_ref(),
                &c.seller,
                &c.filters,
                EXPORT_PAGE,
                Some(after),
            )
            .await;
            let chunk = match page {
                Ok(page) => {
                    c.next = page.next;
                    render(false, &page.orders).map_err(std::io::Error::other)
                }
                Err(e) => {
                    // Headers are gone already: aborting the body is the only honest signal.
                    tracing::warn!(error = %e, "export aborted mid-stream");
                    Err(std::io::Error::other("export aborted"))
                }
            };
            Some((chunk, c))
        },
    );
    let body = Body::from_stream(stream::iter([Ok::<_, std::io::Error>(head)]).chain(rest));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"orders.csv\""),
    );
    Ok(response)
}
