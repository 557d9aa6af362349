//! The embedded in-memory store: the default for `leenkies-local` and the reference the DynamoDB
//! adapter is checked against (both run one conformance suite).
//!
//! Same semantics as DynamoDB: conditional writes on the version, the order and its charge links
//! written atomically, newest-first pages. It also feeds every order change (old and new image) to
//! a subscriber, as a DynamoDB stream would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::delivery::{MessageIndex, MessageOwner};
use crate::export::{ExportJob, ExportJobs};
use crate::ops::{BackfillProgress, LastEvent, Mode, OpsStore};
use crate::order::facts::RefundFact;
use crate::order::OrderRecord;
use crate::ports::{
    ChargeLink, DownloadEntry, LinkWrite, OrderFilter, OrderPage, OrderQuery, OrderStore,
    PagePosition, SpilledRefund, StoreError, MAX_DOWNLOADS_LOGGED, MAX_EMAIL_SEARCH_ADDRESSES,
};
use crate::rates::{Month, MonthCounts, MonthIncrement};
use crate::seller_settings::{SettingsStore, StoredSettings};
use crate::settings::SellerSettings;

/// One change to an order, as a stream record carries it.
#[derive(Debug, Clone)]
pub struct OrderChange {
    pub old: Option<OrderRecord>,
    pub new: OrderRecord,
}

type Key = (String, String);

#[derive(Default)]
struct Tables {
    orders: BTreeMap<Key, OrderRecord>,
    links: BTreeMap<Key, ChargeLink>,
    downloads: BTreeMap<Key, Vec<DownloadEntry>>,
    /// Refunds kept in items of their own, by (seller, order) then refund id.
    refunds: BTreeMap<Key, BTreeMap<String, RefundFact>>,
    /// Dispute-rate counters by seller and month (`rates`).
    rates: BTreeMap<(String, Month), MonthCounts>,
    /// The sweep's index: (next look, seller, order) of every order with work pending.
    due: std::collections::BTreeSet<(i64, String, String)>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    subscriber: Mutex<Option<UnboundedSender<OrderChange>>>,
    unavailable: AtomicBool,
    ops: Mutex<OpsTables>,
    /// SES message id → its order (contract section 10).
    messages: Mutex<BTreeMap<String, MessageOwner>>,
    /// Export jobs by (seller, id), and who hears of their writes (the local change pump).
    exports: Mutex<BTreeMap<Key, ExportJob>>,
    export_subscriber: Mutex<Option<UnboundedSender<ExportJob>>>,
    /// Each seller's settings record (contract section 11).
    settings: Mutex<BTreeMap<String, StoredSettings>>,
    /// Seller-level notice records by (seller, key) (contract section 12).
    seller_notices: Mutex<BTreeMap<Key, crate::notify::failure_pattern::StoredNotice>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every later order change, in write order. One subscriber (the change pump).
    pub fn subscribe(&self) -> UnboundedReceiver<OrderChange> {
        let (tx, rx) = unbounded_channel();
        *self.lock_subscriber() = Some(tx);
        rx
    }

    /// Every later write of an export job, in write order (as the table's stream carries it).
    pub fn subscribe_exports(&self) -> UnboundedReceiver<ExportJob> {
        let (tx, rx) = unbounded_channel();
        *self
            .export_subscriber
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(tx);
        rx
    }

