//! Folding one SES event into its order: find the order by message id, merge the message's
//! facts, write back conditionally on the version read, re-read and retry on a conflict. A
//! duplicate costs the lookup and one read and no write; an unknown message id changes nothing.

use super::ses::{SesEvent, SesEventType};
use super::{MessageIndex, MessageOwner, MAX_MESSAGES};
use crate::apply::RetryPolicy;
use crate::order::OrderRecord;
use crate::ports::{OrderStore, StoreError};

/// What recording an SES event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SesOutcome {
    /// The order's facts about the message changed.
    Recorded(MessageOwner),
    /// Everything it said was already known.
    Duplicate(MessageOwner),
    /// No order sent this message (another system's mail, or an order since deleted).
    UnknownMessage,
    /// An SES event type the order does not record (opens, clicks...).
    Ignored,
}

impl SesOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            SesOutcome::Recorded(_) => "recorded",
            SesOutcome::Duplicate(_) => "duplicate",
            SesOutcome::UnknownMessage => "unknown_message",
            SesOutcome::Ignored => "ignored",
        }
    }
}

/// The order with `event`'s facts merged in, and whether anything changed.
pub fn fold(current: &OrderRecord, event: &SesEvent) -> (OrderRecord, bool) {
    let Some(facts) = &event.facts else {
        return (current.clone(), false);
    };
    let mut next = current.clone();
    next.facts
        .mail
        .entry(event.message_id.clone())
        .or_default()
        .merge(facts);
    crate::order::facts::keep_newest_messages(&mut next.facts.mail, MAX_MESSAGES);
    let changed = next.facts != current.facts;
    if changed {
        next.version = current.version + 1;
    }
    (next, changed)
}

/// Records one SES event on the order that sent the message.
pub async fn record_ses_event(
    store: &dyn OrderStore,
    index: &dyn MessageIndex,
    event: &SesEvent,
) -> Result<SesOutcome, StoreError> {
    if event.facts.is_none() || matches!(event.event_type, SesEventType::Other(_)) {
        return Ok(SesOutcome::Ignored);
    }
    let Some(owner) = index.find_message(&event.message_id).await? else {
        return Ok(SesOutcome::UnknownMessage);
    };
    let policy = RetryPolicy::default();
    for attempt in 1..=policy.max_attempts {
        let Some(current) = store.get_order(&owner.seller_id, &owner.order_id).await? else {
            return Ok(SesOutcome::UnknownMessage);
        };
        let (next, changed) = fold(&current, event);
        if !changed {
            return Ok(SesOutcome::Duplicate(owner));
        }
        match store.put_order(&next, Some(current.version), &[]).await {
            Ok(()) => return Ok(SesOutcome::Recorded(owner)),
            Err(StoreError::Conflict) => policy.pause(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Contention)
}
