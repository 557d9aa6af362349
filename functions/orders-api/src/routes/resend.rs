//! `POST /orders/{order_id}/resend` (contract section 10): the seller sends the delivery email
//! again, with a new download token, to the order's customer email, or (body
//! `{"email": "<address>"}`, after a bounce) to a corrected address the customer gave the seller:
//! the order keeps its customer email from Stripe, the resend records where it went. `400
//! invalid_email` for anything but one plain address, `400 invalid_body` for a body that is not
//! a JSON object; nothing is sent then.
//!
//! `202 {"message_id"}` once SES accepted it; `404` for a missing order or another seller's;
//! `409` when the order is not paid, its access is revoked, or its first email has not gone out
//! (or the same request is being sent right now); `429` past 5 resends of the order within 24
//! hours (with `Retry-After`); `502` when SES refused the email; `503` when the store or SES did
//! not answer, or no mailer is configured. An optional `Idempotency-Key` header makes a retried
//! request answer with its first message id instead of sending again. The decisions and the
//! race-free limit are the domain's (`leenkies_domain::delivery::resend`).

pub use crate::state::ResendConfig;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use leenkies_domain::delivery::resend::{
    corrected_recipient, Refusal, ResendError, ResendOutcome, ResendRecord, Resender, MAX_KEY_LEN,
};
use leenkies_domain::delivery::MessageIndex;
use leenkies_domain::fulfillment::{compose_to, download_link, StoreIdentity};
use leenkies_domain::ports::{MailError, OutgoingEmail};
use leenkies_domain::tokens::DownloadClaims;
use leenkies_domain::OrderRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::routes::orders::OrderId;
use crate::state::ApiState;

/// The optional body: where to send this resend instead of the order's customer email.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResendRequest {
    /// One plain address the customer gave the seller (after a bounce); absent or null: the
    /// order's customer email.
    #[schema(example = "jordan.lee@example.org")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResendAccepted {
    /// SES's message id of the email sent (SES events about it land on the order).
    pub message_id: String,
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

#[utoipa::path(
    post,
    path = "/orders/{order_id}/resend",
    tag = "orders",
    summary = "Send the delivery email again, with a new download link",
    description = "Every link already emailed keeps working. At most 5 resends of one order within 24 hours. With an `Idempotency-Key` header, a retried request answers with the first message id instead of sending again. An optional body `{\"email\": \"<address>\"}` sends this resend to a corrected address (after a bounce); the order keeps its customer email, the resend records its recipient.",
    request_body(content = Option<ResendRequest>, content_type = "application/json", description = "Optional: a corrected address for this resend"),
    params(
        ("order_id" = String, Path, description = "The order id (`pi_…` or `cs_…`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional, at most 128 printable characters"),
    ),
    responses(
        (status = 202, description = "SES accepted the email", body = ResendAccepted),
        (status = 400, description = "A bad `Idempotency-Key` (invalid_idempotency_key), a body that is not a JSON object (invalid_body), or an `email` that is not one plain address (invalid_email); nothing is sent", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order for this seller", body = ErrorBody),
        (status = 409, description = "Not paid (order_not_paid), access revoked (access_revoked), first email not sent yet (first_email_not_sent), or this request in flight (resend_in_progress)", body = ErrorBody),
        (status = 429, description = "5 resends of this order within 24 hours (too_many_resends); see `Retry-After`", body = ErrorBody),
        (status = 502, description = "SES refused the email (mail_rejected)", body = ErrorBody),
        (status = 503, description = "Store or SES unavailable, or no mailer configured; retry", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn resend(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    OrderId(order_id): OrderId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = request_key(&headers)?;
    let recipient = corrected_address(&body)?;
    let Some(config) = state.resend.as_ref() else {
        tracing::warn!("resend called but no mailer is configured");
        return Err(ApiError::Unavailable);
    };
    let store = match &config.profiles {
        Some(p) => p.identity(&seller).await,
        None => StoreIdentity::default(),
    };
    let resender = Resender {
        store: state.store.as_ref(),
        index: config.messages.as_ref(),
        mailer: config.mailer.as_ref(),
        lease_secs: config.lease_secs,
    };
    let clock = state.clock.clone();
    let now = move || clock();
    let base = base_url(config, &headers).ok_or(ApiError::Internal)?;
    let compose_email = |order: &OrderRecord, resend: &ResendRecord| {
        compose_resend(&state, &base, &store, order, resend)
    };
    let outcome = resender
        .resend(
            &seller,
            &order_id,
            &key,
            recipient.as_deref(),
            &now,
            &compose_email,
        )
        .await;
    let refused = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message: message.to_owned(),
                },
            }),
        )
            .into_response()
    };
    match outcome {
        Ok(ResendOutcome::Sent { message_id }) => {
            tracing::info!(order_id = %order_id, seller_id = %seller, message_id = %message_id, outcome = "sent", "resend");
            Ok((StatusCode::ACCEPTED, Json(ResendAccepted { message_id })).into_response())
        }
        Ok(ResendOutcome::NotFound) => Err(ApiError::NotFound),
        Ok(ResendOutcome::Refused(r @ Refusal::TooMany { retry_at })) => {
            tracing::info!(order_id = %order_id, outcome = r.as_str(), "resend");
            let mut response = refused(StatusCode::TOO_MANY_REQUESTS, r.as_str(), r.message());
            let wait = (retry_at - state.now()).max(1);
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
        Ok(ResendOutcome::Refused(r)) => {
            tracing::info!(order_id = %order_id, outcome = r.as_str(), "resend");
            Ok(refused(StatusCode::CONFLICT, r.as_str(), r.message()))
        }
        Err(ResendError::Store(e)) => Err(e.into()),
        Err(ResendError::Mail(MailError::Rejected(reason))) => {
            // The reason may name the customer's address: logs only, never the answer.
            tracing::warn!(order_id = %order_id, outcome = "mail_rejected", error = %leenkies_domain::fulfillment::redact(&reason, ""), "resend");
            Ok(refused(
                StatusCode::BAD_GATEWAY,
                "mail_rejected",
                "the email service refused this email; nothing was sent",
            ))
        }
        Err(ResendError::Mail(MailError::Transient(_))) => {
            tracing::warn!(order_id = %order_id, outcome = "mail_unavailable", "resend");
            Err(ApiError::Unavailable)
        }
        Err(ResendError::Compose(e)) => {
            tracing::warn!(order_id = %order_id, outcome = "undeliverable", error = %e, "resend");
            Ok(refused(
                StatusCode::CONFLICT,
                "undeliverable",
                "the order has no customer address or product to send",
            ))
        }
    }
}

