//! What SES told us about one delivery email, kept per SES message id and merged like every
//! other fact (commutative, associative, idempotent), so SES events may arrive in any order and
//! any number of times.
//!
//! - the state of the message is a max-register over `(class, time, status, detail)`: a bounce,
//!   complaint or rejection (class 1) wins over a send, delay or delivery (class 0); within a
//!   class the SES record's own time decides, then the status (send < delayed < delivered), so a
//!   `Delivery` that arrives before its `Send` still reads delivered;
//! - the `Delivery` receipt (time, recipients, reporting MTA, SMTP response) is kept on its own,
//!   the earliest one, so a later complaint does not hide the proof that the mailbox took it;
//! - the time SES accepted the message (`mail.timestamp`) is the earliest seen.

use serde::{Deserialize, Serialize};

/// Where one email stands, as `fulfillment.delivery.status` shows it (contract section 10).
///
/// Declaration order is the tie-break within one class at equal time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    Sent,
    Delayed,
    Delivered,
    Bounced,
    Complained,
    Rejected,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        DeliveryStatus::Sent,
        DeliveryStatus::Delayed,
        DeliveryStatus::Delivered,
        DeliveryStatus::Bounced,
        DeliveryStatus::Complained,
        DeliveryStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delayed => "delayed",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Complained => "complained",
            DeliveryStatus::Rejected => "rejected",
        }
    }

    /// The email did not (or, for a complaint, should no longer) reach the customer: the seller
    /// is asked to act (`delivery_failed`).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Bounced | DeliveryStatus::Complained | DeliveryStatus::Rejected
        )
    }

    /// 1 for a failure, 0 otherwise: a failure wins over any delivery or delay.
    fn class(self) -> u8 {
        u8::from(self.is_failure())
    }
}

/// One SES event's verdict on a message: the candidate value of the message's state register.
///
/// Field order is the merge order (derived `Ord`): class, then the SES record's time, then the
/// status, then the detail only to break exact ties deterministically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryState {
    #[serde(rename = "c")]
    class: u8,
    /// The SES record's own time, Unix milliseconds.
    #[serde(rename = "t")]
    pub at_ms: i64,
    #[serde(rename = "s")]
    pub status: DeliveryStatus,
    /// The SMTP response, or the bounce / complaint / delay type, or the rejection reason.
    #[serde(rename = "d", default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl DeliveryState {
    pub fn new(status: DeliveryStatus, at_ms: i64, detail: impl Into<String>) -> Self {
        Self {
            class: status.class(),
            at_ms,
            status,
            detail: detail.into(),
        }
    }
}

/// The SES `Delivery` event: the receiving mail server accepted the message. What a seller shows
/// a bank as the delivery receipt (contract sections 5, 9, 10).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryReceipt {
    /// `delivery.timestamp`, Unix milliseconds.
    #[serde(rename = "t")]
    pub at_ms: i64,
    /// `delivery.recipients`.
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// `delivery.reportingMTA`: the SES host that handed the message over.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub reporting_mta: Option<String>,
    /// `delivery.smtpResponse`: the receiving server's own answer.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub smtp_response: Option<String>,
    /// `delivery.processingTimeMillis`.
    #[serde(rename = "ms", default, skip_serializing_if = "Option::is_none")]
    pub processing_time_ms: Option<i64>,
}

/// Everything SES told us about one message of an order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFacts {
    /// `mail.timestamp`: when SES accepted the message (Unix ms). The earliest seen.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub accepted_ms: Option<i64>,
    /// The winning state (see the module docs).
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DeliveryState>,
    /// The earliest `Delivery` event.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryReceipt>,
}

impl MessageFacts {
    /// Folds `other` in. Commutative, associative and idempotent: a min, a max and a min.
    pub fn merge(&mut self, other: &MessageFacts) {
        if let Some(o) = other.accepted_ms {
            self.accepted_ms = Some(self.accepted_ms.map_or(o, |m| m.min(o)));
        }
        if let Some(o) = &other.state {
            if self.state.as_ref().is_none_or(|m| o > m) {
                self.state = Some(o.clone());
            }
        }
        if let Some(o) = &other.delivery {
            if self.delivery.as_ref().is_none_or(|m| o < m) {
                self.delivery = Some(o.clone());
            }
        }
    }

    pub fn status(&self) -> Option<DeliveryStatus> {
        self.state.as_ref().map(|s| s.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(status: DeliveryStatus, at_ms: i64) -> MessageFacts {
        MessageFacts {
            accepted_ms: Some(1_000),
            state: Some(DeliveryState::new(status, at_ms, status.as_str())),
            delivery: (status == DeliveryStatus::Delivered).then(|| DeliveryReceipt {
                at_ms,
                recipients: vec!["a@example.com".into()],
                reporting_mta: Some("a8-70.smtp-out.amazonses.com".into()),
                smtp_response: Some("250 ok".into()),
                processing_time_ms: Some(5),
            }),
        }
    }

    fn fold(parts: &[MessageFacts]) -> MessageFacts {
        let mut m = MessageFacts::default();
        for p in parts {
            m.merge(p);
        }
        m
    }

    #[test]
    fn given_a_delivery_before_its_send_when_merged_then_delivered() {
        // GIVEN the Delivery (t=2000) folded before the Send (t=1000)
        let m = fold(&[
            with(DeliveryStatus::Delivered, 2_000),
            with(DeliveryStatus::Sent, 1_000),
        ]);
        // THEN it reads delivered, with its receipt
        assert_eq!(m.status(), Some(DeliveryStatus::Delivered));
        assert_eq!(m.delivery.as_ref().map(|d| d.at_ms), Some(2_000));
    }

    #[test]
    fn given_a_bounce_after_a_delay_or_a_delivery_when_merged_in_any_order_then_bounced() {
        for parts in [
            vec![
                with(DeliveryStatus::Delayed, 3_000),
                with(DeliveryStatus::Bounced, 2_000),
            ],
            vec![
                with(DeliveryStatus::Bounced, 2_000),
                with(DeliveryStatus::Delivered, 9_000),
            ],
        ] {
            let forward = fold(&parts);
            let mut reversed = parts.clone();
            reversed.reverse();
            assert_eq!(forward.status(), Some(DeliveryStatus::Bounced));
            assert_eq!(forward, fold(&reversed));
        }
    }

    #[test]
    fn given_a_delivery_then_a_complaint_when_merged_then_complained_and_the_receipt_kept() {
        let m = fold(&[
            with(DeliveryStatus::Complained, 5_000),
            with(DeliveryStatus::Delivered, 2_000),
        ]);
        assert_eq!(m.status(), Some(DeliveryStatus::Complained));
        assert_eq!(
            m.delivery.and_then(|d| d.smtp_response).as_deref(),
            Some("250 ok")
        );
    }

    #[test]
    fn given_a_delay_then_a_delivery_at_the_same_millisecond_when_merged_then_delivered() {
        let m = fold(&[
            with(DeliveryStatus::Delivered, 2_000),
            with(DeliveryStatus::Delayed, 2_000),
        ]);
        assert_eq!(m.status(), Some(DeliveryStatus::Delivered));
        // AND a later delay (a second recipient's server) still moves it, in time order
        let later = fold(&[m, with(DeliveryStatus::Delayed, 4_000)]);
        assert_eq!(later.status(), Some(DeliveryStatus::Delayed));
    }
}
