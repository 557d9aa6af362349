//! What operating the system needs to remember besides orders: the connected accounts seen, how
//! far each account's backfill got, and when each mode last heard from Stripe.
//!
//! A port separate from [`crate::ports::OrderStore`] on purpose: none of it is on a seller's
//! request path, and a store can implement it without touching the order items.

pub mod heartbeat;
pub mod staleness;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ports::StoreError;

/// Stripe's two worlds. Each has its own stream of events and its own "last heard" time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Live, Mode::Test];

    pub fn of(livemode: bool) -> Self {
        if livemode {
            Mode::Live
        } else {
            Mode::Test
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Mode::Live),
            "test" => Some(Mode::Test),
            _ => None,
        }
    }
}

/// Which of Stripe's two worlds an endpoint accepts (`STRIPE_LIVEMODE`: `live`, `test` or
/// `any`). The same [`Mode`] the heartbeat records and the alarms watch, so "live" means one
/// thing everywhere; events of a mode not accepted are acknowledged and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeFilter {
    /// Both modes (a Connect endpoint receives live and test events alike).
    #[default]
    Any,
    Only(Mode),
}

impl ModeFilter {
    /// `live`, `test` or `any` (any case, surrounding blanks ignored; empty is `any`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" | "" => Some(ModeFilter::Any),
            other => Mode::parse(other).map(ModeFilter::Only),
        }
    }

    /// Whether an event with Stripe's `livemode` flag is accepted.
    pub fn accepts(self, livemode: bool) -> bool {
        match self {
            ModeFilter::Any => true,
            ModeFilter::Only(mode) => mode == Mode::of(livemode),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModeFilter::Any => "any",
            ModeFilter::Only(mode) => mode.as_str(),
        }
    }
}

/// How far one listing stream of one account got. A stream is one `types[]` group (Stripe
/// accepts at most 20 types per list call, the contract names more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamProgress {
    /// The event types this stream lists; progress is only reused for the same set.
    pub types: Vec<String>,
    /// The `since` (Unix seconds) the stream was started with.
    pub since: i64,
    /// The newest event applied so far (the cursor for `ending_before`) and its `created`.
    pub last_event_id: Option<String>,
    pub last_event_created: Option<i64>,
    /// Pages finished and events folded, all runs together (diagnostics).
    pub pages: u64,
    pub events: u64,
    /// When the last page of the last run was reached (`has_more: false`).
    pub caught_up_at: Option<i64>,
}

/// Backfill progress of one connected account, by stream name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillProgress {
    pub account: String,
    pub streams: BTreeMap<String, StreamProgress>,
    pub updated_at: i64,
}

/// When a mode last received a validly signed webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastEvent {
    pub mode: Mode,
    /// Receive time (our clock, Unix seconds), not the event's `created`: the question is whether
    /// Stripe still reaches us.
    pub at: i64,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    /// Every connected account that ever sent an event (`platform` for the platform's own).
    async fn list_sellers(&self) -> Result<Vec<String>, StoreError>;

    /// Remembers a seller (idempotent).
    async fn note_seller(&self, seller_id: &str, at: i64) -> Result<(), StoreError>;

    async fn get_backfill_progress(
        &self,
        account: &str,
    ) -> Result<Option<BackfillProgress>, StoreError>;

    async fn put_backfill_progress(&self, progress: &BackfillProgress) -> Result<(), StoreError>;

    /// Moves the mode's "last event received" forward to `at` (never backwards).
    async fn note_event_received(&self, mode: Mode, at: i64) -> Result<(), StoreError>;

    /// The last receive time of each mode that ever received one.
    async fn last_events(&self) -> Result<Vec<LastEvent>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_each_setting_when_parsed_then_only_events_of_the_accepted_mode_pass() {
        // GIVEN the three spellings of STRIPE_LIVEMODE, in any case / WHEN parsed
        let live = ModeFilter::parse(" LIVE ").unwrap();
        let test = ModeFilter::parse("test").unwrap();
        let any = ModeFilter::parse("any").unwrap();
        // THEN each accepts exactly its events, and the empty value means any
        assert!(live.accepts(true) && !live.accepts(false));
        assert!(test.accepts(false) && !test.accepts(true));
        assert!(any.accepts(true) && any.accepts(false));
        assert_eq!(ModeFilter::parse(""), Some(ModeFilter::Any));
        assert_eq!(live, ModeFilter::Only(Mode::Live));
        assert_eq!(live.as_str(), "live");
    }

    #[test]
    fn given_an_unknown_setting_when_parsed_then_it_is_refused() {
        assert_eq!(ModeFilter::parse("prod"), None);
        assert_eq!(ModeFilter::parse("true"), None);
    }
}
