//! Export jobs: `POST /orders/exports` queues a CSV export of every order
//! matching the `/orders` filters, of any size, and `GET /orders/exports/{id}` tells where it
//! stands and, once `succeeded`, gives a short-lived download link.
//!
//! The filters come from the query string or a JSON body (`{"status", "email", "from", "to"}`,
//! strings), validated exactly as `/orders` does: a bad one is the same `400` and stores nothing.
//! The work itself runs outside the request (`leenkies_domain::export`, the `exports` function
//! in AWS, the change pump locally). Another seller's job answers `404` like an unknown one.

pub use crate::state::{ExportLinks, ExportsConfig};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use leenkies_domain::clock::rfc3339;
use leenkies_domain::export::{self, link, ExportJob, JobStatus, Start};
use leenkies_http::Problem;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::filters::{Filters, Params};
use crate::state::ApiState;

/// The names of the filters a body may carry (the same as the query's).
const FILTER_NAMES: [&str; 4] = ["status", "email", "from", "to"];
/// Longest job id accepted in a path; generated ids are 32 hex digits.
const MAX_JOB_ID_LEN: usize = 64;

/// The filters of a job, as given (normalised).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportFiltersView {
    /// A payment_status or `disputed`.
    pub status: Option<String>,
    /// Lower-cased email or prefix.
    pub email: Option<String>,
    /// Inclusive lower bound on `created_at` (RFC 3339, whole seconds).
    pub from: Option<String>,
    /// Inclusive upper bound on `created_at` (RFC 3339, whole seconds).
    pub to: Option<String>,
}

/// An export job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportJobView {
    pub id: String,
    /// `queued` | `running` | `succeeded` | `failed`.
    #[schema(example = "queued")]
    pub status: String,
    pub created_at: String,
    pub filters: ExportFiltersView,
    /// Orders written so far (rows after the header).
    pub rows: u64,
    /// Bytes written so far, header included.
    pub bytes: u64,
    /// Parts uploaded so far.
    pub parts: u32,
    /// When `succeeded`: a short-lived link to `orders.csv`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// When the link stops working (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When `failed`: why, and what the seller can do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

fn view(job: &ExportJob) -> ExportJobView {
    let f = &job.filters;
    ExportJobView {
        id: job.id.clone(),
        status: job.status.as_str().to_owned(),
        created_at: rfc3339(job.created_at),
        filters: ExportFiltersView {
            status: f.status.map(|s| s.as_str().to_owned()),
            email: f.email.clone(),
            from: f.from.map(rfc3339),
            to: f.to.map(rfc3339),
        },
        rows: job.rows,
        bytes: job.bytes,
        parts: job.parts(),
        download_url: None,
        expires_at: None,
        failure: job.error.clone(),
    }
}

fn config(state: &ApiState) -> Result<&ExportsConfig, ApiError> {
    state
        .exports
        .as_ref()
        .ok_or_else(|| ApiError::NotConfigured {
            code: "exports_not_configured",
            message: "export jobs are not configured here".into(),
        })
}

/// The query's filters, with those of a JSON body added (a name given in both is refused).
fn merged_params(mut params: Params, body: &[u8]) -> Result<Params, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let invalid = || {
        ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object of string filters: status, email, from, to",
        )
    };
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|_| invalid())?;
    for (name, value) in object {
        if !FILTER_NAMES.contains(&name.as_str()) {
            continue; // unknown names are ignored, as in the query string
        }
        let serde_json::Value::String(value) = value else {
            return Err(invalid());
        };
        if params.0.insert(name.clone(), value).is_some() {
            return Err(ApiError::bad_request(
                "duplicate_parameter",
                format!("`{name}` given in both the query and the body"),
            ));
        }
    }
    Ok(params)
}

