//! `POST /orders/{order_id}/disputes/{dispute_id}/evidence` (contract section 9): builds the
//! dispute's evidence from the order and files it on the seller's Stripe account, as a draft
//! (`submit: false`) or for good (`submit: true`).
//!
//! Thin: the body is read as bytes and parsed here, so any body that is not the documented JSON
//! is our `400 invalid_body` (never axum's own 415/413/422), and the checks then run in the
//! contract's order (401 by the extractor, 400, 404, 409, 503, then Stripe's 502) inside the
//! domain's use case.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use leenkies_domain::evidence::filing::{
    file_evidence, EvidenceRequest, FileEvidenceError, FilingError,
};
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
    /// The seller's own words, at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub statement: Option<String>,
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
        "the body must be JSON {\"submit\": true|false, \"statement\": \"…\"} with `submit` required",
    )
}

#[utoipa::path(
    post,
    path = "/orders/{order_id}/disputes/{dispute_id}/evidence",
    tag = "orders",
    summary = "Build the dispute's evidence and send it to the seller's Stripe dispute",
    description = "Builds Stripe's `evidence` from the order (email, product, service date, access log, receipt PDF, summary and the seller's statement) and sends it to the dispute on the seller's Stripe account: a draft with `submit: false`, filed to the bank with `submit: true`. Checked in this order: 401, 400, 404, 409, 503, then Stripe (502 with Stripe's message; nothing is recorded then). A repeated request never files twice.",
    params(
        ("order_id" = String, Path, description = "The order id (`pi_…` or `cs_…`)"),
        ("dispute_id" = String, Path, description = "The Stripe dispute id (`du_…`/`dp_…`)"),
    ),
    request_body(content = EvidenceBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Stripe accepted the evidence", body = EvidenceFiled),
        (status = 400, description = "`invalid_body` or `statement_too_long`", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order or dispute for this seller", body = ErrorBody),
        (status = 409, description = "`dispute_closed` or `already_submitted`", body = ErrorBody),
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
    let Ok(Path((order_id, dispute_id))) = path else {
        return Err(ApiError::NotFound);
    };
    // Implausible ids are answered exactly like missing ones; but a too-long statement is
    // still a 400 first, which the use case checks before it reads anything.
    let (order_id, dispute_id) = if plausible_id(&order_id) && plausible_id(&dispute_id) {
        (order_id, dispute_id)
    } else {
        (String::new(), String::new())
    };
    let request = EvidenceRequest {
        submit: body.submit,
        statement: body.statement,
    };
    let filed = file_evidence(
        state.store.as_ref(),
        state.disputes.as_deref(),
        &seller,
        &order_id,
        &dispute_id,
        &request,
        state.now(),
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
