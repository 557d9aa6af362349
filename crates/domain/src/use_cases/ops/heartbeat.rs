//! Debounced writes of "seller seen" and "event received" from the webhook.
//!
//! The webhook must not pay an extra store write per delivery for bookkeeping: each key (a
//! seller, a mode) is written at most once per interval per process. A failed write is logged and
//! forgotten; it never fails the delivery (the next one retries it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Mode, OpsStore};

/// How often one key is written at most, per process.
pub const DEFAULT_INTERVAL_SECS: i64 = 60;

/// Sellers remembered per process before the memory is reset (bounds a long-lived process).
const MAX_KEYS: usize = 10_000;

#[derive(Clone)]
pub struct Heartbeat {
    ops: Arc<dyn OpsStore>,
    interval_secs: i64,
    written: Arc<Mutex<HashMap<String, i64>>>,
}

impl Heartbeat {
    pub fn new(ops: Arc<dyn OpsStore>) -> Self {
        Self::with_interval(ops, DEFAULT_INTERVAL_SECS)
    }

    pub fn with_interval(ops: Arc<dyn OpsStore>, interval_secs: i64) -> Self {
        Self {
            ops,
            interval_secs,
            written: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Records that a validly signed event of `mode` from `seller_id` arrived at `now`.
    pub async fn beat(&self, seller_id: &str, mode: Mode, now: i64) {
        if self.due(&format!("mode#{}", mode.as_str()), now) {
            if let Err(error) = self.ops.note_event_received(mode, now).await {
                self.forget(&format!("mode#{}", mode.as_str()));
                tracing::warn!(mode = mode.as_str(), %error, "could not record the webhook heartbeat");
            }
        }
        if self.due(&format!("seller#{seller_id}"), now) {
            if let Err(error) = self.ops.note_seller(seller_id, now).await {
                self.forget(&format!("seller#{seller_id}"));
                tracing::warn!(account = seller_id, %error, "could not record the seller");
            }
        }
    }

    /// Whether `key` should be written now; if so, marks it written.
    fn due(&self, key: &str, now: i64) -> bool {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if written.len() >= MAX_KEYS {
            written.clear();
        }
        match written.get(key) {
            Some(last) if now - last < self.interval_secs => false,
            _ => {
                written.insert(key.to_owned(), now);
                true
            }
        }
    }

    fn forget(&self, key: &str) {
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;

    #[tokio::test]
    async fn given_many_deliveries_within_a_minute_when_beating_then_one_write_per_key() {
        // GIVEN a heartbeat over the embedded store
        let store = Arc::new(MemoryStore::new());
        let beat = Heartbeat::new(store.clone());
        // WHEN three deliveries arrive within the interval, then one after it
        beat.beat("acct_a", Mode::Live, 1_000).await;
        beat.beat("acct_a", Mode::Live, 1_030).await;
        beat.beat("acct_b", Mode::Live, 1_059).await;
        // THEN the heartbeat still shows the first time, both sellers are known
        let last = store.last_events().await.unwrap();
        assert_eq!(
            last,
            vec![super::super::LastEvent {
                mode: Mode::Live,
                at: 1_000
            }]
        );
        assert_eq!(
            store.list_sellers().await.unwrap(),
            vec!["acct_a", "acct_b"]
        );
        // AND after the interval the heartbeat moves on
        beat.beat("acct_a", Mode::Live, 1_061).await;
        assert_eq!(store.last_events().await.unwrap()[0].at, 1_061);
        // mode + acct_a, acct_b, then mode + acct_a again: five writes for four deliveries.
        assert_eq!(store.ops_write_count(), 5);
    }

    #[tokio::test]
    async fn given_an_unavailable_store_when_beating_then_nothing_fails_and_the_next_beat_retries()
    {
        let store = Arc::new(MemoryStore::new());
        let beat = Heartbeat::new(store.clone());
        store.set_unavailable(true);
        beat.beat("acct_a", Mode::Test, 1_000).await;
        store.set_unavailable(false);
        beat.beat("acct_a", Mode::Test, 1_001).await;
        assert_eq!(store.last_events().await.unwrap()[0].at, 1_001);
    }
}
