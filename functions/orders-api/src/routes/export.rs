//! `GET /orders/export.csv`: every order matching the `/orders` filters, as CSV, streamed page by
//! page so memory stays flat whatever the number of orders.
//!
//! Cells are quoted by the `csv` crate; a cell that a spreadsheet would run as a formula (starting
//! with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`, since customer emails and product names
//! come from outside.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{stream, StreamExt};
use leenkies_domain::ports::PagePosition;
use leenkies_domain::{OrderRecord, OrderView};

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::filters::{Filters, Params};
use crate::listing;
use crate::state::ApiState;

/// Orders per store page while exporting.
const EXPORT_PAGE: usize = 100;

pub const HEADER: [&str; 14] = [
    "order_id",
    "reference",
    "created_at",
    "customer_email",
    "product_id",
    "product_name",
    "amount",
    "currency",
    "payment_status",
    "refunded_amount",
    "failure_category",
    "failure_code",
    "dispute_status",
    "fulfillment_status",
];

/// Neutralises spreadsheet formula injection: a cell starting with one of OWASP's "CSV Injection"
/// characters (`=`, `+`, `-`, `@`, tab 0x09, carriage return 0x0D) gets a leading `'`, which
/// Excel, LibreOffice and Google Sheets show as text. Every other first character is safe: a
/// spreadsheet starts a formula only at one of those; separators, quotes and line feeds inside a
/// cell cannot open a new cell because the `csv` crate quotes such cells (RFC 4180); and the
/// characters that come after the first one are never evaluated on their own.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn row(record: &OrderRecord) -> [String; 14] {
    let v = OrderView::of(record);
    let opt = |o: Option<String>| o.unwrap_or_default();
    [
        v.order_id,
        opt(v.reference),
        v.created_at,
        opt(v.customer_email),
        opt(v.product_id),
        opt(v.product_name),
        v.amount.map(|a| a.to_string()).unwrap_or_default(),
        opt(v.currency),
        v.payment_status.as_str().to_owned(),
        v.refunded_amount.to_string(),
        opt(v.failure.as_ref().map(|f| f.category.clone())),
        opt(v.failure.and_then(|f| f.code)),
        opt(v.dispute.map(|d| d.status)),
        v.fulfillment.status,
    ]
}

/// Renders rows (and the header first when asked) as CSV bytes.
fn render(header: bool, records: &[OrderRecord]) -> Result<Bytes, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if header {
        w.write_record(HEADER)?;
    }
    for record in records {
        w.write_record(row(record).iter().map(|c| neutralise(c)))?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| csv::Error::from(e.into_error()))
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
    description = "Same filters as `/orders` (no `limit` or `cursor`: every matching order). Columns: order_id, reference, created_at, customer_email, product_id, product_name, amount, currency, payment_status, refunded_amount, failure_category, failure_code, dispute_status, fulfillment_status. Cells that a spreadsheet would evaluate as a formula are prefixed with `'`.",
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

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn given_formula_like_cells_when_neutralised_then_prefixed_and_others_untouched() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\t=1+1", "'\t=1+1"),
            ("\r\n=1+1", "'\r\n=1+1"),
            ("\n=1+1", "\n=1+1"),
            ("a=b", "a=b"),
            ("", ""),
            ("jordan@example.com", "jordan@example.com"),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }
}
