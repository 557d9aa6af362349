//! Refunds a charge in full through Stripe's Refunds API, as the seller (contract section 12: an
//! early fraud warning refunded under the seller's rule): `POST {STRIPE_API_BASE}/v1/refunds`
//! with `charge` and `reason=fraudulent`, `Stripe-Account: <seller>` and the use case's
//! `Idempotency-Key` (the warning and its attempt), on [`StripeDisputes`]'s client.
//!
//! Retried here with the same key on 429 and on no answer (a timeout, a reset): Stripe stores
//! no result for a 429, and a request that got no answer may have been applied, so only the
//! same key is safe. A 5xx that Stripe answered is stored under its key and replayed for 24
//! hours, so it ends the attempt ([`RefundError::Failed`]): the use case moves to a new key.
//! That cannot refund twice: the refund is of the whole charge, and Stripe refuses a second one
//! (`charge_already_refunded`).

use std::time::Instant;

use async_trait::async_trait;
use leenkies_domain::ports::{RefundError, RefundRequest, Refunder};
use leenkies_domain::stripe::event::PLATFORM_SELLER;
use stripe::RequestStrategy;
use stripe_client_core::{IdempotencyKey, StripeRequest};
use stripe_core::refund::{CreateRefund, CreateRefundReason};

use super::disputes::{bounded, classify, Failure, StripeDisputes};

#[async_trait]
impl Refunder for StripeDisputes {
    async fn refund(&self, request: &RefundRequest) -> Result<String, RefundError> {
        let account = request.seller_id.as_str();
        let create = CreateRefund::new()
            .charge(request.charge_id.as_str())
            .reason(CreateRefundReason::Fraudulent);
        let key =
            IdempotencyKey::new(&request.idempotency_key).map_err(|e| RefundError::Refused {
                status: 0,
                message: e.to_string(),
            })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let mut custom = create
                .build()
                .customize::<miniserde::json::Value>()
                .request_strategy(RequestStrategy::Idempotent(key.clone()));
            if account != PLATFORM_SELLER {
                custom = custom.account_id(stripe::AccountId::from(account));
            }
            let result = match custom.send(&self.client).await {
                Ok(refund) => refund_id(&refund).ok_or(Failure {
                    status: 200,
                    message: "Stripe's answer names no refund".into(),
                    retryable: false,
                }),
                Err(e) => Err(classify(e)),
            };
            let duration_ms = started.elapsed().as_millis() as u64;
            let failure = match result {
                Ok(id) => {
                    tracing::info!(
                        api = "stripe",
                        call = "refunds.create",
                        account,
                        attempt,
                        status = 200,
                        outcome = "ok",
                        duration_ms,
                        "stripe api call"
                    );
                    return Ok(id);
                }
                Err(f) => f,
            };
            // Same key again only where Stripe stored nothing: a 429, or no answer at all.
            let same_key_again =
                failure.retryable && (failure.status == 429 || failure.status == 0);
            let last = attempt >= self.retry.max_attempts;
            let outcome = if same_key_again && !last {
                "retried"
            } else {
                "failed"
            };
            tracing::warn!(
                api = "stripe",
                call = "refunds.create",
                account,
                attempt,
                status = failure.status,
                outcome,
                duration_ms,
                "stripe api call"
            );
            if same_key_again && !last {
                tokio::time::sleep(self.retry.delay(attempt - 1)).await;
                continue;
            }
            let message = bounded(&failure.message);
            return Err(match failure.status {
                0 | 429 => RefundError::Unavailable { message },
                status if status >= 500 => RefundError::Failed { status, message },
                status => RefundError::Refused { status, message },
            });
        }
    }
}

/// The refund object's `id`, when it is one.
fn refund_id(value: &miniserde::json::Value) -> Option<String> {
    let miniserde::json::Value::Object(object) = value else {
        return None;
    };
    match object.get("id") {
        Some(miniserde::json::Value::String(id)) if id.starts_with("re_") => Some(id.clone()),
        _ => None,
    }
}
