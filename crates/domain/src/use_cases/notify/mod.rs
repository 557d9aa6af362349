//! Telling the seller (contract section 12, "Notifications"): which emails an order owes its
//! seller, and the claim discipline that sends each exactly once.
//!
//! Pure, no I/O. An *occurrence* is something the seller is told about once: a dispute that
//! became open, an inquiry that escalated to a chargeback, an automatic evidence submission (per
//! phase), the failure of the order's newest delivery email (per SES message), an early fraud
//! warning once the refund rule decided. Each has a stable key derived from the order's facts
//! ([`occurrences`]); `Facts::notices` records, by that key, the claim and then the outcome
//! (sent, or why not). [`pending`] is what is still owed; the stream consumer (the fulfillment
//! function) sends it with the delivery email's discipline:
//!
//! 1. read the order; [`claim`] decides, on the order as read, whether this sender may send;
//! 2. write the claim conditionally on the version read (a lost race re-reads and decides
//!    again); only the winner calls the mailer;
//! 3. record [`sent`] (or [`skipped`], [`released`]) on the order as it is then.
//!
//! A crashed sender's claim is taken over once its lease has expired, so the only window for a
//! second email is a crash between the mailer accepting the message and `sent` being written
//! (the delivery email's window, `docs/fulfillment.md`).
//!
//! The seller-level `failure_pattern` is claimed in a small record of its own per seller and
//! day ([`failure_pattern`]), with the same facts and discipline.
//!

pub mod email;
pub mod failure_pattern;

use std::collections::BTreeMap;

use crate::delivery::facts::DeliveryStatus;
use crate::order::facts::{dispute_is_closed, DisputePhase, Facts, Reg, Submitter};
pub use crate::order::notices::{
    NoticeClaim, NoticeFact, NoticeKind, NoticeSent, NoticeSkip, NoticeSkipped,
};
use crate::order::OrderRecord;
use crate::settings::Notify;

/// Ids longer than this (untrusted text from Stripe or SES) make no occurrence key.
const MAX_ID_CHARS: usize = 200;

/// What happened, with the ids the email needs to find its facts again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occasion {
    /// A dispute id became open.
    DisputeOpened { dispute_id: String },
    /// An inquiry (`warning_*`) escalated to a chargeback on the same dispute id.
    DisputeEscalated { dispute_id: String },
    /// The backend submitted the evidence of this phase by itself.
    AutoSubmitted {
        dispute_id: String,
        phase: DisputePhase,
    },
    /// The order's newest delivery email bounced, was rejected or drew a complaint.
    DeliveryFailed {
        message_id: String,
        status: DeliveryStatus,
        detail: String,
    },
    /// An early fraud warning, once the seller's refund rule decided about it.
    FraudWarning { warning_id: String },
}

/// One thing the seller is told about once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Stable, derived from the facts: `Facts::notices`' key.
    pub key: String,
    pub kind: NoticeKind,
    pub occasion: Occasion,
    /// When it happened (Unix seconds), when the facts say.
    pub at: Option<i64>,
    /// Other occurrences this one's email also says: recorded `covered` with it.
    pub covers: Vec<String>,
}

impl Occurrence {
    fn new(key: String, kind: NoticeKind, occasion: Occasion, at: Option<i64>) -> Self {
        Self {
            key,
            kind,
            occasion,
            at,
            covers: Vec::new(),
        }
    }

    /// Every key recorded with this occurrence's outcome.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.covers.iter().map(String::as_str))
    }
}

fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_ID_CHARS
}

