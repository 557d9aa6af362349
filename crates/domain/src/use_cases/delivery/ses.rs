//! SES events as EventBridge delivers them (`{"source": "aws.ses", "detail-type": …,
//! "detail": <SES event record>}`), parsed into lenient typed structs and then into the facts of
//! one message (contract section 10).
//!
//! Everything in a record is untrusted text from outside (the recipient's mail server writes the
//! SMTP response and the diagnostic codes): control characters are removed and every kept string
//! is bounded, so a record can neither break a log line nor grow the order item.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::facts::{DeliveryReceipt, DeliveryState, DeliveryStatus, MessageFacts};

/// Longest SMTP response, MTA name or detail kept, in characters.
pub const MAX_TEXT: usize = 300;
/// Most recipients kept from one `Delivery` record.
const MAX_RECIPIENTS: usize = 4;
/// Longest message id accepted (SES ids are about 60 characters).
pub const MAX_MESSAGE_ID: usize = 256;

/// Why a body is not an SES event (`400` on `POST /local/ses-events`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SesEventError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("`source` is not `aws.ses`")]
    NotSes,
    #[error("the SES record has no `detail.eventType`")]
    NoEventType,
    #[error("the SES record has no usable `detail.mail.messageId`")]
    NoMessageId,
}

/// The SES event types contract section 10 records, and every other one (opens, clicks,
/// rendering failures, subscriptions: acknowledged and ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SesEventType {
    Send,
    Delivery,
    Bounce,
    Complaint,
    DeliveryDelay,
    Reject,
    Other(String),
}

impl SesEventType {
    fn parse(s: &str) -> Self {
        match s {
            "Send" => Self::Send,
            "Delivery" => Self::Delivery,
            "Bounce" => Self::Bounce,
            "Complaint" => Self::Complaint,
            "DeliveryDelay" => Self::DeliveryDelay,
            "Reject" => Self::Reject,
            other => Self::Other(clean(other, 40)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Send => "Send",
            Self::Delivery => "Delivery",
            Self::Bounce => "Bounce",
            Self::Complaint => "Complaint",
            Self::DeliveryDelay => "DeliveryDelay",
            Self::Reject => "Reject",
            Self::Other(s) => s,
        }
    }
}

/// One SES event, reduced to what the order keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesEvent {
    /// `detail.mail.messageId`: how the order is found.
    pub message_id: String,
    pub event_type: SesEventType,
    /// The facts to fold into the order's message; `None` for an ignored event type.
    pub facts: Option<MessageFacts>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    detail: Option<Record>,
}

/// The SES event record (`detail`). SES also publishes `notificationType` instead of
/// `eventType` through SNS; EventBridge carries `eventType`.
#[derive(Deserialize)]
struct Record {
    #[serde(default, rename = "eventType")]
    event_type: Option<String>,
    #[serde(default)]
    mail: Option<Mail>,
    #[serde(default)]
    delivery: Option<Delivery>,
    #[serde(default)]
    bounce: Option<Bounce>,
    #[serde(default)]
    complaint: Option<Complaint>,
    #[serde(default, rename = "deliveryDelay")]
    delivery_delay: Option<DeliveryDelay>,
    #[serde(default)]
    reject: Option<Reject>,
}

#[derive(Deserialize)]
struct Mail {
    #[serde(default, rename = "messageId")]
    message_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    recipients: Vec<String>,
    #[serde(default, rename = "smtpResponse")]
    smtp_response: Option<String>,
    #[serde(default, rename = "reportingMTA")]
    reporting_mta: Option<String>,
    #[serde(default, rename = "processingTimeMillis")]
    processing_time_millis: Option<i64>,
}

#[derive(Deserialize)]
struct Bounce {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default, rename = "bounceType")]
    bounce_type: Option<String>,
    #[serde(default, rename = "bounceSubType")]
    bounce_sub_type: Option<String>,
    #[serde(default, rename = "bouncedRecipients")]
    bounced_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(default, rename = "diagnosticCode")]
    diagnostic_code: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct Complaint {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default, rename = "complaintFeedbackType")]
    feedback_type: Option<String>,
    #[serde(default, rename = "complaintSubType")]
    sub_type: Option<String>,
}

#[derive(Deserialize)]
struct DeliveryDelay {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default, rename = "delayType")]
    delay_type: Option<String>,
    #[serde(default, rename = "delayedRecipients")]
    delayed_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Reject {
    #[serde(default)]
    reason: Option<String>,
}