    /// Makes every call fail as an unreachable store would (outage tests).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Number of orders held, all sellers (tests and diagnostics).
    pub fn order_count(&self) -> usize {
        self.lock().orders.len()
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(
                "embedded store switched off".into(),
            ))
        } else {
            Ok(())
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied write: every write below
        // checks all conditions before mutating anything.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_subscriber(&self) -> std::sync::MutexGuard<'_, Option<UnboundedSender<OrderChange>>> {
        self.subscriber.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a change to the subscriber, if there is one; the change is only built (a clone of
    /// the order) when someone listens.
    fn publish(&self, change: impl FnOnce() -> OrderChange) {
        if let Some(tx) = self.lock_subscriber().as_ref() {
            let _ = tx.send(change());
        }
    }
}

fn key(a: &str, b: &str) -> Key {
    (a.to_owned(), b.to_owned())
}

/// Whether an order passes a list filter (shared with nothing else: DynamoDB uses indexes).
fn matches(record: &OrderRecord, query: &OrderQuery) -> bool {
    let created = record.facts.created_at();
    if query.from.is_some_and(|from| created < from) || query.to.is_some_and(|to| created > to) {
        return false;
    }
    match &query.filter {
        OrderFilter::All => true,
        OrderFilter::Status(s) => record.facts.payment_status() == *s,
        OrderFilter::Disputed => !record.facts.disputes.is_empty(),
        OrderFilter::EmailPrefix(prefix) => record
            .facts
            .customer_email()
            .is_some_and(|e| e.to_lowercase().starts_with(prefix.as_str())),
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn get_order(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Option<OrderRecord>, StoreError> {
        self.check()?;
        Ok(self.lock().orders.get(&key(seller_id, order_id)).cloned())
    }

    async fn write_order(
        &self,
        record: &OrderRecord,
        expected_version: Option<u64>,
        links: &[LinkWrite],
        refunds: &[SpilledRefund],
    ) -> Result<(), StoreError> {
        self.check()?;
        let old = {
            let mut tables = self.lock();
            let order_key = key(&record.seller_id, &record.order_id);
            if tables.orders.get(&order_key).map(|o| o.version) != expected_version {
                return Err(StoreError::Conflict);
            }
            for link in links {
                let current = tables.links.get(&key(&record.seller_id, &link.charge_id));
                if current.map(|l| l.version) != link.expected_version {
                    return Err(StoreError::Conflict);
                }
            }
            for link in links {
                let link_key = key(&record.seller_id, &link.charge_id);
                tables.links.insert(
                    link_key,
                    ChargeLink {
                        seller_id: record.seller_id.clone(),
                        charge_id: link.charge_id.clone(),
                        order_id: Some(record.order_id.clone()),
                        pending: Default::default(),
                        version: link.expected_version.unwrap_or(0) + 1,
                    },
                );
            }
            if !refunds.is_empty() {
                let spilled = tables.refunds.entry(order_key.clone()).or_default();
                for r in refunds {
                    spilled.insert(r.refund_id.clone(), r.fact.clone());
                }
            }
            let previous = tables.orders.insert(order_key, record.clone());
            if let Some(at) = previous.as_ref().and_then(crate::sweep::next_look) {
                tables
                    .due
                    .remove(&(at, record.seller_id.clone(), record.order_id.clone()));
            }
            if let Some(at) = crate::sweep::next_look(record) {
                tables
                    .due
                    .insert((at, record.seller_id.clone(), record.order_id.clone()));
            }
            previous
        };
        self.publish(|| OrderChange {
            old,
            new: record.clone(),
        });
        Ok(())
    }

    async fn get_spilled_refunds(
        &self,
        seller_id: &str,
        order_id: &str,
        refund_ids: &[String],
    ) -> Result<Vec<SpilledRefund>, StoreError> {
        self.check()?;
        let tables = self.lock();
        let Some(spilled) = tables.refunds.get(&key(seller_id, order_id)) else {
            return Ok(Vec::new());
        };
        Ok(refund_ids
            .iter()
            .filter_map(|id| {
                spilled.get(id).map(|fact| SpilledRefund {
                    refund_id: id.clone(),
                    fact: fact.clone(),
                })
            })
            .collect())
    }

    async fn list_spilled_refunds(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<SpilledRefund>, StoreError> {
        self.check()?;
        let tables = self.lock();
        Ok(tables
            .refunds
            .get(&key(seller_id, order_id))
            .map(|spilled| {
                spilled
                    .iter()
                    .map(|(id, fact)| SpilledRefund {
                        refund_id: id.clone(),
                        fact: fact.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn get_charge_link(
        &self,
        seller_id: &str,
        charge_id: &str,
    ) -> Result<Option<ChargeLink>, StoreError> {
        self.check()?;
        Ok(self.lock().links.get(&key(seller_id, charge_id)).cloned())
    }

    async fn put_charge_link(
        &self,
        link: &ChargeLink,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut tables = self.lock();
        let link_key = key(&link.seller_id, &link.charge_id);
        if tables.links.get(&link_key).map(|l| l.version) != expected_version {
            return Err(StoreError::Conflict);
        }
        tables.links.insert(link_key, link.clone());
        Ok(())
    }

    async fn list_orders(
        &self,
        seller_id: &str,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        self.check()?;
        let tables = self.lock();
        if let OrderFilter::EmailPrefix(prefix) = &query.filter {
            // The DynamoDB store reads an index entry per address under the prefix: the same
            // bound here, so both answer the same.
            let addresses: std::collections::BTreeSet<String> = tables
                .orders
                .range(key(seller_id, "")..)
                .take_while(|((seller, _), _)| seller == seller_id)
                .filter_map(|(_, r)| r.facts.customer_email().map(str::to_lowercase))
                .filter(|e| e.starts_with(prefix.as_str()))
                .collect();
            if addresses.len() > MAX_EMAIL_SEARCH_ADDRESSES {
                return Err(StoreError::TooBroad(format!(
                    "more than {MAX_EMAIL_SEARCH_ADDRESSES} addresses start with this prefix"
                )));
            }
        }
        let mut matching: Vec<&OrderRecord> = tables
            .orders
            .range(key(seller_id, "")..)
            .take_while(|((seller, _), _)| seller == seller_id)
            .map(|(_, r)| r)
            .filter(|r| matches(r, query))
            .filter(|r| {
                query
                    .after
                    .as_ref()
                    .is_none_or(|after| PagePosition::of(r) < *after)
            })
            .collect();
        matching.sort_by_key(|r| std::cmp::Reverse(PagePosition::of(r)));
        let limit = query.limit.max(1);
        let next = (matching.len() > limit).then(|| PagePosition::of(matching[limit - 1]));
        Ok(OrderPage {
            orders: matching.into_iter().take(limit).cloned().collect(),
            next,
        })
    }

    async fn record_download(
        &self,
        seller_id: &str,
        order_id: &str,
        entry: &DownloadEntry,
    ) -> Result<bool, StoreError> {
        self.check()?;
        let mut tables = self.lock();
        let log = tables
            .downloads
            .entry(key(seller_id, order_id))
            .or_default();
        if log.len() >= MAX_DOWNLOADS_LOGGED {
            return Ok(false);
        }
        log.push(entry.clone());
        Ok(true)
    }

    async fn list_downloads(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<DownloadEntry>, StoreError> {
        self.check()?;
        Ok(self
            .lock()
            .downloads
            .get(&key(seller_id, order_id))
            .cloned()
            .unwrap_or_default())
    }

    async fn list_orders_by_card(
        &self,
        seller_id: &str,
        brand: &str,
        fingerprint: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        self.check()?;
        let tables = self.lock();
        let mut found: Vec<&OrderRecord> = tables
            .orders
            .range(key(seller_id, "")..)
            .take_while(|((seller, _), _)| seller == seller_id)
            .map(|(_, r)| r)
            .filter(|r| {
                crate::evidence::ce3::indexed_card(r)
                    .is_some_and(|c| c.brand == brand && c.fingerprint == fingerprint)
            })
            .filter(|r| (from..=to).contains(&r.facts.created_at()))
            .filter(|r| {
                // The same bound as DynamoDB's: the newest months of the range only.
                let oldest = Month(Month::of(to).0 - crate::ports::MAX_CARD_MONTHS);
                r.facts.created_at() >= oldest.start()
            })
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse(PagePosition::of(r)));
        Ok(found.into_iter().take(limit).cloned().collect())
    }

    async fn add_to_rates(
        &self,
        seller_id: &str,
        increments: &[MonthIncrement],
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut tables = self.lock();
        for inc in increments {
            let counts = tables
                .rates
                .entry((seller_id.to_owned(), inc.month))
                .or_default();
            for (counter, delta) in &inc.deltas {
                *counts.entry(*counter).or_default() += delta;
            }
        }
        Ok(())
    }

    async fn get_rates(
        &self,
        seller_id: &str,
        months: &[Month],
    ) -> Result<BTreeMap<Month, MonthCounts>, StoreError> {
        self.check()?;
        let tables = self.lock();
        let mut out: BTreeMap<Month, MonthCounts> = months
            .iter()
            .filter_map(|m| {
                tables
                    .rates
                    .get(&(seller_id.to_owned(), *m))
                    .map(|c| (*m, c.clone()))
            })
            .collect();
        // Sales per brand: the card index's entries of the month, as DynamoDB counts them.
        for record in tables
            .orders
            .range(key(seller_id, "")..)
            .take_while(|((seller, _), _)| seller == seller_id)
            .map(|(_, r)| r)
        {
            let Some(card) = crate::evidence::ce3::indexed_card(record) else {
                continue;
            };
            let Some(brand) = crate::rates::Brand::parse(card.brand) else {
                continue;
            };
            if months.contains(&card.month) {
                let counter = crate::rates::Counter {
                    measure: crate::rates::Measure::Sales,
                    brand: Some(brand),
                };
                *out.entry(card.month)
                    .or_default()
                    .entry(counter)
                    .or_default() += 1;
            }
        }
        Ok(out)
    }
}

/// The operations items (sellers seen, backfill progress, heartbeats), kept apart from orders.
#[derive(Default)]
struct OpsTables {
    sellers: BTreeMap<String, i64>,
    progress: BTreeMap<String, BackfillProgress>,
    last_events: BTreeMap<Mode, i64>,
    writes: u64,
}

impl MemoryStore {
    fn lock_ops(&self) -> std::sync::MutexGuard<'_, OpsTables> {
        self.ops.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many operations writes were made (tests check the webhook's debounce).
    pub fn ops_write_count(&self) -> u64 {
        self.lock_ops().writes
    }
}

#[async_trait]
impl OpsStore for MemoryStore {
    async fn list_sellers(&self) -> Result<Vec<String>, StoreError> {
        self.check()?;
        Ok(self.lock_ops().sellers.keys().cloned().collect())
    }

    async fn note_seller(&self, seller_id: &str, at: i64) -> Result<(), StoreError> {
        self.check()?;
        let mut ops = self.lock_ops();
        ops.writes += 1;
        ops.sellers.entry(seller_id.to_owned()).or_insert(at);
        Ok(())
    }

    async fn get_backfill_progress(
        &self,
        account: &str,
    ) -> Result<Option<BackfillProgress>, StoreError> {
        self.check()?;
        Ok(self.lock_ops().progress.get(account).cloned())
    }

    async fn put_backfill_progress(&self, progress: &BackfillProgress) -> Result<(), StoreError> {
        self.check()?;
        let mut ops = self.lock_ops();
        ops.writes += 1;
        ops.progress
            .insert(progress.account.clone(), progress.clone());
        Ok(())
    }

    async fn note_event_received(&self, mode: Mode, at: i64) -> Result<(), StoreError> {
        self.check()?;
        let mut ops = self.lock_ops();
        ops.writes += 1;
        let last = ops.last_events.entry(mode).or_insert(at);
        *last = (*last).max(at);
        Ok(())
    }

    async fn last_events(&self) -> Result<Vec<LastEvent>, StoreError> {
        self.check()?;
        Ok(self
            .lock_ops()
            .last_events
            .iter()
            .map(|(mode, at)| LastEvent {
                mode: *mode,
                at: *at,
            })
            .collect())
    }
}

#[async_trait]
impl MessageIndex for MemoryStore {
    async fn link_message(&self, message_id: &str, owner: &MessageOwner) -> Result<(), StoreError> {
        self.check()?;
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message_id.to_owned(), owner.clone());
        Ok(())
    }

    async fn find_message(&self, message_id: &str) -> Result<Option<MessageOwner>, StoreError> {
        self.check()?;
        Ok(self
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(message_id)
            .cloned())
    }
}

/// Export jobs: items of their own, never in an order listing (they live in their own map).
#[async_trait]
impl ExportJobs for MemoryStore {
    async fn create_job(&self, job: &ExportJob) -> Result<(), StoreError> {
        self.check()?;
        self.put_job(job, None)
    }

    async fn get_job(&self, seller_id: &str, id: &str) -> Result<Option<ExportJob>, StoreError> {
        self.check()?;
        let jobs = self.exports.lock().unwrap_or_else(|p| p.into_inner());
        Ok(jobs.get(&key(seller_id, id)).cloned())
    }

    async fn save_job(&self, job: &ExportJob, expected_version: u64) -> Result<(), StoreError> {
        self.check()?;
        self.put_job(job, Some(expected_version))
    }

    async fn recent_jobs(&self, seller_id: &str, since: i64) -> Result<Vec<ExportJob>, StoreError> {
        self.check()?;
        let jobs = self.exports.lock().unwrap_or_else(|p| p.into_inner());
        Ok(jobs
            .range(key(seller_id, "")..)
            .take_while(|((seller, _), _)| seller == seller_id)
            .map(|(_, job)| job)
            .filter(|job| job.created_at >= since)
            .cloned()
            .collect())
    }
}

/// The sweep's index of due work, in (due, seller, order) order.
#[async_trait]
impl crate::sweep::DueOrders for MemoryStore {
    async fn due_orders(
        &self,
        up_to: i64,
        after: Option<&crate::sweep::DueOrder>,
        limit: usize,
    ) -> Result<crate::sweep::DuePage, StoreError> {
        self.check()?;
        let tables = self.lock();
        let start = after.map(|a| (a.due, a.seller_id.clone(), a.order_id.clone()));
        let mut orders: Vec<crate::sweep::DueOrder> = tables
            .due
            .iter()
            .filter(|k| start.as_ref().is_none_or(|s| *k > s))
            .take_while(|(due, _, _)| *due <= up_to)
            .take(limit + 1)
            .map(|(due, seller_id, order_id)| crate::sweep::DueOrder {
                due: *due,
                seller_id: seller_id.clone(),
                order_id: order_id.clone(),
            })
            .collect();
        let next = if orders.len() > limit {
            orders.truncate(limit);
            orders.last().cloned()
        } else {
            None
        };
        Ok(crate::sweep::DuePage { orders, next })
    }
}

/// Seller settings: one record per seller, written conditionally on its version.
#[async_trait]
impl SettingsStore for MemoryStore {
    async fn get_settings(&self, seller_id: &str) -> Result<Option<StoredSettings>, StoreError> {
        self.check()?;
        let all = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.get(seller_id).cloned())
    }

    async fn put_settings(
        &self,
        seller_id: &str,
        settings: &SellerSettings,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut all = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        if all.get(seller_id).map(|s| s.version) != expected {
            return Err(StoreError::Conflict);
        }
        all.insert(
            seller_id.to_owned(),
            StoredSettings {
                settings: settings.clone(),
                version: expected.map_or(1, |v| v + 1),
            },
        );
        Ok(())
    }
}

/// Seller-level notice records, written conditionally on their version.
#[async_trait]
impl crate::notify::failure_pattern::SellerNotices for MemoryStore {
    async fn get_seller_notice(
        &self,
        seller_id: &str,
        notice_key: &str,
    ) -> Result<Option<crate::notify::failure_pattern::StoredNotice>, StoreError> {
        self.check()?;
        let all = self
            .seller_notices
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Ok(all.get(&key(seller_id, notice_key)).cloned())
    }

    async fn put_seller_notice(
        &self,
        seller_id: &str,
        notice_key: &str,
        fact: &crate::notify::NoticeFact,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut all = self
            .seller_notices
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let k = key(seller_id, notice_key);
        if all.get(&k).map(|s| s.version) != expected {
            return Err(StoreError::Conflict);
        }
        all.insert(
            k,
            crate::notify::failure_pattern::StoredNotice {
                fact: fact.clone(),
                version: expected.map_or(1, |v| v + 1),
            },
        );
        Ok(())
    }
}

impl MemoryStore {
    fn put_job(&self, job: &ExportJob, expected: Option<u64>) -> Result<(), StoreError> {
        let mut jobs = self.exports.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(&job.seller_id, &job.id);
        if jobs.get(&k).map(|j| j.version) != expected {
            return Err(StoreError::Conflict);
        }
        jobs.insert(k, job.clone());
        drop(jobs);
        if let Some(tx) = self
            .export_subscriber
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            let _ = tx.send(job.clone());
        }
        Ok(())
    }
}