/// Every occurrence the order's facts hold today, recorded or not, in a stable order.
pub fn occurrences(record: &OrderRecord) -> Vec<Occurrence> {
    let facts = &record.facts;
    let mut out = Vec::new();
    for (id, d) in facts.disputes.iter().filter(|(id, _)| id_ok(id)) {
        // A dispute already over when first seen is not news to act on.
        if dispute_is_closed(d.status()) {
            continue;
        }
        let first = d.history.iter().map(|e| e.0).min();
        out.push(Occurrence::new(
            format!("d:{id}"),
            NoticeKind::Dispute,
            Occasion::DisputeOpened {
                dispute_id: id.clone(),
            },
            d.created.or(first),
        ));
        let was_inquiry = d.history.iter().any(|e| e.2.starts_with("warning_"));
        if was_inquiry && d.phase() == DisputePhase::Chargeback {
            let escalated_at = d
                .history
                .iter()
                .filter(|e| !e.2.starts_with("warning_"))
                .map(|e| e.0)
                .min();
            out.push(Occurrence::new(
                format!("e:{id}"),
                NoticeKind::Dispute,
                Occasion::DisputeEscalated {
                    dispute_id: id.clone(),
                },
                escalated_at,
            ));
        }
    }
    for (key, evidence) in facts.dispute_evidence.iter().filter(|(k, _)| id_ok(k)) {
        if evidence.submitted_by != Some(Submitter::Auto) || evidence.submitted_at.is_none() {
            continue;
        }
        let (dispute_id, phase) = match key.strip_suffix("#inquiry") {
            Some(id) => (id, DisputePhase::Inquiry),
            None => (key.as_str(), DisputePhase::Chargeback),
        };
        out.push(Occurrence::new(
            format!("a:{key}"),
            NoticeKind::Dispute,
            Occasion::AutoSubmitted {
                dispute_id: dispute_id.to_owned(),
                phase,
            },
            evidence.submitted_at,
        ));
    }
    if crate::order::mail::delivery_failed(record) {
        let emails = crate::order::mail::emails(record);
        if let Some(failed) = emails
            .iter()
            .rev()
            .find(|e| e.status().is_some_and(DeliveryStatus::is_failure))
            .filter(|e| id_ok(e.message_id))
        {
            let state = failed.facts.and_then(|m| m.state.as_ref());
            if let Some(state) = state {
                out.push(Occurrence::new(
                    format!("m:{}", failed.message_id),
                    NoticeKind::DeliveryFailed,
                    Occasion::DeliveryFailed {
                        message_id: failed.message_id.to_owned(),
                        status: state.status,
                        detail: state.detail.clone(),
                    },
                    Some(state.at_ms.div_euclid(1000)),
                ));
            }
        }
    }
    for (id, action) in facts.warning_actions.iter().filter(|(id, _)| id_ok(id)) {
        let Some(decided) = action.decided else {
            continue;
        };
        // Sent once the rule's outcome is known: not refunding, refunded, or failing (and
        // retried by the sweep).
        let settled = !decided.decision.refunds()
            || action.requested.is_some()
            || action.last_error().is_some();
        if settled {
            out.push(Occurrence::new(
                format!("w:{id}"),
                NoticeKind::EarlyFraudWarning,
                Occasion::FraudWarning {
                    warning_id: id.clone(),
                },
                Some(decided.at),
            ));
        }
    }
    out
}

/// The occurrences still owed (not sent, not settled as not to be sent), an escalation folded
/// into its dispute's first notice when both are owed (one email says both).
pub fn pending(record: &OrderRecord) -> Vec<Occurrence> {
    let done = |key: &str| record.facts.notices.get(key).is_some_and(NoticeFact::done);
    let mut owed: Vec<Occurrence> = occurrences(record)
        .into_iter()
        .filter(|o| !done(&o.key))
        .collect();
    let escalations: Vec<(String, String)> = owed
        .iter()
        .filter_map(|o| match &o.occasion {
            Occasion::DisputeEscalated { dispute_id } => Some((dispute_id.clone(), o.key.clone())),
            _ => None,
        })
        .collect();
    for (dispute_id, key) in escalations {
        let opened = owed.iter_mut().find(|o| {
            matches!(&o.occasion, Occasion::DisputeOpened { dispute_id: d } if *d == dispute_id)
        });
        if let Some(opened) = opened {
            opened.covers.push(key.clone());
            owed.retain(|o| o.key != key);
        }
    }
    owed
}

/// Whether the order owes its seller a notification: the sparse `notify_due` item attribute
/// that the stream filter selects on.
pub fn due(record: &OrderRecord) -> bool {
    !pending(record).is_empty()
}

/// Whether the seller gets notifications of `kind`.
pub fn wanted(notify: &Notify, kind: NoticeKind) -> bool {
    match kind {
        NoticeKind::Dispute => notify.dispute,
        NoticeKind::DeliveryFailed => notify.delivery_failed,
        NoticeKind::FailurePattern => notify.failure_pattern,
        NoticeKind::EarlyFraudWarning => notify.early_fraud_warning,
    }
}

