//! The seller's dispute routes (contract sections 9.2 and 9.4):
//! - `POST /orders/{order_id}/disputes/{dispute_id}/evidence`: builds the dispute's evidence
//!   from the order and files it on the seller's Stripe account, as a draft (`submit: false`)
//!   or for good (`submit: true`);
//! - `GET` of the same path: the evidence as it would be sent now, without calling Stripe;
//! - `POST /orders/{order_id}/disputes/{dispute_id}/accept`: closes the dispute in Stripe.
//!
//! Thin: the body is read as bytes and parsed here, so any body that is not the documented JSON
//! is our `400 invalid_body` (never axum's own 415/413/422), and the checks then run in the
//! contract's order (401 by the extractor, 400, 404, 409, 400 `fee_not_acknowledged`, 503, then
//! Stripe's 502) inside the domain's use cases.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use leenkies_domain::evidence::filing::{
    accept as accept_dispute, file_evidence, preview as preview_evidence, Actor, EvidenceRequest,
    FileEvidenceError, FilingError,
};
use leenkies_domain::order::facts::Submitter;
use leenkies_domain::order::view::{Ce3View, DisputeView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// Longest id accepted in the path; Stripe ids are far shorter.
const MAX_ID_LEN: usize = 255;

/// The request body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// `false` saves a draft the seller can still change; `true` files it (Stripe accepts one
    /// submission).
    pub submit: bool,
    /// The seller's own words, at most 20,000 characters; saved with the dispute and sent with
    /// any later submission (an automatic one too). Absent: the saved statement is used.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub statement: Option<String>,
    /// Required (`true`) to submit a compliance dispute (reason `noncompliant` or case type
    /// `compliance`): the card network charges a fee for it.
    #[serde(default)]
    pub fee_acknowledged: Option<bool>,
}

/// One document of the evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceFile {
    /// The evidence field it fills (`receipt`, `customer_communication`, `refund_policy`).
    pub field: String,
    pub title: String,
}

/// What would be sent now.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidencePreview {
    pub dispute_id: String,
    /// The text fields, by Stripe's names (the file fields are in `files`).
    #[schema(value_type = BTreeMap<String, String>)]
    pub evidence: BTreeMap<String, String>,
    pub files: Vec<EvidenceFile>,
    /// Visa Compelling Evidence 3.0 (section 9.5), or null.
    pub ce3: Option<Ce3View>,
    /// Whether this server can file to Stripe (a Stripe key is configured); when false nothing
    /// is drafted or submitted, and the page says filing is unavailable here.
    pub stripe_configured: bool,
}

/// What was sent to Stripe.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceFiled {
    pub dispute_id: String,
    pub submitted: bool,
    /// The evidence fields sent, by Stripe's names (`receipt` is the uploaded file's id).
    #[schema(value_type = BTreeMap<String, String>)]
    pub evidence: BTreeMap<String, String>,
}

fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn invalid_body() -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        "the body must be JSON {\"submit\": true|false, \"statement\": \"…\", \"fee_acknowledged\": true|false} with `submit` required",
    )
}

/// The path's ids, or empty ones (answered exactly like missing ones: `404`).
fn ids(path: Result<Path<(String, String)>, PathRejection>) -> Result<(String, String), ApiError> {
    let Ok(Path((order_id, dispute_id))) = path else {
        return Err(ApiError::NotFound);
    };
    Ok(if plausible_id(&order_id) && plausible_id(&dispute_id) {
        (order_id, dispute_id)
    } else {
        (String::new(), String::new())
    })
}