#[utoipa::path(
    post,
    path = "/orders/exports",
    tag = "orders",
    summary = "Start an export of every matching order, of any size",
    description = "The filters of `/orders` (`status`, `email`, `from`, `to`), in the query string or a JSON body of strings, validated the same way. The CSV (the columns of `/orders/export.csv`) is written outside the request; poll `GET /orders/exports/{id}` (the `Location`) until `succeeded`, then follow `download_url`. A job of the same filters still queued or running is answered again (the same `id`) instead of a new one; at most 3 jobs per seller are queued or running at once, and 50 are started per 24 hours (`429` with `Retry-After` beyond).",
    params(
        ("status" = Option<crate::filters::StatusQuery>, Query, description = "A payment_status or `disputed`"),
        ("email" = Option<String>, Query, min_length = 2, max_length = 254, description = "Customer email, case-insensitive: exact match or prefix"),
        ("from" = Option<String>, Query, format = DateTime, description = "RFC 3339, inclusive"),
        ("to" = Option<String>, Query, format = DateTime, description = "RFC 3339, inclusive"),
    ),
    request_body(content = Option<ExportFiltersView>, content_type = "application/json", description = "Optional: the filters as strings, instead of the query"),
    responses(
        (status = 202, description = "Queued, or the same filters' job still queued or running, answered again; `Location: /orders/exports/{id}`", body = ExportJobView,
            headers(("Location" = String, description = "The job's address"))),
        (status = 400, description = "A bad filter or body; nothing is stored", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 429, description = "3 exports queued or running (too_many_active_exports), or 50 started within 24 hours (too_many_exports_today); see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds until a slot frees"))),
        (status = 503, description = "Store unavailable (retry), or exports not configured", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn create(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let filters = Filters::parse(&merged_params(params, &body)?)?;
    let exports = config(&state)?;
    let random = uuid::Uuid::new_v4().simple().to_string();
    let job = match export::start(
        exports.jobs.as_ref(),
        &seller,
        filters.list(),
        state.now(),
        &random,
    )
    .await?
    {
        Start::Queued(job) => {
            tracing::info!(job_id = %job.id, "export job queued");
            job
        }
        Start::Existing(job) => {
            tracing::info!(job_id = %job.id, "export job already queued or running: answered again");
            job
        }
        Start::Limited {
            retry_after,
            reason,
        } => {
            tracing::info!(outcome = reason.as_str(), "export job refused");
            return Ok(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                reason.as_str(),
                reason.message(),
            )
            .with_retry_after(u32::try_from(retry_after).unwrap_or(u32::MAX))
            .into_response());
        }
    };
    let location = HeaderValue::from_str(&format!("/orders/exports/{}", job.id))
        .map_err(|_| ApiError::Internal)?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(view(&job)),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/orders/exports/{id}",
    tag = "orders",
    summary = "An export job: where it stands, and its download link once succeeded",
    params(("id" = String, Path, description = "The job id from `POST /orders/exports`")),
    responses(
        (status = 200, description = "The job; `download_url` and `expires_at` when `succeeded`, `failure` when `failed`", body = ExportJobView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such job for this seller", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn get(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<ExportJobView>, ApiError> {
    let plausible = !id.is_empty()
        && id.len() <= MAX_JOB_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plausible {
        return Err(ApiError::NotFound);
    }
    let exports = config(&state)?;
    let job = exports
        .jobs
        .get_job(&seller, &id)
        .await?
        .ok_or(ApiError::NotFound)?
        .as_seen_at(state.now());
    let mut out = view(&job);
    if job.status == JobStatus::Succeeded {
        let now = state.now();
        let expires = now + exports.link_secs as i64;
        out.download_url = Some(download_url(exports, &job, expires, &headers).await?);
        out.expires_at = Some(rfc3339(expires));
    }
    Ok(Json(out))
}

async fn download_url(
    exports: &ExportsConfig,
    job: &ExportJob,
    expires: i64,
    headers: &axum::http::HeaderMap,
) -> Result<String, ApiError> {
    match &exports.links {
        ExportLinks::S3 { client, bucket } => {
            let config = PresigningConfig::expires_in(Duration::from_secs(exports.link_secs))
                .map_err(|e| {
                    tracing::error!(error = %e, "bad presigning configuration");
                    ApiError::Internal
                })?;
            let presigned = client
                .get_object()
                .bucket(bucket)
                .key(job.object_key())
                .response_content_disposition("attachment; filename=\"orders.csv\"")
                .response_content_type("text/csv; charset=utf-8")
                .presigned(config)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "presigning the export failed");
                    ApiError::Unavailable
                })?;
            Ok(presigned.uri().to_owned())
        }
        ExportLinks::Local { base_url, key } => {
            let base = if base_url.is_empty() {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1:3000");
                format!("http://{host}")
            } else {
                base_url.trim_end_matches('/').to_owned()
            };
            Ok(format!(
                "{base}{}",
                link::path(key, &job.seller_id, &job.id, expires)
            ))
        }
    }
}
