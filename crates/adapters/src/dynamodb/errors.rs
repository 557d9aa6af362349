//! How an AWS SDK failure becomes a `StoreError`: a lost condition is a `Conflict` (re-read and
//! retry), everything the service or the network refuses for now is `Unavailable` (the caller
//! answers "try again": Stripe gets a 5xx, a stream record is retried).
//!
//! The decision itself is a pure function of the error code, HTTP status and transaction
//! cancellation reasons, so it can be tested without constructing SDK errors.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use leenkies_domain::ports::StoreError;

/// Error codes DynamoDB uses when it throttles a request: retryable by waiting.
const THROTTLING: [&str; 4] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ThrottlingError",
];

/// Cancellation reasons of a `TransactionCanceledException` that mean "someone else won":
/// a condition failed, or another transaction held one of the items.
const LOST_RACE: [&str; 2] = ["ConditionalCheckFailed", "TransactionConflict"];

/// What a service error means for the caller.
pub fn classify(code: Option<&str>, status: Option<u16>, reasons: &[&str]) -> StoreError {
    let code_str = code.unwrap_or("unknown");
    match code_str {
        "ConditionalCheckFailedException" => StoreError::Conflict,
        "TransactionConflictException" => StoreError::Conflict,
        "TransactionCanceledException" if reasons.iter().any(|r| LOST_RACE.contains(r)) => {
            StoreError::Conflict
        }
        c if THROTTLING.contains(&c) => StoreError::Unavailable(format!("throttled ({c})")),
        c => match status {
            Some(s) if s >= 500 => StoreError::Unavailable(format!("dynamodb {s} ({c})")),
            // A 4xx that is not a condition (validation, missing table, access denied) is a
            // deployment problem, not the caller's: still "try again later" for Stripe, which
            // retries for days while someone fixes it, and logged with its code.
            Some(s) => StoreError::Unavailable(format!("dynamodb refused {s} ({c})")),
            None => StoreError::Unavailable(format!("dynamodb error ({c})")),
        },
    }
}

/// Maps any SDK error of one operation. Transport failures (timeouts, dispatch, unreadable
/// responses) are `Unavailable`; service errors go through [`classify`].
pub fn from_sdk<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus,
{
    from_sdk_with_reasons(operation, err, |_| Vec::new())
}

/// Like [`from_sdk`], with the cancellation reasons a `TransactWriteItems` error carries.
pub fn from_sdk_with_reasons<E, R>(
    operation: &str,
    err: SdkError<E, R>,
    reasons: impl Fn(&E) -> Vec<String>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let reasons = reasons(ctx.err());
            let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
            let mapped = classify(ctx.err().code(), ctx.raw().status(), &reasons);
            if let StoreError::Unavailable(msg) = mapped {
                let detail = ctx.err().message().unwrap_or_default();
                tracing::warn!(operation, error = %msg, detail, "dynamodb call failed");
                StoreError::Unavailable(format!("{operation}: {msg}: {detail}"))
            } else {
                mapped
            }
        }
        SdkError::TimeoutError(_) => StoreError::Unavailable(format!("{operation}: timeout")),
        SdkError::DispatchFailure(e) => {
            StoreError::Unavailable(format!("{operation}: dispatch failure: {e:?}"))
        }
        SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!("{operation}: unreadable response"))
        }
        _ => StoreError::Unavailable(format!("{operation}: {err}")),
    }
}

/// The HTTP status of a raw response, where the response type has one.
pub trait HasStatus {
    fn status(&self) -> Option<u16>;
}

impl HasStatus for aws_sdk_dynamodb::config::http::HttpResponse {
    fn status(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

/// A serde_dynamo failure reading an item back: the stored item does not have our shape.
pub fn corrupt(what: &str, err: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_failed_condition_when_classified_then_conflict() {
        assert_eq!(
            classify(Some("ConditionalCheckFailedException"), Some(400), &[]),
            StoreError::Conflict
        );
    }

    #[test]
    fn given_a_cancelled_transaction_when_a_condition_failed_then_conflict() {
        let got = classify(
            Some("TransactionCanceledException"),
            Some(400),
            &["None", "ConditionalCheckFailed"],
        );
        assert_eq!(got, StoreError::Conflict);
    }

    #[test]
    fn given_a_cancelled_transaction_when_throttled_then_unavailable() {
        let got = classify(
            Some("TransactionCanceledException"),
            Some(400),
            &["ThrottlingError", "None"],
        );
        assert!(matches!(got, StoreError::Unavailable(_)));
    }

    #[test]
    fn given_throttling_or_5xx_when_classified_then_unavailable() {
        for code in THROTTLING {
            assert!(matches!(
                classify(Some(code), Some(400), &[]),
                StoreError::Unavailable(_)
            ));
        }
        assert!(matches!(
            classify(Some("InternalServerError"), Some(500), &[]),
            StoreError::Unavailable(_)
        ));
    }
}