#[utoipa::path(
    post,
    path = "/orders/{order_id}/disputes/{dispute_id}/evidence",
    tag = "orders",
    summary = "Build the dispute's evidence and send it to the seller's Stripe dispute",
    description = "Builds Stripe's `evidence` from the order (email, product, service date, access log, the receipt and the delivery email as PDFs, the seller's refund policy, summary and the seller's statement) and sends it to the dispute on the seller's Stripe account: a draft with `submit: false`, filed to the bank with `submit: true` (this counters the dispute: Stripe may charge a dispute countered fee, returned if the seller wins). Checked in this order: 401, 400 (`invalid_body`, `statement_too_long`), 404, 409 (`dispute_closed`, `already_submitted`, `past_due`), 400 (`fee_not_acknowledged`), 503 (`stripe_not_configured`), then Stripe (502 with Stripe's message; nothing is recorded as sent then). A repeated request never files twice.",
    params(
        ("order_id" = String, Path, description = "The order id (`pi_…` or `cs_…`)"),
        ("dispute_id" = String, Path, description = "The Stripe dispute id (`du_…`/`dp_…`)"),
    ),
    request_body(content = EvidenceBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Stripe accepted the evidence", body = EvidenceFiled),
        (status = 400, description = "`invalid_body`, `statement_too_long`, or `fee_not_acknowledged` (a compliance dispute submitted without `fee_acknowledged: true`)", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order or dispute for this seller", body = ErrorBody),
        (status = 409, description = "`dispute_closed` (closed or accepted), `already_submitted` (this phase), or `past_due` (no deadline, or it has passed)", body = ErrorBody),
        (status = 502, description = "Stripe refused (`stripe_refused`) or failed (`stripe_unavailable`), with Stripe's message", body = ErrorBody),
        (status = 503, description = "`stripe_not_configured`, or the store is unavailable (`unavailable`, with `Retry-After`)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn file(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EvidenceFiled>, ApiError> {
    // 400 comes before 404 in the contract's order: the body first.
    let body = body.map_err(|_| invalid_body())?;
    // Through a `Value` first: serde's derive would also accept a JSON array (`[true]`) as the
    // struct's fields in order, which is not the documented body.
    let body: serde_json::Value = serde_json::from_slice(&body).map_err(|_| invalid_body())?;
    if !body.is_object() {
        return Err(invalid_body());
    }
    let body: EvidenceBody = serde_json::from_value(body).map_err(|_| invalid_body())?;
    let (order_id, dispute_id) = ids(path)?;
    let request = EvidenceRequest {
        submit: body.submit,
        statement: body.statement,
        fee_acknowledged: body.fee_acknowledged.unwrap_or(false),
    };
    let settings = state.seller_settings(&seller).await?;
    let filed = file_evidence(
        state.store.as_ref(),
        state.disputes.as_deref(),
        &settings,
        Actor {
            seller_id: &seller,
            order_id: &order_id,
            dispute_id: &dispute_id,
            by: Submitter::Seller,
            now: state.now(),
        },
        &request,
    )
    .await
    .map_err(to_api_error)?;
    tracing::info!(
        route = "dispute_evidence",
        seller_id = %seller,
        order_id = %order_id,
        dispute_id = %dispute_id,
        submitted = filed.submitted,
        fields = filed.fields.len(),
        "dispute evidence accepted by Stripe"
    );
    Ok(Json(EvidenceFiled {
        dispute_id: filed.dispute_id,
        submitted: filed.submitted,
        evidence: filed
            .fields
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/orders/{order_id}/disputes/{dispute_id}/evidence",
    tag = "orders",
    summary = "What would be sent to Stripe for this dispute now",
    description = "The evidence fields, the documents (PDFs) and CE 3.0 as the backend would send them now, without calling Stripe: what the page shows as \"what will be sent\".",
    params(
        ("order_id" = String, Path, description = "The order id (`pi_…` or `cs_…`)"),
        ("dispute_id" = String, Path, description = "The Stripe dispute id"),
    ),
    responses(
        (status = 200, description = "The evidence as it would be sent", body = EvidencePreview),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order or dispute for this seller", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn preview(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<EvidencePreview>, ApiError> {
    let (order_id, dispute_id) = ids(path)?;
    let settings = state.seller_settings(&seller).await?;
    let (record, preview) = preview_evidence(
        state.store.as_ref(),
        &settings,
        &seller,
        &order_id,
        &dispute_id,
        state.now(),
    )
    .await
    .map_err(to_api_error)?;
    let ce3 = leenkies_domain::listing::order_view(state.store.as_ref(), &record)
        .await?
        .disputes
        .into_iter()
        .find(|d| d.id == dispute_id)
        .and_then(|d| d.ce3);
    Ok(Json(EvidencePreview {
        dispute_id: preview.dispute_id,
        evidence: preview
            .fields
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect(),
        files: preview
            .files
            .into_iter()
            .map(|(field, title)| EvidenceFile {
                field: field.as_str().to_owned(),
                title,
            })
            .collect(),
        ce3,
        stripe_configured: state.disputes.is_some(),
    }))
}

#[utoipa::path(
    post,
    path = "/orders/{order_id}/disputes/{dispute_id}/accept",
    tag = "orders",
    summary = "Accept the dispute: close it in Stripe (the seller accepts the loss)",
    description = "Closes the dispute on the seller's Stripe account (`POST /v1/disputes/{id}/close`, with an `Idempotency-Key`), records `accepted_at` and stops any automatic submission. No body. Checked in this order: 401, 404, 409 (`dispute_closed`, `already_submitted`), 503 (`stripe_not_configured`), then Stripe (502).",
    params(
        ("order_id" = String, Path, description = "The order id (`pi_…` or `cs_…`)"),
        ("dispute_id" = String, Path, description = "The Stripe dispute id"),
    ),
    responses(
        (status = 200, description = "Closed in Stripe: the dispute as the order now shows it", body = DisputeView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order or dispute for this seller", body = ErrorBody),
        (status = 409, description = "`dispute_closed` or `already_submitted`", body = ErrorBody),
        (status = 502, description = "Stripe refused (`stripe_refused`) or failed (`stripe_unavailable`)", body = ErrorBody),
        (status = 503, description = "`stripe_not_configured`, or the store is unavailable (`unavailable`)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn accept(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<DisputeView>, ApiError> {
    let (order_id, dispute_id) = ids(path)?;
    let record = accept_dispute(
        state.store.as_ref(),
        state.disputes.as_deref(),
        Actor {
            seller_id: &seller,
            order_id: &order_id,
            dispute_id: &dispute_id,
            by: Submitter::Seller,
            now: state.now(),
        },
    )
    .await
    .map_err(to_api_error)?;
    tracing::info!(
        route = "dispute_accept",
        seller_id = %seller,
        order_id = %order_id,
        dispute_id = %dispute_id,
        "dispute accepted: closed in Stripe"
    );
    leenkies_domain::listing::order_view(state.store.as_ref(), &record)
        .await?
        .disputes
        .into_iter()
        .find(|d| d.id == dispute_id)
        .map(Json)
        .ok_or(ApiError::NotFound)
}

fn to_api_error(e: FileEvidenceError) -> ApiError {
    match e {
        FileEvidenceError::StatementTooLong { .. } => {
            ApiError::bad_request("statement_too_long", e.to_string())
        }
        FileEvidenceError::NotFound => ApiError::NotFound,
        FileEvidenceError::Closed { .. } => ApiError::Conflict {
            code: "dispute_closed",
            message: e.to_string(),
        },
        FileEvidenceError::AlreadySubmitted => ApiError::Conflict {
            code: "already_submitted",
            message: e.to_string(),
        },
        FileEvidenceError::PastDue => ApiError::Conflict {
            code: "past_due",
            message: e.to_string(),
        },
        FileEvidenceError::FeeNotAcknowledged => {
            ApiError::bad_request("fee_not_acknowledged", e.to_string())
        }
        FileEvidenceError::NotConfigured => ApiError::NotConfigured {
            code: "stripe_not_configured",
            message: "no Stripe API key is configured (STRIPE_API_KEY)".into(),
        },
        FileEvidenceError::Stripe(FilingError::Refused { status, message }) => {
            tracing::warn!(
                route = "dispute_evidence",
                stripe_status = status,
                "Stripe refused the evidence"
            );
            ApiError::BadGateway {
                code: "stripe_refused",
                message,
            }
        }
        FileEvidenceError::Stripe(FilingError::Unavailable { message }) => {
            tracing::warn!(route = "dispute_evidence", "Stripe unavailable");
            ApiError::BadGateway {
                code: "stripe_unavailable",
                message,
            }
        }
        FileEvidenceError::Store(e) => ApiError::from(e),
    }
}
