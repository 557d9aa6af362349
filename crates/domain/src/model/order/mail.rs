//! The order's emails as the model knows them: the first delivery email, every resend the seller
//! asked for (what each was, where it went), and what SES said about each message
//! ([`crate::order::message_facts`]); and what is derived from them (the newest email's delivery, and
//! whether the seller must act on a failed one). Use cases (`delivery`, `fulfillment`) read and
//! write these; this module names no use case.

use serde::{Deserialize, Serialize};

use super::OrderRecord;
use crate::order::message_facts::{DeliveryState, DeliveryStatus, MessageFacts};

/// How many SES messages an order keeps facts about (the newest by acceptance time).
pub const MAX_MESSAGES: usize = 16;

/// One resend the seller asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendRecord {
    /// The request's key (`Idempotency-Key`, or one made for the request).
    #[serde(rename = "k")]
    pub key: String,
    /// When the request claimed its slot (Unix seconds): what the limit counts.
    #[serde(rename = "c")]
    pub claimed_at: i64,
    /// While the email is being sent: until when the claim holds.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// SES's message id, once SES accepted the email.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The product the resent link names.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Where this resend went when the seller gave a corrected address (after a bounce); `None`:
    /// the order's customer email from Stripe, which the order keeps either way.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

/// One email of an order, oldest first in [`emails`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRef<'a> {
    pub message_id: &'a str,
    /// When it was sent (ours), else when SES accepted it, Unix ms.
    pub sent_ms: i64,
    /// A resend the seller asked for (not the automatic first email).
    pub resend: bool,
    /// What SES said about it, if anything yet.
    pub facts: Option<&'a MessageFacts>,
}

impl EmailRef<'_> {
    pub fn status(&self) -> Option<DeliveryStatus> {
        self.facts.and_then(MessageFacts::status)
    }
}

/// Every email of the order, oldest first (ties by message id).
pub fn emails(record: &OrderRecord) -> Vec<EmailRef<'_>> {
    let mail = &record.facts.mail;
    let mut out: Vec<EmailRef<'_>> = Vec::new();
    let f = &record.fulfillment;
    let mut ours: Vec<(&str, i64, bool)> = Vec::new();
    if let Some(id) = f.message_id.as_deref() {
        ours.push((id, f.sent_at.unwrap_or(0), false));
    }
    for r in &f.resends {
        if let Some(id) = r.message_id.as_deref() {
            ours.push((id, r.sent_at.unwrap_or(r.claimed_at), true));
        }
    }
    for (id, secs, resend) in ours {
        if out.iter().any(|e| e.message_id == id) {
            continue;
        }
        out.push(EmailRef {
            message_id: id,
            sent_ms: secs.saturating_mul(1000),
            resend,
            facts: mail.get(id),
        });
    }
    for (id, m) in mail {
        if out.iter().any(|e| e.message_id == id.as_str()) {
            continue;
        }
        out.push(EmailRef {
            message_id: id,
            sent_ms: m
                .accepted_ms
                .or(m.state.as_ref().map(|s| s.at_ms))
                .unwrap_or(0),
            resend: false,
            facts: Some(m),
        });
    }
    out.sort_by(|a, b| (a.sent_ms, a.message_id).cmp(&(b.sent_ms, b.message_id)));
    out
}

/// `fulfillment.delivery`: the newest email's SES state, `None` until SES reported on it.
pub fn newest_delivery(record: &OrderRecord) -> Option<&DeliveryState> {
    emails(record)
        .last()
        .and_then(|e| e.facts)
        .and_then(|m| m.state.as_ref())
}

/// `delivery_failed` in `attention`: an email bounced, drew a complaint or was rejected, and no
/// email sent after it has been delivered.
pub fn delivery_failed(record: &OrderRecord) -> bool {
    let emails = emails(record);
    let Some(last_failed) = emails
        .iter()
        .rposition(|e| e.status().is_some_and(DeliveryStatus::is_failure))
    else {
        return false;
    };
    !emails[last_failed + 1..]
        .iter()
        .any(|e| e.status() == Some(DeliveryStatus::Delivered))
}
