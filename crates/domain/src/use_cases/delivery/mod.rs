//! Delivery you can prove (contract section 10): what SES said about each delivery email, folded
//! into the order by SES message id, and the seller's resend.
//!
//! - [`facts`]: the per-message facts and their merge (the same commutative, associative,
//!   idempotent fold as Stripe's facts);
//! - [`ses`]: SES event records in EventBridge's envelope, parsed leniently;
//! - [`record`]: the use case folding one SES event into its order;
//! - [`resend`]: the seller's resend, its refusals and its daily limit.
//!
//! The order's emails are the first delivery email (`fulfillment.message_id`), every resend, and
//! any message SES reported for the order; the *newest* one decides `fulfillment.delivery`.

/// SES facts are part of the order's model; kept here under their old name for readers.
pub use crate::order::message_facts as facts;
pub mod record;
pub mod resend;
pub mod ses;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::order::mail::{delivery_failed, emails, newest_delivery, EmailRef, MAX_MESSAGES};
use crate::order::OrderRecord;
use crate::ports::StoreError;
pub use facts::{DeliveryReceipt, DeliveryState, DeliveryStatus, MessageFacts};

/// The order an SES message belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageOwner {
    pub seller_id: String,
    pub order_id: String,
}

/// Finds the order of an SES message from its message id alone (SES events need carry nothing
/// else). Written once per email sent, right after SES accepted it.
#[async_trait]
pub trait MessageIndex: Send + Sync {
    /// Records that `message_id` belongs to `owner`. Idempotent.
    async fn link_message(&self, message_id: &str, owner: &MessageOwner) -> Result<(), StoreError>;

    async fn find_message(&self, message_id: &str) -> Result<Option<MessageOwner>, StoreError>;
}

/// The delivery receipt of one email: the SES `Delivery` event of that message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptOf<'a> {
    pub message_id: &'a str,
    pub receipt: &'a DeliveryReceipt,
}

impl ReceiptOf<'_> {
    /// When the receiving server accepted the message, RFC 3339 with milliseconds (SES's own).
    pub fn at(&self) -> String {
        rfc3339_ms(self.receipt.at_ms)
    }

    /// The (first) recipient the receiving server accepted it for.
    pub fn recipient(&self) -> Option<&str> {
        self.receipt.recipients.first().map(String::as_str)
    }

    pub fn reporting_mta(&self) -> Option<&str> {
        self.receipt.reporting_mta.as_deref()
    }

    pub fn smtp_response(&self) -> Option<&str> {
        self.receipt.smtp_response.as_deref()
    }
}

/// The evidence's delivery receipt (contract sections 5, 9, 10): the SES `Delivery` event of the
/// newest email that has one, `None` when SES never reported a delivery.
pub fn delivery_receipt(record: &OrderRecord) -> Option<ReceiptOf<'_>> {
    emails(record).into_iter().rev().find_map(|e| {
        e.facts
            .and_then(|m| m.delivery.as_ref())
            .map(|receipt| ReceiptOf {
                message_id: e.message_id,
                receipt,
            })
    })
}

/// Every delivery receipt of the order, oldest email first.
pub fn delivery_receipts(record: &OrderRecord) -> Vec<ReceiptOf<'_>> {
    emails(record)
        .into_iter()
        .filter_map(|e| {
            e.facts
                .and_then(|m| m.delivery.as_ref())
                .map(|receipt| ReceiptOf {
                    message_id: e.message_id,
                    receipt,
                })
        })
        .collect()
}

pub use crate::clock::rfc3339_ms;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::FulfillmentState;

    fn state(status: DeliveryStatus, at_ms: i64) -> MessageFacts {
        MessageFacts {
            accepted_ms: None,
            state: Some(DeliveryState::new(status, at_ms, "")),
            delivery: (status == DeliveryStatus::Delivered).then(|| DeliveryReceipt {
                at_ms,
                recipients: vec!["c@example.com".into()],
                reporting_mta: Some("mta".into()),
                smtp_response: Some("250 ok".into()),
                processing_time_ms: None,
            }),
        }
    }

    fn sent_order() -> OrderRecord {
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.fulfillment.state = FulfillmentState::Sent;
        r.fulfillment.sent_at = Some(100);
        r.fulfillment.message_id = Some("m1".into());
        r
    }

    fn resent(r: &mut OrderRecord, id: &str, at: i64) {
        r.fulfillment.resends.push(resend::ResendRecord {
            key: id.into(),
            claimed_at: at,
            lease_until: None,
            sent_at: Some(at),
            message_id: Some(id.into()),
            product_id: None,
            recipient: None,
        });
    }

    #[test]
    fn given_a_bounced_first_email_when_a_resend_is_delivered_then_attention_clears() {
        // GIVEN the first email bounced
        let mut r = sent_order();
        r.facts
            .mail
            .insert("m1".into(), state(DeliveryStatus::Bounced, 101_000));
        assert!(delivery_failed(&r));
        assert_eq!(
            newest_delivery(&r).map(|s| s.status),
            Some(DeliveryStatus::Bounced)
        );
        // WHEN a resend goes out, no SES word yet: still failed, delivery unknown
        resent(&mut r, "m2", 200);
        assert!(delivery_failed(&r));
        assert_eq!(newest_delivery(&r), None);
        // WHEN it is delivered THEN attention clears and the receipt is the resend's
        r.facts
            .mail
            .insert("m2".into(), state(DeliveryStatus::Delivered, 201_000));
        assert!(!delivery_failed(&r));
        assert_eq!(delivery_receipt(&r).map(|d| d.message_id), Some("m2"));
        assert_eq!(
            delivery_receipt(&r).map(|d| d.at()).as_deref(),
            Some("1970-01-01T00:03:21.000Z")
        );
    }

    #[test]
    fn given_a_delivered_email_then_a_bounced_resend_when_checked_then_failed_but_receipt_kept() {
        let mut r = sent_order();
        r.facts
            .mail
            .insert("m1".into(), state(DeliveryStatus::Delivered, 101_000));
        resent(&mut r, "m2", 200);
        r.facts
            .mail
            .insert("m2".into(), state(DeliveryStatus::Bounced, 201_000));
        assert!(delivery_failed(&r));
        assert_eq!(delivery_receipt(&r).map(|d| d.message_id), Some("m1"));
        assert_eq!(emails(&r).len(), 2);
        assert!(emails(&r)[1].resend);
    }

    #[test]
    fn given_a_delivered_email_when_evidence_is_built_then_its_receipt_is_the_ses_delivery() {
        let mut r = sent_order();
        assert_eq!(crate::evidence::filing::delivery_receipt(&r), None);
        r.facts
            .mail
            .insert("m1".into(), state(DeliveryStatus::Delivered, 101_500));
        let receipt = crate::evidence::filing::delivery_receipt(&r).expect("a receipt");
        assert_eq!(receipt.at, 101);
        assert_eq!(receipt.message_id.as_deref(), Some("m1"));
        assert_eq!(receipt.smtp_response.as_deref(), Some("250 ok"));
    }

    #[test]
    fn given_unix_ms_when_formatted_then_rfc3339_with_millis() {
        assert_eq!(rfc3339_ms(1_778_227_252_786), "2026-05-08T08:00:52.786Z");
    }
}
