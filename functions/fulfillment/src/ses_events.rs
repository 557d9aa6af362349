//! SES events (through an EventBridge rule) recorded on the order that sent the message
//! (contract section 10). The same handler serves the `ses-events` Lambda and
//! `POST /local/ses-events` in `leenkies-local`.
//!
//! Why here rather than in a function crate of its own: it shares the fulfillment function's
//! store wiring and its subject (the delivery email), but it is a separate binary and a separate
//! Lambda in `template.yaml`, so its IAM role can read and write the table without any right to
//! send email, and a burst of SES events never competes with the stream's deliveries.
//!
//! Answers: a recorded, duplicate, ignored (an SES event type not recorded) or unknown-message
//! event is done; a body that is not an SES event is refused (locally `400`; in Lambda logged
//! and dropped, since EventBridge retrying it cannot help); a store failure is an error, so that
//! EventBridge's asynchronous invocation retries it and then hands it to the DLQ.

use std::sync::Arc;

use leenkies_domain::delivery::record::{record_ses_event, SesOutcome};
use leenkies_domain::delivery::ses::{SesEvent, SesEventError};
use leenkies_domain::delivery::MessageIndex;
use leenkies_domain::ports::{OrderStore, StoreError};

/// Why an SES event was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SesEventsError {
    /// Not an SES event: refuse it, retrying cannot help.
    #[error("not an SES event: {0}")]
    NotAnSesEvent(#[from] SesEventError),
    /// The store failed: retry later.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct SesEvents {
    store: Arc<dyn OrderStore>,
    messages: Arc<dyn MessageIndex>,
}

impl SesEvents {
    pub fn new(store: Arc<dyn OrderStore>, messages: Arc<dyn MessageIndex>) -> Self {
        Self { store, messages }
    }

    /// One EventBridge event, as the raw JSON body.
    pub async fn handle(&self, body: &[u8]) -> Result<SesOutcome, SesEventsError> {
        let event = SesEvent::parse(body).inspect_err(|error| {
            tracing::warn!(outcome = "refused", error = %error, "ses event");
        })?;
        let outcome = record_ses_event(self.store.as_ref(), self.messages.as_ref(), &event)
            .await
            .inspect_err(|error| {
                tracing::warn!(
                    message_id = %event.message_id,
                    event_type = event.event_type.as_str(),
                    outcome = "retry",
                    error = %error,
                    "ses event"
                );
            })?;
        // Ids and types only: the record's addresses and headers are the customer's.
        let (seller_id, order_id) = match &outcome {
            SesOutcome::Recorded(o) | SesOutcome::Duplicate(o) => {
                (o.seller_id.as_str(), o.order_id.as_str())
            }
            _ => ("", ""),
        };
        tracing::info!(
            message_id = %event.message_id,
            event_type = event.event_type.as_str(),
            seller_id,
            order_id,
            outcome = outcome.as_str(),
            "ses event"
        );
        Ok(outcome)
    }
}
