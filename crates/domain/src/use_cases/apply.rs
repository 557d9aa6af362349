//! Folds one event's facts into the store: read, merge in memory, write back conditionally on the
//! version read; on a conflict re-read and retry with back-off. A duplicate costs one read and no
//! write. Objects that name only their charge wait under the charge until it is linked.

use std::time::Duration;

use crate::order::facts::Facts;
use crate::order::from_event::{Folding, Target};
use crate::order::refunds::{SpilledRefund, INLINE_REFUNDS, MAX_SPILLS_PER_WRITE, SPILL_ABOVE};
use crate::order::OrderRecord;
use crate::ports::{ChargeLink, LinkWrite, OrderStore, StoreError};

/// What folding an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldOutcome {
    /// The order (or the charge's pending facts) changed.
    Applied { order_id: Option<String> },
    /// Everything it said was already known.
    Duplicate { order_id: Option<String> },
}

impl FoldOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            FoldOutcome::Applied { .. } => "applied",
            FoldOutcome::Duplicate { .. } => "duplicate",
        }
    }

    pub fn order_id(&self) -> Option<&str> {
        match self {
            FoldOutcome::Applied { order_id } | FoldOutcome::Duplicate { order_id } => {
                order_id.as_deref()
            }
        }
    }
}

/// How hard to retry on version conflicts before answering "try again later".
///
/// Sized for a burst on one order (issue 18 class 10): 20 distinct events for one order within
/// one second must all be applied. Each conflict round lets one writer through, so the last of
/// N concurrent writers needs about N attempts; the policy allows 40 attempts, and stops retrying
/// after [`RETRY_BUDGET`] of wall time so the answer (a retryable `503` at worst) still comes well
/// inside the webhook function's 10 s timeout.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

/// No new attempt starts once this much time has passed since the first one: the webhook's
/// Lambda timeout is 10 s, and a `503` that arrives is better than a timeout.
pub const RETRY_BUDGET: Duration = Duration::from_secs(6);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 40,
            base_delay: Duration::from_millis(4),
            max_delay: Duration::from_millis(160),
        }
    }
}

impl RetryPolicy {
    /// Exponential back-off with full jitter. The jitter mixes the clock with a process-wide
    /// counter (no RNG dependency): writers that conflicted at the same instant must not sleep
    /// the same time, or they conflict again.
    pub async fn pause(&self, attempt: u32) {
        use std::sync::atomic::{AtomicU64, Ordering};
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let cap = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let seed = u64::from(nanos) ^ SEQUENCE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let jitter = (cap.as_nanos().max(1) as u64).saturating_mul(splitmix(seed) % 1024) / 1024;
        tokio::time::sleep(Duration::from_nanos(jitter)).await;
    }

    /// Whether another attempt may start, `started` being when the first one did.
    pub fn may_retry(&self, attempt: u32, started: std::time::Instant) -> bool {
        attempt + 1 < self.max_attempts && started.elapsed() < RETRY_BUDGET
    }
}

/// SplitMix64's finaliser: spreads nearby seeds over the whole range.
fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Folds one event's facts into its order (or its charge's pending facts).
pub async fn fold(
    store: &dyn OrderStore,
    folding: &Folding,
    policy: RetryPolicy,
) -> Result<FoldOutcome, StoreError> {
    match &folding.target {
        Target::Order { order_id } => {
            fold_into_order(store, &folding.seller_id, order_id, &folding.facts, policy).await
        }
        Target::Charge { charge_id } => {
            fold_into_charge(store, &folding.seller_id, charge_id, &folding.facts, policy).await
        }
    }
}

