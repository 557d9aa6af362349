//! The batch plumbing: records in stream order, one log line each, and the partial-batch
//! response. Lambda resumes a shard from the first sequence number reported, so the first record
//! that must be retried is reported alone and the rest of the batch is left for that retry.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use leenkies_domain::delivery::MessageIndex;
use leenkies_domain::fulfillment::{is_transition, should_deliver};
use leenkies_domain::notify::failure_pattern::{new_failure, SellerNotices};
use leenkies_domain::ports::{Mailer, OrderStore, StoreProfiles};
use leenkies_domain::seller_settings::SettingsStore;

use crate::config::FulfillmentConfig;
use crate::deliver::{Delivery, Outcome};
use crate::failure_pattern::PatternCheck;
use crate::notices::{NoticeReport, Notices};
use crate::stream::{decode, item_identifier, Change};

/// Default wait for another sender's live claim before handing the record back to Lambda.
pub const DEFAULT_IN_FLIGHT_WAIT: Duration = Duration::from_secs(10);

pub struct Fulfiller {
    store: Arc<dyn OrderStore>,
    mailer: Arc<dyn Mailer>,
    config: FulfillmentConfig,
    in_flight_wait: Duration,
    messages: Option<Arc<dyn MessageIndex>>,
    profiles: Option<Arc<dyn StoreProfiles>>,
    settings: Option<Arc<dyn SettingsStore>>,
    seller_notices: Option<Arc<dyn SellerNotices>>,
}

impl Fulfiller {
    pub fn new(
        store: Arc<dyn OrderStore>,
        mailer: Arc<dyn Mailer>,
        config: FulfillmentConfig,
    ) -> Self {
        Self {
            store,
            mailer,
            config,
            in_flight_wait: DEFAULT_IN_FLIGHT_WAIT,
            messages: None,
            profiles: None,
            settings: None,
            seller_notices: None,
        }
    }

    /// Where seller-level notices are claimed (`failure_pattern`, at most once a day). Without
    /// it the failure pattern is not looked at.
    pub fn with_seller_notices(mut self, notices: Arc<dyn SellerNotices>) -> Self {
        self.seller_notices = Some(notices);
        self
    }

    /// Where the seller's settings are read (which notifications they get, and where:
    /// `notify`, `notify_email`). Without it: every kind on, to the Stripe account's email.
    pub fn with_settings(mut self, settings: Arc<dyn SettingsStore>) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Where the seller's store name and support address come from (the email names the store
    /// and replies go to the seller). Without it: the storefront's `store_name`, else neutral.
    pub fn with_profiles(mut self, profiles: Arc<dyn StoreProfiles>) -> Self {
        self.profiles = Some(profiles);
        self
    }

    /// Where each sent email's SES message id is linked to its order, so that SES's events
    /// about it find the order (contract section 10). Without it no SES event can land.
    pub fn with_messages(mut self, messages: Arc<dyn MessageIndex>) -> Self {
        self.messages = Some(messages);
        self
    }

    /// How long a record waits on a live claim held by another sender (default 10 s) before it
    /// is reported for a retry. The function's timeout must leave room for it.
    pub fn with_in_flight_wait(mut self, wait: Duration) -> Self {
        self.in_flight_wait = wait;
        self
    }

    pub fn config(&self) -> &FulfillmentConfig {
        &self.config
    }

    /// One DynamoDB Streams batch as Lambda delivers it; returns the partial-batch response.
    pub async fn handle_batch(&self, event: Event) -> DynamoDbEventResponse {
        self.handle_records(&event.records).await
    }

