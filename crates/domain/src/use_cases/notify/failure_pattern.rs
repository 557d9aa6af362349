//! The seller-level notification `failure_pattern` (contract section 12): `GET /stats/failures`
//! over its default 30-day window turned to a configuration problem, at most once a day.
//!
//! It is about no one order, so it is claimed in a small record of its own per seller and UTC
//! day ([`day_key`]), kept by the [`SellerNotices`] port with the same [`NoticeFact`] and the
//! same discipline as an order's notice (conditional write of the claim, send, record). Looking
//! costs a read of the window's orders, so it happens only when a payment newly failed
//! ([`new_failure`]), and at most once per [`CHECK_EVERY_SECS`] per seller (a claim on
//! [`CHECK_KEY`] that expires), and not at all once today's notice is settled: a card-testing
//! storm of failures costs one small read each, and one window read per ten minutes.

use async_trait::async_trait;

use super::{NoticeClaim, NoticeFact, NoticeSent, NoticeSkip, NoticeSkipped};
use crate::order::OrderRecord;
use crate::ports::StoreError;

/// How often a seller's window is read at most while payments keep failing.
pub const CHECK_EVERY_SECS: i64 = 600;
/// The record whose claim spaces the window reads.
pub const CHECK_KEY: &str = "failure_pattern#check";

/// The record of the day's notice: `failure_pattern#YYYY-MM-DD` (UTC).
pub fn day_key(now: i64) -> String {
    format!("failure_pattern#{}", crate::fulfillment::purchase_date(now))
}

/// Whether the change brought a failed attempt the old image did not have (the newest attempt
/// is newer, or there was none).
pub fn new_failure(old: Option<&OrderRecord>, new: &OrderRecord) -> bool {
    let newest = |r: &OrderRecord| {
        r.facts
            .failures
            .iter()
            .map(|(k, f)| (f.at, k.clone()))
            .max()
    };
    match (old.and_then(newest), newest(new)) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(before), Some(after)) => after > before,
    }
}

/// A seller-level notice record, as stored: the fact and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    pub fact: NoticeFact,
    pub version: u64,
}

/// Seller-level notice records (one small item each; never an order, never in a listing or a
/// stream filter). Both stores implement it; the conformance suite runs the same cases on both.
#[async_trait]
pub trait SellerNotices: Send + Sync {
    /// The record under `key`, strongly consistent; `None` when never written.
    async fn get_seller_notice(
        &self,
        seller_id: &str,
        key: &str,
    ) -> Result<Option<StoredNotice>, StoreError>;

    /// Writes `fact` as the whole record if it is still at `expected` (`None`: must not exist
    /// yet); [`StoreError::Conflict`] otherwise. The new version is `expected + 1` (1 when new).
    async fn put_seller_notice(
        &self,
        seller_id: &str,
        key: &str,
        fact: &NoticeFact,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
}

/// `stored` (or nothing) with `other` merged in: the record a conditional write puts.
pub fn merged(stored: Option<&StoredNotice>, other: &NoticeFact) -> NoticeFact {
    let mut fact = stored.map(|s| s.fact.clone()).unwrap_or_default();
    fact.merge(other);
    fact
}

/// A claim on `stored` at `now` for `lease_secs`, or `None` when it is settled or another live
/// claim holds it.
pub fn claim(stored: Option<&StoredNotice>, now: i64, lease_secs: i64) -> Option<NoticeFact> {
    let current = stored.map(|s| &s.fact);
    if current.is_some_and(|f| f.done() || f.live_claim(now).is_some()) {
        return None;
    }
    let attempt = current.map_or(0, NoticeFact::attempts) + 1;
    Some(merged(
        stored,
        &NoticeFact {
            claim: Some(NoticeClaim {
                attempt,
                until: now + lease_secs.max(1),
            }),
            ..NoticeFact::default()
        },
    ))
}

/// The record with the email recorded as sent.
pub fn sent(stored: Option<&StoredNotice>, now: i64, message_id: &str) -> NoticeFact {
    merged(
        stored,
        &NoticeFact {
            sent: Some(NoticeSent {
                at: now,
                message_id: message_id.to_owned(),
            }),
            ..NoticeFact::default()
        },
    )
}

/// The record settled as not to be sent.
pub fn skipped(stored: Option<&StoredNotice>, now: i64, why: NoticeSkip) -> NoticeFact {
    merged(
        stored,
        &NoticeFact {
            skipped: Some(NoticeSkipped { at: now, why }),
            ..NoticeFact::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{FailedAttempt, Reg};

    #[test]
    fn given_a_day_when_keyed_then_one_key_per_utc_day() {
        assert_eq!(day_key(0), "failure_pattern#1970-01-01");
        assert_eq!(day_key(86_399), day_key(0));
        assert_ne!(day_key(86_400), day_key(0));
    }

    #[test]
    fn given_changes_when_compared_then_only_a_newer_failed_attempt_is_new() {
        let mut old = OrderRecord::new("acct_A", "pi_1");
        assert!(!new_failure(None, &old));
        let attempt = |at| FailedAttempt {
            at,
            code: Some(Reg::new(0, at, "card_declined".to_owned())),
            ..FailedAttempt::default()
        };
        let mut new = old.clone();
        new.facts.failures.insert("ch_1".into(), attempt(10));
        assert!(new_failure(Some(&old), &new));
        assert!(new_failure(None, &new));
        old = new.clone();
        new.facts.reference = Some(Reg::new(0, 1, "ref".into()));
        assert!(!new_failure(Some(&old), &new), "no new attempt");
        new.facts.failures.insert("ch_2".into(), attempt(20));
        assert!(new_failure(Some(&old), &new));
    }

    #[test]
    fn given_a_record_when_claimed_then_one_claim_until_it_expires_and_none_once_settled() {
        let first = claim(None, 100, 600).expect("claimable");
        let stored = StoredNotice {
            fact: first,
            version: 1,
        };
        assert_eq!(claim(Some(&stored), 200, 600), None, "a live claim holds");
        let again = claim(Some(&stored), 701, 600).expect("expired: taken over");
        assert_eq!(again.attempts(), 2);
        let done = StoredNotice {
            fact: sent(Some(&stored), 150, "m-1"),
            version: 2,
        };
        assert_eq!(claim(Some(&done), 10_000, 600), None, "sent: never again");
    }
}