/// Folds facts into one order, linking any charge the order did not know yet so that facts
/// waiting under that charge join the order in the same atomic write.
pub async fn fold_into_order(
    store: &dyn OrderStore,
    seller_id: &str,
    order_id: &str,
    facts: &Facts,
    policy: RetryPolicy,
) -> Result<FoldOutcome, StoreError> {
    // First try optimistically assumes new charges have no link yet (the common case, no extra
    // read); after a conflict, links are read so their pending facts are merged.
    let mut read_links = false;
    let started = std::time::Instant::now();
    for attempt in 0..policy.max_attempts {
        let current = store.get_order(seller_id, order_id).await?;
        let expected = current.as_ref().map(|c| c.version);
        let base = current.unwrap_or_else(|| OrderRecord::new(seller_id, order_id));
        // Borrowed unless a waiting charge link adds facts (only after a conflict).
        let mut incoming = std::borrow::Cow::Borrowed(facts);
        let mut links = Vec::new();
        let new_charges: Vec<String> = facts
            .charges
            .difference(&base.facts.charges)
            .cloned()
            .collect();
        for charge_id in new_charges {
            if !read_links {
                links.push(LinkWrite {
                    charge_id,
                    expected_version: None,
                });
                continue;
            }
            match store.get_charge_link(seller_id, &charge_id).await? {
                Some(link) if link.order_id.as_deref() == Some(order_id) => {}
                // A charge already claimed by another order: keep that link untouched.
                Some(link) if link.order_id.is_some() => {}
                Some(link) => {
                    incoming.to_mut().merge(&link.pending);
                    links.push(LinkWrite {
                        charge_id,
                        expected_version: Some(link.version),
                    });
                }
                None => links.push(LinkWrite {
                    charge_id,
                    expected_version: None,
                }),
            }
        }
        // Refunds the order already keeps in items of their own: what this event says about
        // them merges there, and the tally moves by the difference (`order::refunds`).
        let mut tally = base.facts.spilled_refunds;
        let mut refund_writes = Vec::new();
        if !tally.is_empty() {
            let elsewhere: Vec<String> = incoming
                .refunds
                .keys()
                .filter(|id| !base.facts.refunds.contains_key(*id))
                .cloned()
                .collect();
            if !elsewhere.is_empty() {
                for stored in store
                    .get_spilled_refunds(seller_id, order_id, &elsewhere)
                    .await?
                {
                    let Some(news) = incoming.to_mut().refunds.remove(&stored.refund_id) else {
                        continue;
                    };
                    let mut merged = stored.fact.clone();
                    merged.merge(&news);
                    if merged != stored.fact {
                        tally.replace(&stored.fact, &merged);
                        refund_writes.push(SpilledRefund {
                            refund_id: stored.refund_id,
                            fact: merged,
                        });
                    }
                }
            }
        }
        let (mut next_facts, changed) = base.facts.merged(&incoming);
        next_facts.spilled_refunds = tally;
        if next_facts.refunds.len() > SPILL_ABOVE {
            refund_writes.extend(next_facts.spill_refunds(INLINE_REFUNDS, MAX_SPILLS_PER_WRITE));
        }
        let changed = changed || !refund_writes.is_empty();
        if !changed {
            return Ok(FoldOutcome::Duplicate {
                order_id: Some(order_id.to_owned()),
            });
        }
        // What this write adds to the seller's dispute-rate counters: the transition from the
        // facts read to the facts written (`rates`), applied once this write has won.
        let counted = crate::rates::increments(Some(&base.facts), &next_facts);
        let record = OrderRecord {
            version: base.version + 1,
            facts: next_facts,
            ..base
        };
        match store
            .write_order(&record, expected, &links, &refund_writes)
            .await
        {
            Ok(()) => {
                count(store, seller_id, &counted, policy).await;
                return Ok(FoldOutcome::Applied {
                    order_id: Some(order_id.to_owned()),
                });
            }
            Err(StoreError::Conflict) if policy.may_retry(attempt, started) => {
                read_links = true;
                policy.pause(attempt).await;
            }
            Err(StoreError::Conflict) => break,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Contention)
}

/// Adds one order write's transition to the seller's dispute-rate counters. The conditional
/// write made this writer the only one to see that transition (a duplicate writes nothing, a
/// concurrent fold re-reads and sees the next one), so each transition is added once; what is
/// lost is a crash or a store failure between the order's write and this one: then the
/// counters miss that transition (said in the log, retried a few times first). The rates are
/// a signal for the seller, not money: an undercount is preferred to a transaction, which would
/// bill the order item twice on every counted write (`rates`, docs/disputes.md).
async fn count(
    store: &dyn OrderStore,
    seller_id: &str,
    increments: &[crate::rates::MonthIncrement],
    policy: RetryPolicy,
) {
    if increments.is_empty() {
        return;
    }
    const ATTEMPTS: u32 = 3;
    for attempt in 0..ATTEMPTS {
        match store.add_to_rates(seller_id, increments).await {
            Ok(()) => return,
            Err(e) if attempt + 1 < ATTEMPTS && e.is_transient() => policy.pause(attempt).await,
            Err(e) => {
                tracing::error!(
                    seller = seller_id,
                    error = %e,
                    months = increments.len(),
                    "dispute-rate counters not updated: they miss this change"
                );
                return;
            }
        }
    }
}

/// Keeps facts that name only a charge until that charge's order is known; if it is known,
/// folds them straight into the order.
async fn fold_into_charge(
    store: &dyn OrderStore,
    seller_id: &str,
    charge_id: &str,
    facts: &Facts,
    policy: RetryPolicy,
) -> Result<FoldOutcome, StoreError> {
    let started = std::time::Instant::now();
    for attempt in 0..policy.max_attempts {
        let current = store.get_charge_link(seller_id, charge_id).await?;
        if let Some(order_id) = current.as_ref().and_then(|l| l.order_id.clone()) {
            return fold_into_order(store, seller_id, &order_id, facts, policy).await;
        }
        let base = current.clone().unwrap_or_else(|| ChargeLink {
            seller_id: seller_id.to_owned(),
            charge_id: charge_id.to_owned(),
            order_id: None,
            pending: Facts::default(),
            version: 0,
        });
        let (pending, changed) = base.pending.merged(facts);
        if !changed {
            return Ok(FoldOutcome::Duplicate { order_id: None });
        }
        let link = ChargeLink {
            pending,
            version: base.version + 1,
            ..base
        };
        match store
            .put_charge_link(&link, current.as_ref().map(|l| l.version))
            .await
        {
            Ok(()) => return Ok(FoldOutcome::Applied { order_id: None }),
            Err(StoreError::Conflict) if policy.may_retry(attempt, started) => {
                policy.pause(attempt).await
            }
            Err(StoreError::Conflict) => break,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Contention)
}