/// The request's key: the client's `Idempotency-Key`, or one made for this request alone.
fn request_key(headers: &HeaderMap) -> Result<String, ApiError> {
    match headers.get("idempotency-key") {
        Some(v) => {
            let key = v.to_str().unwrap_or("").trim();
            let ok = !key.is_empty()
                && key.len() <= MAX_KEY_LEN
                && key.bytes().all(|b| b.is_ascii_graphic());
            if ok {
                Ok(format!("c:{key}"))
            } else {
                Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 128 printable ASCII characters",
                ))
            }
        }
        None => {
            let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
            Ok(format!("s:{nanos}.{}.{n}", std::process::id()))
        }
    }
}

/// The corrected address of the body, if any: an empty body, `{}` or `"email": null` is none.
fn corrected_address(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let invalid_body = || {
        ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object, optionally with \"email\"",
        )
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid_body())?;
    let object = value.as_object().ok_or_else(invalid_body)?;
    match object.get("email") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(raw)) => {
            corrected_recipient(raw).map(Some).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_email",
                    "email must be one plain address such as name@example.com",
                )
            })
        }
        Some(_) => Err(ApiError::bad_request(
            "invalid_email",
            "email must be one plain address such as name@example.com",
        )),
    }
}

/// Where download links point: the configured base, else this request's own host.
fn base_url(config: &ResendConfig, headers: &HeaderMap) -> Option<String> {
    if !config.public_base_url.is_empty() {
        return Some(config.public_base_url.clone());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?.trim();
    let plausible = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    plausible.then(|| format!("https://{host}"))
}

fn compose_resend(
    state: &ApiState,
    base: &str,
    store: &StoreIdentity,
    order: &OrderRecord,
    resend: &ResendRecord,
) -> Result<OutgoingEmail, String> {
    let claims = DownloadClaims {
        seller_id: order.seller_id.clone(),
        order_id: order.order_id.clone(),
        product_id: order.facts.product_id().unwrap_or_default().to_owned(),
    };
    // A token of its own: every email of the order carries a different link, all valid.
    let token = state
        .download_key
        .sign_issued(&claims, &resend.token_issue());
    let link = download_link(base, &token);
    compose_to(order, &link, store, resend.recipient.as_deref()).map_err(|e| e.to_string())
}

/// The Lambda's resend wiring from the environment: `SENDER_EMAIL` (verified SES identity),
/// `SES_CONFIGURATION_SET` (the events of every delivery email are published) and
/// `PUBLIC_BASE_URL` (optional). `None` without a sender: the route then answers `503`.
pub fn config_from_env(
    sdk: &aws_config::SdkConfig,
    messages: Arc<dyn MessageIndex>,
) -> Option<ResendConfig> {
    let env = |name: &str| leenkies_adapters::config::Env::process().optional(name);
    let sender = env("SENDER_EMAIL")?;
    let public_base_url = env("PUBLIC_BASE_URL").unwrap_or_default();
    let mailer = leenkies_adapters::mail::SesMailer::new(
        aws_sdk_sesv2::Client::new(sdk),
        sender,
        env("SES_CONFIGURATION_SET"),
    );
    Some(ResendConfig {
        mailer: Arc::new(mailer),
        messages,
        public_base_url,
        profiles: None,
        lease_secs: 60,
    })
}
