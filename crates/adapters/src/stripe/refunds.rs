//! Refunds a charge in full through Stripe's Refunds API, as the seller (contract section 12: an
//! early fraud warning refunded under the seller's rule): `POST {STRIPE_API_BASE}/v1/refunds`
//! with `charge` and `reason=fraudulent`, `Stripe-Account: <seller>` and the use case's
//! `Idempotency-Key` (the warning and its attempt), retried with that key on 429, 5xx and
//! network errors like every other call of [`StripeDisputes`]'s client.

use async_trait::async_trait;
use leenkies_domain::evidence::filing::FilingError;
use leenkies_domain::ports::{RefundError, RefundRequest, Refunder};
use leenkies_domain::stripe::event::PLATFORM_SELLER;
use stripe::RequestStrategy;
use stripe_client_core::{IdempotencyKey, StripeRequest};
use stripe_core::refund::{CreateRefund, CreateRefundReason};

use super::disputes::{classify, Failure, StripeDisputes};

#[async_trait]
impl Refunder for StripeDisputes {
    async fn refund(&self, request: &RefundRequest) -> Result<String, RefundError> {
        let account = request.seller_id.as_str();
        let create = CreateRefund::new()
            .charge(request.charge_id.as_str())
            .reason(CreateRefundReason::Fraudulent);
        let key = request.idempotency_key.clone();
        let answer = self
            .with_retries("refunds.create", account, key, |key| {
                let create = &create;
                async move {
                    let key = IdempotencyKey::new(&key).map_err(|e| Failure {
                        status: 0,
                        message: e.to_string(),
                        retryable: false,
                    })?;
                    let mut custom = create
                        .build()
                        .customize::<miniserde::json::Value>()
                        .request_strategy(RequestStrategy::Idempotent(key));
                    if account != PLATFORM_SELLER {
                        custom = custom.account_id(stripe::AccountId::from(account));
                    }
                    let refund = custom.send(&self.client).await.map_err(classify)?;
                    refund_id(&refund).ok_or(Failure {
                        status: 0,
                        message: "Stripe's answer names no refund".into(),
                        retryable: true,
                    })
                }
            })
            .await;
        answer.map_err(|e| match e {
            FilingError::Refused { status, message } => RefundError::Refused { status, message },
            FilingError::Unavailable { message } => RefundError::Unavailable { message },
        })
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
