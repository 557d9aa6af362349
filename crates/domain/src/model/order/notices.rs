//! What the backend recorded about each seller notification of an order (contract section 12),
//! by occurrence key (`notify::Occurrence::key`): the claim taken before the email is sent, and
//! then that it was sent or why it was not. Part of the model so that `Facts` can hold it; the
//! `notify` use case decides and writes it.
//!
//! Merged like every other fact: commutative, associative and idempotent (the earliest outcome
//! wins, the greatest claim and attempt count win), so a notice recorded once stays recorded
//! whatever order writes arrive in.

use serde::{Deserialize, Serialize};

use super::reg::{merge_reg, Reg};

/// Notices one order keeps at most: more than its bounded sources can ever produce (32 disputes
/// with three notices each, 16 messages, 32 warnings), so no recorded notice is ever dropped
/// and fired again; the bound only protects the item.
pub const MAX_NOTICES: usize = 192;

/// The kinds of notification a seller can turn off (`notify` in the settings, contract
/// section 11), each named as the settings and the outbox file name spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Dispute,
    DeliveryFailed,
    FailurePattern,
    EarlyFraudWarning,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::Dispute,
        NoticeKind::DeliveryFailed,
        NoticeKind::FailurePattern,
        NoticeKind::EarlyFraudWarning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Dispute => "dispute",
            NoticeKind::DeliveryFailed => "delivery_failed",
            NoticeKind::FailurePattern => "failure_pattern",
            NoticeKind::EarlyFraudWarning => "early_fraud_warning",
        }
    }
}

/// One notification's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFact {
    /// The newest claim: taken with a conditional write before the mailer is called, handed
    /// back (its `until` lowered) after a transient failure.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<NoticeClaim>,
    /// The mailer accepted it: the earliest wins.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<NoticeSent>,
    /// Not sent, and never will be: the earliest wins.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<NoticeSkipped>,
    /// The newest transient failure in words (never an address).
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<Reg<String>>,
}

/// A claim: whoever holds an unexpired one is the only one who may send; a crashed sender's
/// claim is taken over after `until`. Each claim is a new attempt, and only the writer whose
/// conditional write won may take attempt `n`, so two values of one attempt are that claim and
/// its release: the greater attempt wins, then the earlier `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeClaim {
    #[serde(rename = "n")]
    pub attempt: u32,
    #[serde(rename = "u")]
    pub until: i64,
}

impl NoticeClaim {
    fn rank(self) -> (u32, std::cmp::Reverse<i64>) {
        (self.attempt, std::cmp::Reverse(self.until))
    }
}

/// The email went out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NoticeSent {
    #[serde(rename = "t")]
    pub at: i64,
    /// The mailer's message id. Never linked to the order (section 12: SES events about a
    /// seller's email are not the order's delivery).
    #[serde(rename = "m")]
    pub message_id: String,
}

/// Why a notification was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeSkip {
    /// The seller turned this kind off (`notify`).
    KindOff,
    /// No `notify_email` and no email on the Stripe account.
    NoAddress,
    /// Another notice's email said it too (a dispute first seen as an escalated inquiry: one
    /// email says both).
    Covered,
    /// The mailer refused the message for good (an address it will not send to).
    Rejected,
    /// Transient failures used up the attempts.
    GaveUp,
}

impl NoticeSkip {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeSkip::KindOff => "kind_off",
            NoticeSkip::NoAddress => "no_address",
            NoticeSkip::Covered => "covered",
            NoticeSkip::Rejected => "rejected",
            NoticeSkip::GaveUp => "gave_up",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NoticeSkipped {
    #[serde(rename = "t")]
    pub at: i64,
    #[serde(rename = "w")]
    pub why: NoticeSkip,
}

impl NoticeFact {
    pub fn merge(&mut self, other: &NoticeFact) {
        if let Some(theirs) = other.claim {
            if self.claim.is_none_or(|mine| theirs.rank() > mine.rank()) {
                self.claim = Some(theirs);
            }
        }
        if let Some(theirs) = &other.sent {
            if self.sent.as_ref().is_none_or(|mine| theirs < mine) {
                self.sent = Some(theirs.clone());
            }
        }
        if let Some(theirs) = other.skipped {
            if self.skipped.is_none_or(|mine| theirs < mine) {
                self.skipped = Some(theirs);
            }
        }
        merge_reg(&mut self.last_error, &other.last_error);
    }

    /// Sent, or settled as not to be sent: nothing more to do.
    pub fn done(&self) -> bool {
        self.sent.is_some() || self.skipped.is_some()
    }

    /// Claims taken so far (each one send).
    pub fn attempts(&self) -> u32 {
        self.claim.map_or(0, |c| c.attempt)
    }

    /// The claim that holds at `now`, if any (a done notice holds none).
    pub fn live_claim(&self, now: i64) -> Option<NoticeClaim> {
        self.claim.filter(|c| !self.done() && c.until > now)
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error
            .as_ref()
            .map(|r| r.value.as_str())
            .filter(|e| !e.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants() -> Vec<NoticeFact> {
        let claim = |until, attempt| Some(NoticeClaim { attempt, until });
        vec![
            NoticeFact::default(),
            NoticeFact {
                claim: claim(100, 1),
                ..NoticeFact::default()
            },
            NoticeFact {
                // The release of attempt 1: the same attempt, an earlier `until`.
                claim: claim(40, 1),
                ..NoticeFact::default()
            },
            NoticeFact {
                claim: claim(200, 2),
                last_error: Some(Reg::new(0, 150, "timeout".to_owned())),
                ..NoticeFact::default()
            },
            NoticeFact {
                sent: Some(NoticeSent {
                    at: 120,
                    message_id: "m1".into(),
                }),
                ..NoticeFact::default()
            },
            NoticeFact {
                sent: Some(NoticeSent {
                    at: 130,
                    message_id: "m0".into(),
                }),
                ..NoticeFact::default()
            },
            NoticeFact {
                skipped: Some(NoticeSkipped {
                    at: 90,
                    why: NoticeSkip::KindOff,
                }),
                ..NoticeFact::default()
            },
        ]
    }

    fn merged(a: &NoticeFact, b: &NoticeFact) -> NoticeFact {
        let mut out = a.clone();
        out.merge(b);
        out
    }

    #[test]
    fn given_any_two_or_three_records_when_merged_then_commutative_associative_idempotent() {
        let all = variants();
        for a in &all {
            assert_eq!(&merged(a, a), a, "idempotent");
            for b in &all {
                assert_eq!(merged(a, b), merged(b, a), "commutative");
                for c in &all {
                    assert_eq!(
                        merged(&merged(a, b), c),
                        merged(a, &merged(b, c)),
                        "associative"
                    );
                }
            }
        }
    }

    #[test]
    fn given_a_sent_notice_when_a_late_claim_arrives_then_it_stays_sent_and_holds_no_claim() {
        // GIVEN a notice recorded as sent
        let sent = &variants()[4];
        // WHEN a stale claim write is merged in (a retried write from a crashed sender)
        let both = merged(sent, &variants()[3]);
        // THEN it is still done and no claim holds
        assert!(both.done());
        assert_eq!(both.live_claim(0), None);
    }

    #[test]
    fn given_a_claim_when_its_release_is_merged_in_either_order_then_released() {
        let all = variants();
        let (claimed, released) = (&all[1], &all[2]);
        assert_eq!(merged(claimed, released).live_claim(50), None);
        assert_eq!(merged(released, claimed).live_claim(50), None);
        assert!(claimed.live_claim(50).is_some());
    }
}