    /// The records of one batch, borrowed (the local change pump keeps them for a retry).
    pub async fn handle_records(&self, records: &[EventRecord]) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        for record in records {
            if let Some(failed) = self.handle_record(record).await {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(failed);
                response.batch_item_failures.push(failure);
                break;
            }
        }
        response
    }

    /// Handles one record; `Some(sequence number)` when it must be retried.
    async fn handle_record(&self, record: &EventRecord) -> Option<String> {
        let sequence_number = item_identifier(record);
        let (old, new) = match decode(record) {
            Change::Order { old, new } => (old, new),
            Change::Skip { reason, detail } => {
                tracing::info!(
                    sequence_number = %sequence_number,
                    event_name = %record.event_name,
                    decision = "ignore",
                    outcome = reason,
                    detail = detail.as_deref().unwrap_or(""),
                    "fulfillment record"
                );
                return None;
            }
        };
        let decision = if !should_deliver(&new) {
            "not_awaiting_delivery"
        } else if is_transition(old.as_deref(), &new) {
            "became_deliverable"
        } else {
            "re_check"
        };
        let outcome = if decision == "not_awaiting_delivery" {
            None
        } else {
            let delivery = Delivery {
                store: self.store.as_ref(),
                mailer: self.mailer.as_ref(),
                config: &self.config,
                in_flight_wait: self.in_flight_wait,
                messages: self.messages.as_deref(),
                profiles: self.profiles.as_deref(),
            };
            Some(delivery.deliver(&new.seller_id, &new.order_id).await)
        };
        log(
            &sequence_number,
            &new.seller_id,
            &new.order_id,
            decision,
            outcome.as_ref(),
        );
        if outcome.as_ref().is_some_and(Outcome::must_retry) {
            return Some(sequence_number);
        }
        // The seller's notifications (contract section 12), after the customer's email: the
        // image says one is owed; the order as read now decides.
        if leenkies_domain::notify::due(&new) {
            let notices = Notices {
                store: self.store.as_ref(),
                mailer: self.mailer.as_ref(),
                config: &self.config,
                in_flight_wait: self.in_flight_wait,
                settings: self.settings.as_deref(),
                profiles: self.profiles.as_deref(),
            };
            let report = notices.notify(&new.seller_id, &new.order_id).await;
            log_notices(&sequence_number, &new.seller_id, &new.order_id, &report);
            if report.retry.is_some() {
                return Some(sequence_number);
            }
        }
        // A payment newly failed: does the seller's window now look like a configuration
        // problem (`failure_pattern`)?
        if let Some(notices) = self.seller_notices.as_deref() {
            if new_failure(old.as_deref(), &new) {
                let check = PatternCheck {
                    store: self.store.as_ref(),
                    notices,
                    mailer: self.mailer.as_ref(),
                    config: &self.config,
                    settings: self.settings.as_deref(),
                    profiles: self.profiles.as_deref(),
                };
                match check.check(&new.seller_id).await {
                    Ok(outcome) => tracing::info!(sequence_number = %sequence_number,
                        seller_id = %new.seller_id, order_id = %new.order_id,
                        outcome = ?outcome, "failure pattern check"),
                    Err(error) => {
                        tracing::warn!(sequence_number = %sequence_number,
                            seller_id = %new.seller_id, order_id = %new.order_id,
                            outcome = "retry", detail = %error, "failure pattern check");
                        return Some(sequence_number);
                    }
                }
            }
        }
        None
    }
}

/// The notifications' line per record: counts, and why it is retried; never an address.
fn log_notices(sequence_number: &str, seller_id: &str, order_id: &str, report: &NoticeReport) {
    match &report.retry {
        Some(error) => tracing::warn!(sequence_number, seller_id, order_id, sent = report.sent,
            skipped = report.skipped, outcome = "retry", detail = %error, "seller notifications"),
        None => tracing::info!(
            sequence_number,
            seller_id,
            order_id,
            sent = report.sent,
            skipped = report.skipped,
            outcome = "done",
            "seller notifications"
        ),
    }
}

/// The one structured line per record: ids, decision, outcome; never the customer's address.
fn log(
    sequence_number: &str,
    seller_id: &str,
    order_id: &str,
    decision: &str,
    outcome: Option<&Outcome>,
) {
    let (name, detail) = match outcome {
        None => ("none", String::new()),
        Some(Outcome::Sent {
            message_id,
            attempt,
        }) => ("sent", format!("message_id={message_id} attempt={attempt}")),
        Some(Outcome::Skipped(reason)) => ("skipped", reason.as_str().to_owned()),
        Some(
            o @ (Outcome::GaveUp { error }
            | Outcome::Retry { error }
            | Outcome::Unreadable { error }),
        ) => (o.as_str(), error.clone()),
        Some(o @ Outcome::Gone) => (o.as_str(), String::new()),
    };
    match outcome {
        Some(Outcome::Retry { .. } | Outcome::GaveUp { .. } | Outcome::Unreadable { .. }) => {
            tracing::warn!(sequence_number, seller_id, order_id, decision, outcome = name, detail = %detail, "fulfillment record")
        }
        _ => {
            tracing::info!(sequence_number, seller_id, order_id, decision, outcome = name, detail = %detail, "fulfillment record")
        }
    }
}