impl SesEvent {
    /// Parses one EventBridge event carrying an SES event record.
    pub fn parse(body: &[u8]) -> Result<Self, SesEventError> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| SesEventError::NotJson(e.to_string()))?;
        if envelope.source.as_deref() != Some("aws.ses") {
            return Err(SesEventError::NotSes);
        }
        let record = envelope.detail.ok_or(SesEventError::NoEventType)?;
        let event_type = record
            .event_type
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(SesEventType::parse)
            .ok_or(SesEventError::NoEventType)?;
        let mail = record.mail.as_ref();
        let message_id = mail
            .and_then(|m| m.message_id.as_deref())
            .map(str::trim)
            .filter(|id| valid_message_id(id))
            .ok_or(SesEventError::NoMessageId)?
            .to_owned();
        let accepted_ms = mail.and_then(|m| m.timestamp.as_deref()).and_then(millis);
        // The record's own time, else when SES accepted the message, else EventBridge's.
        let fallback_ms = accepted_ms.or_else(|| envelope.time.as_deref().and_then(millis));
        let at = |own: Option<&String>| own.and_then(|t| millis(t)).or(fallback_ms);

        let state = |status: DeliveryStatus, at_ms: Option<i64>, detail: String| {
            at_ms.map(|at_ms| DeliveryState::new(status, at_ms, detail))
        };
        let mut receipt = None;
        let verdict = match &event_type {
            SesEventType::Send => state(DeliveryStatus::Sent, fallback_ms, String::new()),
            SesEventType::Delivery => {
                let d = record.delivery.as_ref();
                let at_ms = at(d.and_then(|d| d.timestamp.as_ref()));
                let smtp = d.and_then(|d| d.smtp_response.as_deref()).map(text);
                if let (Some(d), Some(at_ms)) = (d, at_ms) {
                    receipt = Some(DeliveryReceipt {
                        at_ms,
                        recipients: d
                            .recipients
                            .iter()
                            .take(MAX_RECIPIENTS)
                            .map(|r| text(r))
                            .collect(),
                        reporting_mta: d.reporting_mta.as_deref().map(text),
                        smtp_response: smtp.clone(),
                        processing_time_ms: d.processing_time_millis,
                    });
                }
                state(DeliveryStatus::Delivered, at_ms, smtp.unwrap_or_default())
            }
            SesEventType::Bounce => {
                let b = record.bounce.as_ref();
                let kind = join(&[
                    b.and_then(|b| b.bounce_type.as_deref()),
                    b.and_then(|b| b.bounce_sub_type.as_deref()),
                ]);
                let diagnostic = b.and_then(|b| first_diagnostic(&b.bounced_recipients));
                let detail = match diagnostic {
                    Some(d) => format!("{kind}: {d}"),
                    None => kind,
                };
                state(
                    DeliveryStatus::Bounced,
                    at(b.and_then(|b| b.timestamp.as_ref())),
                    text(&detail),
                )
            }
            SesEventType::Complaint => {
                let c = record.complaint.as_ref();
                let kind = join(&[
                    c.and_then(|c| c.feedback_type.as_deref()),
                    c.and_then(|c| c.sub_type.as_deref()),
                ]);
                state(
                    DeliveryStatus::Complained,
                    at(c.and_then(|c| c.timestamp.as_ref())),
                    text(if kind.is_empty() { "complaint" } else { &kind }),
                )
            }
            SesEventType::DeliveryDelay => {
                let d = record.delivery_delay.as_ref();
                let kind = d
                    .and_then(|d| d.delay_type.as_deref())
                    .unwrap_or("")
                    .to_owned();
                let detail = match d.and_then(|d| first_diagnostic(&d.delayed_recipients)) {
                    Some(diag) if !kind.is_empty() => format!("{kind}: {diag}"),
                    Some(diag) => diag,
                    None => kind,
                };
                state(
                    DeliveryStatus::Delayed,
                    at(d.and_then(|d| d.timestamp.as_ref())),
                    text(&detail),
                )
            }
            SesEventType::Reject => state(
                DeliveryStatus::Rejected,
                fallback_ms,
                text(
                    record
                        .reject
                        .as_ref()
                        .and_then(|r| r.reason.as_deref())
                        .unwrap_or(""),
                ),
            ),
            SesEventType::Other(_) => None,
        };
        let facts = match event_type {
            SesEventType::Other(_) => None,
            _ => Some(MessageFacts {
                accepted_ms,
                state: verdict,
                delivery: receipt,
            }),
        };
        Ok(SesEvent {
            message_id,
            event_type,
            facts,
        })
    }
}