/// What this sender may do about one occurrence on the order as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nothing is owed any more (sent, settled, or the facts moved on).
    Done,
    /// Another sender holds a live claim until then.
    InFlight { until: i64 },
    /// Write this (conditionally on the version read), then send.
    Claimed(OrderRecord),
    /// The attempts ran out: write this (`gave_up`), send nothing.
    Exhausted(OrderRecord),
}

/// Decides, on the order as it is now, whether this sender may send the occurrence `key`.
pub fn claim(
    current: &OrderRecord,
    key: &str,
    now: i64,
    lease_secs: i64,
    max_attempts: u32,
) -> Claim {
    let Some(occurrence) = pending(current).into_iter().find(|o| o.key == key) else {
        return Claim::Done;
    };
    let notice = current.facts.notices.get(key).cloned().unwrap_or_default();
    if let Some(live) = notice.live_claim(now) {
        return Claim::InFlight { until: live.until };
    }
    if notice.attempts() >= max_attempts.max(1) {
        return Claim::Exhausted(skipped(current, &occurrence, now, NoticeSkip::GaveUp));
    }
    let claim = NoticeFact {
        claim: Some(NoticeClaim {
            attempt: notice.attempts() + 1,
            until: now + lease_secs.max(1),
        }),
        ..NoticeFact::default()
    };
    Claim::Claimed(with_notices(current, [(key.to_owned(), claim)]))
}

/// Whether `current` still carries exactly the claim this sender wrote on `key`.
pub fn holds_claim(current: &OrderRecord, key: &str, claimed: &OrderRecord) -> bool {
    let mine = claimed.facts.notices.get(key).and_then(|n| n.claim);
    let now = current.facts.notices.get(key);
    mine.is_some() && now.is_some_and(|n| !n.done() && n.claim == mine)
}

/// The order with the occurrence (and what it covers) recorded as sent.
pub fn sent(
    current: &OrderRecord,
    occurrence: &Occurrence,
    now: i64,
    message_id: &str,
) -> OrderRecord {
    let fact = NoticeFact {
        sent: Some(NoticeSent {
            at: now,
            message_id: message_id.to_owned(),
        }),
        ..NoticeFact::default()
    };
    let covered = NoticeFact {
        skipped: Some(NoticeSkipped {
            at: now,
            why: NoticeSkip::Covered,
        }),
        ..NoticeFact::default()
    };
    let mut notices = vec![(occurrence.key.clone(), fact)];
    notices.extend(
        occurrence
            .covers
            .iter()
            .map(|k| (k.clone(), covered.clone())),
    );
    with_notices(current, notices)
}

/// The order with the occurrence (and what it covers) settled as not to be sent.
pub fn skipped(
    current: &OrderRecord,
    occurrence: &Occurrence,
    now: i64,
    why: NoticeSkip,
) -> OrderRecord {
    let fact = NoticeFact {
        skipped: Some(NoticeSkipped { at: now, why }),
        ..NoticeFact::default()
    };
    with_notices(
        current,
        occurrence.keys().map(|k| (k.to_owned(), fact.clone())),
    )
}

/// The order with this sender's claim on `key` handed back after a transient failure (the
/// next look may claim again at once), and the failure in words.
pub fn released(current: &OrderRecord, key: &str, now: i64, error: &str) -> OrderRecord {
    let attempt = current
        .facts
        .notices
        .get(key)
        .map_or(0, NoticeFact::attempts);
    let fact = NoticeFact {
        claim: Some(NoticeClaim {
            attempt,
            until: now,
        }),
        last_error: Some(Reg::new(0, now, error.chars().take(300).collect())),
        ..NoticeFact::default()
    };
    with_notices(current, [(key.to_owned(), fact)])
}

/// `current` with notice facts merged in (so facts folded in meanwhile are kept) and its
/// version moved on.
fn with_notices(
    current: &OrderRecord,
    notices: impl IntoIterator<Item = (String, NoticeFact)>,
) -> OrderRecord {
    let facts = Facts {
        notices: notices.into_iter().collect::<BTreeMap<_, _>>(),
        ..Facts::default()
    };
    let mut next = current.clone();
    next.facts.merge(&facts);
    next.version = current.version + 1;
    next
}

#[cfg(test)]
mod tests;