/// An SES message id as it can be a key: printable ASCII without separators, bounded.
pub fn valid_message_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'#' | b'/' | b'\\'))
}

/// RFC 3339 to Unix milliseconds.
pub fn millis(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

fn first_diagnostic(recipients: &[Recipient]) -> Option<String> {
    recipients.iter().find_map(|r| {
        r.diagnostic_code
            .as_deref()
            .or(r.status.as_deref())
            .filter(|d| !d.trim().is_empty())
            .map(str::to_owned)
    })
}

fn join(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

fn text(s: &str) -> String {
    clean(s, MAX_TEXT)
}

/// Control characters (and Unicode line separators) removed, blanks trimmed, bounded.
fn clean(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "version": "0",
            "source": "aws.ses",
            "detail-type": "Email Delivered",
            "time": "2026-05-08T08:00:53Z",
            "detail": detail
        }))
        .unwrap()
    }

    #[test]
    fn given_a_delivery_record_when_parsed_then_the_receipt_and_state() {
        let body = event(serde_json::json!({
            "eventType": "Delivery",
            "mail": {"timestamp": "2026-05-08T08:00:51.240Z", "messageId": "0100-abc"},
            "delivery": {
                "timestamp": "2026-05-08T08:00:52.786Z",
                "processingTimeMillis": 1546,
                "recipients": ["jordan.lee@example.com"],
                "smtpResponse": "250 2.6.0 Message received\r\nBcc: x",
                "reportingMTA": "a8-70.smtp-out.amazonses.com"
            }
        }));
        let e = SesEvent::parse(&body).unwrap();
        assert_eq!(e.message_id, "0100-abc");
        assert_eq!(e.event_type, SesEventType::Delivery);
        let f = e.facts.unwrap();
        assert_eq!(f.accepted_ms, Some(1_778_227_251_240));
        let state = f.state.unwrap();
        assert_eq!(state.status, DeliveryStatus::Delivered);
        assert_eq!(state.at_ms, 1_778_227_252_786);
        assert_eq!(state.detail, "250 2.6.0 Message receivedBcc: x");
        let r = f.delivery.unwrap();
        assert_eq!(r.recipients, vec!["jordan.lee@example.com".to_owned()]);
        assert_eq!(
            r.reporting_mta.as_deref(),
            Some("a8-70.smtp-out.amazonses.com")
        );
        assert_eq!(r.processing_time_ms, Some(1546));
    }

    #[test]
    fn given_a_bounce_when_parsed_then_its_type_and_diagnostic() {
        let body = event(serde_json::json!({
            "eventType": "Bounce",
            "mail": {"timestamp": "2026-05-08T08:00:51Z", "messageId": "m1"},
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                "timestamp": "2026-05-08T08:00:52Z",
                "bouncedRecipients": [{"emailAddress": "x@example.com",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}
        }));
        let state = SesEvent::parse(&body)
            .unwrap()
            .facts
            .unwrap()
            .state
            .unwrap();
        assert_eq!(state.status, DeliveryStatus::Bounced);
        assert_eq!(
            state.detail,
            "Permanent/General: smtp; 550 5.1.1 user unknown"
        );
    }

    #[test]
    fn given_an_open_event_when_parsed_then_ignored_without_facts() {
        let body = event(serde_json::json!({
            "eventType": "Open", "mail": {"messageId": "m1"}, "open": {}
        }));
        let e = SesEvent::parse(&body).unwrap();
        assert_eq!(e.event_type, SesEventType::Other("Open".into()));
        assert_eq!(e.facts, None);
    }

    #[test]
    fn given_bodies_that_are_not_ses_events_when_parsed_then_refused() {
        let cases: [(&[u8], SesEventError); 5] = [
            (b"not json", SesEventError::NotJson(String::new())),
            (
                br#"{"source":"aws.s3","detail":{"eventType":"Send","mail":{"messageId":"m"}}}"#,
                SesEventError::NotSes,
            ),
            (
                br#"{"source":"aws.ses","detail":{"mail":{"messageId":"m"}}}"#,
                SesEventError::NoEventType,
            ),
            (
                br#"{"source":"aws.ses","detail":{"eventType":"Send","mail":{}}}"#,
                SesEventError::NoMessageId,
            ),
            (
                br#"{"source":"aws.ses","detail":{"eventType":"Send","mail":{"messageId":"a#b"}}}"#,
                SesEventError::NoMessageId,
            ),
        ];
        for (body, expected) in cases {
            let got = SesEvent::parse(body).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&got),
                std::mem::discriminant(&expected),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
